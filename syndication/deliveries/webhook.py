"""The ``webhook`` channel: JSON events to a partner's HTTP endpoint, signed, with idempotency keys.

Events: ``item.published``, ``item.updated``, ``item.retracted``. Every request carries

- ``Idempotency-Key`` (and ``id`` in the body): the ledger key of the delivery, the same on every
  retry, so a receiver that records keys applies each event once — exactly once in effect even when
  our record of a successful send was lost;
- ``X-Syndication-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`` made with the
  partner's secret (``SYNDICATION__CHANNELS__<NAME>__SECRET``);
- ``X-Syndication-Event``;
- ``sent_at`` in the body (Unix seconds, set afresh on every attempt, so covered by the signature):
  a receiver refuses bodies older than a few minutes (``verify_signature(..., max_age=300)``), so a
  captured request cannot be replayed later — e.g. an old ``item.published`` after the retraction,
  once the receiver has forgotten the idempotency key.

Timeouts, connection errors, 408, 429 and 5xx are transient (the deliver stage retries with
backoff, then the ledger on later runs); other 4xx are terminal with the receiver's answer in the
message; 409 means the receiver already has this key, which counts as delivered.

Settings::

    type = "webhook"
    url = "https://partner.example.se/hooks/syndication"
    events = ["item.published", "item.updated", "item.retracted"]
    timeout = 15
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syndication.deliveries import ledger
from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.outgoing import (
    Where,
    attribution,
    env_var,
    excerpt_text,
    retry_after_seconds,
    safe_html,
    source_guid,
    wants,
    write_preview_file,
)
from syndication.errors import ConfigError, TerminalDeliveryError, TransientDeliveryError
from syndication.models import ApprovedTranslation, Payload, Receipt

Event = Literal["item.published", "item.updated", "item.retracted"]
EVENTS: tuple[Event, ...] = ("item.published", "item.updated", "item.retracted")
USER_AGENT = "syndication/0.1 (webhook channel)"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = "webhook"
    languages: list[str] | None = None
    enabled: bool = True
    secret_block: str | None = None
    url: str
    events: list[Event] = Field(default_factory=lambda: list(EVENTS))
    timeout: float = Field(15.0, gt=0)
    only_categories: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    dry_run_dir: str = "outbox/dry-run"
    """Where ``--dry-run`` writes what would be sent (one JSON file per payload)."""


def signature(body: bytes, secret: str) -> str:
    """The ``X-Syndication-Signature`` value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


MAX_AGE = 300.0
"""Seconds a receiver accepts a request after its ``sent_at`` (and before it: clock skew)."""


def verify_signature(
    body: bytes, header: str, secret: str, *, max_age: float | None = MAX_AGE, now: float | None = None
) -> bool:
    """For receivers (and our tests): constant-time check of the signature header, then of the
    body's signed ``sent_at`` against the replay window (``max_age=None`` skips that check)."""
    if not hmac.compare_digest(signature(body, secret), header or ""):
        return False
    if max_age is None:
        return True
    try:
        sent_at = json.loads(body)["sent_at"]
    except (ValueError, KeyError, TypeError):
        return False
    if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
        return False
    return abs((time.time() if now is None else now) - sent_at) <= max_age


class WebhookChannel:
    at_most_once = False

    def __init__(self, context: ChannelContext) -> None:
        self.name = context.name
        try:
            self.settings = WebhookSettings.model_validate(dict(context.config))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid webhook channel settings: {problems}", channel=context.name) from exc
        if not self.settings.url.startswith(("https://", "http://")):
            raise ConfigError(f"url {self.settings.url!r} is not an http(s) URL", channel=context.name)
        self._secret = context.secrets.get("secret")
        self._http: requests.Session | None = None
        self._preview_dir = context.base_dir / self.settings.dry_run_dir / context.name

    def targets(self, item: ApprovedTranslation) -> list[str]:
        return [""] if wants(item, self.settings.model_dump()) else []

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload:
        event: Event = "item.updated" if item.action == "update" else "item.published"
        # The stage's ledger key for this delivery (an update's key names the row it follows, which
        # only the stage knows), so a dry run shows the id a real send carries.
        key = item.delivery_key or ledger.delivery_key(
            item.post_key, item.content_version or item.revision, item.lang, self.name, target, item.action
        )
        document = {
            "event": event,
            "id": key,
            "sent_at": int(time.time()),
            "item": {
                "guid": source_guid(item),
                "post_key": item.post_key,
                "lang": item.lang,
                "source_lang": item.source_lang,
                "source_url": item.source_url,
                "source_title": item.source_title,
                "title": item.title,
                "html": safe_html(item.html),
                "excerpt": excerpt_text(item.excerpt) if item.excerpt else "",
                "attribution_html": attribution(item),
                "author": item.author,
                "published": item.published.astimezone(UTC).isoformat() if item.published else None,
                "approved": item.approved_at.astimezone(UTC).isoformat() if item.approved_at else None,
                "categories": list(item.categories),
                "tags": list(item.tags),
                "featured_image": (
                    {"src": item.featured_image.src, "alt": item.featured_image.alt}
                    if item.featured_image
                    else None
                ),
                "kind": item.kind,
                "version": item.content_version or item.revision,
            },
        }
        return Payload(
            channel=self.name,
            target=target,
            summary=f"POST {event} ({item.lang} {item.title!r}) to {self.settings.url}",
            body=_encode(document),
            content_type="application/json",
            meta={"event": event, "document": document, "post_key": item.post_key, "lang": item.lang},
        )

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        event = str(payload.meta["event"])
        where = Where(post=str(payload.meta["post_key"]), lang=str(payload.meta["lang"]), channel=self.name)
        document: dict[str, Any] = dict(payload.meta["document"])
        # The stage's key is authoritative (render only guesses it); the time is this attempt's.
        document["id"] = key
        document["sent_at"] = int(time.time())
        body = _encode(document)
        meta = {"event": event, "post_key": payload.meta["post_key"], "lang": payload.meta["lang"]}
        if event not in self.settings.events:
            return Receipt(channel=self.name, key=key, meta={**meta, "skipped": f"{event} not subscribed"})
        status = self._post(body, key=key, event=event, where=where)
        item = document.get("item") or {}
        return Receipt(
            channel=self.name,
            key=key,
            remote_id=str(item.get("guid") or ""),
            meta={**meta, "status": status, "guid": item.get("guid"), "source_url": item.get("source_url")},
        )

    def retract(self, receipt: Receipt) -> None:
        if "item.retracted" not in self.settings.events:
            return
        where = Where(
            post=str(receipt.meta.get("post_key") or ""),
            lang=str(receipt.meta.get("lang") or ""),
            channel=self.name,
        )
        # Derived from the receipt being withdrawn: the same on every retry of this retraction.
        key = "retract:" + hashlib.sha256(receipt.key.encode("utf-8")).hexdigest()[:40]
        document = {
            "event": "item.retracted",
            "id": key,
            "sent_at": int(time.time()),
            "item": {
                "guid": receipt.remote_id or receipt.meta.get("guid"),
                "post_key": receipt.meta.get("post_key"),
                "lang": receipt.meta.get("lang"),
                "source_url": receipt.meta.get("source_url"),
                "published_id": receipt.key,
            },
        }
        self._post(_encode(document), key=key, event="item.retracted", where=where)

    def write_preview(self, payload: Payload) -> Path:
        """``--dry-run``: the exact body that would be POSTed (the signature needs the secret: not shown)."""
        key = hashlib.sha256(str(payload.meta["document"]["id"]).encode()).hexdigest()[:12]
        return write_preview_file(self._preview_dir, f"{payload.meta['lang']}-{key}.json", payload.body)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _post(self, body: bytes, *, key: str, event: str, where: Where) -> int:
        try:
            return self._post_once(body, key=key, event=event, where=where)
        except (TerminalDeliveryError, TransientDeliveryError) as exc:
            # Unreachable or silent: true for every event alike, so the stage stops sending to this
            # receiver for the run (so does a refused signature); a 5xx or other 4xx may be one event's.
            exc.whole_channel = exc.whole_channel or isinstance(exc.__cause__, requests.RequestException)
            raise

    def _post_once(self, body: bytes, *, key: str, event: str, where: Where) -> int:
        if not self._secret:
            missing = TerminalDeliveryError(
                f"no signing secret for the webhook at {self.settings.url}: set "
                f"{env_var(self.name, 'secret')} to the secret agreed with the partner",
                **where,
            )
            missing.whole_channel = True
            raise missing
        if self._http is None:
            self._http = requests.Session()
            self._http.headers["User-Agent"] = USER_AGENT
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            "X-Syndication-Event": event,
            "X-Syndication-Signature": signature(body, self._secret),
        }
        url = self.settings.url
        try:
            response = self._http.post(
                url, data=body, headers=headers, timeout=self.settings.timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise TransientDeliveryError(
                f"the webhook at {url} did not answer within {self.settings.timeout:g} s", **where
            ) from exc
        except requests.ConnectionError as exc:
            raise TransientDeliveryError(
                f"cannot reach the webhook at {url}: {str(exc)[:200]}", **where
            ) from exc
        except requests.RequestException as exc:
            raise TerminalDeliveryError(f"request to the webhook at {url} failed: {exc}", **where) from exc
        with response:
            status = response.status_code
            if 200 <= status < 300 or status == 409:
                return status
            answer = response.text[:200].replace("\n", " ")
            if status in (408, 425, 429) or status >= 500:
                raise TransientDeliveryError(
                    f"the webhook at {url} answered {status}",
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                    **where,
                )
            if status in (401, 403):
                refused = TerminalDeliveryError(
                    f"the webhook at {url} refused the request ({status} {answer!r}): check that "
                    f"{env_var(self.name, 'secret')} is the secret the partner expects",
                    **where,
                )
                refused.whole_channel = True
                raise refused
            if 300 <= status < 400:
                raise TerminalDeliveryError(
                    f"the webhook at {url} redirects to {response.headers.get('Location')}: update url",
                    **where,
                )
            raise TerminalDeliveryError(
                f"the webhook at {url} refused the event ({status} {answer!r}); fix the receiver or the "
                "channel settings, then `syndicate deliveries retry --channel "
                f"{self.name} --state failed-terminal`",
                **where,
            )


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
