"""``Retry-After`` in both of its forms (RFC 9110 §10.2.3)."""

from __future__ import annotations

import email.utils
from datetime import UTC

MAX_RETRY_AFTER = 365 * 24 * 3600.0
"""Longer values are clamped: a year is already "not in this run" and keeps datetimes in range."""


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from ``now`` (a Unix timestamp), or ``None`` when absent or unreadable.

    ``Retry-After: 120`` (delta-seconds) and ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT``
    (HTTP-date) are both accepted; a date in the past means "now" (0.0).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" in the date: RFC 5322 for "UTC, source unknown"
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER)
