"""The pipeline run the way a team runs it: a real ``prefect server``, the ``process`` work pool,
``prefect deploy --all`` from ``prefect.yaml``, a real ``prefect worker``, manual
``prefect deployment run`` with parameters against a fixture blog on loopback, artifacts, run logs,
notifications (a flow-sent webhook and a Prefect automation), Dask fan-out, and a schedule firing.

One Prefect server per session (``tests/e2e/conftest.py``); one deployment and one worker for this
module. Flow runs are started with the Prefect CLI and observed through the server's REST API.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from syndication.demo import DemoServer, demo_dir, prepare_demo, serve_site
from tests.e2e.conftest import ROOT, PrefectServer, Worker, start_worker
from tests.synthetic_blog import BlogServer, SyntheticBlog, blog_config, serve_blog

pytestmark = pytest.mark.e2e
NEW_POST = "netvaerk-er-guld"
OLD_POST = "messebesoeg-i-berlin-og-landdistrikterne"


# ----------------------------------------------------------------------------------------- helpers


def counts(markdown: str) -> dict[str, int]:
    """The ``| name | value |`` rows of a run's summary artifact."""
    return {name: int(value) for name, value in re.findall(r"^\| (\w+) \| (\d+) \|$", markdown, re.M)}


def run_deployment(server: PrefectServer, name: str, *params: str, timeout: float = 240) -> dict[str, Any]:
    """``prefect deployment run NAME --param k=v …``, then wait for the run to finish."""
    args = ["deployment", "run", name]
    for param in params:
        args += ["--param", param]
    started = server.cli(*args)
    assert started.returncode == 0, started.stdout + started.stderr
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout).group(1)
    return server.wait_for(run_id, timeout=timeout)


def stage_lines(server: PrefectServer, run_id: str, *, until: str) -> list[str]:
    """The run's log lines from our stages; logs reach the API in batches, after the run may have
    finished, so this waits (boundedly) for the line it is told to expect."""
    deadline = time.monotonic() + 30
    while True:
        lines = [m for m in server.logs(run_id) if m.startswith("post=")]
        if any(m.startswith(until) for m in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


def summary_of(server: PrefectServer, run: dict[str, Any], flow: str) -> dict[str, int]:
    artifacts = {a["key"]: a for a in server.artifacts(run["id"])}
    assert f"{flow}-summary" in artifacts, sorted(artifacts)
    return counts(artifacts[f"{flow}-summary"]["data"])


def completed(run: dict[str, Any], worker: Worker) -> None:
    assert run["state"]["type"] == "COMPLETED", (
        f"{run['state']}\n--- worker log ---\n{worker.output()[-6000:]}"
    )


class Receiver:
    """An HTTP endpoint on loopback that keeps every JSON body it gets, by path."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self.raw: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.bodies.append((self.path, json.loads(body or b"null")))
                    receiver.raw.append((self.path, body, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def at(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.bodies if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo-site") / "site"
    shutil.copytree(demo_dir() / "site", root)
    with serve_site(root) as server:
        yield server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, site: DemoServer) -> Path:
    """The worker's configuration: the demo blog, SQLite, the outbox, auto-approve nb and sv."""
    work = tmp_path_factory.mktemp("project")
    return prepare_demo(work, site.base_url, outbox=work / "outbox")


@pytest.fixture(scope="module")
def worker(prefect_server: PrefectServer, project: Path, tmp_path_factory: pytest.TempPathFactory):
    """The work pool, the deployments of prefect.yaml and one worker — as docs/operations.md says."""
    # --overwrite: `syndicate deploy` (test_workers.py) may have made it earlier in the session.
    created = prefect_server.cli("work-pool", "create", "syndication", "--type", "process", "--overwrite")
    assert created.returncode == 0, created.stdout + created.stderr
    deploy_env = prefect_server.env(SYNDICATION_HOME=str(ROOT))
    deployed = prefect_server.cli("--no-prompt", "deploy", "--all", env=deploy_env)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    # The cron schedules must not fire into the manual runs below: switch them off for this module
    # (test_schedule_fires checks a schedule with its own deployment). Switching a schedule off
    # also deletes the runs it had scheduled.
    schedules: dict[str, list[dict[str, Any]]] = {}
    for name in ("syndicate/syndicate", "publish/publish"):
        deployment = prefect_server.deployment(name)
        schedules[name] = deployment["schedules"]
        for schedule in deployment["schedules"]:
            response = requests.patch(
                f"{prefect_server.api_url}/deployments/{deployment['id']}/schedules/{schedule['id']}",
                json={"active": False},
                timeout=30,
            )
            response.raise_for_status()
    log_dir = tmp_path_factory.mktemp("worker")
    started = start_worker(
        prefect_server,
        "syndication",
        log_dir / "worker.log",
        SYNDICATION_HOME=str(ROOT),
        SYNDICATION_CONFIG=str(project),
    )
    started.schedules = schedules  # type: ignore[attr-defined]
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def blog():
    with serve_blog(SyntheticBlog(posts=35)) as server:
        yield server


# ------------------------------------------------------------------------------------------- tests


def test_prefect_yaml_declares_the_three_deployments(prefect_server: PrefectServer, worker: Worker):
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert {d["name"] for d in spec["deployments"]} == {"syndicate", "publish", "backfill"}

    syndicate = prefect_server.deployment("syndicate/syndicate")
    [cron] = [s["schedule"] for s in worker.schedules["syndicate/syndicate"]]  # type: ignore[attr-defined]
    assert cron == {"cron": "*/30 * * * *", "timezone": "Europe/Copenhagen", "day_or": True}
    assert syndicate["global_concurrency_limit"]["limit"] == 1
    assert syndicate["work_pool_name"] == "syndication"
    assert syndicate["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
    ]
    assert set(syndicate["parameter_openapi_schema"]["properties"]) == {
        "config", "feed", "languages", "dry_run", "force", "post_url"
    }  # fmt: skip
    [publish_cron] = [s["schedule"] for s in worker.schedules["publish/publish"]]  # type: ignore[attr-defined]
    assert publish_cron["cron"] == "*/5 * * * *" and publish_cron["timezone"] == "Europe/Copenhagen"
    assert prefect_server.deployment("publish/publish")["global_concurrency_limit"] is None
    backfill = prefect_server.deployment("backfill/backfill")
    assert backfill["schedules"] == [] and backfill["global_concurrency_limit"]["limit"] == 1
    pool = prefect_server.get("/work_pools/syndication")
    assert pool["type"] == "process"


def test_manual_runs_with_parameters_then_a_no_op_run(
    prefect_server: PrefectServer, worker: Worker, project: Path, site: DemoServer
):
    outbox = project.parent / "outbox"
    first = run_deployment(prefect_server, "syndicate/syndicate", 'languages=["nb"]')
    completed(first, worker)
    assert sorted(p.name for p in (outbox / "nb").glob("*.html")) == [f"{OLD_POST}.html", f"{NEW_POST}.html"]
    assert not (outbox / "sv").exists()
    numbers = summary_of(prefect_server, first, "syndicate")
    assert numbers["entries_new"] == 2 and numbers["engine_calls"] == 1 and numbers["deliveries_sent"] == 2
    assert first["parameters"] == {"languages": ["nb"]}

    # Artifacts: the summary above, and the review table.
    keys = {a["key"]: a for a in prefect_server.artifacts(first["id"])}
    assert keys["awaiting-review"]["type"] == "table"
    # Logs through the run logger, every stage line naming post, language and channel.
    sent = f"post={site.base_url}/?p=412 lang=nb channel=outbox | publish sent"
    lines = stage_lines(prefect_server, first["id"], until=sent)
    assert any(m.startswith(sent) for m in lines), lines
    assert all(re.match(r"post=\S+ lang=\S+ channel=\S+ \| ", m) for m in lines)

    # Nothing new (for Norwegian): one conditional request, no page fetches, no engine calls, no
    # deliveries. (Swedish, left out above, is the languages filter's business: tests/orchestration.)
    site.requests.clear()
    third = run_deployment(prefect_server, "syndicate/syndicate", 'languages=["nb"]')
    completed(third, worker)
    noop = summary_of(prefect_server, third, "syndicate")
    assert noop["feeds_not_modified"] == 1
    assert noop["pages_fetched"] == noop["engine_calls"] == noop["deliveries_sent"] == 0
    assert [(r.path, r.status) for r in site.requests] == [("/feed/", 304)]
    # Tasks per stage, not per item: poll, extract, translate, deliver, report.
    assert len(prefect_server.task_runs(third["id"])) == 5


def test_one_post_by_url_and_a_redelivery(
    prefect_server: PrefectServer, worker: Worker, project: Path, site: DemoServer
):
    # The earlier post has no full text in the feed: re-extracting it fetches its page again.
    url = f"{site.base_url}/{OLD_POST}/"
    run = run_deployment(prefect_server, "syndicate/syndicate", f"post_url={url}", "force=true")
    completed(run, worker)
    numbers = summary_of(prefect_server, run, "syndicate")
    assert numbers["pages_fetched"] == 1 and numbers["feeds_polled"] == 0  # just that post, no poll
    assert numbers["revisions_new"] == 0  # unchanged page
    # Norwegian was approved (decided: kept); Swedish was never translated: now it is, and sent.
    assert numbers["engine_calls"] == 1 and numbers["deliveries_sent"] == 1

    lost = project.parent / "outbox" / "sv" / f"{OLD_POST}.html"
    lost.unlink()
    redelivery = json.dumps({"post": url, "lang": "sv", "channel": "outbox"})
    run = run_deployment(prefect_server, "publish/publish", f"redeliver={redelivery}")
    completed(run, worker)
    assert summary_of(prefect_server, run, "publish")["deliveries_sent"] == 1
    assert lost.exists()


def test_backfill_deployment_with_a_config_parameter_and_progress(
    prefect_server: PrefectServer, worker: Worker, blog: BlogServer, tmp_path: Path
):
    config = tmp_path / "blog.toml"
    config.write_text(
        blog_config(
            blog.base_url,
            store_url=f"sqlite:///{tmp_path}/blog.db",
            outbox=str(tmp_path / "outbox"),
            extra="[orchestration]\nbackfill_chunk = 10\n",
        )
    )
    run = run_deployment(prefect_server, "backfill/backfill", f"config={config}", "pages=3")
    completed(run, worker)
    numbers = summary_of(prefect_server, run, "backfill")
    assert numbers["feed_pages"] == 3 and numbers["entries_new"] == 30 and numbers["deliveries_sent"] == 60
    assert len(list((tmp_path / "outbox" / "nb").glob("*.html"))) == 30
    progress = [a for a in prefect_server.artifacts(run["id"]) if a["type"] == "progress"]
    assert len(progress) == 1 and progress[0]["data"] == 100.0
    names = sorted(t["name"].rsplit("-", 1)[0] for t in prefect_server.task_runs(run["id"]))
    # One walk, one task per chunk of 10 posts, one report: 0.17 task runs per post.
    assert names == ["extract, translate and deliver a chunk"] * 3 + ["read older feed pages", "report"]


def test_notifications_from_the_flow_and_from_an_automation(
    prefect_server: PrefectServer, worker: Worker, site: DemoServer, tmp_path: Path
):
    receiver = Receiver()
    try:
        # Two notification blocks: one the flow uses itself, one an automation on the server uses.
        make_blocks = (
            "import sys\n"
            "from prefect.blocks.notifications import CustomWebhookNotificationBlock as Hook\n"
            "for name in ('editors', 'automation'):\n"
            "    block = Hook(name=name, url=sys.argv[1] + '/' + name,"
            " json_data={'subject': '{{subject}}', 'body': '{{body}}'})\n"
            "    print(block.save(name, overwrite=True))\n"
        )
        made = subprocess.run(
            [sys.executable, "-c", make_blocks, receiver.url],
            env=prefect_server.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        automation_block = made.stdout.split()[-1]
        # The automation exactly as docs/operations.md shows it, with this block's id.
        docs = (ROOT / "docs" / "operations.md").read_text()
        spec = re.search(r"```yaml\n(# automation.yaml.*?)```", docs, re.S).group(1)
        spec = spec.replace("<block-document-id>", automation_block)
        (tmp_path / "automation.yaml").write_text(spec)
        created = prefect_server.cli("automation", "create", "--from-file", str(tmp_path / "automation.yaml"))
        assert created.returncode == 0, created.stdout + created.stderr

        work = tmp_path / "editors"
        template = tmp_path / "template.toml"
        template.write_text(
            (demo_dir() / "syndication.toml")
            .read_text()
            .replace('auto_approve = ["nb", "sv"]', "auto_approve = []")
            + '\n[orchestration]\nnotify_block = "custom-webhook/editors"\nreview_url = "https://review.example.dk"\n'
        )
        config = prepare_demo(work, site.base_url, template=template, outbox=work / "outbox")
        run = run_deployment(prefect_server, "syndicate/syndicate", f"config={config}")
        completed(run, worker)
        [message] = receiver.at("/editors")
        assert message["subject"] == "4 new translation(s) wait for review"
        assert "https://review.example.dk/" in message["body"]
        table = next(a for a in prefect_server.artifacts(run["id"]) if a["key"] == "awaiting-review")
        rows = json.loads(table["data"])
        assert len(rows) == 4 and all(
            r["review"].startswith("https://review.example.dk/items/") for r in rows
        )

        # The automation reacts to the run's event on the server side.
        deadline = time.monotonic() + 60
        while not receiver.at("/automation") and time.monotonic() < deadline:
            time.sleep(0.5)
        [from_automation] = receiver.at("/automation")
        assert "wait for review" in from_automation["subject"]
    finally:
        receiver.close()


def test_a_secret_block_signs_webhooks_on_the_worker_and_shows_nowhere(
    prefect_server: PrefectServer, worker: Worker, site: DemoServer, tmp_path: Path
):
    """A channel secret kept in a Prefect Secret block (``secret_block = "…"``), not in the TOML nor
    the worker's environment: the worker's flow run loads it and signs with it, and it appears in
    no artifact and no log line of the run."""
    from syndication.deliveries.webhook import verify_signature

    secret = f"hemmelig-{uuid.uuid4().hex}"
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom prefect.blocks.system import Secret\n"
            "Secret(value=sys.argv[1]).save('partner-hook-secret', overwrite=True)\n",
            secret,
        ],
        env=prefect_server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    receiver = Receiver()
    try:
        template = tmp_path / "template.toml"
        template.write_text(
            (demo_dir() / "syndication.toml").read_text()
            + f'\n[channels.partner]\ntype = "webhook"\nurl = "{receiver.url}/hook"\n'
            + 'secret_block = "partner-hook-secret"\n'
        )
        config = prepare_demo(tmp_path / "work", site.base_url, template=template, outbox=tmp_path / "outbox")
        assert secret not in config.read_text()
        run = run_deployment(prefect_server, "syndicate/syndicate", f"config={config}")
        completed(run, worker)
        assert summary_of(prefect_server, run, "syndicate")["deliveries_sent"] == 8  # 2 posts × 2 × 2
        with receiver.lock:
            hooks = [(body, headers) for path, body, headers in receiver.raw if path == "/hook"]
        assert len(hooks) == 4
        signatures = [verify_signature(body, h["X-Syndication-Signature"], secret) for body, h in hooks]
        assert signatures == [True] * 4

        artifacts = prefect_server.artifacts(run["id"])
        assert {a["key"] for a in artifacts} >= {"syndicate-summary", "awaiting-review"}
        assert all(secret not in json.dumps(a) for a in artifacts)
        lines = stage_lines(
            prefect_server, run["id"], until=f"post={site.base_url}/?p=412 lang=nb channel=partner"
        )
        assert any("channel=partner" in line for line in lines)
        assert all(secret not in line for line in prefect_server.logs(run["id"]))
    finally:
        receiver.close()


def test_dask_fans_translation_out_per_language(
    prefect_server: PrefectServer, worker: Worker, site: DemoServer, tmp_path: Path
):
    template = tmp_path / "template.toml"
    template.write_text(
        (demo_dir() / "syndication.toml").read_text()
        + '\n[orchestration]\ntask_runner = "dask"\ndask_workers = 2\n'
    )
    config = prepare_demo(tmp_path / "work", site.base_url, template=template, outbox=tmp_path / "outbox")
    run = run_deployment(prefect_server, "syndicate/syndicate", f"config={config}")
    completed(run, worker)
    numbers = summary_of(prefect_server, run, "syndicate")
    assert numbers["engine_calls"] == 2 and numbers["deliveries_sent"] == 4
    translate = [t for t in prefect_server.task_runs(run["id"]) if t["name"].startswith("translate")]
    assert len(translate) == 2  # one task per language, run on the Dask cluster
    assert {len(list((tmp_path / "outbox" / lang).glob("*.html"))) for lang in ("nb", "sv")} == {2}


def test_syndicate_run_command_against_the_server(
    prefect_server: PrefectServer, site: DemoServer, tmp_path: Path
):
    config = prepare_demo(tmp_path / "work", site.base_url, outbox=tmp_path / "outbox")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "syndication",
            "run",
            "--post",
            f"{site.base_url}/{OLD_POST}/",
            "--json",
            "-c",
            str(config),
        ],
        env=prefect_server.env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["pages_fetched"] == 1 and data["deliveries_sent"] == 2
    runs = prefect_server.flow_runs()
    assert any(r["parameters"].get("post_url") == f"{site.base_url}/{OLD_POST}/" for r in runs)


def test_schedule_fires(prefect_server: PrefectServer, worker: Worker):
    """A short interval schedule on the deployed publish deployment (its */5 cron is checked above):
    the server's scheduler makes a run, the worker picks it up, it completes."""
    deployment = prefect_server.deployment("publish/publish")
    [schedule] = prefect_server.post(
        f"/deployments/{deployment['id']}/schedules", [{"schedule": {"interval": 4}, "active": True}]
    )
    try:
        deadline = time.monotonic() + 120
        finished: list[dict[str, Any]] = []
        while not finished and time.monotonic() < deadline:
            runs = prefect_server.flow_runs(deployment_id={"any_": [deployment["id"]]})
            finished = [r for r in runs if r["auto_scheduled"] and r["state"]["type"] == "COMPLETED"]
            time.sleep(0.5)
        assert finished, f"no scheduled run completed\n{worker.output()[-4000:]}"
        assert summary_of(prefect_server, finished[0], "publish")["deliveries_failed"] == 0
    finally:
        requests.delete(
            f"{prefect_server.api_url}/deployments/{deployment['id']}/schedules/{schedule['id']}", timeout=30
        ).raise_for_status()


def test_syndicate_deploy_wraps_the_same_steps(prefect_server: PrefectServer, worker: Worker):
    before = prefect_server.deployment("backfill/backfill")
    result = subprocess.run(
        [sys.executable, "-m", "syndication", "deploy"],
        env=prefect_server.env(),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SYNDICATION_HOME={ROOT} SYNDICATION_CONFIG={ROOT}/config/syndication.toml" in result.stdout
    assert f"bash {ROOT}/scripts/worker.sh" in result.stdout
    assert "created work pool" not in result.stdout  # it existed: left as it was
    after = prefect_server.deployment("backfill/backfill")
    assert after["id"] == before["id"] and after["updated"] > before["updated"]
    assert after["pull_steps"] == before["pull_steps"]
    # Deploying again switched the cron schedules back on: off again for whatever runs next.
    for name in ("syndicate/syndicate", "publish/publish"):
        deployment = prefect_server.deployment(name)
        for schedule in deployment["schedules"]:
            requests.patch(
                f"{prefect_server.api_url}/deployments/{deployment['id']}/schedules/{schedule['id']}",
                json={"active": False},
                timeout=30,
            ).raise_for_status()
