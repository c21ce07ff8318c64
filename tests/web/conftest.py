"""Fixtures for the review app's HTTP tests: a translated database built once per session (real
Apertium), copied for each test so tests never see each other's edits.

Each user logs in once, through the real login form, while the template is built; the copied database
keeps those sessions and the copied key file keeps their cookies valid, so ``login()`` costs a cookie
instead of an Argon2 verification (0.3 s on a busy 2-core machine) per test. Tests about logging in
itself use ``real_login()``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from starlette.types import ASGIApp

from syndication.context import RunContext
from syndication.store import Post, Translation
from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from tests.web.live import LiveServer, SwitchableApp
from tests.web.support import (
    PASSWORD,
    POST_HTML,
    add_users,
    open_context,
    store_post,
    translate,
    write_config,
)

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY_FILE = "syndication.db.web-key"
SIGNED_IN: dict[str, tuple[str, str]] = {}
"""User name → (session cookie, CSRF token), made while the template database was built."""


@dataclass
class Env:
    config: Path
    ctx: RunContext
    post_id: int

    def translation_id(self, lang: str, post_id: int | None = None) -> int:
        """The item for the post's current revision in ``lang``."""
        with self.ctx.store.session() as session:
            return session.scalars(
                select(Translation.id)
                .join(Post, Post.id == Translation.post_id)
                .where(
                    Translation.post_id == (post_id or self.post_id),
                    Translation.lang == lang,
                    Translation.revision_id == Post.current_revision_id,
                )
            ).one()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web-template")
    config = write_config(folder)
    ctx = open_context(config)
    store_post(
        ctx,
        key="https://lokaltliv.example.dk/?p=7",
        title="Et godt møde i forsamlingshuset",
        html=POST_HTML,
        excerpt="Kort om mødet: æøå <script>alert(1)</script>",
    )
    translate(ctx)
    add_users(ctx)
    with Client(create_app(ctx, publisher=Publisher(ctx), channel_routes=False)) as client:
        for user in ("anna", "bo", "admin"):
            client.cookies.clear()
            token = real_login(client, user)
            SIGNED_IN[user] = (client.cookies["syndication_session"], token)
    ctx.close()  # checkpoints the WAL into the file
    return folder


def _copy_env(template_db: Path, folder: Path) -> Env:
    shutil.copy(template_db / "syndication.db", folder / "syndication.db")
    shutil.copy(template_db / KEY_FILE, folder / KEY_FILE)
    config = write_config(folder)
    ctx = open_context(config)
    with ctx.store.session() as session:
        post_id = session.scalars(select(Translation.post_id)).first()
    assert post_id is not None
    return Env(config=config, ctx=ctx, post_id=post_id)


@pytest.fixture
def env(template_db: Path, tmp_path: Path) -> Iterator[Env]:
    made = _copy_env(template_db, tmp_path)
    yield made
    made.ctx.close()


_SHARED = SwitchableApp()
_SHARED_SERVER: list[LiveServer] = []


@pytest.fixture(scope="session", autouse=True)
def shared_server() -> Iterator[LiveServer]:
    """One uvicorn for the package's tests; each test's client points it at that test's app."""
    server = LiveServer(_SHARED).start()
    _SHARED_SERVER.append(server)
    yield server
    _SHARED_SERVER.clear()
    server.stop()


class Client:
    """A browser-like HTTP client (cookies kept, redirects not followed) against a real uvicorn.

    The app is served by the shared server (set as its target when the client is entered); tests in
    this package run one at a time, so one target at a time is enough.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.server = _SHARED_SERVER[0]
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def cookies(self) -> requests.cookies.RequestsCookieJar:
        return self.session.cookies

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.session.get(self.url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.session.post(self.url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> Client:
        _SHARED.target = self.app
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()


def make_client(env: Env, publisher: Publisher | None = None, app: ASGIApp | None = None) -> Client:
    if app is None:
        app = create_app(env.ctx, publisher=publisher or Publisher(env.ctx, prefect_api_url=None))
    return Client(app)


@pytest.fixture
def client(env: Env) -> Iterator[Client]:
    with make_client(env) as c:
        yield c


@pytest.fixture(scope="module")
def shared_client(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One server for a module's tests that change nothing (each starts with no cookies)."""
    made = _copy_env(template_db, tmp_path_factory.mktemp("shared"))
    with make_client(made) as c:
        yield c
    made.ctx.close()


@pytest.fixture
def anonymous(shared_client: Client) -> Client:
    _SHARED.target = shared_client.app
    shared_client.cookies.clear()
    return shared_client


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: Client, username: str = "anna", password: str = PASSWORD) -> str:
    """Be signed in as ``username`` (a session made through the login form when the template was
    built); returns the session's CSRF token."""
    if password == PASSWORD and username in SIGNED_IN:
        cookie, token = SIGNED_IN[username]
        client.cookies.set("syndication_session", cookie)
        return token
    return real_login(client, username, password)


def real_login(client: Client, username: str = "anna", password: str = PASSWORD) -> str:
    """Log in through the form; returns the CSRF token of the new session."""
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
