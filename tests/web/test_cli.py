"""``syndicate users …`` and ``syndicate serve``."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from syndication.cli import main
from syndication.web.users import User, authenticate
from tests.web.support import open_context, write_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_users_add_list_passwd_disable(config: Path):
    added = run(
        "users",
        "add",
        "Mette",
        "--role",
        "admin",
        "--password-stdin",
        "--config",
        str(config),
        input="en lang adgangskode\n",
    )
    assert added.exit_code == 0, added.output
    assert "added admin mette" in added.output
    listed = run("users", "list", "--config", str(config))
    assert "mette" in listed.output and "admin" in listed.output and "active" in listed.output
    changed = run(
        "users",
        "passwd",
        "mette",
        "--password-stdin",
        "--config",
        str(config),
        input="en helt ny adgangskode\n",
    )
    assert changed.exit_code == 0, changed.output
    ctx = open_context(config)
    try:
        with ctx.store.session() as session:
            assert authenticate(session, "mette", "en helt ny adgangskode") is not None
            assert authenticate(session, "mette", "en lang adgangskode") is None
        assert run("users", "disable", "mette", "--config", str(config)).exit_code == 0
        with ctx.store.session() as session:
            assert session.scalars(select(User.disabled)).one() is True
            assert authenticate(session, "mette", "en helt ny adgangskode") is None
    finally:
        ctx.close()


def test_users_add_prompts_twice_without_echo(config: Path):
    result = run(
        "users", "add", "ole", "--config", str(config), input="hemmeligt kodeord\nhemmeligt kodeord\n"
    )
    assert result.exit_code == 0, result.output
    assert "hemmeligt kodeord" not in result.output
    assert "Repeat for confirmation" in result.output


def test_users_add_refuses_bad_input_clearly(config: Path):
    short = run("users", "add", "ole", "--password-stdin", "--config", str(config), input="kort\n")
    assert short.exit_code != 0 and "too short" in short.output
    spaced = run(
        "users", "add", "ole olsen", "--password-stdin", "--config", str(config), input="x" * 12 + "\n"
    )
    assert spaced.exit_code != 0 and "not allowed" in spaced.output
    run("users", "add", "ole", "--password-stdin", "--config", str(config), input="x" * 12 + "\n")
    twice = run("users", "add", "OLE", "--password-stdin", "--config", str(config), input="y" * 12 + "\n")
    assert twice.exit_code != 0 and "exists already" in twice.output
    missing = run("users", "disable", "nobody", "--config", str(config))
    assert missing.exit_code != 0 and "no user named 'nobody'" in missing.output


def test_serve_refuses_a_non_loopback_host_from_the_config(tmp_path: Path, monkeypatch):
    config = write_config(tmp_path, extra='[web]\nhost = "0.0.0.0"\n')
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: started.append(kw))
    result = run("serve", "--config", str(config))
    assert result.exit_code != 0
    assert "pass --host 0.0.0.0 to confirm" in result.output
    assert started == []


def test_serve_warns_when_told_to_listen_beyond_loopback(config: Path, monkeypatch, caplog):
    started = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append(kw))
    with caplog.at_level(logging.WARNING, logger="syndication.web"):
        result = run("serve", "--config", str(config), "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert started and started[0]["host"] == "0.0.0.0" and started[0]["port"] == 8123
    assert any("reachable from other machines" in r.getMessage() for r in caplog.records)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_the_app_on_loopback(config: Path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from syndication.cli import main; main()",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "syndicate serve did not start"
                time.sleep(0.2)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"review app on http://127.0.0.1:{port}/" in output
    assert "no users yet" in output
    key = config.parent / "syndication.db.web-key"
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
