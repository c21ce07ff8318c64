"""Source and translated text are always text: a segment holding ``<script>`` shows as text."""

from __future__ import annotations

from syndication.web.publishing import Publisher
from tests.web.conftest import Env, login, make_client
from tests.web.support import store_post, translate

HOSTILE = "Farligt <script>alert('x')</script> og <img src=x onerror=alert(1)> æøå"


def test_script_in_the_source_shows_as_text(env: Env, client):
    login(client)
    tid = env.translation_id("nb")
    page = client.get(f"/items/{tid}").text
    # The excerpt of the test post holds "<script>alert(1)</script>".
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "æøå" in page


def test_hostile_title_and_url_are_escaped_in_queue_and_item(env: Env):
    post_id = store_post(
        env.ctx,
        key="hostile",
        title=HOSTILE,
        html=f"<p>{HOSTILE.replace('<', '&lt;')}</p>",
        url="javascript:alert(1)//",
    )
    translate(env.ctx)
    with make_client(env, Publisher(env.ctx)) as client:
        login(client)
        queue = client.get("/").text
        assert "<script>alert('x')" not in queue
        assert "&lt;script&gt;alert(" in queue
        page = client.get(f"/items/{env.translation_id('nb', post_id)}").text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert 'href="javascript:' not in page  # the URL is shown, never linked


def test_script_typed_into_a_translation_is_stored_and_shown_as_text(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    response = client.post(
        f"/items/{tid}/segments/b2",
        data={"csrf_token": token, "version": "1", "text": "Hva skjedde? <script>alert(2)</script>"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    saved = response.json()["segment"]
    assert saved["text"] == "Hva skjedde? &lt;script&gt;alert(2)&lt;/script&gt;"
    assert "<script>" not in saved["html"]
    page = client.get(f"/items/{tid}").text
    assert "<script>alert(2)" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    preview = client.get(f"/items/{tid}/preview")
    assert "<script>alert(2)" not in preview.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in preview.text


def test_preview_is_sanitized_and_sandboxed(env: Env, client):
    login(client)
    tid = env.translation_id("sv")
    preview = client.get(f"/items/{tid}/preview")
    assert preview.status_code == 200
    csp = preview.headers["content-security-policy"]
    assert csp.startswith("sandbox")
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert '<a href="https://lokaltliv.example.dk/program/"' in preview.text
    assert 'lang="sv"' in preview.text
    page = client.get(f"/items/{tid}").text
    assert f'<iframe src="/items/{tid}/preview" sandbox' in page


def test_app_pages_carry_a_strict_content_security_policy(client):
    login(client)
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
