"""Every form post needs the session's CSRF token: missing, wrong or another session's → 403."""

from __future__ import annotations

import pytest

from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from tests.web.conftest import Env, csrf_of, login, make_client, real_login
from tests.web.support import PASSWORD


def post_routes(env: Env) -> list[str]:
    """Every POST route of the review app, found by walking the app (a new one is covered at once)."""
    from starlette.routing import Mount, Route

    app = create_app(env.ctx, publisher=Publisher(env.ctx), channel_routes=False)
    paths: list[str] = []
    for mount in app.routes:
        assert isinstance(mount, Mount)
        for route in mount.routes:
            if isinstance(route, Route) and route.methods and "POST" in route.methods:
                paths.append(route.path.replace("{tid:int}", "1").replace("{key}", "b1"))
    return paths


def test_the_app_has_the_post_routes_we_expect(env: Env):
    assert set(post_routes(env)) == {
        "/account",
        "/login",
        "/logout",
        "/items/1/segments/b1",
        "/items/1/segments/b1/propagate",
        "/items/1/approve",
        "/items/1/reject",
        "/items/1/publish",
        "/admin/users",
        "/admin/deliveries",
        "/admin/corrections",
    }


def test_every_post_without_a_token_is_403(env: Env):
    with make_client(env) as client:
        login(client, "admin")
        for path in post_routes(env):
            response = client.post(path, data={"text": "x", "version": "1", "action": "add"})
            assert response.status_code == 403, path


def test_every_post_with_a_wrong_token_is_403(env: Env):
    with make_client(env) as client:
        login(client, "admin")
        for path in post_routes(env):
            response = client.post(path, data={"csrf_token": "forged", "text": "x", "version": "1"})
            assert response.status_code == 403, path
            header = client.post(path, data={"text": "x", "version": "1"}, headers={"X-CSRF-Token": "forged"})
            assert header.status_code == 403, path


def test_a_token_from_another_session_is_refused(env: Env):
    with make_client(env) as mallory, make_client(env) as victim:
        foreign = login(mallory, "bo")
        login(victim, "anna")
        response = victim.post("/items/1/reject", data={"csrf_token": foreign, "comment": "x"})
        assert response.status_code == 403


def test_the_login_form_needs_its_token_too(client):
    response = client.post("/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_the_token_changes_at_login(client):
    anonymous = csrf_of(client.get("/login").text)
    signed_in = real_login(client, "anna")
    assert anonymous != signed_in


@pytest.mark.parametrize("via", ["field", "header"])
def test_a_right_token_works_as_field_or_header(env: Env, client, via):
    token = login(client, "anna")
    tid = env.translation_id("sv")
    data = {"comment": "nej tak"}
    headers = {}
    if via == "field":
        data["csrf_token"] = token
    else:
        headers["X-CSRF-Token"] = token
    response = client.post(f"/items/{tid}/reject", data=data, headers=headers)
    assert response.status_code == 303
