"""Durations and moments as people read them: ``6 h``, ``3 d 4 h``, ``in 10 min`` (never
``3.1536e+07 s``). Used by ``status``, ``feeds list``, ``posts`` and error messages."""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def human_duration(seconds: float) -> str:
    """``90`` → ``1 min 30 s``; at most two units, rounded down; below 10 s one decimal."""
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    whole = int(seconds)
    parts: list[str] = []
    for unit, size in _UNITS:
        if whole >= size:
            parts.append(f"{whole // size} {unit}")
            whole %= size
        if len(parts) == 2 or (parts and unit == "s"):
            break
    return " ".join(parts)


def human_when(moment: datetime | None, *, now: datetime | None = None) -> str:
    """``in 6 h (2026-12-07 21:00 UTC)``, ``3 min ago (…)``, ``now`` or ``—`` for ``None``."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        # The store keeps naive UTC timestamps (SQLite has no time zones).
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    delta = (moment - now).total_seconds()
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if abs(delta) < 1:
        return f"now ({stamp})"
    if delta > 0:
        return f"in {human_duration(delta)} ({stamp})"
    return f"{human_duration(-delta)} ago ({stamp})"
