"""Polite, capped, guarded HTTP GET on one ``requests.Session``.

Every request made here goes through the same steps: the address guard (``guard.check_url``) for
the URL and for every redirect hop, with the connection pinned to the addresses it checked; the
per-host pacer; a timeout on connect and on each read (``fetch.timeout``) plus one total deadline
for the whole fetch, redirects, headers and body included (``fetch.deadline``, clamped to what is
left of the run's budget; enforced by ``fetch.connection.Watchdog``); a size cap enforced while
streaming; and one mapping of what went wrong onto ``syndication.errors``:

=====================================  ==========================================================
timeout, connection refused/reset,      ``TransientFetchError`` (``retry_after`` from the header)
truncated body, 429, 5xx, the deadline
the run's budget spent                  ``RunBudgetSpentError`` (transient: the next run does it)
401, 403, 404, other 4xx, 410           ``FetchError(status=...)`` (410: the publisher removed it)
too many redirects, a redirect loop     ``FetchError`` naming the URL
body over ``fetch.max_bytes``           ``ResponseTooLargeError``
bad scheme, credentials, private host   ``BlockedURLError``
=====================================  ==========================================================

``Retry-After`` on a 429/503 that asks for no more than ``fetch.max_retry_after`` seconds is honoured
inside the run: we sleep (through the injected ``sleep``) and retry once. A longer wait (or one
longer than what is left of the run's budget), or a second refusal, raises
``TransientFetchError(retry_after=...)`` so the caller can schedule the next poll.
Pages (``get_page``, and the robots.txt it reads) get that in-run wait once per host per ``Fetcher``:
a site in maintenance answering ``503 Retry-After: 30`` to every page would otherwise cost 30 s per
page; after the one wait the caller defers the host's other pages to the next run.

**Threads.** One ``Fetcher`` serves every thread of a run (the poll stage fetches feeds from a pool
of workers): each thread gets its own ``requests.Session`` (``requests`` does not promise a session
is safe to share), made like the one the fetcher was built with, while what politeness needs is
shared and locked: the per-host pacer (one request in flight per host, ``fetch.min_host_interval``
between starts; see ``fetch.politeness``), the robots.txt cache (each site's file fetched once per
fetcher, i.e. once per run, however many threads ask at the same time) and the hosts that had
their one in-run ``Retry-After`` wait. Waiting for a host's slot counts against the fetch's
deadline, as the interval always did.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import requests
import urllib3
from requests.cookies import extract_cookies_to_jar

from syndication.budget import RunBudget
from syndication.errors import (
    BlockedURLError,
    FetchError,
    ResponseTooLargeError,
    RunBudgetSpentError,
    TransientFetchError,
)
from syndication.fetch import robots
from syndication.fetch.connection import ActiveFetch, GuardedAdapter, guarded_fetch
from syndication.fetch.encoding import charset_from_content_type
from syndication.fetch.guard import Resolver, check_url, normalize_host
from syndication.fetch.politeness import HostPacer
from syndication.fetch.result import FetchResult
from syndication.fetch.retry_after import parse_retry_after
from syndication.settings import FetchSettings
from syndication.timefmt import human_duration

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_IN_RUN_STATUSES = frozenset({429, 503})
MIN_WAIT = 0.001
"""Socket timeouts must be positive: the least we hand ``requests`` when time is (nearly) up."""
CHUNK_SIZE = 64 * 1024

_extract_cookies = cast(Callable[..., None], extract_cookies_to_jar)  # untyped in types-requests


class Fetcher:
    """HTTP GET for feeds, pages and robots.txt; see the module docstring for the rules."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        budget: RunBudget | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.settings = settings
        # A session passed in is used as given (proxies) except that our User-Agent is set and our
        # adapter (deadline, pinned addresses: see fetch.connection) is mounted.
        if session is None:
            session = requests.Session()
            # No proxies or ~/.netrc credentials from the environment: a netrc entry would be sent
            # to whatever host a feed links to. Pass your own session to use a proxy.
            session.trust_env = False
        session.headers["User-Agent"] = settings.user_agent
        _mount(session)
        self._template = session
        """The session other threads' sessions are made like (see ``_session_like``)."""
        self._sessions_lock = threading.Lock()
        self._sessions: dict[int, requests.Session] = {threading.get_ident(): session}
        self.budget = budget
        """The run's time budget: no request starts once it is spent, none outlasts it."""
        self._resolve = resolve
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._pacer = HostPacer(settings.min_host_interval, sleep=sleep, clock=clock)
        self._robots: dict[tuple[str, str], RobotFileParser] = {}
        self._robots_fetching: dict[tuple[str, str], threading.Lock] = {}
        """Per site: held while its robots.txt is fetched, so other threads wait for that answer."""
        self._robots_lock = threading.Lock()
        self._waited_hosts: set[str] = set()
        """Hosts that already had their one in-run Retry-After wait for a page."""
        self._waited_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        """The calling thread's session (the one passed in, for the thread that built the fetcher)."""
        ident = threading.get_ident()
        with self._sessions_lock:
            session = self._sessions.get(ident)
            if session is None:
                session = self._sessions[ident] = _session_like(self._template)
            return session

    def host_ready_in(self, host: str) -> float:
        """Seconds until ``fetch.min_host_interval`` lets ``host`` (a URL's host name) be asked
        again; 0: now."""
        return self._pacer.ready_in(normalize_host(host))

    def close_thread_sessions(self) -> None:
        """Close the sessions of threads other than the caller's (a pool that has finished)."""
        ident = threading.get_ident()
        with self._sessions_lock:
            others = [s for key, s in self._sessions.items() if key != ident]
            self._sessions = {k: s for k, s in self._sessions.items() if k == ident}
        for session in others:
            session.close()

    def close(self) -> None:
        with self._sessions_lock:
            sessions = [*self._sessions.values(), self._template]
            self._sessions.clear()
        for session in {id(s): s for s in sessions}.values():
            session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ public

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        wait_once_per_host: bool = False,
    ) -> FetchResult:
        """GET ``url`` (conditionally when validators are given); raises a ``FetchError`` subclass.

        ``wait_once_per_host``: sleep on ``Retry-After`` only if no such wait was spent on this
        host yet (pages; see the module docstring)."""
        started = self._clock()
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        retried = False
        while True:
            try:
                result = self._follow(url, headers, started)
            except TransientFetchError as exc:
                wait = exc.retry_after
                if (
                    retried
                    or exc.status not in RETRY_IN_RUN_STATUSES
                    or wait is None
                    or wait > self.settings.max_retry_after
                    or (self.budget is not None and wait >= self.budget.remaining())
                ):
                    raise
                if wait_once_per_host:
                    host = normalize_host(urlsplit(url).hostname or "")
                    with self._waited_lock:
                        if host in self._waited_hosts:
                            raise
                        self._waited_hosts.add(host)
                retried = True
                self._sleep(wait)
                continue
            if result.not_modified:
                # A 304 need not repeat the validators; the ones we sent are still the current ones.
                result = replace(
                    result,
                    etag=result.etag or etag,
                    last_modified=result.last_modified or last_modified,
                )
            return result

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of ``url``'s site lets our user agent fetch it (cached per site)."""
        if not self.settings.respect_robots:
            return True
        try:
            parts = urlsplit(url)
        except ValueError:
            return True  # not a URL robots.txt can speak about; the address guard refuses it
        key = (parts.scheme.lower(), parts.netloc.lower())
        with self._robots_lock:
            rules = self._robots.get(key)
            fetching = self._robots_fetching.setdefault(key, threading.Lock())
        if rules is None:
            with fetching:  # a thread asking while another fetches the file waits for its answer
                with self._robots_lock:
                    rules = self._robots.get(key)
                if rules is None:
                    rules = self._fetch_robots(key)
                    with self._robots_lock:
                        self._robots[key] = rules
        return rules.can_fetch(self.settings.user_agent, url)

    def get_page(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    ) -> FetchResult:
        """``get`` for pages: refuses with ``BlockedURLError`` when robots.txt disallows ``url``.

        Feeds are fetched with plain ``get``: a feed is published for machines to poll.
        """
        if not self.allowed(url):
            raise BlockedURLError(
                f"robots.txt of {urlsplit(url).netloc} disallows this page for our user agent "
                f"({self.settings.user_agent}); it is skipped",
                url=url,
            )
        return self.get(url, etag=etag, last_modified=last_modified, accept=accept, wait_once_per_host=True)

    # ----------------------------------------------------------------------------------- helpers

    def _fetch_robots(self, key: tuple[str, str]) -> RobotFileParser:
        scheme, netloc = key
        robots_url = urlunsplit((scheme, netloc, "/robots.txt", "", ""))
        try:
            # Only pages read robots.txt: its Retry-After wait counts as the page host's one.
            result = self.get(robots_url, accept="text/plain", wait_once_per_host=True)
        except TransientFetchError:
            return robots.allow_all()  # why: see syndication.fetch.robots
        except FetchError as exc:
            return robots.disallow_all() if exc.status in (401, 403) else robots.allow_all()
        return robots.rules_from_text(result.content.decode("utf-8", errors="replace"))

    def _follow(self, url: str, headers: dict[str, str], started: float) -> FetchResult:
        """One fetch, redirects included, within one total deadline (see ``fetch.connection``)."""
        seconds = self.settings.deadline
        by_budget = False
        if self.budget is not None:
            if self.budget.expired():
                raise RunBudgetSpentError(self._budget_message("before this request"), url=url)
            by_budget = self.budget.remaining() < seconds
            seconds = self.budget.clamp(seconds)
        error: FetchError | None = None
        with guarded_fetch(seconds) as active:
            try:
                result = self._hops(url, headers, started, active)
            except FetchError as exc:
                if not active.watchdog.fired:
                    raise
                error = exc
            else:
                # A cut connection can look like a complete body (a body without a length ends
                # when the connection does): a fetch the watchdog cut is never a success.
                if not active.watchdog.stop():
                    return result
        where = active.url or url
        if by_budget:
            message = self._budget_message(f"after {human_duration(seconds)} of this request")
            raise RunBudgetSpentError(message, url=where) from error
        raise TransientFetchError(
            f"timed out after {human_duration(seconds)}: no complete answer within fetch.deadline "
            "(connect, headers and body together); the server is slow or holds the connection "
            "open, and the next run tries again",
            url=where,
        ) from error

    def _budget_message(self, when: str) -> str:
        budget = self.budget.seconds if self.budget is not None else None
        spent = f" ({human_duration(budget)})" if budget is not None else ""
        return f"the run's time budget{spent}, fetch.run_budget, ran out {when}; left for the next run"

    def _hops(self, url: str, headers: dict[str, str], started: float, active: ActiveFetch) -> FetchResult:
        current = _without_fragment(url)
        seen = {current}
        permanent = True
        hops = 0
        while True:
            addresses = check_url(current, self.settings.allow_private_hosts, resolve=self._resolver(active))
            # The host's one slot is held until the body is read or the redirect answer closed.
            with self._pacer.slot(normalize_host(urlsplit(current).hostname or "")):
                response = self._send(current, headers, active, addresses)
                if response.status_code not in REDIRECT_STATUSES:
                    permanent_url = current if hops and permanent else None
                    return self._finish(url, current, response, permanent_url, started)
                status = response.status_code
                # requests' helper re-reads a Location sent as raw UTF-8 (WordPress slugs with æøå).
                location = (self.session.get_redirect_target(response) or "").strip()
                response.close()
            if not location:
                raise FetchError(
                    f"HTTP {status} redirect without a Location header", url=current, status=status
                )
            try:
                target = _without_fragment(urljoin(current, location))
            except ValueError as exc:
                raise FetchError(
                    f"HTTP {status} redirect to a malformed Location {location!r}", url=current, status=status
                ) from exc
            if target in seen:
                raise FetchError(
                    f"redirect loop: {current} redirects back to {target}", url=url, status=status
                )
            hops += 1
            if hops > self.settings.max_redirects:
                raise FetchError(
                    f"more than {self.settings.max_redirects} redirects (fetch.max_redirects), "
                    f"last to {target}",
                    url=url,
                    status=status,
                )
            permanent = permanent and status in PERMANENT_REDIRECTS
            seen.add(target)
            current = target

    def _resolver(self, active: ActiveFetch) -> Resolver:
        """The guard's DNS lookup, given up when the fetch's deadline passes: ``getaddrinfo`` takes
        no timeout and cannot be interrupted, so it runs in a helper thread we stop waiting for."""
        resolve = self._resolve

        def lookup(*args: Any, **kwargs: Any) -> Sequence[tuple[Any, ...]]:
            outcome: list[object] = []

            def run() -> None:
                try:
                    outcome.append((resolve or socket.getaddrinfo)(*args, **kwargs))
                except BaseException as exc:  # handed to the waiting thread
                    outcome.append(exc)

            thread = threading.Thread(target=run, name="fetch-dns", daemon=True)
            thread.start()
            thread.join(active.watchdog.remaining())
            if not outcome:
                raise OSError(f"no answer within {human_duration(active.watchdog.seconds)}")
            if isinstance(outcome[0], BaseException):
                raise outcome[0]
            return cast(Sequence[tuple[Any, ...]], outcome[0])

        return lookup

    def _send(
        self, url: str, headers: dict[str, str], active: ActiveFetch, addresses: list[str] | None
    ) -> requests.Response:
        # Connect and each read are also bounded by what is left of the deadline: the watchdog
        # cannot cut a socket that does not exist yet.
        timeout = max(MIN_WAIT, min(self.settings.timeout, active.watchdog.remaining()))
        session = self.session
        try:
            prepared = session.prepare_request(requests.Request("GET", url, headers=headers))
            target = prepared.url or url
            # Pinned under the host as the connection will see it (IDNA-encoded by requests).
            active.pin(urlsplit(target).hostname or "", addresses)
            active.url = url
            options = session.merge_environment_settings(target, {}, True, None, None)
            # Straight to the transport adapter: Session.send reads the *whole body* of a redirect
            # response (to offer response.next) even with stream=True and allow_redirects=False,
            # which would let a hostile 301 stream gigabytes past the size cap and the deadline.
            response = session.get_adapter(target).send(
                prepared,
                stream=True,
                timeout=(timeout, timeout),
                verify=options["verify"] if options["verify"] is not None else True,
                cert=options["cert"],
                proxies=options["proxies"],
            )
            _extract_cookies(session.cookies, prepared, response.raw)  # as Session.send does
            return response
        except requests.Timeout as exc:
            raise TransientFetchError(
                f"no response within {human_duration(timeout)} (fetch.timeout)", url=url
            ) from exc
        except requests.ConnectionError as exc:
            raise TransientFetchError(f"connection failed: {_reason(exc)}", url=url) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
            raise BlockedURLError(f"invalid URL: {exc}", url=url) from exc
        except requests.RequestException as exc:
            raise FetchError(f"request failed: {_reason(exc)}", url=url) from exc
        except ValueError as exc:  # urllib.parse on a URL requests let through
            raise BlockedURLError(f"invalid URL: {exc}", url=url) from exc

    def _finish(
        self,
        url: str,
        final_url: str,
        response: requests.Response,
        permanent_url: str | None,
        started: float,
    ) -> FetchResult:
        try:
            status = response.status_code
            headers = {name.lower(): value for name, value in response.headers.items()}
            if status == 304:
                content = b""
            elif 200 <= status < 300:
                content = self._read_body(final_url, response, headers)
            else:
                raise self._status_error(final_url, status, headers)
        finally:
            response.close()
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            headers=headers,
            content=content,
            encoding=charset_from_content_type(headers.get("content-type")),
            not_modified=status == 304,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            permanent_url=permanent_url,
            elapsed=self._clock() - started,
        )

    def _read_body(self, url: str, response: requests.Response, headers: dict[str, str]) -> bytes:
        cap = self.settings.max_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLargeError(
                f"response declares {int(declared):,} bytes, over the {cap:,} byte cap "
                "(fetch.max_bytes); not downloaded",
                url=url,
            )
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # read1 returns as soon as any data arrived (read() would block until a whole chunk
                # has dripped in, hiding a slow server from the deadline), and decompresses at most
                # CHUNK_SIZE bytes at a time, so the cap also stops gzip bombs early.
                chunk = response.raw.read1(CHUNK_SIZE, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLargeError(
                        f"response exceeded the {cap:,} byte cap (fetch.max_bytes); download stopped",
                        url=url,
                    )
                chunks.append(chunk)
        except urllib3.exceptions.DecodeError as exc:
            raise FetchError(f"body could not be decompressed: {_reason(exc)}", url=url) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Read timeout, reset, or fewer bytes than Content-Length promised.
            raise TransientFetchError(f"body interrupted: {_reason(exc)}", url=url) from exc
        return b"".join(chunks)

    def _status_error(self, url: str, status: int, headers: dict[str, str]) -> FetchError:
        reason = _status_phrase(status)
        if status == 429 or 500 <= status < 600:
            retry_after = parse_retry_after(headers.get("retry-after"), now=self._wall_clock())
            hint = f", retry after {human_duration(retry_after)}" if retry_after is not None else ""
            return TransientFetchError(
                f"HTTP {status} {reason}{hint}", url=url, status=status, retry_after=retry_after
            )
        if status == 410:
            return FetchError(f"HTTP 410 {reason}: the publisher removed it for good", url=url, status=status)
        if status in (401, 403):
            return FetchError(f"HTTP {status} {reason}: the server refuses us access", url=url, status=status)
        if status == 404:
            return FetchError(f"HTTP 404 {reason}: check the URL", url=url, status=status)
        return FetchError(f"unexpected HTTP {status} {reason}", url=url, status=status)


def _mount(session: requests.Session) -> None:
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def _session_like(template: requests.Session) -> requests.Session:
    """A new session for another thread, set up as ``template`` (proxies, TLS verification, client
    certificate, headers, auth, environment trust); cookies start from a copy of its jar."""
    session = requests.Session()
    session.trust_env = template.trust_env
    session.verify = template.verify
    session.cert = template.cert
    session.proxies = dict(template.proxies)
    session.auth = template.auth
    session.headers.clear()
    session.headers.update(template.headers)
    session.max_redirects = template.max_redirects
    session.cookies = template.cookies.copy()
    _mount(session)
    return session


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
