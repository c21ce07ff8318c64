from datetime import UTC, datetime, timedelta

from syndication.timefmt import human_duration, human_when


def test_durations_read_as_people_write_them() -> None:
    assert human_duration(0) == "0 s"
    assert human_duration(2.5) == "2.5 s"
    assert human_duration(30) == "30 s"
    assert human_duration(90) == "1 min 30 s"
    assert human_duration(6 * 3600) == "6 h"
    assert human_duration(999_999_999) == "11574 d 1 h"
    assert "e+" not in human_duration(3.1536e07)


def test_moments_relative_to_now() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert human_when(None) == "—"
    assert human_when(now + timedelta(hours=6), now=now) == "in 6 h (2026-12-07 18:00 UTC)"
    assert human_when((now - timedelta(minutes=3)).replace(tzinfo=None), now=now) == (
        "3 min ago (2026-12-07 11:57 UTC)"
    )
