"""Concurrent polling benchmark: a no-change poll of many feeds on many hosts, and on one host.

A server process (this module with ``--serve``) listens on the same port of 127.0.0.1 … 127.0.0.N
(every 127/8 address is loopback on Linux, and each is a host of its own to the fetcher's
politeness). Every feed answers after ``POLL_DELAY`` seconds (100 ms: a realistic internet round
trip): 200 with a three-item RSS and an ETag the first time, 304 to that ETag afterwards. The
server counts requests in flight, per host and in all, and reports the most it saw (``/_stats``).

The poll stage runs in-process as ``syndicate run`` runs it (``pipeline.poll``, SQLite, default
``[fetch]`` settings apart from ``allow_private_hosts``). Two set-ups:

- ``many``: ``POLL_FEEDS`` feeds (1,000) spread over ``POLL_HOSTS`` hosts (250), listed host by
  host, default ``concurrency`` (16) and ``min_host_interval`` (1 s). A first poll stores the
  ETags; the figure is the second, no-change poll (target ≤ 10 s; it took 105 s sequentially).
- ``one_host``: ``POLL_ONE_HOST_FEEDS`` feeds (40) on 127.0.0.1 with ``min_host_interval``
  ``POLL_ONE_HOST_INTERVAL`` (0.25 s). Politeness demands at least (feeds − 1) × interval for the
  no-change poll; ``one_host_poll_over_politeness`` must be ≥ 1 (not faster than allowed).

Figures also say the most requests the server saw in flight at once, per host (must be 1) and in
all (the pool at work), and the 1-minute load average before and after.

    python -m bench poll
    POLL_FEEDS=200 POLL_HOSTS=50 python -m bench poll      # quicker
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FEEDS = int(os.environ.get("POLL_FEEDS", "1000"))
HOSTS = int(os.environ.get("POLL_HOSTS", "250"))
DELAY = float(os.environ.get("POLL_DELAY", "0.1"))
ONE_HOST_FEEDS = int(os.environ.get("POLL_ONE_HOST_FEEDS", "40"))
ONE_HOST_INTERVAL = float(os.environ.get("POLL_ONE_HOST_INTERVAL", "0.25"))

Figure = tuple[str, float, str]


def run() -> list[Figure]:
    figures: list[Figure] = [("poll_load_before", os.getloadavg()[0], "load")]
    with _Server(HOSTS, DELAY) as server:
        figures += _measure(
            server, "many", [server.url(1 + i * HOSTS // FEEDS, f"/feed/{i}/") for i in range(FEEDS)], {}
        )
    with _Server(1, DELAY) as server:
        urls = [server.url(1, f"/feed/{i}/") for i in range(ONE_HOST_FEEDS)]
        measured = _measure(server, "one_host", urls, {"min_host_interval": ONE_HOST_INTERVAL})
        figures += measured
        demanded = (ONE_HOST_FEEDS - 1) * ONE_HOST_INTERVAL
        seconds = next(v for name, v, _ in measured if name == "one_host_poll")
        figures += [
            ("one_host_politeness_demands", demanded, "s"),
            ("one_host_poll_over_politeness", seconds / demanded, "x"),
        ]
    figures.append(("poll_load_after", os.getloadavg()[0], "load"))
    return figures


def _measure(server: _Server, name: str, urls: list[str], fetch: dict[str, Any]) -> list[Figure]:
    from syndication import pipeline
    from syndication.context import RunContext

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "syndication.toml"
        options = "".join(f"{key} = {value!r}\n" for key, value in fetch.items())
        feeds = "".join(f'[[feeds]]\nurl = "{url}"\nbaseline = true\n' for url in urls)
        config.write_text(
            f'[store]\nurl = "sqlite:///{folder}/poll.db"\n'
            f'[fetch]\nallow_private_hosts = ["127.0.0.0/8"]\n{options}'
            f'[translation]\ntargets = ["nb"]\n{feeds}',
            encoding="utf-8",
        )
        seconds: list[float] = []
        for _round in ("first", "no-change"):
            server.stats(reset=True)
            ctx = RunContext.open(config)
            try:
                started = time.perf_counter()
                pipeline.poll(ctx)
                seconds.append(time.perf_counter() - started)
                summary = ctx.summary
            finally:
                ctx.close()
            if summary.errors or summary.feeds_polled != len(urls):
                polled = f"{summary.feeds_polled} of {len(urls)} polled"
                raise RuntimeError(f"{name}: {polled}, errors {summary.errors[:3]}")
        stats = server.stats()
        if stats["requests"] != len(urls):
            raise RuntimeError(f"{name}: the server saw {stats['requests']} requests for {len(urls)} feeds")
        print(
            f"#   {name}: {len(urls)} feeds, first poll {seconds[0]:.2f} s, no-change {seconds[1]:.2f} s, "
            f"in flight at most {stats['max_in_flight']} ({stats['max_per_host']} per host)",
            file=sys.stderr,
        )
        return [
            (f"{name}_first_poll", seconds[0], "s"),
            (f"{name}_poll", seconds[1], "s"),
            (f"{name}_max_in_flight", stats["max_in_flight"], "requests"),
            (f"{name}_max_in_flight_per_host", stats["max_per_host"], "requests"),
        ]


class _Server:
    """The ``--serve`` process: started, its port read, stopped."""

    def __init__(self, hosts: int, delay: float) -> None:
        self.hosts, self.delay = hosts, delay
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> _Server:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.poll_bench", "--serve", str(self.hosts), str(self.delay)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def url(self, host: int, path: str) -> str:
        return f"http://127.0.0.{host}:{self.port}{path}"

    def stats(self, *, reset: bool = False) -> dict[str, int]:
        import requests

        with requests.Session() as session:
            session.trust_env = False
            answer = session.get(self.url(1, "/_stats?reset=1" if reset else "/_stats"), timeout=10)
        return dict(answer.json())


# ---------------------------------------------------------------------------------------- server


def _rss(base: str) -> bytes:
    items = "".join(
        f"<item><title>Indlæg {n}</title><link>{base}p{n}/</link><guid>{base}?p={n}</guid>"
        f"<description>Kort nyt {n}.</description></item>"
        for n in range(3)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Landsbyen</title>'
        f"<link>{base}</link>{items}</channel></rss>"
    ).encode()


async def _serve(hosts: int, delay: float) -> None:
    counts = {"requests": 0, "in_flight": 0, "max_in_flight": 0, "max_per_host": 0}
    per_host: dict[str, int] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                pairs = (line.partition(":") for line in lines[1:] if line)
                headers = {name.strip().lower(): value.strip() for name, _, value in pairs}
                if path.startswith("/_stats"):
                    body = json.dumps(counts).encode()
                    if "reset" in path:
                        counts.update(requests=0, max_in_flight=0, max_per_host=0)
                    writer.write(_answer(200, {"Content-Type": "application/json"}, body))
                    await writer.drain()
                    continue
                counts["requests"] += 1
                counts["in_flight"] += 1
                per_host[host] = per_host.get(host, 0) + 1
                counts["max_in_flight"] = max(counts["max_in_flight"], counts["in_flight"])
                counts["max_per_host"] = max(counts["max_per_host"], per_host[host])
                try:
                    await asyncio.sleep(delay)
                    etag = f'"v1-{host}-{path}"'
                    if headers.get("if-none-match") == etag:
                        writer.write(_answer(304, {"ETag": etag}, b""))
                    else:
                        body = _rss(f"http://{headers.get('host', host)}{path}")
                        feed_headers = {"Content-Type": "application/rss+xml", "ETag": etag}
                        writer.write(_answer(200, feed_headers, body))
                    await writer.drain()
                finally:
                    counts["in_flight"] -= 1
                    per_host[host] -= 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    first = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    for n in range(2, hosts + 1):
        servers.append(await asyncio.start_server(handle, f"127.0.0.{n}", port, backlog=512))
    print(port, flush=True)
    await asyncio.Event().wait()


def _answer(status: int, headers: dict[str, str], body: bytes) -> bytes:
    reason = {200: "OK", 304: "Not Modified"}[status]
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    if status != 304:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(_serve(int(sys.argv[2]), float(sys.argv[3])))
    else:
        from bench.__main__ import main

        sys.exit(main(["poll_bench"]))
