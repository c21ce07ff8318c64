from __future__ import annotations

import email.utils

import pytest

from syndication.fetch import parse_retry_after

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("  0 ", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        ("Thu, 01 Jan 2026 00:05:00 GMT", 300.0),
        ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),  # already past: go now
        ("9" * 400, 365 * 24 * 3600.0),  # absurd: clamped
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_both_forms_and_nonsense(value: str | None, expected: float | None):
    assert parse_retry_after(value, now=NOW) == expected
