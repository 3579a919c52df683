"""Jinja filters for UK-style dates and times (GOV.UK style guide), shown in Europe/London.

Engine times are UTC offset-aware datetimes; naive datetimes are taken to be UTC.
Plain `date` values are shown as they are (no time zone to convert).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

from engine.wording import uk_date

LONDON = ZoneInfo("Europe/London")

__all__ = ["LONDON", "uk_date", "uk_datetime", "uk_short_date", "uk_time"]


def to_london(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON)


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return to_london(value).date()
    return value


def uk_short_date(value: date | datetime | None) -> str:
    """23/11/2026"""
    if value is None:
        return ""
    d = _local_date(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def uk_time(value: datetime) -> str:
    """3:05pm, 3pm, midday, midnight (GOV.UK style)."""
    t = to_london(value)
    if t.minute == 0 and t.hour == 0:
        return "midnight"
    if t.minute == 0 and t.hour == 12:
        return "midday"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    if t.minute == 0:
        return f"{hour}{suffix}"
    return f"{hour}:{t.minute:02d}{suffix}"


def uk_datetime(value: datetime | None) -> str:
    """23 November 2026 at 3:05pm"""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return uk_date(value)
    return f"{uk_date(value)} at {uk_time(value)}"


def register(app: Flask) -> None:
    app.add_template_filter(uk_date, "uk_date")
    app.add_template_filter(uk_short_date, "uk_short_date")
    app.add_template_filter(uk_datetime, "uk_datetime")
    app.add_template_filter(uk_time, "uk_time")
