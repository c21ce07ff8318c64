"""Workers against a real Prefect server: a worker started with ``scripts/worker.sh`` in the
background of a shell script stops on one SIGTERM (its in-flight run carries on to the end), and a
run whose worker is lost is marked Crashed by the zombie-run automation ``syndicate deploy``
applies.

Flow runs come from a small deployment of ``tests/e2e/worker_flows/flows.py`` on a work pool of
each test's own, so the pipeline's deployments and workers (test_prefect_deployments.py) are not
involved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from syndication.orchestration.automations import AUTOMATIONS, load_automation
from tests.e2e.conftest import ROOT, PrefectServer, start_worker

pytestmark = pytest.mark.e2e
FLOWS = ROOT / "tests" / "e2e" / "worker_flows"
ZOMBIE = ROOT / AUTOMATIONS / "crash-zombie-runs.yaml"
BOUND = 180  # seconds: generous bound for "eventually" on a busy machine, never a timing assumption


# ----------------------------------------------------------------------------------------- helpers


def make_pool(server: PrefectServer) -> str:
    pool = f"test-{uuid.uuid4().hex[:8]}"
    created = server.cli("work-pool", "create", pool, "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    return pool


def shipped_job_variables() -> dict[str, Any]:
    """The job variables prefect.yaml gives our deployments (heartbeats, stream_output)."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return dict(spec["definitions"]["work_pool"]["job_variables"])


def deploy_held_open(server: PrefectServer, pool: str, *, tags: list[str] | None = None) -> str:
    flow_id = server.post("/flows/", {"name": "held-open"})["id"]
    deployment = server.post(
        "/deployments/",
        {
            "name": f"held-open-{uuid.uuid4().hex[:6]}",
            "flow_id": flow_id,
            "work_pool_name": pool,
            "entrypoint": "flows.py:held_open",
            "path": str(FLOWS),
            "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(FLOWS)}}],
            "enforce_parameter_schema": False,
            "tags": tags or [],
            "job_variables": shipped_job_variables(),
        },
    )
    return str(deployment["id"])


def start_run(server: PrefectServer, deployment_id: str, marker: Path) -> str:
    body = {"parameters": {"marker": str(marker)}}
    run = server.post(f"/deployments/{deployment_id}/create_flow_run", body)
    return str(run["id"])


def wait_until(predicate: Any, what: str, timeout: float = BOUND, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-6000:] if log and log.exists() else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{tail}")
        time.sleep(0.2)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ignores(pid: int, signum: int) -> bool:
    """Whether the process has ``signum`` set to SIG_IGN (``SigIgn`` in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    raise AssertionError(f"no SigIgn line for pid {pid}")


# ---------------------------------------------------------------------------------- stopping a worker


def children(pid: int) -> dict[int, str]:
    """Live children of ``pid`` with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def test_a_worker_started_by_worker_sh_in_the_background_stops_on_sigterm(
    prefect_server: PrefectServer, tmp_path: Path
):
    """One SIGTERM: the worker takes no more runs at once; the run it had in flight finishes
    (Completed, not left "Running" by a killed process); then worker.sh's process exits."""
    pool = make_pool(prefect_server)
    deployment = deploy_held_open(prefect_server, pool)
    # As an operator's start script would: two background jobs of a non-interactive shell (which get
    # SIGINT ignored), the worker through worker.sh and, to compare, a plain `sleep`.
    script = tmp_path / "start-workers.sh"
    script.write_text(
        f"bash {ROOT}/scripts/worker.sh --pool {pool} --name sigterm-test > {tmp_path}/worker.log 2>&1 &\n"
        f"echo $! > {tmp_path}/worker.pid\n"
        f"sleep 600 &\n"
        f"echo $! > {tmp_path}/sleep.pid\n"
        "wait\n"
    )
    log = tmp_path / "worker.log"
    env = prefect_server.env(PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5")
    env.pop("PYTHONPATH", None)  # worker.sh finds the checkout itself
    outer = subprocess.Popen(["bash", str(script)], env=env, start_new_session=True)
    try:
        pids = (tmp_path / "sleep.pid", tmp_path / "worker.pid")
        wait_until(lambda: all(p.exists() for p in pids), "started")
        launcher = int((tmp_path / "worker.pid").read_text())
        sibling = int((tmp_path / "sleep.pid").read_text())
        # (once it is `sleep`: the shell sets the signals between fork and exec)
        wait_until(lambda: Path(f"/proc/{sibling}/comm").read_text().strip() == "sleep", "sleep started")
        assert ignores(sibling, signal.SIGINT)  # the trap a bare `prefect worker start &` falls into
        marker = tmp_path / "run-started"
        run_id = start_run(prefect_server, deployment, marker)
        wait_until(marker.exists, "the worker never started the run", log=log)
        [worker] = [pid for pid, cmd in children(launcher).items() if "prefect worker start" in cmd]
        assert not ignores(worker, signal.SIGINT)
        flow_process = int(marker.read_text())

        os.kill(launcher, signal.SIGTERM)
        # The worker (the process that polls for runs) exits: a generous bound, the exit is the point.
        deadline = time.monotonic() + 30
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), f"worker still running 30 s after SIGTERM\n{log.read_text()}"

        # The run it had in flight carries on in its own process and finishes.
        assert alive(flow_process), log.read_text()
        assert prefect_server.flow_run(run_id)["state"]["type"] == "RUNNING"
        assert alive(launcher)  # waiting for that run
        (tmp_path / "run-started.release").touch()
        run = prefect_server.wait_for(run_id, timeout=BOUND)
        assert run["state"]["type"] == "COMPLETED", (run["state"], log.read_text())
        wait_until(lambda: not alive(launcher), "worker.sh exits after the last run", log=log)
        assert "the worker takes no more runs; 1 flow run process(es) finish first" in log.read_text()
    finally:
        os.killpg(outer.pid, signal.SIGKILL)
        outer.wait(30)


# ------------------------------------------------------------------------------------ zombie runs


def automations_named(server: PrefectServer, name: str) -> list[dict[str, Any]]:
    return [a for a in server.post("/automations/filter", {}) if a["name"] == name]


def test_deploy_applies_the_zombie_run_automation_once(prefect_server: PrefectServer):
    name = load_automation(ZOMBIE).name
    env = prefect_server.env()
    deployed = subprocess.run(
        [sys.executable, "-m", "syndication", "deploy"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    # The cron schedules must not fire into other tests on this server.
    for deployment_name in ("syndicate/syndicate", "publish/publish"):
        deployment = prefect_server.deployment(deployment_name)
        for schedule in deployment["schedules"]:
            response = requests.patch(
                f"{prefect_server.api_url}/deployments/{deployment['id']}/schedules/{schedule['id']}",
                json={"active": False},
                timeout=30,
            )
            response.raise_for_status()
    assert f"automation {name!r}" in deployed.stdout
    # The worker command it prints is complete: the checkout's launcher, the config, the server.
    assert f"bash {ROOT}/scripts/worker.sh" in deployed.stdout
    assert f"SYNDICATION_CONFIG={ROOT}/config/syndication.toml" in deployed.stdout
    assert f"PREFECT_API_URL={prefect_server.api_url}" in deployed.stdout

    [automation] = automations_named(prefect_server, name)
    trigger = automation["trigger"]
    assert automation["enabled"] and trigger["posture"] == "Proactive" and trigger["within"] == 90
    assert trigger["after"] == ["prefect.flow-run.heartbeat"] and trigger["for_each"] == [
        "prefect.resource.id"
    ]
    assert trigger["match_related"] == {
        "prefect.resource.role": "tag",
        "prefect.resource.id": "prefect.tag.syndication",
    }
    [action] = automation["actions"]
    assert action["type"] == "change-flow-run-state" and action["state"] == "CRASHED"
    # Heartbeats often enough for that window, from prefect.yaml.
    syndicate = prefect_server.deployment("syndicate/syndicate")
    assert syndicate["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert "syndication" in syndicate["tags"]

    # Applying again (a second deploy) updates it in place: still one, same id.
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from syndication.orchestration.automations import apply_automations;"
            f" print(apply_automations(Path({str(ROOT)!r})))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0 and "updated automation" in again.stdout, again.stdout + again.stderr
    assert [a["id"] for a in automations_named(prefect_server, name)] == [automation["id"]]


def test_a_run_whose_worker_is_lost_is_marked_crashed(prefect_server: PrefectServer, tmp_path: Path):
    """Worker and flow-run process SIGKILLed (a lost machine): the shipped automation, with a
    shorter window for the test, marks the run Crashed instead of leaving it Running."""
    # The repository's automation under a name of its own, 45 s instead of 90 (heartbeats: 30 s).
    automation = load_automation(ZOMBIE, name=f"zombie-test-{uuid.uuid4().hex[:6]}", within=45)
    created = prefect_server.post("/automations/", automation.model_dump(mode="json"))
    pool = make_pool(prefect_server)
    deployment = deploy_held_open(prefect_server, pool, tags=["syndication"])
    worker = start_worker(prefect_server, pool, tmp_path / "worker.log")
    try:
        marker = tmp_path / "run-started"
        run_id = start_run(prefect_server, deployment, marker)
        wait_until(marker.exists, "the worker never started the run", log=tmp_path / "worker.log")
        flow_process = int(marker.read_text())
        wait_until(lambda: heartbeats(prefect_server, run_id) > 0, "no heartbeat from the run")
        os.kill(flow_process, signal.SIGKILL)
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(30)
        assert prefect_server.flow_run(run_id)["state"]["type"] == "RUNNING"

        run = prefect_server.wait_for(run_id, timeout=BOUND)
        assert run["state"]["type"] == "CRASHED", run["state"]
        assert "Heartbeats stopped" in run["state"]["message"]
    finally:
        worker.stop()
        requests.delete(f"{prefect_server.api_url}/automations/{created['id']}", timeout=30)


def heartbeats(server: PrefectServer, run_id: str) -> int:
    found = server.post(
        "/events/filter",
        {
            "filter": {
                "event": {"name": ["prefect.flow-run.heartbeat"]},
                "resource": {"id": [f"prefect.flow-run.{run_id}"]},
            }
        },
    )
    return int(found["total"])


# ----------------------------------------------------------------------------------------- scripts


def test_prefect_up_works_without_the_virtualenv_activated(tmp_path: Path):
    """No PYTHON and no .venv/bin on PATH (the system python3 has no Prefect): the script uses the
    checkout's virtualenv."""
    from tests.e2e.conftest import free_port, run_script

    port = free_port()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PREFECT_PORT": str(port),
        "PREFECT_STATE": str(tmp_path / "prefect"),
        "PREFECT_UI_ENABLED": "false",
    }
    try:
        up = run_script("prefect_up.sh", env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert requests.get(f"http://127.0.0.1:{port}/api/health", timeout=30).status_code == 200
    finally:
        run_script("prefect_down.sh", env, timeout=60)


def test_a_second_sigterm_stops_the_runs_in_flight_as_crashed(prefect_server: PrefectServer, tmp_path: Path):
    """When runs in flight must not wait (a second SIGTERM, e.g. an impatient operator): they are
    stopped with SIGTERM, Prefect's engine marks them Crashed (not left "Running"), worker.sh exits."""
    pool = make_pool(prefect_server)
    deployment = deploy_held_open(prefect_server, pool)
    log = tmp_path / "worker.log"
    env = prefect_server.env(PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5")
    env.pop("PYTHONPATH", None)
    launcher = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "worker.sh"), "--pool", pool],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        marker = tmp_path / "run-started"
        run_id = start_run(prefect_server, deployment, marker)
        wait_until(marker.exists, "the worker never started the run", log=log)
        launcher.send_signal(signal.SIGTERM)
        wait_until(lambda: "finish first" in log.read_text(), "first SIGTERM acknowledged", log=log)
        launcher.send_signal(signal.SIGTERM)
        run = prefect_server.wait_for(run_id, timeout=BOUND)
        assert run["state"]["type"] == "CRASHED", (run["state"], log.read_text())
        assert launcher.wait(BOUND) == 0
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait(30)
