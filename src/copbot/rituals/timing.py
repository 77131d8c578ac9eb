"""Local-time arithmetic for rituals: a community's wall clock to UTC, DST gaps, recurrence dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from copbot.rituals.models import Frequency


def parse_hhmm(value: str) -> time:
    """Read `HH:MM` as a time of day."""
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


def to_utc(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of a local wall-clock time; a time in a DST gap moves forward by the gap."""
    # fold=0 reads a gap time with the offset from before the change (02:30 CET -> 03:30 CEST) and an
    # ambiguous fall-back time as its first occurrence, which is what people mean by "at 02:30".
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def exists_locally(day: date, at: time, zone: str) -> bool:
    """Tell whether a wall-clock time happens at all that day (False inside a spring-forward gap)."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    back = local.astimezone(UTC).astimezone(ZoneInfo(zone))
    return (back.date(), back.time()) == (day, at)


def local_day(instant: datetime, zone: str) -> date:
    """The calendar day an instant falls on in a zone."""
    return instant.astimezone(ZoneInfo(zone)).date()


def local_text(instant: datetime, zone: str) -> str:
    """An instant as people read it in the zone: `Tue 3 Mar 2026, 09:00 CET`."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def session_dates(first: date, frequency: Frequency, *, until: date) -> Iterator[tuple[int, date]]:
    """Yield (index, day) of every session from `first` up to `until`, in order."""
    if frequency == Frequency.MONTHLY:
        yield from _monthly(first, until)
        return
    step = timedelta(days=14 if frequency == Frequency.BIWEEKLY else 7)
    index, day = 0, first
    while day <= until:
        yield index, day
        index, day = index + 1, day + step


def _monthly(first: date, until: date) -> Iterator[tuple[int, date]]:
    """The same weekday and week of the month as `first` (a 5th week becomes the 4th)."""
    nth = min((first.day - 1) // 7, 3)
    index = 0
    year, month = first.year, first.month
    while True:
        start = date(year, month, 1)
        offset = (first.weekday() - start.weekday()) % 7
        day = start + timedelta(days=offset + 7 * nth)
        if day > until:
            return
        if day >= first:
            yield index, day
        index += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
