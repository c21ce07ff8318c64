"""Store problems through the real command line (a subprocess of the installed ``syndicate``):
one clear line (what, where, what to do), exit code 3, and with ``--json`` one JSON object with
``errors`` on stdout, never a page of Prefect and SQLAlchemy tracebacks.

File permissions do not bind root, so as root the commands run without the capabilities that
override them (``setpriv --bounding-set=-dac_override,-dac_read_search``): exactly what another user
meets with a file owned by someone else.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from syndication.exit_codes import STORE_UNAVAILABLE
from syndication.store import open_store

SYNDICATE = Path(sys.executable).with_name("syndicate")


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions would not apply")
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot drop capabilities here (setpriv refused)")
    return prefix


def syndicate(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **_store_env(tmp_path),
        "HOME": str(tmp_path),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return subprocess.run(
        [*_unprivileged(), str(SYNDICATE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


def _store_env(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "store-url.secret"
    return {"SYNDICATION__STORE__URL": secret.read_text()} if secret.exists() else {}


def write_config(tmp_path: Path, store_url: str) -> Path:
    """The config; a store URL with a password goes to the environment, as the docs require (a
    password in the file is a configuration error)."""
    path = tmp_path / "syndication.toml"
    if urlsplit(store_url).password:
        (tmp_path / "store-url.secret").write_text(store_url)
        store_url = "sqlite:///unused-the-environment-wins.db"
    path.write_text(
        f"""
[store]
url = "{store_url}"
[[feeds]]
url = "http://127.0.0.1:9/feed/"
[translation]
targets = ["nb"]
""",
        encoding="utf-8",
    )
    return path


def new_store(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "syndication.db"
    open_store(f"sqlite:///{path}").dispose()
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_only_file(tmp_path: Path) -> tuple[str, list[str]]:
    path = new_store(tmp_path / "data")
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # someone else's file (nobody's)
    path.chmod(0o444)
    return f"sqlite:///{path}", [str(path), "read-only", "belongs to", "writable"]


def read_only_folder(tmp_path: Path) -> tuple[str, list[str]]:
    path = new_store(tmp_path / "data")
    path.parent.chmod(0o555)
    return f"sqlite:///{path}", [str(path), "read-only", f"folder {path.parent} is not writable"]


def missing_folder(tmp_path: Path) -> tuple[str, list[str]]:
    folder = tmp_path / "not-there"
    return f"sqlite:///{folder}/syndication.db", [f"folder {folder} does not exist", "create it"]


def not_a_database(tmp_path: Path) -> tuple[str, list[str]]:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    return f"sqlite:///{path}", [str(path), "is not a SQLite database"]


def postgres_down(tmp_path: Path) -> tuple[str, list[str]]:
    port = closed_port()
    return (
        f"postgresql://syndication:s3cret-pw@127.0.0.1:{port}/syndication",
        [f"127.0.0.1:{port}", "cannot reach the database server", "start it"],
    )


CASES = {
    "read-only file": read_only_file,
    "read-only folder": read_only_folder,
    "missing folder": missing_folder,
    "not a database": not_a_database,
    "postgres down": postgres_down,
}


@pytest.fixture(params=list(CASES))
def broken_store(request: pytest.FixtureRequest, tmp_path: Path):
    url, expected = CASES[request.param](tmp_path)
    yield write_config(tmp_path, url), expected
    for folder in tmp_path.rglob("*"):  # let pytest clean up
        if folder.is_dir():
            folder.chmod(0o755)


def assert_one_store_error(result: subprocess.CompletedProcess[str], expected: list[str]) -> str:
    assert result.returncode == STORE_UNAVAILABLE, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    data = json.loads(result.stdout)  # one JSON object, nothing else on stdout
    [error] = data["errors"]
    assert error["stage"] == "store"
    message = str(error["message"])
    for part in expected:
        assert part in message
    assert "\n" not in message
    assert "s3cret-pw" not in result.stdout + result.stderr
    return message


@pytest.mark.parametrize("command", ["run", "status"])
def test_every_store_problem_is_one_json_error_and_exit_3(broken_store, command: str, tmp_path: Path):
    config, expected = broken_store
    result = syndicate(command, "--json", "-c", str(config), tmp_path=tmp_path)
    assert_one_store_error(result, expected)


def test_without_json_a_store_problem_is_one_line_on_stderr(tmp_path: Path):
    url, expected = read_only_file(tmp_path)
    config = write_config(tmp_path, url)
    result = syndicate("run", "-c", str(config), tmp_path=tmp_path)
    assert result.returncode == STORE_UNAVAILABLE
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: the store ")
    for part in expected:
        assert part in line


def test_a_missing_folder_is_not_reported_as_a_missing_lock_file(tmp_path: Path):
    url, _expected = missing_folder(tmp_path)
    result = syndicate("run", "-c", str(write_config(tmp_path, url)), tmp_path=tmp_path)
    assert result.returncode == STORE_UNAVAILABLE
    assert "lock" not in result.stderr
    assert "does not exist" in result.stderr


def test_status_of_a_read_only_store_still_shows_what_it_can_read(tmp_path: Path):
    url, expected = read_only_file(tmp_path)
    result = syndicate("status", "--json", "-c", str(write_config(tmp_path, url)), tmp_path=tmp_path)
    message = assert_one_store_error(result, expected)
    data = json.loads(result.stdout)
    assert data["posts"] == {}
    assert [feed["status"] for feed in data["feeds"]] == ["new"]  # configured, never polled
    assert "read-only" in message


def test_a_healthy_store_gives_json_with_an_empty_error_list(tmp_path: Path):
    path = new_store(tmp_path / "data")
    result = syndicate(
        "status", "--json", "-c", str(write_config(tmp_path, f"sqlite:///{path}")), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == []
