"""The bundled demo blog: a small WordPress-shaped Danish site served on a loopback port.

``config/demo/site/`` holds the blog as files (an RSS 2.0 feed, two post pages, an image,
``robots.txt``); every absolute URL in them is written as the ASCII token ``{{BASE}}``, which
:func:`serve_site` replaces with the server's real base URL on the fly. The substitution works on bytes,
so the windows-1252 page is served byte for byte apart from the token.

How ``syndicate demo`` gets the base URL into the configuration
---------------------------------------------------------------
The port is only known once the server is listening, so the TOML in ``config/demo/syndication.toml`` is
a *template* (``{{BASE}}`` for the site, ``{{HOST}}`` for the allow-listed host). The demo command does::

    with serve_site(demo_dir() / "site") as server:
        config_path = prepare_demo(workdir, server.base_url)
        settings = load_settings(config_path)
        ...  # run the pipeline, publish, show the outbox

:func:`prepare_demo` writes the resolved copy to ``workdir/syndication.toml`` (and checks it with
``load_settings``). We chose a resolved file over a settings override so the demo runs through the same
config loading as a real installation, and the file left in ``workdir`` shows the user a working
configuration. Relative paths in it (the SQLite store, ``./outbox``) resolve against ``workdir``
(``load_settings`` resolves against the file's folder, or its parent when the folder is named
``config``), so a demo never writes into the source tree.

The server behaves like a small WordPress behind Apache, enough to exercise the pipeline: directory
paths serve ``index.xml``/``index.html`` (and redirect to the trailing-slash form), ``/?p=ID`` redirects
to the post whose ``<link rel='shortlink'>`` names that ID, ``?paged=N`` beyond the first page is a
404, text files get ``charset=UTF-8`` only when they are UTF-8 (so the windows-1252 page arrives with a
bare ``text/html`` and the pipeline must read its ``<meta http-equiv>``), and every file has an ``ETag``
and ``Last-Modified`` honoured by conditional requests (304), so conditional polling can be shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from syndication.errors import ConfigError
from syndication.settings import load_settings

BASE_PLACEHOLDER = b"{{BASE}}"
HOST_PLACEHOLDER = "{{HOST}}"
CONFIG_NAME = "syndication.toml"

_TEXT_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".css", ".js", ".json"}
_SHORTLINK = re.compile(rb"""<link\s+rel=['"]shortlink['"]\s+href=['"]\{\{BASE\}\}/\?p=(\d+)['"]""")


def demo_dir() -> Path:
    """The folder with the demo site and config template (``config/demo`` of the source tree)."""
    path = Path(__file__).resolve().parent.parent / "config" / "demo"
    if not (path / "site").is_dir() or not (path / CONFIG_NAME).is_file():
        raise ConfigError(
            f"demo files not found in {path}; run the demo from a source checkout of syndication"
        )
    return path


@dataclass(frozen=True)
class RequestRecord:
    """One request the demo server answered (for tests and for showing conditional GET at work)."""

    method: str
    path: str
    """Path with query string, as the client sent it."""
    headers: Mapping[str, str]
    status: int


@dataclass
class DemoServer:
    """A running demo site; use as a context manager so the port is always released."""

    root: Path
    host: str
    port: int
    requests: list[RequestRecord] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_site(root: Path, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """Serve ``root`` (a folder like ``config/demo/site``) in a daemon thread; ``port=0`` picks one."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError(f"demo site folder {root} does not exist")
    server = DemoServer(root=root, host=host, port=port)
    handler = _handler_for(server)
    try:
        httpd = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} for the demo site: {exc}") from exc
    httpd.daemon_threads = True
    server.port = int(httpd.server_address[1])
    server._httpd = httpd
    # A short poll interval so close() returns quickly (shutdown waits for the next poll).
    server._thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
    )
    server._thread.start()
    return server


def prepare_demo(
    workdir: Path, base_url: str, *, template: Path | None = None, outbox: Path | None = None
) -> Path:
    """Write the demo config with the live ``base_url`` filled in; return the written file's path.
    ``outbox`` (absolute) replaces the template's ``./outbox`` so results can land elsewhere than
    the config's folder."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"demo base URL {base_url!r} is not an http(s) URL with a host")
    if any(ch in base_url for ch in '"\\\n\r\t '):
        # The URL is pasted into a TOML string: refuse anything that could end or escape it.
        raise ConfigError(f"demo base URL {base_url!r} contains characters not allowed in a URL")
    base = base_url.rstrip("/")
    source = template if template is not None else demo_dir() / CONFIG_NAME
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the demo config template {source}: {exc}") from exc
    resolved = text.replace(BASE_PLACEHOLDER.decode("ascii"), base).replace(HOST_PLACEHOLDER, parts.hostname)
    if outbox is not None:
        resolved = resolved.replace('path = "./outbox"', f"path = {json.dumps(str(outbox))}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / CONFIG_NAME
    glossary = demo_dir() / "glossary.csv"
    if glossary.is_file():
        _write_atomically(workdir / glossary.name, glossary.read_bytes())
    _write_atomically(target, resolved.encode("utf-8"))
    load_settings(target, environ={})  # fail here, naming the file, rather than halfway into the demo
    return target


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------ serving


def _content_type(path: Path, body: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        kind = "application/rss+xml" if b"<rss" in body[:500] else "application/xml"
    elif suffix in (".html", ".htm"):
        kind = "text/html"
    else:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if suffix in _TEXT_SUFFIXES:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            # Like an Apache that serves legacy pages without a charset: the page's own
            # <meta http-equiv> is the only declaration the client gets.
            return kind
        return f"{kind}; charset=UTF-8"
    return kind


def _find_post(root: Path, post_id: str) -> str | None:
    """The permalink path of the page whose shortlink is ``?p=post_id`` (WordPress's ``/?p=`` redirect)."""
    for page in sorted(root.rglob("index.html")):
        match = _SHORTLINK.search(page.read_bytes())
        if match and match.group(1).decode("ascii") == post_id:
            rel = page.parent.relative_to(root).as_posix()
            return "/" if rel == "." else f"/{rel}/"
    return None


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: int) -> bool:
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return since.timestamp() >= mtime
    return False


def _handler_for(server: DemoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "Apache"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the demo and the tests quiet; ``server.requests`` is the log."""

        def _answer(self, *, send_body: bool) -> None:
            self._respond(send_body=send_body)

        def send_response(self, code: int, message: str | None = None) -> None:
            # Logged before the response leaves, so a client that has its answer always finds
            # its request in ``server.requests``.
            server.record(RequestRecord(self.command, self.path, dict(self.headers.items()), code))
            super().send_response(code, message)

        def _respond(self, *, send_body: bool) -> int:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            path = unquote(parts.path) or "/"
            if "p" in query and path == "/":
                target = _find_post(server.root, query["p"][0])
                if target is None:
                    return self._simple(404, "Siden blev ikke fundet", send_body)
                return self._redirect(target, send_body)
            if any(int(v) > 1 for v in query.get("paged", []) if v.isdigit()):
                return self._simple(404, "Siden blev ikke fundet", send_body)
            segments = [s for s in path.split("/") if s]
            if any(s.startswith(".") or "\\" in s or "\x00" in s for s in segments):
                return self._simple(404, "Siden blev ikke fundet", send_body)
            file = server.root.joinpath(*segments)
            if file.is_dir():
                if not path.endswith("/"):
                    return self._redirect(path + "/", send_body)
                file = next((c for c in (file / "index.xml", file / "index.html") if c.is_file()), file)
            if not file.is_file():
                return self._simple(404, "Siden blev ikke fundet", send_body)
            body = file.read_bytes()
            if file.suffix.lower() in _TEXT_SUFFIXES:
                body = body.replace(BASE_PLACEHOLDER, server.base_url.encode("ascii"))
            mtime = int(file.stat().st_mtime)
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            if _not_modified(
                self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag, mtime
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
                self.end_headers()
                return 304
            self.send_response(200)
            self.send_header("Content-Type", _content_type(file, body))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return 200

        def _redirect(self, location: str, send_body: bool) -> int:
            self.send_response(301)
            self.send_header("Location", server.base_url + location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 301

        def _simple(self, status: int, text: str, send_body: bool) -> int:
            body = (
                f'<!DOCTYPE html><html lang="da"><head><meta charset="UTF-8"><title>{text}</title>'
                f"</head><body><h1>{text}</h1></body></html>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return status

    return Handler


DEMO_STATE = ".syndication-demo"
DEMO_PORT = 8765
"""The demo blog's usual port: post identities (``{base}/?p=ID``) include it, so a second
``syndicate demo`` only shows the incremental path (304, nothing translated) on the same port."""


def run_demo(
    workdir: Path,
    *,
    port: int = DEMO_PORT,
    keep_serving: bool = False,
    echo: Callable[[str], None] | None = print,
    prefect: bool = True,
) -> dict[str, Any]:
    """``syndicate demo``: serve the demo blog, run one full cycle (as the Prefect flow, or with
    ``prefect=False`` the same work in this process: ``orchestration.embedded``), show results.

    The config and SQLite store go to ``workdir/.syndication-demo/``, the translations to
    ``workdir/outbox/``. Running it again shows the incremental path: one conditional request,
    nothing translated, nothing sent twice.
    """
    from syndication.summary import RunSummary

    say = echo or (lambda _line: None)
    outbox = (workdir / "outbox").resolve()
    try:
        server = serve_site(demo_dir() / "site", port=port)
    except ConfigError:
        say(f"port {port} is busy; serving the demo blog on a free port (a new blog to the pipeline)")
        server = serve_site(demo_dir() / "site")
    with server:
        config = prepare_demo(workdir / DEMO_STATE, server.base_url, outbox=outbox)
        say(f"demo blog (Danish) at {server.base_url}/  — feed {server.base_url}/feed/")
        summary = RunSummary.from_dict(_run_cycle(str(config), prefect=prefect))
        files = sorted(
            str(p.relative_to(workdir))
            for p in outbox.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        say("")
        for line in summary.lines():
            say(line)
        for error in summary.errors:
            say(f"  ! {error.stage}: {error.message}" + (f" ({error.post})" if error.post else ""))
        say("")
        say(f"results in {outbox}/:")
        for name in files:
            say(f"  {name}")
        for page, text, href in localized_links(outbox, "nb"):
            say("")
            say(f"the nb page {page} links to the nb copy of the article it mentions:")
            say(f'  <a href="{href}">{text}</a>')
        say("")
        say(f"config and database: {config.parent}/  (try: syndicate status --config {config})")
        if summary.awaiting_review:
            say(
                f"{summary.awaiting_review} item(s) wait for an editor: "
                f"syndicate review list --config {config}"
            )
        if keep_serving:
            say(f"serving the demo blog at {server.base_url}/ — Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    return {"summary": summary.as_dict(), "outbox": str(outbox), "files": files, "config": str(config)}


def _run_cycle(config: str, *, prefect: bool) -> dict[str, Any]:
    if not prefect:
        from syndication.orchestration import embedded

        return embedded.syndicate(config)
    from flows.syndicate import syndicate_flow
    from syndication.orchestration.outcome import call_flow

    return call_flow(syndicate_flow, config=config)


def localized_links(outbox: Path, lang: str) -> list[tuple[str, str, str]]:
    """``(page, link text, href)`` for each link of the ``lang`` pages in ``outbox`` that points to
    another page of the same language there (a link localized by ``deliveries.links``)."""
    import lxml.html

    folder = outbox / lang
    found: list[tuple[str, str, str]] = []
    if not folder.is_dir():
        return found
    pages = {p.name for p in folder.glob("*.html")}
    for name in sorted(pages):
        tree = lxml.html.fromstring((folder / name).read_bytes())
        for anchor in tree.iter("a"):
            href = anchor.get("href") or ""
            if href.partition("#")[0] in pages - {name}:
                text = " ".join(anchor.text_content().split())
                found.append((f"{outbox.name}/{lang}/{name}", text, href))
    return found
