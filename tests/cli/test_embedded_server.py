"""The temporary Prefect server of `syndicate run --prefect` (no PREFECT_API_URL) goes with the command, also
when the command is killed with SIGKILL mid-run: no orphan uvicorn per crash. And one that does not
come up is a one-line error, with nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.cli import main
from tests.synthetic_blog import blog_config

ROOT = Path(__file__).resolve().parents[2]
BOUND = 240  # seconds: generous bound for "eventually" on a busy machine, never a timing assumption


class StuckFeed:
    """A feed server whose every request hangs until released: a run that is certainly in flight."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        stuck = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stuck.asked.set()
                stuck.release.wait(BOUND)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stuck_feed() -> Iterator[StuckFeed]:
    server = StuckFeed()
    yield server
    server.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def uvicorn_children(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in cmdline and b"prefect.server.api.server:create_app" in cmdline:
            found.append(child)
    return found


def test_kill_9_of_the_command_mid_run_takes_its_temporary_prefect_server_along(stuck_feed, tmp_path):
    config = tmp_path / "syndication.toml"
    config.write_text(
        blog_config(stuck_feed.url, store_url=f"sqlite:///{tmp_path}/s.db", outbox=str(tmp_path / "out"))
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    command = subprocess.Popen(
        [sys.executable, "-m", "syndication", "run", "--prefect", "-c", str(config)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server: list[int] = []
    try:
        # In flight: the temporary server is up and the flow's poll stage waits on the feed.
        assert stuck_feed.asked.wait(BOUND), "the run never asked for the feed"
        server = uvicorn_children(command.pid)
        assert len(server) == 1, children(command.pid)
        command.send_signal(signal.SIGKILL)
        command.wait(BOUND)
        deadline = time.monotonic() + 30
        while alive(server[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server[0]), f"temporary Prefect server (pid {server[0]}) outlived its command"
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
        for pid in server:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_temporary_server_that_does_not_answer_in_time_is_a_clear_error(monkeypatch, tmp_path):
    # Zero seconds: the server cannot be answering yet when the command first asks.
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    config = tmp_path / "config" / "syndication.toml"
    assert CliRunner().invoke(main, ["init", "--path", str(config)]).exit_code == 0
    before = set(uvicorn_children(os.getpid()))
    result = CliRunner().invoke(main, ["run", "--prefect", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "temporary local Prefect server did not start within 0 s" in result.output
    assert "Traceback" not in result.output
    assert [pid for pid in uvicorn_children(os.getpid()) if pid not in before and alive(pid)] == []
