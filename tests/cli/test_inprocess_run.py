"""`syndicate run` / `publish` without a Prefect server configured run the pipeline in the command's
own process: no Prefect import, so no temporary Prefect server either (issue 13). The demo blog on
loopback, real Apertium, SQLite, outbox files.

The proof that nothing of Prefect is imported: the commands run with a `prefect` package first on
PYTHONPATH whose import raises, so any import of Prefect (and a server started through it) fails
the command. The same guard makes `--prefect` fail, which shows the guard works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.cli import main
from syndication.demo import DemoServer, demo_dir, prepare_demo, serve_site
from syndication.orchestration.embedded import prefect_api_configured, use_prefect
from syndication.settings import load_settings
from tests.deliveries.channels.channels_support import free_port

ROOT = Path(__file__).resolve().parents[2]
GUARD_MESSAGE = "prefect imported by a command that must not need it"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Path, DemoServer]]:
    root = tmp_path / "site"
    shutil.copytree(demo_dir() / "site", root)
    with serve_site(root) as server:
        yield prepare_demo(tmp_path / "work", server.base_url), server


@pytest.fixture
def no_prefect_env(tmp_path: Path) -> dict[str, str]:
    """No server configured (no variable, an empty Prefect home) and Prefect unimportable."""
    guard = tmp_path / "guard" / "prefect"
    guard.mkdir(parents=True)
    # A marker too: code that catches the ImportError (an optional feature) would hide it otherwise.
    marker = tmp_path / "guard" / "imported"
    (guard / "__init__.py").write_text(
        f"open({str(marker)!r}, 'a').close()\nraise ImportError({GUARD_MESSAGE!r})\n", encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(guard.parent), str(ROOT)]),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "SYNDICATION_PREFECT"):
        env.pop(name, None)
    return env


def syndicate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndication", *args], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_run_and_publish_without_a_server_import_nothing_of_prefect(demo, no_prefect_env, tmp_path):
    config, _server = demo
    first = syndicate(no_prefect_env, tmp_path, "run", "-c", str(config), "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["entries_new"] == 2 and summary["deliveries_sent"] == 4 and summary["errors"] == []
    assert sorted(p.name for p in (config.parent / "outbox" / "nb").glob("*.html")) == [
        "messebesoeg-i-berlin-og-landdistrikterne.html",
        "netvaerk-er-guld.html",
    ]
    again = syndicate(no_prefect_env, tmp_path, "run", "-c", str(config), "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["feeds_not_modified"] == 1 and summary["engine_calls"] == 0
    assert summary["deliveries_sent"] == 0
    published = syndicate(no_prefect_env, tmp_path, "publish", "-c", str(config), "--json")
    assert published.returncode == 0, published.stderr
    assert GUARD_MESSAGE not in first.stderr + again.stderr + published.stderr
    assert not (tmp_path / "guard" / "imported").exists()


def test_the_guard_does_catch_an_import_of_prefect(demo, no_prefect_env, tmp_path):
    config, server = demo
    result = syndicate(no_prefect_env, tmp_path, "run", "--prefect", "-c", str(config), "--json")
    assert result.returncode != 0
    assert GUARD_MESSAGE in result.stderr
    assert (tmp_path / "guard" / "imported").exists()
    assert server.requests == []  # nothing polled: the flow never started


def test_the_demo_command_without_a_server_imports_nothing_of_prefect(no_prefect_env, tmp_path):
    result = syndicate(no_prefect_env, tmp_path, "demo", "--workdir", str(tmp_path), "--port", "0", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["deliveries_sent"] == 4
    assert "outbox/nb/netvaerk-er-guld.html" in data["files"]
    assert not (tmp_path / "guard" / "imported").exists()


@pytest.fixture
def dead_feed_config(demo, monkeypatch):
    """The demo plus a feed where nothing listens, and a notification block configured."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(demo[0].parent / "prefect-home"))
    config, _server = demo
    dead = f"http://127.0.0.1:{free_port()}/feed/"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[store]", '[orchestration]\nnotify_block = "custom-webhook/editors"\n\n[store]', 1
        )
        + f'\n[[feeds]]\nurl = "{dead}"\nname = "dead"\nsource_lang = "da"\n',
        encoding="utf-8",
    )
    return config


def test_work_that_failed_exits_1_and_a_notification_block_is_skipped_with_a_warning(dead_feed_config):
    result = CliRunner().invoke(main, ["run", "-c", str(dead_feed_config), "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["deliveries_sent"] == 4 and [e["stage"] for e in summary["errors"]] == ["poll"]
    assert "not sent through the notification block 'custom-webhook/editors'" in result.stderr
    assert "1 feed failed" in result.stderr
    assert "PREFECT_API_URL" in result.stderr


def test_a_bad_language_is_a_usage_error_naming_it(demo, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    config, server = demo
    result = CliRunner().invoke(main, ["run", "-c", str(config), "--lang", "no"])
    assert result.exit_code == 2, result.output
    assert "languages.0: use 'nb' (Bokmål) or 'nn' (Nynorsk), never 'no'" in result.output
    assert "Traceback" not in result.output
    assert server.requests == []


# ------------------------------------------------------------------------- flow or in-process


@pytest.fixture
def clean_prefect_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "SYNDICATION_PREFECT"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    return home


def test_nothing_configured_means_in_process(clean_prefect_env, tmp_path):
    assert not prefect_api_configured(tmp_path)
    assert not use_prefect(None, cwd=tmp_path)


def test_an_api_url_variable_means_flows(clean_prefect_env, tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert use_prefect(None, cwd=tmp_path)


def test_the_active_profile_naming_a_server_means_flows(clean_prefect_env, tmp_path, monkeypatch):
    (clean_prefect_env / "profiles.toml").write_text(
        'active = "team"\n\n[profiles.local]\n\n'
        '[profiles.team]\nPREFECT_API_URL = "http://prefect.example:4200/api"\n',
        encoding="utf-8",
    )
    assert use_prefect(None, cwd=tmp_path)
    monkeypatch.setenv("PREFECT_PROFILE", "local")  # another profile chosen: no server
    assert not use_prefect(None, cwd=tmp_path)


def test_a_prefect_toml_naming_a_server_means_flows(clean_prefect_env, tmp_path):
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://prefect.example:4200/api"\n')
    assert use_prefect(None, cwd=tmp_path)


def test_prefect_asked_for_or_a_dask_runner_means_flows(clean_prefect_env, tmp_path, monkeypatch, demo):
    config, _server = demo
    assert use_prefect(None, requested=True, cwd=tmp_path)
    assert not use_prefect(load_settings(config), cwd=tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[store]", '[orchestration]\ntask_runner = "dask"\n\n[store]', 1
        ),
        encoding="utf-8",
    )
    assert use_prefect(load_settings(config), cwd=tmp_path)
    monkeypatch.setenv("SYNDICATION_PREFECT", "1")
    assert use_prefect(None, cwd=tmp_path)
