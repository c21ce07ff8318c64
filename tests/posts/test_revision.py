"""content_hash: the revision id changes with the content, never with whitespace alone."""

from __future__ import annotations

import dataclasses
import re

from syndication.models import Article
from syndication.posts import content_hash

BASE = Article(
    url="https://landliv.example.dk/2024/03/netvaerk-paa-landet/",
    title="Netværk på landet",
    html="<h2>Fra visitkort til relationer</h2>\n<p>Et netværk er <strong>mere</strong> end kort.</p>",
    text="ignored",
    excerpt="Netværk i landdistrikterne.",
)


def test_is_sha256_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", content_hash(BASE))
    assert content_hash(BASE) == content_hash(dataclasses.replace(BASE))


def test_whitespace_only_changes_keep_the_hash() -> None:
    variants = [
        dataclasses.replace(BASE, title="  Netværk  på\nlandet "),
        dataclasses.replace(
            BASE,
            html="<h2>\n  Fra visitkort til relationer\n</h2>"
            "<p>Et  netværk er\n<strong>mere</strong> end kort.</p>\n\n",
        ),
        dataclasses.replace(BASE, excerpt="Netværk i\tlanddistrikterne. "),
        dataclasses.replace(BASE, text="anything else", url="https://andet.example/"),
    ]
    for variant in variants:
        assert content_hash(variant) == content_hash(BASE), variant


def test_content_changes_change_the_hash() -> None:
    changed = [
        dataclasses.replace(BASE, title="Netværk i byen"),
        dataclasses.replace(BASE, html=BASE.html.replace("mere", "meget mere")),
        dataclasses.replace(BASE, html=BASE.html.replace("<strong>mere</strong>", "<em>mere</em>")),
        dataclasses.replace(BASE, excerpt="Noget andet."),
        dataclasses.replace(BASE, excerpt=None),
    ]
    hashes = {content_hash(a) for a in changed}
    assert content_hash(BASE) not in hashes
    assert len(hashes) == len(changed)
