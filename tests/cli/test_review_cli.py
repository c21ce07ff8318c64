"""The review and status commands on a database filled by the real pipeline."""

from __future__ import annotations

import json
import tomllib

from click.testing import CliRunner

from syndication import pipeline
from syndication.cli import main
from syndication.settings import load_settings


def config_of(ctx) -> str:
    return str(ctx.settings.base_dir / "syndication.toml")


def test_init_writes_a_commented_config_that_loads(tmp_path):
    runner = CliRunner()
    path = tmp_path / "config" / "syndication.toml"
    result = runner.invoke(main, ["init", "--path", str(path), "--feed", "https://blog.example.dk/feed/"])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.count("#") > 20  # commented
    data = tomllib.loads(text)
    assert data["feeds"][0]["url"] == "https://blog.example.dk/feed/"
    settings = load_settings(path, environ={})
    assert settings.translation.targets == ["nb", "sv"]
    again = runner.invoke(main, ["init", "--path", str(path)])
    assert again.exit_code != 0 and "--force" in again.output


def test_review_list_show_approve_reject(make_ctx, site):
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    config = config_of(ctx)
    runner = CliRunner()

    listed = runner.invoke(main, ["review", "list", "--config", config, "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert {i["lang"] for i in items} == {"nb", "sv"} and len(items) == 4

    post = f"{site.base_url}/?p=412"
    shown = runner.invoke(
        main, ["review", "show", post, "--lang", "nb", "--config", config, "--width", "140"]
    )
    assert shown.exit_code == 0, shown.output
    assert "Netværk er guld" in shown.output and "Nettverk er gull" in shown.output
    assert "│" in shown.output  # side by side

    approved = runner.invoke(
        main, ["review", "approve", post, "--lang", "nb", "--config", config, "--as", "kari"]
    )
    assert approved.exit_code == 0, approved.output
    rejected = runner.invoke(
        main, ["review", "reject", post, "--lang", "sv", "--config", config, "--comment", "for kort"]
    )
    assert rejected.exit_code == 0, rejected.output

    published = pipeline.publish(make_ctx(auto_approve=False))
    assert published.deliveries_sent == 1

    status = runner.invoke(main, ["status", "--config", config, "--json"])
    data = json.loads(status.stdout)
    assert data["translations"]["nb/approved"] == 1
    assert data["translations"]["sv/rejected"] == 1
    assert data["deliveries"] == {"outbox/sent": 1}


def test_unknown_post_is_a_clear_error(make_ctx):
    ctx = make_ctx(auto_approve=False)
    result = CliRunner().invoke(
        main, ["review", "show", "https://nowhere.example/", "--lang", "nb", "--config", config_of(ctx)]
    )
    assert result.exit_code != 0
    assert "no post matches" in result.output
