"""The address guard: what a URL from a feed may make us connect to.

Feeds and the posts they link to are written by other people, so every URL we fetch, and every
redirect hop, is checked before we connect: only ``http``/``https``, no credentials in the URL, and
no host that resolves to a private, loopback, link-local, reserved, multicast or unspecified address
(IPv4 and IPv6, including IPv4 addresses hidden inside IPv6 forms) unless the host is listed in
``fetch.allow_private_hosts``: by the name in the URL, or by network (``10.1.2.0/24``,
``127.0.0.1/32``: then any name resolving into it may be fetched). Without this a hostile feed
could make the pipeline read a cloud metadata service (``169.254.169.254``) or an admin page on
the worker's own network.

DNS rebinding: the guard returns the addresses it checked, and the fetcher connects to exactly
those (``fetch.connection`` pins them for each redirect hop), so a hostile DNS server answering a
public address to the check and a private one a moment later gains nothing: nothing is resolved a
second time. ``Host``, TLS SNI and certificate verification still use the host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from syndication.errors import BlockedURLError, TransientFetchError

ALLOWED_SCHEMES = ("http", "https")
ALLOW_KEY = "fetch.allow_private_hosts"

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def normalize_host(host: str) -> str:
    """Lower-case, no IPv6 brackets, no trailing dot: the form allow-list entries are compared in."""
    return host.strip().strip("[]").rstrip(".").lower()


def is_loopback_name(host: str) -> bool:
    """``localhost`` or a literal loopback address (no DNS lookup): where sending a password over plain
    HTTP or SMTP, or binding a web app, stays on this machine."""
    host = normalize_host(host)
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really reaches (IPv4-mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    embedded = ip.ipv4_mapped or ip.sixtofour
    if embedded is None and ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return embedded


def address_problem(ip: IPAddress) -> str | None:
    """Why we refuse to connect to ``ip`` (``"loopback"``, ``"private"``, ...), or ``None``."""
    # Python 3.11 judges ::ffff:127.0.0.1 by its IPv6 form; judge what it really reaches.
    embedded = embedded_ipv4(ip)
    if embedded is not None:
        return address_problem(embedded)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def check_url(
    url: str,
    allow_private_hosts: Iterable[str] = (),
    *,
    resolve: Resolver | None = None,
) -> list[str] | None:
    """Raise ``BlockedURLError`` unless ``url`` is an http(s) URL to a public (or allow-listed) host.

    Returns the addresses the host resolved to, all checked: connect to these and no others (see
    "DNS rebinding" above). ``None`` for an allow-listed host, which is not resolved here.
    A host that cannot be resolved raises ``TransientFetchError`` (DNS failures are usually brief).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURLError(f"refusing a malformed URL: {exc}", url=url) from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise BlockedURLError(f"refusing {shown}: only http and https URLs are fetched", url=url)
    if parts.username is not None or parts.password is not None:
        raise BlockedURLError(
            "refusing a URL with credentials in it (user:password@host); credentials belong in the "
            "environment, not in feed or link URLs",
            url=_without_credentials(url),
        )
    host = normalize_host(parts.hostname or "")
    if not host:
        raise BlockedURLError("refusing a URL without a host", url=url)
    allowed = [normalize_host(h) for h in allow_private_hosts]
    if host in allowed:
        return None
    networks = _networks(allowed)
    if resolve is None:
        resolve = socket.getaddrinfo  # looked up now, not at import: tests may replace it
    try:
        infos = resolve(host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise BlockedURLError(f"refusing an invalid host name {host!r}: {exc}", url=url) from exc
    except OSError as exc:
        raise TransientFetchError(f"cannot resolve host {host}: {exc}", url=url) from exc
    checked: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id (fe80::1%eth0)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        problem = address_problem(ip)
        if problem and any(ip in network for network in networks if network.version == ip.version):
            problem = None  # an allow-listed address or network (``10.1.2.0/24``)
        if problem:
            embedded = embedded_ipv4(ip)
            shown = f"{ip} (IPv4 {embedded})" if embedded else str(ip)
            raise BlockedURLError(
                f"refusing to fetch {host}: it resolves to {shown}, a {problem} address. If this host "
                f"is meant to be fetched (a local demo or intranet site), add {host!r} to "
                f"{ALLOW_KEY} in the configuration",
                url=url,
            )
        if str(ip) not in checked:
            checked.append(str(ip))
    if not checked:
        raise TransientFetchError(f"cannot resolve host {host}: no usable address", url=url)
    return checked


def _networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in entries:
        if "/" not in entry:
            continue  # a host name, or an address meant as one (``127.0.0.1`` allows that URL host)
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return networks


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=netloc).geturl()
