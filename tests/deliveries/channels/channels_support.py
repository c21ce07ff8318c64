"""Test support for the channel tests: approved items in a real SQLite store, run contexts built from a
real TOML file and environment, and real servers on loopback (SMTP, HTTP receivers, uvicorn).

The deliver stage builds each item from the segment tables (``stage.approved_item``); these tests are
about channels and the ledger, so ``Items`` registers the finished ``ApprovedTranslation`` per
translation id and the stage reads it from there. Everything else — planning from editorial
decisions, the ledger, claims, retries — is the real code.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import select, update

from syndication.context import RunContext
from syndication.deliveries import ledger
from syndication.models import ApprovedTranslation, Image
from syndication.settings import load_settings
from syndication.store import Delivery, Post, Revision, Store, Translation, utcnow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------ items


class Items:
    """Approved translations in the store (posts, revisions, decisions) plus their content."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.content: dict[int, ApprovedTranslation] = {}

    def approved_item(self, session: Any, translation_id: int) -> ApprovedTranslation:
        return self.content[translation_id]

    def approve(
        self,
        post_key: str,
        lang: str,
        *,
        title: str,
        html: str = "<p>Brødtekst med æøå.</p>",
        excerpt: str = "",
        categories: tuple[str, ...] = (),
        tags: tuple[str, ...] = (),
        image: Image | None = None,
        author: str | None = "Mette Hansen",
        approved_at: datetime | None = None,
        status: str = "approved",
    ) -> ApprovedTranslation:
        approved_at = approved_at or utcnow()
        with self.store.session() as session:
            post = session.scalars(select(Post).where(Post.post_key == post_key)).one_or_none()
            if post is None:
                post = Post(
                    post_key=post_key,
                    url=post_key.replace("?p=", "indlaeg-"),
                    title=title,
                    status="extracted",
                )
                session.add(post)
                session.flush()
            revision = Revision(
                post_id=post.id,
                content_hash=hashlib.sha256(f"{post_key}{title}{html}".encode()).hexdigest(),
                title=title,
                html=html,
                text=html,
            )
            session.add(revision)
            session.flush()
            translation = Translation(
                revision_id=revision.id,
                post_id=post.id,
                lang=lang,
                status=status,
                decided_at=approved_at if status in ("approved", "rejected") else None,
            )
            session.add(translation)
            session.flush()
            item = ApprovedTranslation(
                translation_id=translation.id,
                post_key=post_key,
                revision=revision.content_hash,
                lang=lang,
                source_lang="da",
                source_url=post.url,
                source_title=title,
                title=title,
                html=html,
                excerpt=excerpt,
                author=author,
                published=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
                approved_at=approved_at,
                site_name="Bloggen",
                categories=categories,
                tags=tags,
                featured_image=image,
                content_version=_version(title, html, excerpt),
            )
        self.content[translation.id] = item
        return item

    def edit(self, item: ApprovedTranslation, **changes: Any) -> ApprovedTranslation:
        """An editor changes an approved translation: same decision row, new delivered content."""
        edited = replace(item, **changes)
        edited = replace(edited, content_version=_version(edited.title, edited.html, edited.excerpt))
        self.content[item.translation_id] = edited
        with self.store.session() as session:  # as `review.edit_segment` does: the row changes too
            row = session.get(Translation, item.translation_id)
            assert row is not None
            row.version += 1
        return edited

    def decide(self, item: ApprovedTranslation, status: str) -> None:
        with self.store.session() as session:
            row = session.get(Translation, item.translation_id)
            assert row is not None
            row.status, row.decided_at = status, utcnow()

    def retract_post(self, post_key: str) -> None:
        with self.store.session() as session:
            post = session.scalars(select(Post).where(Post.post_key == post_key)).one()
            post.status = "retracted"


def _version(title: str, html: str, excerpt: str) -> str:
    return hashlib.sha256(f"{title}\x1f{excerpt}\x1f{html}".encode()).hexdigest()[:32]


def item_to_json(item: ApprovedTranslation) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(item), default=str))


def item_from_json(data: dict[str, Any]) -> ApprovedTranslation:
    data = dict(data)
    for key in ("published", "approved_at"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    if data.get("featured_image"):
        data["featured_image"] = Image(**data["featured_image"])
    for key in ("categories", "tags", "linked_from"):
        data[key] = tuple(data.get(key) or ())
    return ApprovedTranslation(**data)


# ---------------------------------------------------------------------------------- contexts


def write_config(
    tmp_path: Path,
    db_url: str,
    channels: dict[str, dict[str, Any]],
    *,
    targets: list[str] | None = None,
    deliveries: dict[str, Any] | None = None,
) -> Path:
    config: dict[str, Any] = {
        "store": {"url": db_url},
        "translation": {"targets": targets or ["nb", "sv"]},
        "channels": channels,
    }
    if deliveries:
        config["deliveries"] = deliveries
    path = tmp_path / "syndication.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def make_context(
    store: Store, config_path: Path, env: dict[str, str], *, dry_run: bool = False
) -> RunContext:
    """A run context as `syndicate publish` builds it: TOML + secrets from the environment."""
    settings = load_settings(config_path, environ=env)
    return RunContext(settings=settings, store=store, dry_run=dry_run)


def deliveries(store: Store, **where: Any) -> list[Delivery]:
    with store.session() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.scalars(query))


def age_claims(store: Store) -> None:
    """Pretend the claim lease has run out (a killed worker's rows become claimable / uncertain)."""
    with store.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.state == "sending")
            .values(claimed_at=utcnow() - ledger.LEASE - timedelta(seconds=5))
        )


def make_due(store: Store) -> None:
    """Pretend every transient failure's backoff has passed."""
    with store.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.state == "failed")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def no_sleep(_: float) -> None:
    """In-run backoff without waiting (tests never depend on wall-clock time)."""


# ---------------------------------------------------------------------------------- SMTP server


class MailRecorder:
    """An aiosmtpd handler that records what it accepted and can refuse chosen addresses."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse_temporarily: Counter[str] = Counter()
        """address → how many more RCPTs to answer with 451."""
        self.refuse_permanently: set[str] = set()
        self.connections = 0
        self.rcpt_attempts: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not getattr(session, "counted", False):
            session.counted = True
            with self.lock:
                self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.rcpt_attempts[address] += 1
            if address in self.refuse_permanently:
                return "550 5.1.1 mailbox unavailable"
            if self.refuse_temporarily[address] > 0:
                self.refuse_temporarily[address] -= 1
                return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 2.0.0 queued"

    def received_by(self, address: str) -> list[bytes]:
        return [data for _, rcpts, data in self.messages if address in rcpts]

    def per_recipient(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for _, rcpts, _ in self.messages:
            counts.update(rcpts)
        return counts


def start_smtp(handler: MailRecorder, **kwargs: Any) -> Any:
    from aiosmtpd.controller import Controller

    # aiosmtpd 1.4 cannot bind port 0: pick a free port first.
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


# ------------------------------------------------------------------------------- HTTP servers


class HttpServer:
    """A ThreadingHTTPServer on loopback in a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver:
    """A partner's webhook endpoint: checks signatures, applies each idempotency key once, and can
    answer 503 (or hang) for the first requests."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[dict[str, Any]] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.fail_status = 503
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(expected, self.headers.get("X-Syndication-Signature", ""))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "valid": valid})
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                if not valid:
                    self._answer(401, b'{"error":"bad signature"}')
                    return
                if failing:
                    self._answer(receiver.fail_status, b'{"error":"busy"}')
                    return
                event = json.loads(body)
                key = self.headers["Idempotency-Key"]
                with receiver.lock:
                    receiver.applied.setdefault(key, event)
                self._answer(202, b'{"ok":true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = HttpServer(Handler)
        self.url = self.http.url + "/hooks/syndication"

    def stop(self) -> None:
        self.http.stop()


class UvicornServer:
    """A Starlette app served by uvicorn on loopback in a thread (what `syndicate serve` runs)."""

    def __init__(self, routes: list[Any]) -> None:
        import uvicorn
        from starlette.applications import Starlette

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def self_signed_tls(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made at test time (for STARTTLS / SMTPS)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
