"""The ``newsletter`` channel: e-mail per language over SMTP, one message per subscriber.

Each subscriber is a delivery target (its own ledger row), so one refused address never holds up
the others. E-mail is **at most once** per (issue, subscriber): there is no way to ask a mail server
whether it already has a message, so

- an error before the message is handed over (connection, ``MAIL``/``RCPT``/``DATA`` refused with
  4xx) is transient and tried again on a later run;
- a connection lost *after* the message was handed over (between the final dot and the server's
  reply) makes that one message ``uncertain`` (it may have arrived; never resent automatically) and
  pauses the channel for the run, since the next message would meet the same server; the next run
  tries one message first;
- a process killed between the server's 250 and our ledger record leaves the row ``sending``; the
  ledger turns it into ``uncertain`` on the next run and reports it (``at_most_once = True``).

One SMTP connection is reused for the whole run (closed by the stage through ``close()``).
``mode = "digest"`` batches everything approved since a subscriber's last issue into one message
(``batches``/``render_batch``/``batch_due``, used by the deliver stage). ``--dry-run`` writes each
message as an ``.eml`` file (``write_preview``) and sends nothing.

Settings (``[channels.<name>]``)::

    type = "newsletter"
    host = "smtp.example.org"
    port = 587
    security = "starttls"                  # none | starttls | ssl
    username = "news@example.org"          # password: SYNDICATION__CHANNELS__<NAME>__PASSWORD
    from = "Bloggen <news@example.org>"
    reply_to = "redaktion@example.org"
    list_id = "news.example.org"           # List-Id becomes <lang.news.example.org>
    list_title = "Bloggen på norsk"
    unsubscribe_url_base = "https://example.org/unsubscribe/news"   # served by `syndicate serve`
    unsubscribe_mailto = "unsubscribe@example.org"
    # the link signing key: SYNDICATION__CHANNELS__<NAME>__SECRET
    mode = "per_post"                      # per_post | digest
    digest_interval_hours = 24
    templates = "config/newsletter"        # optional <lang>.html / <lang>.txt
    footer = { nb = "…", sv = "…" }
    dry_run_dir = "outbox/newsletter"
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select

from syndication.deliveries import email_render
from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.outgoing import Where, env_var, wants
from syndication.deliveries.subscribers import Subscriber, active, by_email
from syndication.deliveries.unsubscribe import make_unsubscribe_url
from syndication.errors import (
    ConfigError,
    TerminalDeliveryError,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from syndication.fetch.guard import is_loopback_name
from syndication.models import ApprovedTranslation, Payload, Receipt
from syndication.store import Delivery, Store, utcnow

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DeliveryErrorType = TransientDeliveryError | TerminalDeliveryError


class NewsletterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str = "newsletter"
    languages: list[str] | None = None
    enabled: bool = True
    password_block: str | None = None
    secret_block: str | None = None
    host: str = "localhost"
    port: int | None = Field(None, gt=0, lt=65536)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    sender: str = Field(alias="from")
    reply_to: str | None = None
    subscriber_list: str | None = Field(None, alias="list")
    """Subscriber list name (``syndicate subscribers add --list``); default: the channel's name."""
    list_id: str
    list_title: str | None = None
    unsubscribe_url_base: str
    unsubscribe_mailto: str | None = None
    mode: Literal["per_post", "digest"] = "per_post"
    digest_interval_hours: float = Field(24.0, ge=0)
    templates: str | None = None
    footer: dict[str, str] = Field(default_factory=dict)
    subject_prefix: str = ""
    dry_run_dir: str = "outbox/newsletter"
    timeout: float = Field(30.0, gt=0)
    ca_file: str | None = None
    """Trust this CA bundle for the server's certificate (a private CA); the system's otherwise."""
    local_hostname: str | None = None
    only_categories: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)

    @field_validator("unsubscribe_url_base")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://") and not re.match(r"^http://(127\.0\.0\.1|localhost)[:/]", value):
            raise ValueError("must be an https:// URL (mail clients ignore one-click links over http)")
        return value

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z0-9.-]+$", value):
            raise ValueError("must look like a domain, e.g. news.example.org (RFC 2919)")
        return value


class NewsletterChannel:
    """Per-language newsletters to the subscribers of one list."""

    at_most_once = True

    def __init__(self, context: ChannelContext) -> None:
        self.name = context.name
        try:
            self.settings = NewsletterSettings.model_validate(dict(context.config))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(
                f"invalid newsletter channel settings: {problems}", channel=context.name
            ) from exc
        if context.store is None:
            raise ConfigError("the newsletter channel needs the pipeline's store", channel=context.name)
        if (
            self.settings.security == "none"
            and self.settings.username
            and not is_loopback_name(self.settings.host)
        ):
            raise ConfigError(
                f'security = "none" with username would send the SMTP password to {self.settings.host} '
                'unencrypted: use security = "starttls" (port 587) or "ssl" (port 465)',
                channel=context.name,
            )
        self.store: Store = context.store
        self.list_name = self.settings.subscriber_list or context.name
        self.batches = self.settings.mode == "digest"
        self._password = context.secrets.get("password")
        self._secret = context.secrets.get("secret")
        self._base_dir = context.base_dir
        addresses = getaddresses([self.settings.sender])
        self._envelope_from = addresses[0][1] if addresses and "@" in addresses[0][1] else ""
        if not self._envelope_from:
            raise ConfigError(f"from = {self.settings.sender!r} has no e-mail address", channel=self.name)
        self._domain = email_render.sender_domain(self.settings.sender)
        folder = context.base_dir / self.settings.templates if self.settings.templates else None
        self._templates = email_render.Templates(
            folder=folder, footers=self.settings.footer, list_title=self.settings.list_title or self.list_name
        )
        self._subscribers: dict[tuple[str, str], Subscriber] = {}
        self._rendered: dict[tuple[str, str], tuple[str, str]] = {}
        self._last_issue: dict[str, dict[str, datetime]] = {}
        self._smtp: smtplib.SMTP | None = None

    # ------------------------------------------------------------------------------ protocol

    def targets(self, item: ApprovedTranslation) -> list[str]:
        """Active subscribers of the item's language who subscribed before it was approved (a new
        subscriber does not get the archive)."""
        if not wants(item, self.settings.model_dump()):
            return []
        with self.store.session() as session:
            rows = active(session, list_name=self.list_name, lang=item.lang)
        emails = []
        for row in rows:
            self._subscribers[(row.lang, row.email)] = row
            if item.approved_at is None or row.created_at <= item.approved_at:
                emails.append(row.email)
        return emails

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload:
        where = _where(item, self.name)
        if item.action != "publish":
            # An e-mail cannot be edited or recalled once sent; the subscriber keeps what they got.
            return Payload(
                channel=self.name,
                target=target,
                summary=f"no e-mail to {target}: {item.title!r} went out before ({item.action} not mailed)",
                body=b"",
                content_type="message/rfc822",
                meta={
                    "skip": f"e-mail cannot be {'recalled' if item.action == 'retract' else 'edited'}",
                    "lang": item.lang,
                },
            )
        issue = _issue_id(self.name, [item])
        subject = self.settings.subject_prefix + item.title
        html_content, text_content = self._item_content(item)
        return self._payload([item], target, issue, subject, html_content, text_content, where)

    def render_batch(self, items: Sequence[ApprovedTranslation], *, target: str = "") -> Payload:
        """One digest message to ``target`` with every item (same language), oldest first."""
        if not items:
            raise ValueError("a digest needs at least one item")
        ordered = sorted(items, key=lambda i: (i.approved_at or datetime.min.replace(tzinfo=UTC), i.post_key))
        lang = ordered[0].lang
        where = _where(ordered[0], self.name)
        wording = self._templates.wording(lang)
        subject = self.settings.subject_prefix + email_render.digest_subject(
            lang, self._templates.list_title, len(ordered)
        )
        html_parts, text_parts = [], []
        for item in ordered:
            html_part, text_part = self._item_content(item, heading="h2")
            html_parts.append(html_part)
            text_parts.append(text_part)
        heading = email_render.inline_styles(f"<h1>{html.escape(wording['digest_heading'])}</h1>")
        separator = '\n<hr style="border:0;border-top:1px solid #eeeeee;margin:28px 0;">\n'
        html_content = heading + "\n" + separator.join(html_parts)
        text_content = wording["digest_heading"] + "\n\n\n" + "\n\n\n".join(text_parts)
        return self._payload(
            ordered, target, _issue_id(self.name, ordered), subject, html_content, text_content, where
        )

    def batch_due(self, lang: str, target: str) -> bool:
        """Is a digest due for this subscriber? Their last issue is at least ``digest_interval_hours`` old."""
        if lang not in self._last_issue:
            with self.store.session() as session:
                rows = session.execute(
                    select(Delivery.target, func.max(Delivery.sent_at))
                    .where(
                        Delivery.channel == self.name,
                        Delivery.lang == lang,
                        Delivery.action == "publish",
                        Delivery.state == "sent",
                    )
                    .group_by(Delivery.target)
                )
                self._last_issue[lang] = {t: sent for t, sent in rows if sent is not None}
        last = self._last_issue[lang].get(target)
        return last is None or utcnow() - last >= timedelta(hours=self.settings.digest_interval_hours)

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        meta = payload.meta
        where = Where(post=str(meta.get("post_key", "")), lang=str(meta.get("lang", "")), channel=self.name)
        if meta.get("skip"):
            base = previous.meta if previous is not None else {}
            return Receipt(
                channel=self.name,
                key=key,
                remote_id=previous.remote_id if previous is not None else None,
                meta={**base, "skipped": meta["skip"]},
            )
        to = payload.target
        with self.store.session() as session:
            row = by_email(session, [to], list_name=self.list_name, lang=str(meta["lang"])).get(to)
            still_active = row is not None and row.status == "active"
        if not still_active:
            # Unsubscribed (or removed) since the run was planned: nothing goes out, and that is final.
            return Receipt(channel=self.name, key=key, meta={"skipped": "unsubscribed", "to": to})
        self._deliver(to, payload.body, where)
        return Receipt(
            channel=self.name,
            key=key,
            remote_id=str(meta["message_id"]),
            meta={"to": to, "message_id": meta["message_id"], "issue": meta["issue"], "lang": meta["lang"]},
        )

    def retract(self, receipt: Receipt) -> None:
        """Nothing to do: a sent e-mail cannot be recalled (the ledger records the retraction)."""

    def write_preview(self, payload: Payload) -> Path | None:
        """``--dry-run``: the exact message as an ``.eml`` file instead of sending it."""
        if payload.meta.get("skip"):
            return None
        folder = self._base_dir / self.settings.dry_run_dir / str(payload.meta["lang"])
        folder.mkdir(parents=True, exist_ok=True)
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", payload.target)
        path = folder / f"{str(payload.meta['issue'])[:12]}-{safe_to}.eml"
        path.write_bytes(payload.body)
        return path

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    # ----------------------------------------------------------------------------- rendering

    def _item_content(self, item: ApprovedTranslation, *, heading: str = "h1") -> tuple[str, str]:
        # Rendered once per item and reused for every subscriber (only the envelope differs).
        cache_key = (f"{item.post_key}|{item.lang}|{item.content_version or item.revision}", heading)
        if cache_key not in self._rendered:
            self._rendered[cache_key] = (
                email_render.item_html(item, heading=heading),
                email_render.item_text(item),
            )
        return self._rendered[cache_key]

    def _payload(
        self,
        items: Sequence[ApprovedTranslation],
        target: str,
        issue: str,
        subject: str,
        html_content: str,
        text_content: str,
        where: Where,
    ) -> Payload:
        lang = items[0].lang
        subscriber = self._subscriber(lang, target, where)
        secret = self._signing_secret(where)
        unsubscribe_url = make_unsubscribe_url(self.settings.unsubscribe_url_base, subscriber.token, secret)
        message_id = email_render.message_id(issue, target, self._domain)
        envelope = email_render.Envelope(
            sender=self.settings.sender,
            to=target,
            subject=subject,
            message_id=message_id,
            list_id=f"{self._templates.list_title} ({lang}) <{lang}.{self.settings.list_id}>",
            unsubscribe_url=unsubscribe_url,
            unsubscribe_mailto=email_render.mailto(self.settings.unsubscribe_mailto, subscriber.token),
            reply_to=self.settings.reply_to,
        )
        message = email_render.build_message(
            envelope,
            lang=lang,
            html_content=html_content,
            text_content=text_content,
            templates=self._templates,
        )
        what = f"digest of {len(items)}" if len(items) > 1 else repr(items[0].title)
        return Payload(
            channel=self.name,
            target=target,
            summary=f"e-mail {what} ({lang}) to {target}",
            body=message.as_bytes(),
            content_type="message/rfc822",
            meta={
                "lang": lang,
                "post_key": items[0].post_key,
                "posts": [item.post_key for item in items],
                "issue": issue,
                "message_id": message_id,
                "from": self._envelope_from,
            },
        )

    def _subscriber(self, lang: str, email: str, where: Where) -> Subscriber:
        row = self._subscribers.get((lang, email))
        if row is None:
            with self.store.session() as session:
                row = by_email(session, [email], list_name=self.list_name, lang=lang).get(email)
            if row is None:
                raise TerminalDeliveryError(f"{email} is not on the {self.list_name} ({lang}) list", **where)
            self._subscribers[(lang, email)] = row
        return row

    def _signing_secret(self, where: Where) -> str:
        if not self._secret:
            raise TerminalDeliveryError(
                f"no key to sign unsubscribe links: set {env_var(self.name, 'secret')} to a long random "
                "string (the same one `syndicate serve` uses to check them)",
                **where,
            )
        return self._secret

    # ---------------------------------------------------------------------------------- SMTP

    def _server(self) -> str:
        return f"{self.settings.host}:{self.settings.port or DEFAULT_PORTS[self.settings.security]}"

    def _connect(self, where: Where) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._open(where)
            except (TerminalDeliveryError, TransientDeliveryError) as exc:
                # Unreachable, TLS or credentials: no message of this run can go out through this
                # server, so the stage stops here instead of trying once per subscriber.
                exc.whole_channel = True
                raise
        return self._smtp

    def _open(self, where: Where) -> smtplib.SMTP:
        settings = self.settings
        port = settings.port or DEFAULT_PORTS[settings.security]
        server = self._server()
        tls = ssl.create_default_context(cafile=settings.ca_file) if settings.security != "none" else None
        smtp: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    settings.host,
                    port,
                    timeout=settings.timeout,
                    context=tls,
                    local_hostname=settings.local_hostname,
                )
            else:
                smtp = smtplib.SMTP(
                    settings.host, port, timeout=settings.timeout, local_hostname=settings.local_hostname
                )
            smtp.ehlo()
            if settings.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TerminalDeliveryError(
                        f'SMTP server {server} does not offer STARTTLS: use security = "ssl" (port 465) or '
                        "a server that does",
                        **where,
                    )
                smtp.starttls(context=tls)
                smtp.ehlo()
            if settings.username:
                self._login(smtp, server, where)
        except ssl.SSLCertVerificationError as exc:
            _close_quietly(smtp)
            raise TerminalDeliveryError(
                f"the certificate of SMTP server {server} is not trusted ({exc.verify_message}): fix the "
                "server's certificate or point ca_file at the CA that signed it",
                **where,
            ) from exc
        except ssl.SSLError as exc:
            _close_quietly(smtp)
            raise TerminalDeliveryError(
                f"TLS with SMTP server {server} failed ({exc.reason}): check security (starttls on 587, "
                "ssl on 465) and port",
                **where,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            _close_quietly(smtp)
            raise _smtp_error(exc, f"SMTP server {server} refused the connection", where) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(smtp)
            raise TransientDeliveryError(f"cannot reach SMTP server {server}: {exc}", **where) from exc
        except (TerminalDeliveryError, TransientDeliveryError):
            _close_quietly(smtp)
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP, server: str, where: Where) -> None:
        if not self._password:
            raise TerminalDeliveryError(
                f"no SMTP password for {self.settings.username} at {server}: "
                f"set {env_var(self.name, 'password')}",
                **where,
            )
        try:
            smtp.login(self.settings.username or "", self._password)
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(
                    f"SMTP server {server} could not check the credentials now ({exc.smtp_code})", **where
                ) from exc
            raise TerminalDeliveryError(
                f"SMTP server {server} rejected the credentials for {self.settings.username} "
                f"({exc.smtp_code}): check {env_var(self.name, 'password')}",
                **where,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise TerminalDeliveryError(
                f'SMTP server {server} offers no login on this connection: use security = "starttls" or '
                '"ssl", or remove username',
                **where,
            ) from exc

    def _drop(self) -> None:
        _close_quietly(self._smtp)
        self._smtp = None

    def _deliver(self, to: str, data: bytes, where: Where) -> None:
        """One message to one recipient, phase by phase.

        Not ``sendmail()``: it cannot tell us *where* a lost connection happened, and for at-most-once
        that is the whole question — before the message was handed over it is safe to try again;
        after, it is not.
        """
        server = self._server()
        for attempt in (1, 2):
            smtp = self._connect(where)
            try:
                code, reply = smtp.mail(self._envelope_from)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # Servers close idle or long-lived connections; reconnect once, nothing was sent yet.
                self._drop()
                if attempt == 2:
                    error = TransientDeliveryError(
                        f"SMTP server {server} closed the connection: {exc}", **where
                    )
                    error.whole_channel = True
                    raise error from exc
                continue
            if code != 250:
                self._reset(code)
                raise _reply_error(
                    code, reply, f"SMTP server {server} refused the sender {self._envelope_from}", where
                )
            break
        try:
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                self._reset(code)
                raise _reply_error(
                    code, reply, f"SMTP server {server} refused the address {to}", where, fix="address"
                )
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset(code)
                raise _reply_error(
                    code, reply, f"SMTP server {server} refused to take the message for {to}", where
                )
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientDeliveryError(
                f"SMTP server {server} closed the connection: {exc}", **where
            ) from exc
        # From here on the message is (partly) with the server: a lost answer means "maybe delivered".
        try:
            smtp.send(_dot_stuffed(data))
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise UncertainDeliveryError(
                f"the connection to SMTP server {server} broke after the message to {to} was handed over "
                f"({exc or type(exc).__name__}): it may have arrived, so it is not resent automatically "
                "(uncertain). Sending to this server stops for the run; the next run tries one message "
                "first. Check the server's log, then resend on purpose with `syndicate deliveries retry "
                f"--channel {self.name} --state uncertain --include-uncertain` (a recipient who got it "
                "gets a second copy)",
                **where,
            ) from exc
        if code != 250:
            if code == 421:
                self._drop()
            raise _reply_error(
                code, reply, f"SMTP server {server} did not accept the message for {to}", where
            )

    def _reset(self, code: int) -> None:
        """Abort the transaction so the connection can carry the next message (or drop it on 421)."""
        if code == 421 or self._smtp is None:
            self._drop()
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 §4.5.2 transparency plus the terminating ``CRLF . CRLF``."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply_error(
    code: int, reply: bytes, what: str, where: Where, *, fix: str = "settings"
) -> DeliveryErrorType:
    text = reply.decode("utf-8", "replace").replace("\n", " ")[:200]
    if 400 <= code < 500:
        return TransientDeliveryError(f"{what} for now ({code} {text}); it is tried again", **where)
    advice = (
        "fix or remove the subscriber (`syndicate subscribers remove`)"
        if fix == "address"
        else "fix the channel settings, then `syndicate deliveries retry ID`"
    )
    return TerminalDeliveryError(f"{what} ({code} {text}): {advice}", **where)


def _smtp_error(exc: smtplib.SMTPResponseException, what: str, where: Where) -> DeliveryErrorType:
    reply = exc.smtp_error if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error).encode()
    return _reply_error(exc.smtp_code, reply, what, where)


def _close_quietly(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.close()


def _where(item: ApprovedTranslation, channel: str) -> Where:
    return Where(post=item.post_key, lang=item.lang, channel=channel)


def _issue_id(channel: str, items: Sequence[ApprovedTranslation]) -> str:
    """One issue = one set of item versions in one channel; the Message-ID derives from it."""
    parts = sorted(f"{i.post_key}|{i.lang}|{i.content_version or i.revision}" for i in items)
    return hashlib.sha256("\x1f".join([channel, *parts]).encode()).hexdigest()
