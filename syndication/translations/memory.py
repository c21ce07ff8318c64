"""Translation-memory keys: the same segment must hash the same however it was spaced.

The TM key is ``(engine, model version, source lang, target lang, source_hash(segment))``. Case and
placeholders are kept: ``<g id="1">Guld</g>`` and ``guld`` are different segments that translate
differently.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import NamedTuple

_SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Unicode NFC, every run of whitespace (no-break spaces too) as one space, stripped."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def source_hash(text: str) -> str:
    """SHA-256 hex digest of the normalized text."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


class MemoryKey(NamedTuple):
    engine: str
    version: str
    source: str
    target: str
    source_hash: str


def memory_key(engine: str, version: str, source: str, target: str, text: str) -> MemoryKey:
    return MemoryKey(engine, version, source, target, source_hash(text))
