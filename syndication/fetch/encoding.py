"""Turning fetched bytes into text without guessing wrong on Danish pages, and without raising.

Order of evidence (first plausible one wins):

1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. the ``charset`` of the HTTP ``Content-Type`` header;
3. the document's own declaration: ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` in
   the first 4 KB of HTML, or ``<?xml ... encoding="..."?>`` for XML;
4. detection with ``charset_normalizer`` (valid UTF-8 is taken as UTF-8 first: it is cheap and
   almost never wrong);
5. windows-1252.

Two rules adjust what the document declares:

* **WHATWG labels.** ``iso-8859-1``, ``latin-1`` and ``us-ascii`` mean windows-1252, as in every
  browser: pages that say latin-1 routinely contain windows-1252 quotes and dashes (0x80-0x9F).
* **A declaration must be plausible.** A Latin single-byte declaration is overruled when the bytes
  contain non-ASCII characters and are valid UTF-8 (a UTF-8 WordPress page behind an Apache that
  adds ``charset=iso-8859-1``, or a theme with a stale ``<meta>``). Windows-1252 Danish text is
  practically never valid UTF-8 (``æøå`` are lone bytes 0xE6 0xF8 0xE5, which UTF-8 reads as lead
  bytes that must be followed by continuation bytes), so this cannot misfire on real Latin text.
  Browsers would show such a page as mojibake; we prefer what the author wrote. Likewise a UTF-8
  declaration is overruled when the bytes contain no valid multi-byte sequence at all but do contain
  invalid ones (a windows-1252 page on a server configured for UTF-8); a UTF-8 page with a few stray
  bad bytes stays UTF-8 (the bad bytes become U+FFFD).

Detection is trusted for scripts windows-1252 cannot write (Cyrillic, Greek, CJK, ...). Among the
Latin single-byte code pages detectors cannot reliably tell Danish windows-1252 from Central-European
windows-1250 on short texts (``Æbler`` becomes ``Ćbler``), so any Latin single-byte guess becomes
windows-1252, the WHATWG default for our locales.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email.message import Message
from typing import Literal

import charset_normalizer

EncodingSource = Literal["bom", "header", "declared", "detected", "fallback"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Python codec names (codecs.lookup(...).name) that WHATWG decodes as windows-1252.
_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "ascii", "cp1252"}

# Labels seen in the wild that Python does not know.
_EXTRA_LABELS = {"utf8mb4": "utf-8", "utf8mb3": "utf-8", "x-sjis": "shift_jis"}

# Latin-script single-byte code pages a detector confuses with each other (see module docstring).
_LATIN_SINGLE_BYTE = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp437", "cp850", "cp852", "cp858",
    "iso8859-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-9", "iso8859-10",
    "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "latin-1",
    "mac-roman", "mac-latin2", "mac-iceland", "mac-turkish", "hp-roman8",
}  # fmt: skip

_PRESCAN_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")


@dataclass(frozen=True)
class Decoded:
    """Text and how its encoding was chosen (``note`` explains an overruled declaration)."""

    text: str
    encoding: str
    source: EncodingSource
    note: str | None = None


def decode_html(content: bytes, header_encoding: str | None) -> str:
    """Decode an HTML page (see the module docstring for the order of evidence). Never raises."""
    return decode_document(content, header_encoding, markup="html").text


def decode_document(
    content: bytes, header_encoding: str | None, *, markup: Literal["html", "xml"] = "html"
) -> Decoded:
    """Decode HTML or XML bytes, reporting which encoding was used and why. Never raises."""
    try:
        return _decode(bytes(content), header_encoding, markup)
    except Exception as exc:  # last line of defence: decoding must never take a fetch down
        text = bytes(content).decode("cp1252", errors="replace")
        return Decoded(text, "cp1252", "fallback", f"decoding failed ({exc!r}); read as windows-1252")


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` header value, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_content_charset()
    return charset or None


def normalize_label(label: str | None) -> str | None:
    """Python codec name for an encoding label, WHATWG-mapped; ``None`` if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _EXTRA_LABELS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def _decode(content: bytes, header_encoding: str | None, markup: str) -> Decoded:
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return Decoded(content[len(bom) :].decode(encoding, errors="replace"), encoding, "bom")

    notes: list[str] = []
    declared = _declared_in_document(content, markup)
    origins: tuple[tuple[EncodingSource, str | None], ...] = (
        ("header", header_encoding),
        ("declared", declared),
    )
    for origin, label in origins:
        candidate = normalize_label(label)
        if label and candidate is None:
            notes.append(f"unknown encoding {label!r} in {_describe(origin)} ignored")
            continue
        if candidate is None:
            continue
        if markup == "html" and origin == "declared" and candidate.startswith(("utf-16", "utf-32")):
            # WHATWG: a <meta> we could read as ASCII cannot be right about UTF-16.
            candidate = "utf-8"
        problem = _implausible(content, candidate)
        if problem is None:
            text = content.decode(candidate, errors="replace")
            return Decoded(text, candidate, origin, "; ".join(notes) or None)
        notes.append(f"{_describe(origin)} says {label} but {problem}")

    detected = _detect(content)
    source: EncodingSource = "detected" if detected else "fallback"
    chosen = detected or "cp1252"
    return Decoded(content.decode(chosen, errors="replace"), chosen, source, "; ".join(notes) or None)


def _describe(source: str) -> str:
    return "the HTTP header" if source == "header" else "the document"


def _declared_in_document(content: bytes, markup: str) -> str | None:
    head = content[:_PRESCAN_BYTES]
    match = _XML_DECLARATION.match(head)
    if match is None and markup == "html":
        match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _implausible(content: bytes, encoding: str) -> str | None:
    """Why ``content`` cannot be in ``encoding``, or ``None`` if it can."""
    if encoding == "utf-8":
        if _utf8_multibyte(content) is False:
            return "the bytes are not UTF-8"
        return None
    if encoding in _LATIN_SINGLE_BYTE:
        if _utf8_multibyte(content) is True and _strict_utf8(content):
            return "the bytes are valid UTF-8"
        return None
    try:
        codecs.decode(content, encoding, errors="strict")
    except (UnicodeDecodeError, LookupError, ValueError):
        return f"the bytes are not {encoding}"
    return None


def _strict_utf8(content: bytes) -> bool:
    # A document cut off by a size cap may end inside a character; forgive up to three bytes.
    for cut in range(4):
        try:
            (content[: len(content) - cut] if cut else content).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            continue
        return True
    return False


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _utf8_multibyte(content: bytes) -> bool | None:
    """``True``: has valid UTF-8 multi-byte sequences; ``False``: has high bytes but none of them
    form one; ``None``: pure ASCII (any ASCII-compatible encoding fits)."""
    if not _HIGH_BYTE.search(content):
        return None
    return _UTF8_SEQUENCE.search(content) is not None


def _detect(content: bytes) -> str | None:
    if not content:
        return "utf-8"
    if _strict_utf8(content):
        return "utf-8"
    try:
        best = charset_normalizer.from_bytes(content).best()
    except Exception:  # a detector bug must not stop decoding; windows-1252 follows
        return None
    if best is None:
        return None
    encoding = normalize_label(str(best.encoding))
    if encoding is None or encoding in _LATIN_SINGLE_BYTE:
        return "cp1252"
    return encoding
