"""One-click unsubscribe (RFC 8058): signed links in every newsletter, and the endpoint behind them.

A link names the subscriber by their random token and carries an HMAC of it made with the newsletter
channel's secret (``SYNDICATION__CHANNELS__<NAME>__SECRET``), so neither a guessed token nor a leaked
subscriber table is enough to unsubscribe anyone. A mail client's one-click ``POST`` (body
``List-Unsubscribe=One-Click``) unsubscribes without login; a ``GET`` (a person clicking, or a link
scanner prefetching) only shows a page with a button, so a scanner cannot unsubscribe anyone.

The pages speak the subscriber's language (their row's ``lang``; ``Accept-Language`` when the link is
not valid), with texts from the catalogue in ``syndication/locale`` (see ``syndication.i18n``).

``unsubscribe_routes(store, secret)`` returns Starlette routes that ``syndicate serve`` mounts.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from syndication.i18n import _, catalogue_language, negotiate

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from syndication.store import Store

TOKEN_PARAM = "t"  # noqa: S105 - a query parameter name, not a password
SIGNATURE_PARAM = "s"


def sign(token: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"unsubscribe\x00" + token.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:40]


def verify(token: str, signature: str, secret: str) -> bool:
    if not token or not signature or not secret:
        return False
    return hmac.compare_digest(sign(token, secret), signature)


def make_unsubscribe_url(base_url: str, token: str, secret: str) -> str:
    """``base_url`` is where the endpoint is served (``unsubscribe_url_base`` in the channel config)."""
    query = urlencode({TOKEN_PARAM: token, SIGNATURE_PARAM: sign(token, secret)})
    return f"{base_url}{'&' if urlsplit(base_url).query else '?'}{query}"


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem;">
<h1 style="font-size: 1.4rem;">{title}</h1>{body}</body></html>
"""


def _page(lang: str, title: str, body: str, status: int = 200) -> Response:
    from starlette.responses import HTMLResponse

    return HTMLResponse(
        _PAGE.format(lang=html.escape(lang), title=html.escape(title), body=body),
        status_code=status,
        # The page's language follows the subscriber (or Accept-Language for a broken link).
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Language": lang,
            "Vary": "Accept-Language",
        },
    )


def unsubscribe_routes(store: Store, secret: str, *, path: str = "/unsubscribe") -> list[BaseRoute]:
    """``GET path?t=…&s=…`` shows a confirmation button; ``POST`` (one-click) unsubscribes."""
    from sqlalchemy import select
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    from syndication.deliveries.subscribers import Subscriber, unsubscribe

    def _unsubscribe(token: str) -> bool:
        with store.session() as session:
            return unsubscribe(session, token) is not None

    def _language_of(token: str) -> str | None:
        with store.session() as session:
            return session.scalars(select(Subscriber.lang).where(Subscriber.token == token)).one_or_none()

    async def endpoint(request: Request) -> Response:
        token = request.query_params.get(TOKEN_PARAM, "")
        signature = request.query_params.get(SIGNATURE_PARAM, "")
        if not verify(token, signature, secret):
            lang = negotiate(request.headers.get("accept-language"))
            return _page(
                lang,
                _(lang, "This unsubscribe link is not valid"),
                "<p>"
                + html.escape(
                    _(
                        lang,
                        "The link may have been cut off by your mail program. Use the link in the newest "
                        "newsletter, or reply to it and ask to be removed.",
                    )
                )
                + "</p>",
                status=403,
            )
        known = await run_in_threadpool(_language_of, token)
        lang = catalogue_language(known) if known else negotiate(request.headers.get("accept-language"))
        if request.method == "POST":
            # RFC 8058: the body is `List-Unsubscribe=One-Click`; any signed POST means the same.
            await request.body()
            await run_in_threadpool(_unsubscribe, token)
            return _page(
                lang,
                _(lang, "You are unsubscribed"),
                f"<p>{html.escape(_(lang, 'You will get no more of these e-mails.'))}</p>",
            )
        action = html.escape(str(request.url), quote=True)
        return _page(
            lang,
            _(lang, "Unsubscribe?"),
            f"<p>{html.escape(_(lang, 'Press the button to stop getting these e-mails.'))}</p>"
            f'<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" '
            'value="One-Click"><button type="submit" style="font-size: 1rem; padding: .5rem 1rem;">'
            f"{html.escape(_(lang, 'Unsubscribe me'))}</button></form>",
        )

    return [Route(path, endpoint, methods=["GET", "POST"], name=f"unsubscribe:{path}")]
