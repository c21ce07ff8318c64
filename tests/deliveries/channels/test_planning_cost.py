"""What a publish plans: items a channel's filter keeps out are recorded once, and a publish with
nothing new reads nothing of the history (a real webhook receiver; the real store and ledger)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from channels_support import deliveries, free_port, make_context, make_due, no_sleep, write_config
from sqlalchemy import event, update
from test_channels_webhook import SECRET, hook_config

from syndication.deliveries import stage
from syndication.deliveries.stage import deliver_approved
from syndication.store import Delivery, Post, Translation, utcnow

ENV = {"SYNDICATION__CHANNELS__PARTNER_HOOK__SECRET": SECRET}


def publish(tmp_path, store, db_url, url, **extra):
    config = write_config(tmp_path, db_url, {"partner_hook": hook_config(url, **extra)})
    ctx = make_context(store, config, ENV)
    deliver_approved(ctx, sleep=no_sleep)
    return ctx.summary


@pytest.fixture
def built(items, monkeypatch):
    """How many times the stage built an item (joined its segments) per translation."""
    calls: Counter[int] = Counter()

    def counting(session, translation_id):
        calls[translation_id] += 1
        return items.approved_item(session, translation_id)

    monkeypatch.setattr(stage, "approved_item", counting)
    return calls


@pytest.fixture
def loaded():
    """Rows of the history the ORM loaded (translations and ledger rows)."""
    counts: Counter[str] = Counter()

    def on_load(target, _context):
        counts[type(target).__name__] += 1

    for model in (Translation, Delivery):
        event.listen(model, "load", on_load)
    yield counts
    for model in (Translation, Delivery):
        event.remove(model, "load", on_load)


def test_items_a_filter_keeps_out_are_recorded_and_not_planned_again(
    tmp_path, store, db_url, items, receiver, built
):
    food = [
        items.approve(f"https://bloggen.example/?p={n}", "nb", title=f"Mad {n}", categories=("Mad",))
        for n in (1, 2, 3)
    ]
    items.approve("https://bloggen.example/?p=4", "nb", title="Net", categories=("Netværk",))
    only_net = {"only_categories": ["netværk"]}

    first = publish(tmp_path, store, db_url, receiver.url, **only_net)
    assert len(receiver.applied) == 1 and first.deliveries_filtered == 3
    filtered = deliveries(store, state="filtered")
    assert sorted(r.post_id for r in filtered) == [1, 2, 3]
    assert {r.channel for r in filtered} == {"partner_hook"}

    built.clear()
    second = publish(tmp_path, store, db_url, receiver.url, **only_net)
    assert built == {} and second.deliveries_filtered == 0, "skipped without building the items again"

    items.edit(food[0], title="Mad 1, rettet")
    third = publish(tmp_path, store, db_url, receiver.url, **only_net)
    assert built == {food[0].translation_id: 1} and third.deliveries_filtered == 1, "an edit: planned again"
    assert len(receiver.requests) == 1

    built.clear()
    publish(tmp_path, store, db_url, receiver.url, only_categories=["Netværk", "Mad"])
    assert len(built) == 3, "a changed filter: the filtered items are planned again"
    assert sorted(json.loads(r["body"])["item"]["title"] for r in receiver.requests[1:]) == [
        "Mad 1, rettet",
        "Mad 2",
        "Mad 3",
    ]
    publish(tmp_path, store, db_url, receiver.url, only_categories=["Netværk", "Mad"])
    assert len(receiver.requests) == 4, "each sent once"


def test_a_publish_with_nothing_new_reads_none_of_the_history(
    tmp_path, store, db_url, items, receiver, loaded
):
    posted = [
        items.approve(f"https://bloggen.example/?p={n}", "nb", title=f"Gammel {n}") for n in range(1, 41)
    ]
    publish(tmp_path, store, db_url, receiver.url)
    assert len(receiver.applied) == 40
    day_ago = utcnow() - timedelta(days=1)
    with store.session() as session:  # the history is old: approved and sent yesterday
        session.execute(update(Post).values(updated_at=day_ago))
        session.execute(update(Translation).values(updated_at=day_ago, decided_at=day_ago))
        session.execute(update(Delivery).values(updated_at=day_ago, sent_at=day_ago))
    publish(tmp_path, store, db_url, receiver.url)  # plans everything once, then marks the channel

    loaded.clear()
    publish(tmp_path, store, db_url, receiver.url)
    assert loaded == {}, "no translation or ledger row of the history is read"
    assert len(receiver.requests) == 40

    # What changes is still planned: a new approval, an edit, a retraction.
    items.approve("https://bloggen.example/?p=99", "nb", title="Ny")
    items.edit(posted[4], title="Gammel 5, rettet")
    items.retract_post("https://bloggen.example/?p=9")
    publish(tmp_path, store, db_url, receiver.url)
    events = sorted(json.loads(r["body"])["event"] for r in receiver.requests[40:])
    assert events == ["item.published", "item.retracted", "item.updated"]
    publish(tmp_path, store, db_url, receiver.url)
    assert len(receiver.requests) == 43 and {r.state for r in deliveries(store)} == {"sent"}


def test_sends_a_paused_channel_left_over_are_planned_again(
    tmp_path, store, db_url, items, receiver, monkeypatch
):
    """The channel's mark moves only when all that was planned is in the ledger."""
    monkeypatch.setattr(stage, "MARK_MARGIN", timedelta(0))  # no slack: a wrong mark would lose items
    publish(tmp_path, store, db_url, receiver.url)  # nothing yet: the channel gets its mark
    for number in (1, 2, 3):
        items.approve(f"https://bloggen.example/?p={number}", "nb", title=f"Nede {number}")
    down = publish(tmp_path, store, db_url, f"http://127.0.0.1:{free_port()}/hook")
    assert len(deliveries(store)) == 1 and any("2 more deliveries" in note for note in down.delivery_notes)
    make_due(store)
    publish(tmp_path, store, db_url, receiver.url)
    assert len(receiver.applied) == 3 and {r.state for r in deliveries(store)} == {"sent"}
