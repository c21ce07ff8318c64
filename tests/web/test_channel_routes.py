"""The channels' public endpoints are mounted in the app and stay reachable without a login: the
signed one-click unsubscribe (RFC 8058) and the served Atom feeds. Everything else still needs one."""

from __future__ import annotations

from sqlalchemy import select

from syndication.deliveries.subscribers import Subscriber, add
from syndication.deliveries.unsubscribe import make_unsubscribe_url
from syndication.settings import load_settings
from syndication.web.app import create_app
from syndication.web.publishing import Publisher
from tests.web.conftest import Env, make_client

SECRET = "newsletter-signing-secret-0123456789"
CHANNELS = """
[channels.news]
type = "newsletter"
from = "Lokalt Liv <nyhedsbrev@lokaltliv.example.dk>"
list_id = "lokaltliv.example.dk"
unsubscribe_url_base = "http://127.0.0.1/unsubscribe"

[channels.atom]
type = "feed"
path = "./served-feeds"
base_url = "http://127.0.0.1/feeds"
"""


def test_unsubscribe_and_feeds_work_without_login(env: Env):
    env.config.write_text(env.config.read_text(encoding="utf-8") + CHANNELS, encoding="utf-8")
    settings = load_settings(env.config, environ={"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET})
    with env.ctx.store.session() as session:
        subscriber, _ = add(session, "ole@example.dk", lang="nb", list_name="news")
        token = subscriber.token
    feeds = settings.resolve_path("served-feeds")
    feeds.mkdir()
    (feeds / "nb.atom").write_text('<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nb"/>', "utf-8")

    app = create_app(settings, publisher=Publisher(env.ctx))
    with make_client(env, app=app) as client:
        link = make_unsubscribe_url("/unsubscribe", token, SECRET)
        forged = make_unsubscribe_url("/unsubscribe", token, "another secret")
        assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 403
        response = client.post(link, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200 and "Du er meldt av" in response.text  # nb: the subscriber's
        feed = client.get("/feeds/nb.atom")
        assert feed.status_code == 200 and 'xml:lang="nb"' in feed.text
        # The review pages beside them still need a login.
        assert client.get("/").status_code == 303
    with env.ctx.store.session() as session:
        assert session.scalars(select(Subscriber.status)).one() == "unsubscribed"
