"""Reading extracted HTML back in tests (with lxml, independently of the code under test)."""

from __future__ import annotations

import re

import lxml.html

# What must never leave the cleaner, whatever the input.
DANGEROUS = re.compile(
    r"<\s*(?:script|iframe|object|embed|svg|math|style|form|base|meta|link|template|noscript)\b"
    r"|\son\w+\s*=|javascript:|vbscript:|data:|\sstyle\s*=|\ssrcdoc\s*=",
    re.IGNORECASE,
)


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def top_level_tags(html: str) -> list[str]:
    return [child.tag for child in parse(html)]


def texts(html: str, tag: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in parse(html).iter(tag)]
