"""One-click unsubscribe (RFC 8058): signed links in every newsletter, and the endpoint behind them.

A link names the subscriber by their random token and carries an HMAC of it made with the newsletter
channel's secret (``SYNDICATION__CHANNELS__<NAME>__SECRET``), so neither a guessed token nor a leaked
subscriber table is enough to unsubscribe anyone. A mail client's one-click ``POST`` (body
``List-Unsubscribe=One-Click``) unsubscribes without login; a ``GET`` (a person clicking, or a link
scanner prefetching) only shows a page with a button, so a scanner cannot unsubscribe anyone.

``unsubscribe_routes(store, secret)`` returns Starlette routes that ``syndicate serve`` mounts.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

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
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem;">
<h1 style="font-size: 1.4rem;">{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    from starlette.responses import HTMLResponse

    return HTMLResponse(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def unsubscribe_routes(store: Store, secret: str, *, path: str = "/unsubscribe") -> list[BaseRoute]:
    """``GET path?t=…&s=…`` shows a confirmation button; ``POST`` (one-click) unsubscribes."""
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    from syndication.deliveries.subscribers import unsubscribe

    def _unsubscribe(token: str) -> bool:
        with store.session() as session:
            return unsubscribe(session, token) is not None

    async def endpoint(request: Request) -> Response:
        token = request.query_params.get(TOKEN_PARAM, "")
        signature = request.query_params.get(SIGNATURE_PARAM, "")
        if not verify(token, signature, secret):
            return _page(
                "This unsubscribe link is not valid",
                "<p>The link may have been cut off by your mail program. Use the link in the newest "
                "newsletter, or reply to it and ask to be removed.</p>",
                status=403,
            )
        if request.method == "POST":
            # RFC 8058: the body is `List-Unsubscribe=One-Click`; any signed POST means the same.
            await request.body()
            await run_in_threadpool(_unsubscribe, token)
            return _page("You are unsubscribed", "<p>You will get no more of these e-mails.</p>")
        action = html.escape(str(request.url), quote=True)
        return _page(
            "Unsubscribe?",
            f'<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" '
            'value="One-Click"><button type="submit" style="font-size: 1rem; padding: .5rem 1rem;">'
            "Unsubscribe me</button></form>",
        )

    return [Route(path, endpoint, methods=["GET", "POST"], name=f"unsubscribe:{path}")]
