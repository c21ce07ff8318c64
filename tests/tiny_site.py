"""A tiny Danish feed and its pages, for tests and benches that need many small sites: each post
is one short paragraph on its own page, the feed lists them by GUID ``?p=N``."""

from __future__ import annotations

PAGE = (
    '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>{n}</title></head><body>'
    "<article><h1>Indlæg {n}</h1><p>Vi ses i forsamlingshuset på torsdag, nummer {n}.</p></article>"
    "</body></html>"
)


def rss(base: str, numbers: list[int]) -> bytes:
    items = "".join(
        f"<item><title>Indlæg {n}</title><link>{base}/p{n}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={n}</guid><description>Kort.</description></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()
