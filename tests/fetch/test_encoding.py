"""decode_html: BOM → header → <meta> → detection → windows-1252, with the plausibility rules."""

from __future__ import annotations

import codecs
import random

import pytest

from syndication.fetch import decode_document, decode_html
from syndication.fetch.encoding import charset_from_content_type, normalize_label

DANISH = (
    "Købmanden i Østerby har fået nye hylder, og æblerne fra gårdbutikken står nu ved kassen. "
    "“Det er vores lille sejr,” siger Åse – og smiler."
)


def page(body: str, meta: str = "") -> str:
    head = f"<head>{meta}<title>Østerby</title></head>"
    return f"<!DOCTYPE html><html lang='da'>{head}<body><p>{body}</p></body></html>"


def test_windows_1252_danish_page_without_any_declaration():
    data = page(DANISH).encode("cp1252")
    decoded = decode_document(data, None)
    assert DANISH in decoded.text
    assert decoded.encoding == "cp1252"


def test_short_windows_1252_text_is_not_mistaken_for_central_european():
    # Detectors like to call this windows-1250 ("Ćbler og pćrer fra Sřnderjylland").
    text = "Æbler og pærer fra Sønderjylland"
    assert decode_html(text.encode("cp1252"), None) == text


def test_header_charset_is_used():
    data = page(DANISH).encode("cp1252")
    decoded = decode_document(data, "windows-1252")
    assert decoded.source == "header" and DANISH in decoded.text


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO8859-1", "latin-1", "latin1", "us-ascii"])
def test_latin_1_and_ascii_labels_mean_windows_1252(label: str):
    # 0x93 0x94 0x96 are “ ” – in windows-1252 and invisible C1 controls in real ISO-8859-1.
    data = page(DANISH).encode("cp1252")
    text = decode_html(data, label)
    assert "“Det er vores lille sejr,” siger Åse – og smiler." in text


def test_meta_charset_is_used_when_the_header_is_silent():
    data = page(DANISH, meta='<meta charset="windows-1252">').encode("cp1252")
    decoded = decode_document(data, None)
    assert decoded.source == "declared" and DANISH in decoded.text


def test_meta_http_equiv_content_type_is_used():
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    data = page(DANISH, meta=meta).encode("cp1252")
    decoded = decode_document(data, None)
    assert decoded.source == "declared" and decoded.encoding == "cp1252"
    assert DANISH in decoded.text


def test_utf8_page_wrongly_declaring_iso_8859_1_in_meta_is_read_as_utf8():
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
    data = page(DANISH, meta=meta).encode("utf-8")
    decoded = decode_document(data, None)
    assert DANISH in decoded.text
    assert decoded.encoding == "utf-8"
    assert decoded.note and "valid UTF-8" in decoded.note


def test_utf8_page_behind_a_header_saying_iso_8859_1_is_read_as_utf8():
    data = page(DANISH, meta='<meta charset="utf-8">').encode("utf-8")
    assert DANISH in decode_html(data, "ISO-8859-1")


def test_windows_1252_page_behind_a_header_saying_utf8_is_read_as_windows_1252():
    data = page(DANISH).encode("cp1252")
    decoded = decode_document(data, "utf-8")
    assert DANISH in decoded.text
    assert decoded.encoding == "cp1252"


def test_utf8_page_with_a_stray_bad_byte_stays_utf8():
    data = page(DANISH).encode("utf-8").replace(b"</p>", b"\xff</p>")
    text = decode_html(data, "utf-8")
    assert DANISH in text and "\ufffd" in text


def test_header_beats_meta():
    data = page(DANISH, meta='<meta charset="windows-1252">').encode("utf-8")
    assert decode_document(data, "utf-8").source == "header"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_bom_wins_over_everything(bom: bytes, codec: str):
    data = bom + page(DANISH, meta='<meta charset="windows-1252">').encode(codec)
    decoded = decode_document(data, "iso-8859-1")
    assert decoded.source == "bom"
    assert DANISH in decoded.text and not decoded.text.startswith("\ufeff")


def test_unknown_label_is_ignored_with_a_note():
    data = page(DANISH).encode("utf-8")
    decoded = decode_document(data, "x-klingon")
    assert DANISH in decoded.text and "x-klingon" in (decoded.note or "")


def test_utf8mb4_label_from_mysql_configs_is_understood():
    assert normalize_label("utf8mb4") == "utf-8"


def test_cyrillic_is_left_to_detection():
    text = "Сельское развитие и местный бизнес: кооперативы объединяют фермеров " * 4
    data = f"<html><body><p>{text}</p></body></html>".encode("cp1251")
    assert text.strip() in decode_html(data, None)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\xff\xfe\xfd" * 100,
        random.Random(7).randbytes(20_000),
        b"<meta charset='\xff\xfe'>",
    ],
)
def test_never_raises_on_garbage(data: bytes):
    assert isinstance(decode_html(data, "definitely-not-a-charset"), str)


def test_charset_from_content_type():
    assert charset_from_content_type('text/html; charset="UTF-8"') == "utf-8"
    assert charset_from_content_type("application/rss+xml") is None
    assert charset_from_content_type(None) is None
