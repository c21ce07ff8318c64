"""The review web app: ``create_app`` builds it around a pipeline context (its database and config).

Layout of the ASGI app::

    /unsubscribe, /feeds/… (channel_routes: public, signed links; no login, no session)
    everything else → review app:
        ServerTiming → GZip → SecurityHeaders → BodyLimit → SecureCookies → SessionMiddleware
            → RequireLogin → routes
        /login  /logout  /  /items/{id}[/preview|/segments/{key}|/approve|/reject|/publish]
        /admin/users  /admin/settings  /static/… (the package's static folder only)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndication.context import RunContext
from syndication.settings import Settings, load_settings
from syndication.store import open_store
from syndication.web.login import LoginThrottle
from syndication.web.publishing import Publisher
from syndication.web.rendering import STATIC, Pages
from syndication.web.security import (
    PUBLIC_CSP,
    SESSION_COOKIE,
    BodyLimit,
    RequireLogin,
    SecureCookies,
    SecurityHeaders,
    secret_key,
)
from syndication.web.users import SignedIn, session_user


@dataclass
class WebState:
    """What every request handler needs; kept at ``request.app.state.web``."""

    ctx: RunContext
    pages: Pages
    publisher: Publisher
    throttle: LoginThrottle

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def lookup(self, token: str) -> SignedIn | None:
        with self.ctx.store.session() as session:
            return session_user(session, token)


class ServerTiming:
    """``Server-Timing: app;dur=<ms>`` on every response: the time spent in the app, as browser dev
    tools and the benchmark read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append("Server-Timing", f"app;dur={elapsed:.2f}")
            await send(message)

        await self.app(scope, receive, send_timed)


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def _context(source: RunContext | Settings | str | Path | None) -> tuple[RunContext, bool]:
    if isinstance(source, RunContext):
        return source, False
    settings = source if isinstance(source, Settings) else load_settings(source)
    return RunContext(settings=settings, store=open_store(settings.store_url())), True


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code < 400 or "application/json" in request.headers.get("accept", ""):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
    state = state_of(request)
    return state.pages.response(
        request, "error.html", status_code=exc.status_code, status=exc.status_code, message=str(exc.detail)
    )


def review_app(state: WebState) -> Starlette:
    from syndication.web.admin_routes import admin_routes
    from syndication.web.assist_routes import assist_routes
    from syndication.web.login import login_routes
    from syndication.web.review_routes import review_routes

    settings = state.settings.web
    routes: list[BaseRoute] = [
        *login_routes(),
        *review_routes(),
        *assist_routes(),
        *admin_routes(),
        # StaticFiles resolves every path and refuses any that leaves the folder (and symlinks out).
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(ServerTiming),
        # A 200-segment item is ~450 KB of HTML, about a tenth of that compressed.
        Middleware(GZipMiddleware, minimum_size=1024),
        Middleware(SecurityHeaders),
        Middleware(BodyLimit),
        Middleware(
            SecureCookies,
            secure=settings.secure_cookies,
            public_https=settings.public_url().startswith("https://"),
        ),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key(state.settings),
            session_cookie=SESSION_COOKIE,
            max_age=settings.session_max_age,
            same_site="lax",
            https_only=False,  # SecureCookies decides per request
        ),
        Middleware(RequireLogin, lookup=state.lookup),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.web = state
    return app


def create_app(
    source: RunContext | Settings | str | Path | None = None,
    *,
    publisher: Publisher | None = None,
    channel_routes: bool = True,
) -> Starlette:
    """The review app for a pipeline context, settings, or config file (``None``: the default config).

    ``publisher`` decides what an approval starts (default: from ``PREFECT_API_URL``);
    ``channel_routes=False`` leaves out the newsletter unsubscribe and feed endpoints.
    """
    ctx, owned = _context(source)
    state = WebState(
        ctx=ctx,
        pages=Pages(),
        publisher=publisher or Publisher.from_environment(ctx),
        throttle=LoginThrottle(),
    )
    routes: list[BaseRoute] = []
    if channel_routes:
        from syndication.deliveries.routes import channel_routes as build_channel_routes

        routes += build_channel_routes(ctx)
    routes.append(Mount("", app=review_app(state)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                ctx.close()

    # The public routes (feed pages, unsubscribe) get the app's headers too; the review app's own,
    # stricter ones are set first and kept.
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders, csp=PUBLIC_CSP, cache_control=None)],
    )
    app.state.web = state
    return app
