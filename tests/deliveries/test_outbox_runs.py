"""The outbox between ``begin_run()`` and ``close()``: index records journaled, merged once per run,
and nothing lost when a run dies before ``close()``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import lxml.etree

from syndication.deliveries.outbox import JOURNAL_NAME, OutboxChannel
from tests.deliveries.test_outbox import entries, make_channel, make_item, publish

ATOM = "{http://www.w3.org/2005/Atom}"


def item(n: int):
    return make_item(
        post_key=f"https://lokaltliv.example/?p={n}",
        source_url=f"https://lokaltliv.example/indlaeg-{n}/",
        title=f"Innlegg {n}",
        translation_id=n,
    )


def feed_ids(folder: Path) -> set[str]:
    feed = lxml.etree.fromstring((folder / "feed.atom").read_bytes())
    return {e.findtext(f"{ATOM}id") for e in entries(feed)}


def index_keys(folder: Path) -> set[str]:
    return set(json.loads((folder / ".index.json").read_text())["entries"])


def test_a_run_journals_and_merges_once_at_close(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, item(1))  # outside a run: index and feed at once, as before
    folder = tmp_path / "outbox" / "nb"
    assert index_keys(folder) == {"https://lokaltliv.example/?p=1"}

    channel.begin_run()
    for n in (2, 3, 4):
        publish(channel, item(n))
    # Documents are there at once; the feed and index wait for the end of the run.
    assert sorted(p.name for p in folder.glob("*.html")) == [f"indlaeg-{n}.html" for n in (1, 2, 3, 4)]
    assert index_keys(folder) == {"https://lokaltliv.example/?p=1"}
    assert len((folder / JOURNAL_NAME).read_text().splitlines()) == 3

    channel.close()
    assert not (folder / JOURNAL_NAME).exists()
    assert index_keys(folder) == {f"https://lokaltliv.example/?p={n}" for n in (1, 2, 3, 4)}
    assert len(feed_ids(folder)) == 4


def test_slugs_stay_unique_within_a_run(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    channel.begin_run()
    first = publish(channel, item(1))
    # Another post whose URL ends in the same segment must not overwrite the first file.
    second = publish(channel, replace(item(2), source_url="https://lokaltliv.example/x/indlaeg-1/"))
    channel.close()
    assert first.meta["slug"] == "indlaeg-1" and second.meta["slug"] == "indlaeg-1-2"


def test_a_run_killed_before_close_loses_nothing(tmp_path: Path) -> None:
    dying = make_channel(tmp_path)
    dying.begin_run()
    publish(dying, item(1))
    publish(dying, item(2))
    folder = tmp_path / "outbox" / "nb"
    # The process dies here: no close(). A partial record half-written at the moment of death:
    with open(folder / JOURNAL_NAME, "ab") as handle:
        handle.write(b'{"post_key": "https://lokaltliv.example/?p=9", "ent')

    survivor = make_channel(tmp_path)  # the next run, another process
    receipt = publish(survivor, item(3))
    assert receipt.meta["slug"] == "indlaeg-3"
    assert index_keys(folder) == {f"https://lokaltliv.example/?p={n}" for n in (1, 2, 3)}
    assert len(feed_ids(folder)) == 3
    assert not (folder / JOURNAL_NAME).exists()


def test_two_channels_in_one_run_see_each_others_records(tmp_path: Path) -> None:
    # Two workers on one outbox folder: each reads the other's journal lines before choosing a slug.
    a, b = make_channel(tmp_path), make_channel(tmp_path)
    a.begin_run()
    b.begin_run()
    publish(a, item(1))
    clash = publish(b, replace(item(2), source_url="https://lokaltliv.example/y/indlaeg-1/"))
    publish(a, item(3))
    a.close()
    b.close()
    folder = tmp_path / "outbox" / "nb"
    assert clash.meta["slug"] == "indlaeg-1-2"
    assert index_keys(folder) == {f"https://lokaltliv.example/?p={n}" for n in (1, 2, 3)}
    assert len(feed_ids(folder)) == 3


def test_retract_inside_a_run_merges_the_journal(tmp_path: Path) -> None:
    channel: OutboxChannel = make_channel(tmp_path)
    channel.begin_run()
    publish(channel, item(1))
    receipt = publish(channel, item(2))
    channel.retract(receipt)
    folder = tmp_path / "outbox" / "nb"
    assert index_keys(folder) == {"https://lokaltliv.example/?p=1"}
    channel.close()
    assert index_keys(folder) == {"https://lokaltliv.example/?p=1"}
    assert not (folder / "indlaeg-2.html").exists()
