"""The admin page that queues failed deliveries again: the CLI's bulk retry, behind a preview, the
admin role and the CSRF check (a real uvicorn, the real store)."""

from __future__ import annotations

from sqlalchemy import select

from syndication.store import Delivery
from tests.web.conftest import Env, login


def _ledger(env: Env) -> None:
    rows = [
        ("partner", "", "failed", "terminal"),
        ("partner", "", "failed", "transient"),
        ("partner", "", "failed", "terminal"),
        ("news", "ola@example.no", "uncertain", "terminal"),
        ("news", "kari@example.no", "sent", None),
    ]
    with env.ctx.store.session() as session:
        for number, (channel, target, state, kind) in enumerate(rows):
            session.add(
                Delivery(
                    key=f"bench-{number}",
                    post_id=env.post_id,
                    revision="r",
                    lang="nb" if number != 1 else "sv",
                    channel=channel,
                    target=target,
                    state=state,
                    error_kind=kind,
                    error="the partner answered 422" if state == "failed" else None,
                )
            )


def _states(env: Env) -> list[str]:
    with env.ctx.store.session() as session:
        return list(session.scalars(select(Delivery.state).order_by(Delivery.id)))


def test_editors_cannot_retry_deliveries(env: Env, client):
    _ledger(env)
    token = login(client, "anna")
    assert client.get("/admin/deliveries").status_code == 403
    response = client.post(
        "/admin/deliveries", data={"csrf_token": token, "state": "failed", "expected": "3"}
    )
    assert response.status_code == 403 and _states(env)[:3] == ["failed"] * 3


def test_admins_preview_then_confirm_a_bulk_retry(env: Env, client):
    _ledger(env)
    token = login(client, "admin")
    page = client.get("/admin/deliveries?channel=partner&state=failed")
    assert page.status_code == 200
    assert "3 deliveries would be queued" in page.text and "the partner answered 422" in page.text
    assert client.post("/admin/deliveries", data={"state": "failed", "expected": "3"}).status_code == 403

    stale = client.post(
        "/admin/deliveries",
        data={"csrf_token": token, "channel": "partner", "state": "failed", "expected": "2"},
    )
    assert stale.status_code == 409 and "nothing was queued" in stale.text
    assert _states(env)[:3] == ["failed"] * 3

    terminal = client.get("/admin/deliveries?state=failed-terminal")
    assert "2 deliveries would be queued" in terminal.text
    done = client.post(
        "/admin/deliveries",
        data={"csrf_token": token, "channel": "partner", "state": "failed", "expected": "3"},
    )
    assert (
        done.status_code == 303
        and done.headers["location"] == "/admin/deliveries?channel=partner&state=failed"
    )
    assert _states(env) == ["pending", "pending", "pending", "uncertain", "sent"]


def test_uncertain_emails_need_the_box_ticked_and_say_who_may_get_two(env: Env, client):
    _ledger(env)
    token = login(client, "admin")
    left_out = client.get("/admin/deliveries?state=uncertain")
    assert "0 deliveries would be queued" in left_out.text
    assert (
        "1 uncertain e-mail(s) left out" in left_out.text
        and "1 recipient(s) may get a second copy" in left_out.text
    )
    included = client.get("/admin/deliveries?state=uncertain&include_uncertain=1")
    assert "1 deliveries would be queued" in included.text
    assert "1 uncertain e-mail(s) included: 1 recipient(s) may get a second copy" in included.text
    done = client.post(
        "/admin/deliveries",
        data={"csrf_token": token, "state": "uncertain", "include_uncertain": "1", "expected": "1"},
    )
    assert done.status_code == 303 and _states(env)[3] == "pending"
    bad = client.get("/admin/deliveries?since=yesterday-ish")
    assert bad.status_code == 400 and "give a date" in bad.text
