"""Login limits (issue 11, "Sessions and login"): a flood of bogus logins cannot starve the editors,
failed logins are counted in the store (per name and address, per address, overall), a password reset
or an admin's unlock lifts a lockout, and forwarded headers count only from configured proxies."""

from __future__ import annotations

import secrets
import statistics
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select

from syndication.settings import WebSettings
from syndication.store import utcnow
from syndication.web.app import create_app
from syndication.web.cli import proxy_options
from syndication.web.login import LoginLimits, LoginThrottle
from syndication.web.publishing import Publisher
from syndication.web.security import unmask_csrf as unmasked_csrf
from syndication.web.users import LoginFailure, set_password
from tests.web.conftest import Env, csrf_of, login, make_client, real_login
from tests.web.live import LiveServer
from tests.web.support import PASSWORD

FLOOD_CONNECTIONS = 32
FLOOD_ROUNDS = 3
"""Each of the 32 connections posts this many bogus logins: a bounded load, not a benchmark."""


def _app(env: Env, limits: LoginLimits | None = None, clock=None):  # type: ignore[no-untyped-def]
    app = create_app(env.ctx, publisher=Publisher(env.ctx, prefect_api_url=None))
    if limits is not None or clock is not None:
        app.state.web.throttle = LoginThrottle(limits, **({"clock": clock} if clock else {}))
    return app


def _post_login(client, token: str, username: str, password: str = "wrong password!") -> requests.Response:  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _server_ms(response: requests.Response) -> float:
    timing = response.headers["Server-Timing"]
    assert timing.startswith("app;dur="), timing
    return float(timing.split("dur=", 1)[1].split(",")[0])


def test_a_login_flood_gets_429_and_editors_pages_stay_fast(env: Env):
    with make_client(env, app=_app(env)) as client:
        login(client, "anna")
        assert client.get("/").status_code == 200
        anonymous = requests.Session()
        page = anonymous.get(client.url + "/login", timeout=30)
        token = csrf_of(page.text)
        stop = threading.Event()
        answers: list[requests.Response] = []
        lock = threading.Lock()

        def flood() -> None:
            with requests.Session() as session:
                session.cookies.update(anonymous.cookies)
                for _ in range(FLOOD_ROUNDS):
                    response = session.post(
                        client.url + "/login",
                        data={"username": secrets.token_hex(6), "password": "x" * 12, "csrf_token": token},
                        allow_redirects=False,
                        timeout=120,
                    )
                    with lock:
                        answers.append(response)
            return None

        timings: list[float] = []

        def measure() -> None:
            while not stop.is_set() and len(timings) < 40:
                response = client.get("/")
                assert response.status_code == 200
                timings.append(_server_ms(response))

        with ThreadPoolExecutor(FLOOD_CONNECTIONS + 1) as pool:
            watcher = pool.submit(measure)
            floods = [pool.submit(flood) for _ in range(FLOOD_CONNECTIONS)]
            for future in floods:
                future.result()
            stop.set()
            watcher.result()

    statuses = [r.status_code for r in answers]
    assert len(statuses) == FLOOD_CONNECTIONS * FLOOD_ROUNDS
    assert set(statuses) <= {400, 429}
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) >= FLOOD_CONNECTIONS  # far more than the 3 check slots and 20 per address
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    # Random names do not escape the per-address count: at most 20 passwords were ever checked.
    with env.ctx.store.session() as session:
        checked = session.scalar(select(func.count()).select_from(LoginFailure))
    assert checked is not None and checked <= LoginLimits().per_address
    assert len(timings) >= 5
    assert statistics.median(timings) < 100, timings


def test_random_names_from_one_address_are_paused(env: Env):
    with make_client(env, app=_app(env, LoginLimits(per_address=3))) as client:
        token = csrf_of(client.get("/login").text)
        for name in ("x1", "x2", "x3"):
            assert _post_login(client, token, name).status_code == 400
        refused = _post_login(client, token, "anna", PASSWORD)  # even the right password waits
        assert refused.status_code == 429
        assert "from your address" in refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60


def test_every_login_waits_after_a_burst_from_everywhere(env: Env):
    with env.ctx.store.session() as session:
        for n in range(4):
            session.add(LoginFailure(username=f"n{n}", address=f"10.0.0.{n}", at=utcnow()))
    with make_client(env, app=_app(env, LoginLimits(overall=4))) as client:
        token = csrf_of(client.get("/login").text)
        refused = _post_login(client, token, "anna", PASSWORD)
        assert refused.status_code == 429 and "on this server" in refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_lockout_ends_after_its_window(env: Env):
    now = [utcnow()]
    app = _app(env, LoginLimits(per_account=2), clock=lambda: now[0])
    with make_client(env, app=app) as client:
        token = csrf_of(client.get("/login").text)
        _post_login(client, token, "bo")
        _post_login(client, token, "bo")
        refused = _post_login(client, token, "bo", PASSWORD)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == str(15 * 60)
        now[0] += timedelta(minutes=15, seconds=1)
        assert _post_login(client, token, "bo", PASSWORD).status_code == 303


def test_a_password_reset_lifts_the_lockout(env: Env):
    with make_client(env, app=_app(env)) as client:
        token = csrf_of(client.get("/login").text)
        for _ in range(5):
            _post_login(client, token, "bo")
        assert _post_login(client, token, "bo", PASSWORD).status_code == 429
        with env.ctx.store.session() as session:
            set_password(session, "bo", "a brand new password")
        assert _post_login(client, token, "bo", "a brand new password").status_code == 303


def test_an_admin_unlocks_in_the_web_app_and_the_lockout_is_shared_by_processes(env: Env):
    # Two apps on one database stand for two `serve` processes.
    first, second = _app(env), _app(env)
    with make_client(env, app=first) as client:
        token = csrf_of(client.get("/login").text)
        for _ in range(5):
            _post_login(client, token, "bo")
    with make_client(env, app=second) as client:
        token = csrf_of(client.get("/login").text)
        assert _post_login(client, token, "bo", PASSWORD).status_code == 429
        client.cookies.clear()
        admin_token = login(client, "admin")
        page = client.get("/admin/users")
        assert 'value="unlock"' in page.text
        # Without the form's token nothing happens.
        forged = client.post("/admin/users", data={"action": "unlock", "username": "bo"})
        assert forged.status_code == 403
        done = client.post(
            "/admin/users", data={"csrf_token": admin_token, "action": "unlock", "username": "bo"}
        )
        assert done.status_code == 303
        client.cookies.clear()
        real_login(client, "bo")


def test_an_admin_resets_a_password_in_the_web_app(env: Env):
    with make_client(env, app=_app(env)) as client:
        token = login(client, "admin")
        form = {
            "action": "password",
            "username": "bo",
            "password": "new password 1",
            "password2": "new password 1",
        }
        assert client.post("/admin/users", data=form).status_code == 403
        assert client.post("/admin/users", data={**form, "csrf_token": token}).status_code == 303
        client.cookies.clear()
        real_login(client, "bo", "new password 1")


def test_editors_change_their_own_password(env: Env):
    with make_client(env, app=_app(env)) as client:
        token = real_login(client, "anna")
        assert client.get("/account").status_code == 200
        wrong = client.post(
            "/account",
            data={
                "csrf_token": token,
                "current": "not it at all",
                "password": "x" * 12,
                "password2": "x" * 12,
            },
        )
        assert wrong.status_code == 400 and "not right" in wrong.text
        changed = client.post(
            "/account",
            data={"csrf_token": token, "current": PASSWORD, "password": "y" * 12, "password2": "y" * 12},
        )
        assert changed.status_code == 303
        # This browser stays signed in, with the same CSRF token for its open tabs (masked afresh
        # in every page, so compared unmasked).
        assert unmasked_csrf(csrf_of(client.get("/").text)) == unmasked_csrf(token)
        client.cookies.clear()
        real_login(client, "anna", "y" * 12)


def _lock_out(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    with requests.Session() as session:
        token = csrf_of(session.get(url + "/login", timeout=30).text)
        answer = None
        for _ in range(6):
            answer = session.post(
                url + "/login",
                data={"username": "bo", "password": "wrong password!", "csrf_token": token},
                headers=headers or {},
                allow_redirects=False,
                timeout=30,
            )
        assert answer is not None
        return answer


def test_a_spoofed_forwarded_for_does_not_reset_the_lockout(env: Env):
    with LiveServer(_app(env), **proxy_options(WebSettings())) as server:
        assert _lock_out(server.url).status_code == 429
        spoofed = _lock_out(server.url, {"X-Forwarded-For": "203.0.113.9"})
        assert spoofed.status_code == 429
        with env.ctx.store.session() as session:
            addresses = set(session.scalars(select(LoginFailure.address)))
        assert addresses == {"127.0.0.1"}


def test_forwarded_for_counts_from_a_configured_proxy(env: Env):
    with LiveServer(_app(env), **proxy_options(WebSettings(trusted_proxies=["127.0.0.1"]))) as server:
        assert _lock_out(server.url).status_code == 429
        # The proxy names another client: its failures are counted under that client's address.
        other = _lock_out(server.url, {"X-Forwarded-For": "203.0.113.9"})
        assert other.status_code == 429
        with env.ctx.store.session() as session:
            addresses = set(session.scalars(select(LoginFailure.address)))
        assert addresses == {"127.0.0.1", "203.0.113.9"}


def test_users_unlock_on_the_command_line(env: Env):
    from click.testing import CliRunner

    from syndication.cli import main

    with make_client(env, app=_app(env)) as client:
        token = csrf_of(client.get("/login").text)
        for _ in range(5):
            _post_login(client, token, "bo")
        assert _post_login(client, token, "bo", PASSWORD).status_code == 429
        result = CliRunner().invoke(main, ["users", "unlock", "bo", "--config", str(env.config)])
        assert result.exit_code == 0, result.output
        assert "5 failed login(s) forgotten" in result.output
        assert _post_login(client, token, "bo", PASSWORD).status_code == 303
