"""Login, sessions, roles: every page but the login page needs a live session."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from syndication.context import RunContext
from syndication.settings import load_settings
from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from syndication.web.users import User, set_disabled, set_password
from tests.web.conftest import Env, csrf_of, login, make_client, real_login
from tests.web.support import PASSWORD

PAGES = [
    "/",
    "/account",
    "/session/token",
    "/items/1",
    "/items/1/preview",
    "/admin/users",
    "/admin/settings",
    "/nowhere",
]
POSTS = [
    "/account",
    "/items/1/segments/b1",
    "/items/1/approve",
    "/items/1/reject",
    "/items/1/publish",
    "/admin/users",
    "/logout",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login_without_a_session(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=" + path)


@pytest.mark.parametrize("path", POSTS)
def test_posts_are_refused_without_a_session(anonymous, path):
    token = csrf_of(anonymous.get("/login").text)  # a valid token of an anonymous session is not enough
    response = anonymous.post(path, data={"csrf_token": token, "text": "x", "version": "1"})
    assert response.status_code == 401


def test_login_page_and_static_files_are_public(anonymous):
    assert anonymous.get("/login").status_code == 200
    css = anonymous.get("/static/app.css")
    assert css.status_code == 200
    assert "seg-editor" in css.text


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it_on_the_server(client):
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "anna", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("syndication_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http on loopback
    stolen = client.cookies.get("syndication_session")
    assert client.get("/").status_code == 200

    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303
    # The cookie copied before the logout no longer opens anything: the session row is gone.
    client.cookies.set("syndication_session", stolen)
    assert client.get("/").status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    token = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"username": "anna", "password": "nope" * 3, "csrf_token": token})
    unknown = client.post("/login", data={"username": "zelda", "password": PASSWORD, "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong user name or password." in wrong.text
    assert "Wrong user name or password." in unknown.text
    assert client.get("/").status_code == 303


def test_repeated_failures_pause_logins_for_that_name(client):
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "bo", "password": "wrong password", "csrf_token": token})
    response = client.post("/login", data={"username": "bo", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same address is not affected.
    real_login(client, "anna")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client, target):
    page = client.get("/login", params={"next": target})
    response = client.post(
        "/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": target},
    )
    assert response.headers["location"] == "/"


def test_login_returns_to_the_page_asked_for(client):
    page = client.get("/login", params={"next": "/items/1"})
    response = client.post(
        "/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/items/1"},
    )
    assert response.headers["location"] == "/items/1"


def test_passwords_are_stored_as_argon2id_hashes(env: Env):
    with env.ctx.store.session() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_disabling_or_changing_the_password_ends_sessions(env: Env, client):
    login(client, "anna")
    with env.ctx.store.session() as session:
        set_password(session, "anna", "another long password")
    assert client.get("/").status_code == 303
    login(client, "anna", "another long password")
    with env.ctx.store.session() as session:
        set_disabled(session, "anna")
    assert client.get("/").status_code == 303
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "anna", "password": "another long password", "csrf_token": token}
    )
    assert response.status_code == 400


def test_editors_cannot_open_admin_pages(client):
    token = login(client, "anna")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/settings").status_code == 403
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "action": "add",
            "username": "eve",
            "role": "admin",
            "password": "x" * 12,
            "password2": "x" * 12,
        },
    )
    assert response.status_code == 403


def test_admins_manage_users(env: Env, client):
    token = login(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "anna" in page.text
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "action": "add",
            "username": "Søren",
            "role": "editor",
            "password": "lang adgangskode",
            "password2": "lang adgangskode",
        },
    )
    assert response.status_code == 303
    short = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "action": "add",
            "username": "kim",
            "role": "editor",
            "password": "kort",
            "password2": "kort",
        },
    )
    assert short.status_code == 400 and "too short" in short.text
    myself = client.post("/admin/users", data={"csrf_token": token, "action": "disable", "username": "admin"})
    assert myself.status_code == 400
    client.post("/admin/users", data={"csrf_token": token, "action": "disable", "username": "bo"})
    with env.ctx.store.session() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    assert users["søren"].role == "editor" and not users["søren"].disabled
    assert users["bo"].disabled


def test_settings_page_never_shows_secrets(env: Env, tmp_path):
    extra = '\n[channels.hook]\ntype = "webhook"\nurl = "https://hooks.example/x"\n'
    config = env.config
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    settings = load_settings(
        config,
        environ={
            "SYNDICATION__CHANNELS__HOOK__SECRET": "hook-secret-value-123",
            "SYNDICATION__WEB__SECRET_KEY": "k" * 40,
        },
    )
    app = create_app(settings, publisher=Publisher(env.ctx), channel_routes=False)
    with make_client(env, app=app) as client:
        real_login(client, "admin")  # another secret key: the prepared cookies do not fit
        page = client.get("/admin/settings")
    assert page.status_code == 200
    assert "hooks.example" in page.text
    assert "hook-secret-value-123" not in page.text
    assert "k" * 40 not in page.text


def test_settings_page_hides_passwords_inside_urls(env: Env):
    # The team setup puts the PostgreSQL password in SYNDICATION__STORE__URL; a partner's webhook URL
    # may carry basic-auth credentials. The page shows where things are, never how to log in there.
    extra = '\n[channels.hook]\ntype = "webhook"\nurl = "https://hookuser:hook-url-pw-77@hooks.example/x"\n'
    config = env.config
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    settings = load_settings(
        config,
        environ={"SYNDICATION__STORE__URL": "postgresql://syndication:db-pw-4242@db.example:5432/synd"},
    )
    # The settings name PostgreSQL; the app reads this test's SQLite store (no server needed).
    ctx = RunContext(settings=settings, store=env.ctx.store)
    app = create_app(ctx, publisher=Publisher(ctx, prefect_api_url=None), channel_routes=False)
    with make_client(env, app=app) as client:
        real_login(client, "admin")  # the key file differs without a SQLite URL: a fresh login
        page = client.get("/admin/settings")
    assert page.status_code == 200
    assert "db.example:5432/synd" in page.text and "hooks.example/x" in page.text
    assert "db-pw-4242" not in page.text
    assert "hook-url-pw-77" not in page.text


def test_secure_cookie_when_the_public_url_is_https(env: Env):
    settings = load_settings(env.config, environ={"SYNDICATION__WEB__BASE_URL": "https://review.example.dk"})
    app = create_app(settings, publisher=Publisher(env.ctx), channel_routes=False)
    with make_client(env, app=app) as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()


def test_secure_cookie_when_a_trusted_proxy_says_the_request_came_over_https(env: Env):
    import requests

    from syndication.settings import WebSettings
    from syndication.web.cli import proxy_options
    from tests.web.live import LiveServer

    app = create_app(env.ctx, publisher=Publisher(env.ctx, prefect_api_url=None))
    https = {"X-Forwarded-Proto": "https"}
    # As `serve` runs it: a proxy in [web] trusted_proxies is believed, anyone else is not.
    with LiveServer(app, **proxy_options(WebSettings(trusted_proxies=["127.0.0.1"]))) as server:
        assert "secure" not in requests.get(server.url + "/login", timeout=30).headers["set-cookie"].lower()
        proxied = requests.get(server.url + "/login", headers=https, timeout=30)
        assert "secure" in proxied.headers["set-cookie"].lower()
    with LiveServer(app, **proxy_options(WebSettings())) as server:
        spoofed = requests.get(server.url + "/login", headers=https, timeout=30)
        assert "secure" not in spoofed.headers["set-cookie"].lower()


def test_session_key_file_is_private_and_reused(env: Env):
    from syndication.web.security import key_file_path, secret_key

    first = secret_key(env.ctx.settings)
    path = key_file_path(env.ctx.settings)
    assert path.parent == env.config.parent
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    assert secret_key(env.ctx.settings) == first
    assert path.stat().st_mode & 0o777 == 0o600
