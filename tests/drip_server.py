"""A loopback server that sends its status line and headers one byte at a time, forever.

``http.server`` writes a response's head in one go, so this one works on the raw socket: it reads
the request, then sends ``HTTP/1.1 200 OK\\r\\nX-Drip: aaaa…`` a byte every ``interval`` seconds
until the client hangs up or the server stops. Every read of the client gets a byte well within
any read timeout; only a total deadline ends such a request. Used by the fetch tests and the
run-budget benchmark.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator


class DripHeadersServer:
    def __init__(self, *, interval: float = 0.05, host: str = "127.0.0.1") -> None:
        self.interval = interval
        self._stopping = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.05)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.bytes_sent = 0
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="drip-headers", daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> DripHeadersServer:
        self._accepting.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._accepting.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> DripHeadersServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _head(self) -> Iterator[bytes]:
        yield from (bytes([b]) for b in b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Drip: ")
        while True:
            yield b"a"

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(65536)  # the request; its content does not matter
                for byte in self._head():
                    if self._stopping.wait(self.interval):
                        return
                    conn.sendall(byte)
                    self.bytes_sent += 1
            except OSError:
                return  # the client gave up (what a deadline is for)
