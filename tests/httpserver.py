"""A real HTTP server on loopback for tests: routes, recorded requests, and misbehaviour on demand.

``FixtureServer`` runs ``http.server.ThreadingHTTPServer`` on ``127.0.0.1`` (port chosen by the OS)
in a background thread. A test registers what each path answers and afterwards inspects what the
server received::

    server.add("/feed", body=xml, headers={"Content-Type": "application/rss+xml"})
    server.add("/dyn", handler=lambda req: Reply(304) if req.header("if-none-match") else Reply(body=b"x"))
    server.redirect("/old", "/new", status=301)
    server.reset("/flaky")                        # TCP reset right after reading the request
    server.stall("/slow")                         # never answers (until the server stops)
    stats = server.stream("/huge", total=50_000_000)   # streams, counting what really went out
    ...
    assert server.requests_to("/feed")[0].header("user-agent").startswith("syndication/")

A handler may return ``Reply`` (status, headers, body bytes or an iterable of chunks, optional
``delay``), ``Reset`` or ``Stall``. Unknown paths answer 404. Nothing here sleeps on the wall clock
except an explicit ``Reply.delay``/``drip`` interval; stalls wait on an event that ``stop()`` sets,
so teardown is immediate.

The pytest fixture ``http_server`` (``tests/conftest.py``) yields a started server per test.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

MAX_STALL_SECONDS = 30.0
"""Upper bound on how long a stalled handler holds its thread if a test forgets to stop the server."""


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    """Path with query string, as sent."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
    body: bytes | Iterable[bytes] = b""
    content_length: int | Literal["auto"] | None = "auto"
    """``"auto"``: the real length for a ``bytes`` body, none for an iterable (body ends at close);
    an int: sent as is, even when it is a lie; ``None``: no ``Content-Length`` header."""
    delay: float = 0.0
    """Seconds to wait before answering (cut short when the server stops)."""


@dataclass(frozen=True)
class Reset:
    """Send ``before`` (raw bytes, e.g. a status line and half a body), then reset the connection."""

    before: bytes = b""


@dataclass(frozen=True)
class Stall:
    """Read the request and never answer, until the server stops."""


Action = Reply | Reset | Stall
Handler = Callable[[ReceivedRequest], Action]


@dataclass
class StreamStats:
    """What a streaming route really sent, updated from the server thread."""

    bytes_sent: int = 0
    finished: bool = False
    """The whole body went out (``False`` when the client hung up first)."""
    done: threading.Event = field(default_factory=threading.Event)
    """Set when the server stopped sending, either way: wait on it before reading the counts."""


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # handler failures are recorded in FixtureServer.errors instead of printed


class FixtureServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._routes: dict[str, Handler] = {}
        self._requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.errors: list[BaseException] = []
        """Unexpected exceptions in handlers (a test can assert it is empty)."""
        self._httpd = _QuietServer((host, 0), self._handler_class())
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            # A short poll interval: shutdown() waits for the loop to notice, once per test.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fixture-http",
            daemon=True,
        )

    # ------------------------------------------------------------------------------- lifecycle

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --------------------------------------------------------------------------------- routes

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def add(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        handler: Handler | None = None,
    ) -> None:
        """Answer ``path`` (matched with its query string first, then without) with a fixed reply
        or whatever ``handler`` returns for each request."""
        if handler is None:
            fixed = Reply(status, dict(headers or {}), body)

            def handler(_request: ReceivedRequest) -> Action:
                return fixed

        self._routes[path] = handler

    def redirect(self, path: str, to: str, *, status: int = 302) -> None:
        self.add(path, status=status, headers={"Location": to})

    def reset(self, path: str, *, before: bytes = b"") -> None:
        self.add(path, handler=lambda _request: Reset(before))

    def stall(self, path: str) -> None:
        self.add(path, handler=lambda _request: Stall())

    def stream(
        self,
        path: str,
        total: int,
        *,
        chunk_size: int = 64 * 1024,
        content_length: int | Literal["auto"] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> StreamStats:
        """Stream ``total`` bytes of ``x`` in chunks, counting what actually left the server.

        ``content_length="auto"`` declares the true size, an int declares that (lie as you like),
        ``None`` sends no length (the body ends when the connection closes).
        """
        stats = StreamStats()
        declared = total if content_length == "auto" else content_length
        chunk = b"x" * chunk_size

        def body() -> Iterator[bytes]:
            left = total
            try:
                while left > 0:
                    piece = chunk if left >= chunk_size else chunk[:left]
                    yield piece
                    left -= len(piece)
                    stats.bytes_sent += len(piece)
                stats.finished = True
            finally:
                stats.done.set()

        self.add(
            path,
            handler=lambda _request: Reply(status, dict(headers or {}), body(), content_length=declared),
        )
        return stats

    def drip(self, path: str, *, piece: bytes = b"x", interval: float = 0.05) -> None:
        """Answer 200 and send ``piece`` every ``interval`` seconds until the client or server quits."""

        def body() -> Iterator[bytes]:
            while not self._stopping.wait(interval):
                yield piece

        self.add(path, handler=lambda _request: Reply(200, {"Content-Type": "text/plain"}, body(), None))

    # ------------------------------------------------------------------------------- requests

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        """Requests whose path (without query string) or full path equals ``path``."""
        return [r for r in self.requests if r.path == path or urlsplit(r.path).path == path]

    # -------------------------------------------------------------------------------- serving

    def _route(self, path: str) -> Handler | None:
        return self._routes.get(path) or self._routes.get(urlsplit(path).path)

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve()

            do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = ReceivedRequest(
                    self.command,
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                )
                server._record(request)
                route = server._route(self.path)
                action: Action = route(request) if route else Reply(404, {}, b"not found")
                self.close_connection = True
                try:
                    if isinstance(action, Stall):
                        server._stopping.wait(MAX_STALL_SECONDS)
                    elif isinstance(action, Reset):
                        self._reset(action.before)
                    else:
                        self._reply(action)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: that is what several tests provoke
                except Exception as exc:  # pragma: no cover - surfaced through server.errors
                    server.errors.append(exc)
                    raise

            def _reset(self, before: bytes) -> None:
                if before:
                    self.wfile.write(before)
                    self.wfile.flush()
                # SO_LINGER with a zero timeout turns close() into a TCP RST.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

            def _reply(self, reply: Reply) -> None:
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                self.send_response(reply.status)
                pairs = reply.headers.items() if isinstance(reply.headers, Mapping) else reply.headers
                for name, value in pairs:
                    self.send_header(name, value)
                length = reply.content_length
                if length == "auto":
                    length = len(reply.body) if isinstance(reply.body, bytes) else None
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command == "HEAD":
                    return
                chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
                for chunk in chunks:
                    self.wfile.write(chunk)
                self.wfile.flush()

        return _Handler
