"""Administrators: accounts (add, disable, enable, role) and a read-only view of the settings."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.errors import UserError
from syndication.web.rendering import flash
from syndication.web.security import checked_form, require_admin
from syndication.web.users import add_user, list_users, set_disabled, set_role

if TYPE_CHECKING:
    from syndication.web.app import WebState


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
                {"username": u.username, "role": u.role, "disabled": u.disabled, "created_at": u.created_at}
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

    def apply() -> str:
        with state.ctx.store.session() as session:
            if action == "add":
                password = str(form.get("password") or "")
                if password != str(form.get("password2") or ""):
                    raise UserError("the two passwords differ")
                user = add_user(session, name, password, role=str(form.get("role") or "editor"))
                return f"Added {user.role} {user.username}."
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


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/admin/users", users_page, methods=["GET"]),
        Route("/admin/users", users_action, methods=["POST"]),
        Route("/admin/settings", settings_page, methods=["GET"]),
    ]
