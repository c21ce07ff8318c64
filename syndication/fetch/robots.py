"""robots.txt rules for one site, built from what the fetch of ``/robots.txt`` gave.

Outcomes of that fetch (RFC 9309 §2.3.1):

* 2xx: the file's rules, parsed by ``urllib.robotparser``;
* 401/403: everything disallowed (the site does not want us in);
* other 4xx (404, 410, ...), a blocked redirect or an oversized file: no usable rules, so everything
  allowed, as the RFC says for "unavailable";
* transient failures (timeout, reset, 429, 5xx): everything allowed. RFC 9309 suggests assuming
  a full disallow here; we do not, because the page fetch that follows goes to the same struggling
  server and fails transiently on its own (so nothing is fetched in practice), while a CMS that
  answers 500 on ``/robots.txt`` alone (a common misconfiguration) would otherwise silently stop
  every linked article from that site being syndicated.
"""

from __future__ import annotations

from urllib.robotparser import RobotFileParser


def rules_from_text(text: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return parser


class _Blanket(RobotFileParser):
    """One answer for every URL (the stdlib's own ``allow_all`` flags are undocumented)."""

    def __init__(self, allowed: bool) -> None:
        super().__init__()
        self.allowed = allowed

    def can_fetch(self, useragent: str, url: str) -> bool:
        return self.allowed


def allow_all() -> RobotFileParser:
    return _Blanket(True)


def disallow_all() -> RobotFileParser:
    return _Blanket(False)
