"""Per-language editors (``syndicate users add --lang``) and the security headers of the public
routes served beside the review app (issue 11, "Sessions and login")."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from syndication.cli import main
from syndication.settings import load_settings
from syndication.store import Translation
from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from syndication.web.users import User
from tests.web.conftest import Env, make_client, real_login
from tests.web.support import PASSWORD


def _add_nb_editor(env: Env) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "add", "nora", "--lang", "nb", "--password-stdin", "--config", str(env.config)],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "reviews nb" in result.output


def test_an_editor_limited_to_nb_sees_and_changes_only_nb(env: Env):
    _add_nb_editor(env)
    nb, sv = env.translation_id("nb"), env.translation_id("sv")
    with make_client(env) as client:
        token = real_login(client, "nora")
        queue = client.get("/", params={"state": "all"}).text
        assert f'href="/items/{nb}"' in queue
        assert f'href="/items/{sv}"' not in queue
        assert client.get("/", params={"lang": "sv"}).status_code == 403
        assert client.get(f"/items/{nb}").status_code == 200
        refused = client.get(f"/items/{sv}")
        assert refused.status_code == 403 and "in sv" in refused.text
        assert client.get(f"/items/{sv}/preview").status_code == 403
        edit = client.post(
            f"/items/{sv}/segments/b1", data={"csrf_token": token, "version": "1", "text": "x"}
        )
        assert edit.status_code == 403
        for decision in ("approve", "reject"):
            assert client.post(f"/items/{sv}/{decision}", data={"csrf_token": token}).status_code == 403
    with env.ctx.store.session() as session:
        assert session.scalars(select(Translation.status).where(Translation.id == sv)).one() == (
            "machine_translated"
        )


def test_an_unknown_language_is_refused_with_its_name(env: Env):
    result = CliRunner().invoke(
        main,
        ["users", "add", "nora", "--lang", "de", "--password-stdin", "--config", str(env.config)],
        input=PASSWORD + "\n",
    )
    assert result.exit_code != 0
    assert "'de'" in result.output
    with env.ctx.store.session() as session:
        assert session.scalars(select(User).where(User.username == "nora")).first() is None


def test_an_admin_sets_an_editors_languages(env: Env):
    from tests.web.conftest import login

    with make_client(env) as client:
        token = login(client, "admin")
        done = client.post(
            "/admin/users", data={"csrf_token": token, "action": "langs", "username": "bo", "langs": "sv"}
        )
        assert done.status_code == 303
    with env.ctx.store.session() as session:
        assert session.scalars(select(User.langs).where(User.username == "bo")).one() == "sv"


CHANNELS = """
[channels.atom]
type = "feed"
path = "./served-feeds"
base_url = "http://127.0.0.1/feeds"
"""


def test_public_feed_pages_get_the_security_headers(env: Env):
    env.config.write_text(env.config.read_text(encoding="utf-8") + CHANNELS, encoding="utf-8")
    settings = load_settings(env.config)
    folder = settings.resolve_path("served-feeds")
    (folder / "nb").mkdir(parents=True)
    (folder / "nb" / "0123456789abcdef.html").write_text("<!doctype html><p>Hei</p>", "utf-8")
    (folder / "nb.atom").write_text('<feed xmlns="http://www.w3.org/2005/Atom"/>', "utf-8")
    app = create_app(settings, publisher=Publisher(env.ctx))
    with make_client(env, app=app) as client:
        for path in ("/feeds/nb/0123456789abcdef.html", "/feeds/nb.atom"):
            response = client.get(path)
            assert response.status_code == 200, path
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
            assert "script-src" not in csp  # falls back to 'none': no script at all
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "public, max-age=300"  # feeds stay cacheable
        # The review app keeps its own, stricter policy.
        assert "script-src 'self'" in client.get("/login").headers["Content-Security-Policy"]
