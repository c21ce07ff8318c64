"""DNS rebinding: the fetcher connects to the address the guard checked, never to a second answer.

The name ``rebind.example`` is answered by a replaced ``socket.getaddrinfo`` (the component under
test is our guard plus our connection, not DNS): ``127.0.0.1`` the first time, ``127.0.0.2`` after
that. Only ``127.0.0.1/32`` is allow-listed (a network: any name resolving into it), and a second
server waits on ``127.0.0.2`` at the same port: whatever connects there went around the check.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from syndication.errors import BlockedURLError, FetchError
from syndication.fetch import Fetcher
from tests.fetch.conftest import loopback_settings
from tests.httpserver import FixtureServer

NAME = "rebind.example"
CHECKED, REBOUND = "127.0.0.1", "127.0.0.2"


class Rebinding:
    """``getaddrinfo`` that answers ``NAME`` with ``CHECKED`` once, then ``REBOUND``."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.asked: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(str(host))
        if host == NAME:
            host = CHECKED if self.asked.count(NAME) == 1 else REBOUND
        return self.real(host, port, *args, **kwargs)


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Rebinding:
    resolver = Rebinding(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


class Listener:
    """A plain socket on ``REBOUND``:port that counts who connects (the attacker's target)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_server((REBOUND, port))
        self.sock.settimeout(0.05)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nrebound")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def checked_server(http_server: FixtureServer) -> Iterator[tuple[FixtureServer, Listener]]:
    http_server.add("/feed", body=b"checked")
    try:
        listener = Listener(http_server.port)
    except OSError as exc:  # pragma: no cover - depends on the machine's loopback setup
        pytest.skip(f"cannot listen on {REBOUND}: {exc}")
    yield http_server, listener
    listener.close()


def settings(**overrides: Any) -> Any:
    return loopback_settings(allow_private_hosts=[f"{CHECKED}/32"], **overrides)


def test_a_rebound_name_is_fetched_from_the_checked_address(rebinding, checked_server):
    server, rebound = checked_server
    with Fetcher(settings()) as fetcher:
        result = fetcher.get(f"http://{NAME}:{server.port}/feed")
    assert result.content == b"checked"
    assert rebound.connections == 0
    assert rebinding.asked.count(NAME) == 1  # resolved once, by the guard
    assert server.requests[0].header("host") == f"{NAME}:{server.port}"  # the name, not the address


def test_every_redirect_hop_is_pinned(rebinding, checked_server):
    server, rebound = checked_server
    server.redirect("/start", f"http://{NAME}:{server.port}/feed", status=302)
    with Fetcher(settings()) as fetcher:
        # The first hop is to the allow-listed address itself, the second to the name.
        result = fetcher.get(f"http://{CHECKED}:{server.port}/start")
    assert result.content == b"checked"
    assert rebound.connections == 0
    assert rebinding.asked.count(NAME) == 1


def test_an_address_outside_the_allow_list_is_still_refused(rebinding):
    # Only 127.0.0.1 is allowed: a name answering 127.0.0.2 at the check is blocked as before.
    rebinding.asked.append(NAME)  # so the first answer is already the rebound one
    with Fetcher(settings()) as fetcher, pytest.raises(BlockedURLError, match=r"127\.0\.0\.2"):
        fetcher.get(f"http://{NAME}:8/feed")


# ---------------------------------------------------------------------------------------- https


def _tls_files(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _SNIRecorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"over tls"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    cert, key = _tls_files(tmp_path)
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)  # type: ignore[assignment,func-returns-value]
    httpd = http.server.ThreadingHTTPServer((CHECKED, 0), _SNIRecorder)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd.server_address[1], cert, server_names
    httpd.shutdown()
    httpd.server_close()


def test_https_to_a_pinned_address_keeps_sni_and_verifies_the_name(rebinding, tls_server):
    port, cert, server_names = tls_server
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert)  # the test's own CA; verification stays on
    with Fetcher(settings(), session=session) as fetcher:
        result = fetcher.get(f"https://{NAME}:{port}/feed")
    assert result.content == b"over tls"
    assert server_names == [NAME]  # SNI carried the name while we connected to 127.0.0.1
    assert rebinding.asked.count(NAME) == 1


def test_https_certificate_for_another_name_is_still_refused(rebinding, tls_server, tmp_path: Path):
    port, _cert, _names = tls_server
    other = tmp_path / "other"
    other.mkdir()
    other_cert, _key = _tls_files(other)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(other_cert)  # a CA that did not sign the server's certificate
    with Fetcher(settings(), session=session) as fetcher, pytest.raises(FetchError, match="certificate"):
        fetcher.get(f"https://{NAME}:{port}/feed")
