"""Log in and out.

A failed login says only "wrong user name or password" (the same for an unknown, disabled or
mistyped account). Five failures for one name from one address within 15 minutes pause further
attempts for that pair, which slows guessing without letting anyone lock an editor out from afar.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.web.security import checked_form, current_user, safe_next
from syndication.web.users import authenticate, end_session, start_session

if TYPE_CHECKING:
    from syndication.web.app import WebState

MAX_FAILURES = 5
WINDOW = 15 * 60.0


class LoginThrottle:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _recent(self, key: tuple[str, str]) -> list[float]:
        now = self._clock()
        recent = [t for t in self._failures.get(key, []) if now - t < WINDOW]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent

    def blocked(self, name: str, address: str) -> bool:
        with self._lock:
            return len(self._recent((name.casefold(), address))) >= MAX_FAILURES

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            key = (name.casefold(), address)
            self._failures[key] = [*self._recent(key), self._clock()]

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name.casefold(), address), None)


def _state(request: Request) -> WebState:
    from syndication.web.app import state_of

    return state_of(request)


async def login_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _state(request).pages.response(request, "login.html", next=target, error=None, username="")


async def login(request: Request) -> Response:
    state = _state(request)
    form = await checked_form(request)
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else "?"
    error = None
    if not username or not password:
        error = "Enter your user name and password."
    elif state.throttle.blocked(username, address):
        error = "Too many failed attempts: wait 15 minutes, or ask an administrator to reset your password."
    if error is None:

        def check() -> str | None:
            with state.ctx.store.session() as session:
                user = authenticate(session, username, password)
                if user is None:
                    return None
                return start_session(session, user, max_age=state.settings.web.session_max_age)

        token = await run_in_threadpool(check)
        if token is not None:
            state.throttle.succeeded(username, address)
            request.session.clear()  # a fresh session: nothing from before the login carries over
            request.session["sid"] = token
            return RedirectResponse(target, status_code=303)
        state.throttle.failed(username, address)
        error = "Wrong user name or password."
    return state.pages.response(
        request, "login.html", status_code=400, next=target, error=error, username=username
    )


async def logout(request: Request) -> Response:
    state = _state(request)
    await checked_form(request)
    token = request.session.get("sid")
    if isinstance(token, str):

        def end() -> None:
            with state.ctx.store.session() as session:
                end_session(session, token)

        await run_in_threadpool(end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def login_routes() -> list[BaseRoute]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
