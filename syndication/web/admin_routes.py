"""Administrators: accounts (add, disable, enable, role), a read-only view of the settings, and failed
deliveries queued again in bulk."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.errors import SyndicationError, UserError
from syndication.web.rendering import flash
from syndication.web.security import checked_form, require_admin
from syndication.web.users import (
    add_user,
    list_users,
    set_disabled,
    set_langs,
    set_password,
    set_role,
    unlock,
)

if TYPE_CHECKING:
    from syndication.web.app import WebState

log = logging.getLogger(__name__)


def _state(request: Request) -> WebState:
    from syndication.web.app import state_of

    return state_of(request)


async def users_page(request: Request) -> Response:
    require_admin(request)
    return await _render_users(request)


async def _render_users(request: Request, *, status_code: int = 200, error: str | None = None) -> Response:
    state = _state(request)

    def load() -> list[dict[str, Any]]:
        with state.ctx.store.session() as session:
            return [
                {
                    "username": u.username,
                    "role": u.role,
                    "disabled": u.disabled,
                    "created_at": u.created_at,
                    "langs": u.langs or "",
                }
                for u in list_users(session)
            ]

    users = await run_in_threadpool(load)
    return state.pages.response(request, "users.html", status_code=status_code, users=users, error=error)


async def users_action(request: Request) -> Response:
    admin = require_admin(request)
    state = _state(request)
    form = await checked_form(request)
    action = str(form.get("action") or "")
    name = str(form.get("username") or "").strip()

    known = list(state.settings.translation.targets)

    def apply() -> str:
        with state.ctx.store.session() as session:
            if action in ("add", "password"):
                password = str(form.get("password") or "")
                if password != str(form.get("password2") or ""):
                    raise UserError("the two passwords differ")
            if action == "add":
                user = add_user(
                    session,
                    name,
                    password,
                    role=str(form.get("role") or "editor"),
                    langs=str(form.get("langs") or "") or None,
                    known_langs=known,
                )
                return f"Added {user.role} {user.username}."
            if action == "password":
                user = set_password(session, name, password)
                return f"New password set for {user.username}; their sessions have ended."
            if action == "unlock":
                count = unlock(session, name)
                return f"{name}: {count} failed login(s) forgotten; they can log in again."
            if action == "langs":
                user = set_langs(session, name, str(form.get("langs") or "") or None, known)
                return f"{user.username} reviews {user.langs or 'every language'}."
            if action in ("disable", "enable"):
                if action == "disable" and name.casefold() == admin.username:
                    raise UserError("you cannot disable your own account")
                user = set_disabled(session, name, action == "disable")
                return f"{user.username} is {'disabled' if user.disabled else 'enabled'}."
            if action == "role":
                if name.casefold() == admin.username:
                    raise UserError("you cannot change your own role")
                user = set_role(session, name, str(form.get("role") or ""))
                return f"{user.username} is now {user.role}."
            raise UserError(f"unknown action {action!r}")

    try:
        message = await run_in_threadpool(apply)
    except UserError as exc:
        return await _render_users(request, status_code=400, error=exc.message)
    flash(request, "ok", message)
    return RedirectResponse("/admin/users", status_code=303)


_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/:@\s]*):[^/@\s]*@")
MASK = "**********"


def masked(value: Any) -> Any:
    """``value`` (settings as JSON data) with the password of every ``scheme://user:password@`` URL
    replaced: the store URL from ``SYNDICATION__STORE__URL`` carries the database password."""
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


async def settings_page(request: Request) -> Response:
    require_admin(request)
    state = _state(request)
    # mode="json" writes every SecretStr as "**********"; passwords inside URLs are masked too.
    data = masked(state.settings.model_dump(mode="json"))
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return state.pages.response(
        request,
        "settings.html",
        settings_json=text,
        store_url=state.ctx.store.url,
        uses_prefect=state.publisher.uses_prefect,
        deployment=state.publisher.deployment,
    )


# ------------------------------------------------------------------------------------ deliveries
#
# The same bulk retry as `syndicate deliveries retry`: a filter, a preview of what it would queue,
# and a confirmation that carries the count the admin saw — if the selection changed meanwhile
# (a publish ran), nothing is queued and the new preview is shown instead.

FILTERS = ("channel", "state", "since", "post")


def _selection_from(values: Any) -> tuple[dict[str, str], bool]:
    chosen = {name: str(values.get(name) or "").strip() for name in FILTERS}
    return chosen, str(values.get("include_uncertain") or "") in ("1", "on", "true")


def _plan(state: WebState, chosen: dict[str, str], include_uncertain: bool) -> dict[str, Any]:
    from dataclasses import replace

    from syndication.deliveries.bulk import Selection, parse_since, plan_retry, resolve_post_ref
    from syndication.deliveries.states import RETRYABLE_STATES

    with state.ctx.store.session() as session:
        selection = Selection(
            channel=chosen["channel"] or None,
            state=chosen["state"] or "failed",
            since=parse_since(chosen["since"]) if chosen["since"] else None,
            post_id=resolve_post_ref(session, chosen["post"]) if chosen["post"] else None,
        )
        if selection.state not in RETRYABLE_STATES:
            raise UserError(f"only failed or uncertain deliveries can be retried, not {selection.state!r}")
        plan = plan_retry(session, replace(selection, every=True), include_uncertain=include_uncertain)
    return {
        "rows": plan.to_queue,
        "uncertain": len(plan.uncertain),
        "recipients": plan.recipients_at_risk,
        "include_uncertain": include_uncertain,
    }


async def deliveries_page(request: Request) -> Response:
    require_admin(request)
    chosen, include_uncertain = _selection_from(request.query_params)
    return await _render_deliveries(request, chosen, include_uncertain)


async def _render_deliveries(
    request: Request,
    chosen: dict[str, str],
    include_uncertain: bool,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    from syndication.deliveries.states import RETRYABLE_STATES

    state = _state(request)
    try:
        plan = await run_in_threadpool(_plan, state, chosen, include_uncertain)
    except SyndicationError as exc:
        plan, error, status_code = None, exc.message, 400
    return state.pages.response(
        request,
        "deliveries.html",
        status_code=status_code,
        error=error,
        chosen=chosen,
        plan=plan,
        channels=sorted(state.settings.channels),
        states=RETRYABLE_STATES,
    )


async def deliveries_action(request: Request) -> Response:
    from urllib.parse import urlencode

    from syndication.deliveries.bulk import apply_retry

    require_admin(request)
    state = _state(request)
    form = await checked_form(request)
    chosen, include_uncertain = _selection_from(form)
    try:
        expected = int(str(form.get("expected") or ""))
    except ValueError:
        expected = -1

    def apply() -> int | None:
        plan = _plan(state, chosen, include_uncertain)
        if len(plan["rows"]) != expected:
            return None
        with state.ctx.store.session() as session:
            return apply_retry(session, [row["id"] for row in plan["rows"]])

    try:
        queued = await run_in_threadpool(apply)
    except SyndicationError as exc:
        return await _render_deliveries(
            request, chosen, include_uncertain, status_code=400, error=exc.message
        )
    if queued is None:
        return await _render_deliveries(
            request,
            chosen,
            include_uncertain,
            status_code=409,
            error="The selection changed since the preview; nothing was queued. Check it and confirm again.",
        )
    flash(request, "ok", f"{queued} deliveries queued for the next publish.")
    query = urlencode(
        {
            **{k: v for k, v in chosen.items() if v},
            **({"include_uncertain": "1"} if include_uncertain else {}),
        }
    )
    return RedirectResponse("/admin/deliveries" + (f"?{query}" if query else ""), status_code=303)


async def corrections_page(request: Request) -> Response:
    from syndication.review.corrections import describe, listing

    require_admin(request)
    state = _state(request)
    threshold = state.settings.review.auto_apply_corrections

    def load() -> list[dict[str, Any]]:
        with state.ctx.store.session() as session:
            return [describe(c, threshold) for c in listing(session)]

    rows = await run_in_threadpool(load)
    return state.pages.response(request, "corrections.html", corrections=rows, threshold=threshold)


async def corrections_action(request: Request) -> Response:
    from syndication.review.corrections import remove

    admin = require_admin(request)
    state = _state(request)
    form = await checked_form(request)
    try:
        correction_id = int(str(form.get("id") or ""))
    except ValueError:
        correction_id = -1

    def apply() -> bool:
        with state.ctx.store.session() as session:
            return remove(session, correction_id)

    if await run_in_threadpool(apply):
        log.info("learned correction %d removed by %s", correction_id, admin.username)
        flash(request, "ok", "Removed: it is no longer suggested or applied (until editors make it again).")
    else:
        flash(request, "warn", "That correction was already removed.")
    return RedirectResponse("/admin/corrections", status_code=303)


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/admin/corrections", corrections_page, methods=["GET"]),
        Route("/admin/corrections", corrections_action, methods=["POST"]),
        Route("/admin/users", users_page, methods=["GET"]),
        Route("/admin/users", users_action, methods=["POST"]),
        Route("/admin/settings", settings_page, methods=["GET"]),
        Route("/admin/deliveries", deliveries_page, methods=["GET"]),
        Route("/admin/deliveries", deliveries_action, methods=["POST"]),
    ]
