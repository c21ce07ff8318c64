"""Log in and out.

A failed login says only "wrong user name or password" (the same for an unknown, disabled or
mistyped account). Failures are counted in the store: five for one name from one address within 15
minutes pause that pair (which slows guessing without letting anyone lock an editor out from afar),
twenty from one address pause that address (random names do not escape), and a burst from everywhere
pauses every login briefly. At most one password check runs at a time, with two waiting; anything
over a limit gets 429 with ``Retry-After``, before any hash is computed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.errors import UserError
from syndication.store import utcnow
from syndication.timefmt import human_duration
from syndication.web.rendering import flash
from syndication.web.security import checked_form, csrf_token, current_user, require_user, safe_next
from syndication.web.users import (
    LoginFailure,
    authenticate,
    check_password,
    end_session,
    set_password,
    start_session,
    throttle_name,
    verify_password,
)

if TYPE_CHECKING:
    from syndication.web.app import WebState


@dataclass(frozen=True)
class LoginLimits:
    """How much password checking the app accepts. Each check is an Argon2 hash of ~64 MiB and a
    good part of a second of CPU, so the limits protect the editors' page loads as much as the
    accounts."""

    per_account: int = 5
    """Failures for one name from one address within ``window`` before that pair waits."""
    per_address: int = 20
    """Failures from one address within ``window`` (any names) before that address waits."""
    overall: int = 120
    """Failures from everywhere within ``overall_window`` before every login waits a little."""
    window: float = 15 * 60.0
    overall_window: float = 60.0
    concurrent: int = 1
    """Password checks at once: one keeps a core free for page loads on a small server."""
    queue: int = 2
    """Logins that may wait for a check slot; any more are refused at once (429)."""


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int
    """Seconds, for the ``Retry-After`` header."""


class LoginThrottle:
    """Failed logins counted in the store (so every ``serve`` process agrees and a password reset or
    an admin's unlock clears them), and a small semaphore around the password checks themselves."""

    def __init__(self, limits: LoginLimits | None = None, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.limits = limits or LoginLimits()
        self._clock = clock
        self._semaphore: asyncio.Semaphore | None = None
        self._admitted = 0

    # -- the check slots (event-loop side: no locks needed, every change happens between awaits)

    def admit(self) -> bool:
        """Take a place for a password check (running or waiting); ``False`` when all are taken."""
        if self._admitted >= self.limits.concurrent + self.limits.queue:
            return False
        self._admitted += 1
        return True

    def release(self) -> None:
        self._admitted -= 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limits.concurrent)
        async with self._semaphore:
            yield

    # -- the counts (in a worker thread: they query the store)

    def refusal(self, session: Session, name: str, address: str) -> Refusal | None:
        now = self._clock()
        limits = self.limits
        checks: list[tuple[Any, int, float, str]] = [
            (
                (LoginFailure.username == throttle_name(name)) & (LoginFailure.address == address),
                limits.per_account,
                limits.window,
                "Too many failed attempts for this name: wait {wait}, "
                "or ask an administrator to reset your password.",
            ),
            (
                LoginFailure.address == address,
                limits.per_address,
                limits.window,
                "Too many failed logins from your address: wait {wait}.",
            ),
            (
                None,
                limits.overall,
                limits.overall_window,
                "Too many failed logins on this server just now: wait {wait}.",
            ),
        ]
        for where, limit, window, message in checks:
            since = now - timedelta(seconds=window)
            query = select(LoginFailure.at).where(LoginFailure.at > since)
            if where is not None:
                query = query.where(where)
            # The limit-th newest failure decides when one more attempt is allowed.
            oldest = session.scalars(
                query.order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1)
            ).first()
            if oldest is not None:
                wait = max(1, math.ceil((oldest + timedelta(seconds=window) - now).total_seconds()))
                return Refusal(message.format(wait=human_duration(wait)), wait)
        return None

    def failed(self, session: Session, name: str, address: str) -> None:
        now = self._clock()
        horizon = now - timedelta(seconds=max(self.limits.window, self.limits.overall_window))
        session.execute(delete(LoginFailure).where(LoginFailure.at <= horizon))
        session.add(LoginFailure(username=throttle_name(name), address=address[:64], at=now))

    def succeeded(self, session: Session, name: str, address: str) -> None:
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == throttle_name(name), LoginFailure.address == address
            )
        )


BUSY = Refusal("The server is busy checking other logins: try again in a moment.", 1)


def _state(request: Request) -> WebState:
    from syndication.web.app import state_of

    return state_of(request)


async def login_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _state(request).pages.response(request, "login.html", next=target, error=None, username="")


def _refused(request: Request, refusal: Refusal, *, target: str, username: str) -> Response:
    response = _state(request).pages.response(
        request, "login.html", status_code=429, next=target, error=refusal.message, username=username
    )
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


async def login(request: Request) -> Response:
    state = _state(request)
    throttle = state.throttle
    form = await checked_form(request)
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else "?"
    if not username or not password:
        return state.pages.response(
            request,
            "login.html",
            status_code=400,
            next=target,
            error="Enter your user name and password.",
            username=username,
        )
    # Cheapest refusal first: no database, no hash, while every check slot is taken.
    if not throttle.admit():
        return _refused(request, BUSY, target=target, username=username)
    try:

        def refused() -> Refusal | None:
            with state.ctx.store.session() as session:
                return throttle.refusal(session, username, address)

        refusal = await run_in_threadpool(refused)
        if refusal is not None:
            return _refused(request, refusal, target=target, username=username)

        def check() -> str | None:
            with state.ctx.store.session() as session:
                user = authenticate(session, username, password)
                if user is None:
                    throttle.failed(session, username, address)
                    return None
                throttle.succeeded(session, username, address)
                return start_session(session, user, max_age=state.settings.web.session_max_age)

        async with throttle.slot():
            token = await run_in_threadpool(check)
    finally:
        throttle.release()
    if token is not None:
        request.session.clear()  # a fresh session: nothing from before the login carries over
        request.session["sid"] = token
        return RedirectResponse(target, status_code=303)
    return state.pages.response(
        request,
        "login.html",
        status_code=400,
        next=target,
        error="Wrong user name or password.",
        username=username,
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


async def account_page(request: Request) -> Response:
    require_user(request)
    return _state(request).pages.response(request, "account.html", error=None)


async def change_password(request: Request) -> Response:
    """An editor's own new password: the current one is checked (like a login: throttled, in a check
    slot), every other session ends, and this browser gets a fresh session at once."""
    user = require_user(request)
    state = _state(request)
    throttle = state.throttle
    form = await checked_form(request)
    current = str(form.get("current") or "")
    password = str(form.get("password") or "")
    address = request.client.host if request.client else "?"

    def again(message: str, status_code: int = 400) -> Response:
        return state.pages.response(request, "account.html", status_code=status_code, error=message)

    if password != str(form.get("password2") or ""):
        return again("The two new passwords differ.")
    try:
        check_password(password)
    except UserError as exc:
        return again(exc.message)
    if not throttle.admit():
        response = again(BUSY.message, 429)
        response.headers["Retry-After"] = str(BUSY.retry_after)
        return response
    try:

        def refused() -> Refusal | None:
            with state.ctx.store.session() as session:
                return throttle.refusal(session, user.username, address)

        refusal = await run_in_threadpool(refused)
        if refusal is not None:
            response = again(refusal.message, 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response

        def change() -> str | None:
            with state.ctx.store.session() as session:
                if not verify_password(session, user.id, current):
                    throttle.failed(session, user.username, address)
                    return None
                changed = set_password(session, user.username, password)
                return start_session(session, changed, max_age=state.settings.web.session_max_age)

        async with throttle.slot():
            token = await run_in_threadpool(change)
    finally:
        throttle.release()
    if token is None:
        return again("Your current password is not right.")
    request.session["sid"] = token  # the CSRF token stays: open tabs keep saving
    flash(request, "ok", "Your password is changed; your other sessions have ended.")
    return RedirectResponse("/account", status_code=303)


async def session_token(request: Request) -> Response:
    """The session's CSRF token, for a page opened before a login in another tab (review.js)."""
    require_user(request)
    return JSONResponse({"csrf_token": csrf_token(request)})


def login_routes() -> list[BaseRoute]:
    return [
        Route("/session/token", session_token, methods=["GET"]),
        Route("/account", account_page, methods=["GET"]),
        Route("/account", change_password, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
