import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from syndication.deliveries import ledger
from syndication.errors import TerminalDeliveryError, TransientDeliveryError
from syndication.models import Receipt
from syndication.store import Delivery, Post, open_store, utcnow


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/ledger.db")
    with store.session() as session:
        session.add(Post(id=1, post_key="https://blog.example.dk/?p=7", url="https://blog.example.dk/a/"))
    yield store
    store.dispose()


def planned(action="publish", target=""):
    return ledger.Planned(
        post_id=1,
        translation_id=None,
        post_key="https://blog.example.dk/?p=7",
        revision="abc123",
        lang="nb",
        channel="outbox",
        target=target,
        action=action,
    )


def test_ensure_is_idempotent_on_the_key(store):
    with store.session() as session:
        first = ledger.ensure(session, planned()).id
    with store.session() as session:
        second = ledger.ensure(session, planned()).id
        other = ledger.ensure(session, planned(target="reader@example.no")).id
    assert first == second
    assert other != first


def test_exactly_one_of_many_racing_claims_wins(tmp_path, store):
    with store.session() as session:
        delivery_id = ledger.ensure(session, planned()).id
    # Separate stores = separate connections, as separate workers would have.
    stores = [open_store(store.engine.url.render_as_string(), migrate=False) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    wins: list[bool] = []

    def worker(s):
        barrier.wait()
        wins.append(ledger.claim(s, delivery_id, at_most_once=False, worker=f"w{id(s)}"))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    with store.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row.state == "sending" and row.attempts == 1


def test_sent_rows_are_never_claimed_again(store):
    with store.session() as session:
        delivery_id = ledger.ensure(session, planned()).id
    assert ledger.claim(store, delivery_id, at_most_once=False)
    ledger.complete(
        store, delivery_id, Receipt(channel="outbox", key="k", remote_id="42", remote_url="file:///x")
    )
    assert not ledger.claim(store, delivery_id, at_most_once=False)
    with store.session() as session:
        assert ledger.last_sent(session, 1, "nb", "outbox", "").remote_id == "42"


def test_transient_failure_waits_for_backoff_then_is_claimable(store):
    with store.session() as session:
        delivery_id = ledger.ensure(session, planned()).id
    assert ledger.claim(store, delivery_id, at_most_once=False)
    row = ledger.fail(store, delivery_id, TransientDeliveryError("503 from partner"), retry_after=None)
    assert row.state == "failed" and row.error_kind == "transient"
    assert row.next_attempt_at > utcnow()
    assert not ledger.claim(store, delivery_id, at_most_once=False)  # too early
    with store.session() as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert ledger.claim(store, delivery_id, at_most_once=False)


def test_terminal_failure_waits_for_an_operator(store):
    with store.session() as session:
        delivery_id = ledger.ensure(session, planned()).id
    assert ledger.claim(store, delivery_id, at_most_once=False)
    ledger.fail(store, delivery_id, TerminalDeliveryError("401: wrong application password"))
    assert not ledger.claim(store, delivery_id, at_most_once=False)
    assert ledger.retry(store, delivery_id)
    assert ledger.claim(store, delivery_id, at_most_once=False)


def test_transient_failures_become_terminal_after_max_attempts(store):
    with store.session() as session:
        delivery_id = ledger.ensure(session, planned()).id
        session.flush()
        session.execute(update(Delivery).values(attempts=ledger.MAX_ATTEMPTS - 1))
    assert ledger.claim(store, delivery_id, at_most_once=False)
    row = ledger.fail(store, delivery_id, TransientDeliveryError("timeout"))
    assert row.error_kind == "terminal"
    assert "gave up after" in row.error


def test_stale_claim_expires_except_on_at_most_once_channels(store):
    with store.session() as session:
        web = ledger.ensure(session, planned()).id
        mail = ledger.ensure(session, planned(target="reader@example.no")).id
    for delivery_id, once in ((web, False), (mail, True)):
        assert ledger.claim(store, delivery_id, at_most_once=once, worker="killed-worker")
    # A fresh claim is protected …
    assert not ledger.claim(store, web, at_most_once=False)
    with store.session() as session:
        session.execute(update(Delivery).values(claimed_at=utcnow() - ledger.LEASE - timedelta(seconds=1)))
    # … an expired one is taken over for an idempotent channel,
    assert ledger.claim(store, web, at_most_once=False, worker="next-worker")
    # … and reported, never resent, for e-mail.
    assert not ledger.claim(store, mail, at_most_once=True)
    assert ledger.mark_uncertain(store, ["outbox"]) == [mail]
    with store.session() as session:
        row = session.get(Delivery, mail)
        assert row.state == "uncertain"
        assert f"syndicate deliveries retry {mail}" in row.error


def test_long_keys_are_hashed_but_stable():
    long_target = "x" * 600
    key = ledger.delivery_key("p", "r", "nb", "newsletter", long_target, "publish")
    assert key.startswith("sha256:") and len(key) < 100
    assert key == ledger.delivery_key("p", "r", "nb", "newsletter", long_target, "publish")
