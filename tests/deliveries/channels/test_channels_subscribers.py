"""Subscriber lists: the model, CSV import of messy files, and `syndicate subscribers`."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from channels_support import write_config
from click.testing import CliRunner

from syndication.cli import main
from syndication.deliveries import subscribers
from syndication.deliveries.subscribers import SubscriberError, normalize_email
from syndication.deliveries.unsubscribe import make_unsubscribe_url, sign, verify
from syndication.store import Base


def test_migration_0002_matches_the_model(store):
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "subscribers" in repr(d)] == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ase@Example.NO ", "ase@example.no"),
        ("<ole.hansen+news@post.example.dk>", "ole.hansen+news@post.example.dk"),
    ],
)
def test_addresses_are_normalized(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ole",
        "ole@",
        "@example.no",
        "a@b",
        "ole hansen@example.no",
        "æble@example.dk",
        "a@@example.no",
        "x@example.no\r\nBcc: victim@example.no",
        ".ole@example.no",
    ],
)
def test_bad_addresses_are_refused_with_a_reason(raw):
    with pytest.raises(SubscriberError):
        normalize_email(raw)


def test_add_is_idempotent_and_an_unsubscribe_is_remembered(store):
    with store.session() as session:
        first, outcome = subscribers.add(session, "ase@example.no", lang="nb", list_name="news")
        assert outcome == "added" and len(first.token) >= 32
        again, outcome = subscribers.add(session, "ASE@example.no", lang="nb", list_name="news")
        assert outcome == "exists" and again.id == first.id
        other, outcome = subscribers.add(session, "ase@example.no", lang="sv", list_name="news")
        assert outcome == "added" and other.token != first.token
        subscribers.unsubscribe(session, first.token)
    with store.session() as session, pytest.raises(SubscriberError, match="--resubscribe"):
        subscribers.add(session, "ase@example.no", lang="nb", list_name="news")
    with store.session() as session:
        row, outcome = subscribers.add(
            session, "ase@example.no", lang="nb", list_name="news", resubscribe=True
        )
        assert outcome == "resubscribed" and row.status == "active"
    with store.session() as session, pytest.raises(SubscriberError, match="never 'no'"):
        subscribers.add(session, "x@example.no", lang="no", list_name="news")


def test_import_csv_handles_bom_semicolons_legacy_encoding_and_bad_rows(store, tmp_path):
    utf8 = (
        "\ufeffE-mail;Lang;Name\r\nase@example.no;nb;Åse\r\nbjorn@example.se;sv;Björn\r\n"
        "ikke-en-adresse;nb;X\r\n;;\r\n"
    )
    with store.session() as session:
        report = subscribers.import_csv(session, utf8.encode("utf-8"), list_name="news")
    assert report.added == 2 and report.invalid == [(4, "'ikke-en-adresse' is not an e-mail address")]

    legacy = "email,name\nsoren@example.dk,Søren Ærø\nase@example.no,Åse\n".encode("cp1252")
    with store.session() as session:
        report = subscribers.import_csv(session, legacy, list_name="news", default_lang="nb")
        names = {s.email: s.name for s in subscribers.list_subscribers(session, list_name="news")}
    assert report.added == 1 and report.existing == 1
    assert names["soren@example.dk"] == "Søren Ærø"

    headerless = b"ny@example.no\nmangler-lang@example.no\n"
    with store.session() as session:
        report = subscribers.import_csv(session, headerless, list_name="news")
    assert report.added == 0 and [line for line, _ in report.invalid] == [1, 2]
    assert "no language" in report.invalid[0][1]

    zipped = b"PK\x03\x04\x00\x00 a spreadsheet, not a csv \x81\x8d"
    with store.session() as session, pytest.raises(SubscriberError, match="NUL"):
        subscribers.import_csv(session, zipped, list_name="news", default_lang="nb")

    excel_unicode = "email\tlang\nulla@example.se\tsv\n".encode("utf-16")
    with store.session() as session:
        assert subscribers.import_csv(session, excel_unicode, list_name="news").added == 1


def test_unsubscribe_links_are_signed():
    url = make_unsubscribe_url("https://example.org/unsubscribe/news", "tok123", "key")
    assert url == f"https://example.org/unsubscribe/news?t=tok123&s={sign('tok123', 'key')}"
    assert make_unsubscribe_url("https://example.org/u?list=news", "t", "k").startswith(
        "https://example.org/u?list=news&t=t&s="
    )
    assert verify("tok123", sign("tok123", "key"), "key")
    assert not verify("tok124", sign("tok123", "key"), "key")
    assert not verify("tok123", sign("tok123", "other"), "key")
    assert not verify("tok123", "", "key") and not verify("", "", "")


def test_cli_add_import_list_unsubscribe_remove(tmp_path, db_url, store):
    config = write_config(
        tmp_path,
        db_url,
        {
            "news": {
                "type": "newsletter",
                "from": "n@bloggen.example",
                "list_id": "news.bloggen.example",
                "unsubscribe_url_base": "https://bloggen.example/u",
            }
        },
    )
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["subscribers", *args, "--config", str(config)], catch_exceptions=False)

    result = run("add", "ase@example.no", "ikke-adresse", "--lang", "nb")
    assert result.exit_code == 1
    assert "ase@example.no: added (news, nb)" in result.output and "ikke-adresse" in result.output
    csv_path = tmp_path / "list.csv"
    csv_path.write_text("email,lang\nbo@example.se,sv\nfeil,sv\n", encoding="utf-8")
    result = run("import", str(csv_path))
    assert result.exit_code == 0 and "1 added" in result.output and "line 3" in result.output
    listed = json.loads(run("list", "--json").output)
    assert [(r["email"], r["lang"], r["status"]) for r in listed] == [
        ("ase@example.no", "nb", "active"),
        ("bo@example.se", "sv", "active"),
    ]
    assert run("unsubscribe", "ase@example.no").exit_code == 0
    assert [r["email"] for r in json.loads(run("list", "--json").output)] == ["bo@example.se"]
    assert (
        json.loads(run("list", "--status", "unsubscribed", "--json").output)[0]["email"] == "ase@example.no"
    )
    assert run("remove", "bo@example.se").exit_code == 0
    assert run("remove", "bo@example.se").exit_code == 1
    assert json.loads(run("list", "--status", "all", "--json").output) == [
        listed[0] | {"status": "unsubscribed"}
    ]
