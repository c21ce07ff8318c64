"""`syndicate run`/`publish` when the temporary local Prefect server does not come up in time (a busy
machine): a one-line error saying what to do, not a traceback. Starting a real server that times out
costs ≈20 s, so the flow here raises Prefect's own startup error (the exact message Prefect 3 uses)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import flows.publish
import flows.syndicate
from syndication.cli import PREFECT_STARTUP_TIMEOUT, main

PREFECT_TIMEOUT_MESSAGE = "Timed out while attempting to connect to ephemeral Prefect API server."


def server_never_starts(**_parameters: object) -> object:
    raise RuntimeError(PREFECT_TIMEOUT_MESSAGE + " Ephemeral server process exited with code 1.")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # The flows here are stand-ins that never reach a server: name one, so the command does not
    # start its own temporary server first (tests/cli/test_embedded_server.py covers that one).
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    path = tmp_path / "config" / "syndication.toml"
    assert CliRunner().invoke(main, ["init", "--path", str(path)]).exit_code == 0
    return str(path)


@pytest.mark.parametrize(
    ("command", "module", "name"),
    [("run", flows.syndicate, "syndicate_flow"), ("publish", flows.publish, "publish_flow")],
)
def test_prefect_server_that_does_not_start_is_a_clear_error(
    config: str, monkeypatch: pytest.MonkeyPatch, command: str, module: object, name: str
) -> None:
    # setenv first, so the value the command sets is undone after the test too
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "")
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
    monkeypatch.setattr(module, name, server_never_starts)
    result = CliRunner().invoke(main, [command, "--config", config])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"temporary local Prefect server did not start within {PREFECT_STARTUP_TIMEOUT} s" in result.output
    assert "PREFECT_API_URL" in result.output
    # Prefect's own 20 s is too short on a busy 2-core machine: the commands allow longer.
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == PREFECT_STARTUP_TIMEOUT


def test_a_longer_startup_timeout_the_user_set_is_kept(config: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
    monkeypatch.setattr(flows.syndicate, "syndicate_flow", server_never_starts)
    result = CliRunner().invoke(main, ["run", "--config", config])
    assert result.exit_code == 1 and "did not start within 300 s" in result.output


def test_other_runtime_errors_are_not_disguised(config: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_parameters: object) -> object:
        raise RuntimeError("something else entirely")

    monkeypatch.setattr(flows.syndicate, "syndicate_flow", broken)
    result = CliRunner().invoke(main, ["run", "--config", config])
    assert isinstance(result.exception, RuntimeError) and "something else" in str(result.exception)
