"""Translation-memory keys."""

from __future__ import annotations

import hashlib

from syndication.translations.memory import MemoryKey, memory_key, normalize, source_hash


def test_normalize_nfc_whitespace_and_strip_but_keeps_case_and_placeholders():
    decomposed = "Bla\u030abærgrød"  # å as a + combining ring
    assert (
        normalize(f'  {decomposed}\n\t med\xa0 <g id="1">Fløde</g>  ') == 'Blåbærgrød med <g id="1">Fløde</g>'
    )


def test_source_hash_is_sha256_of_the_normalized_text():
    assert source_hash(" Hej  verden ") == hashlib.sha256(b"Hej verden").hexdigest()
    assert source_hash("Hej\nverden") == source_hash("Hej verden")
    assert source_hash("Bla\u030a") == source_hash("Blå")
    assert source_hash("hej verden") != source_hash("Hej verden")
    assert source_hash('<g id="1">Hej</g>') != source_hash("Hej")


def test_memory_key():
    key = memory_key("apertium", "apertium-dan-nor 1.5.0-2", "da", "nb", " Hej ")
    assert key == MemoryKey("apertium", "apertium-dan-nor 1.5.0-2", "da", "nb", source_hash("Hej"))
