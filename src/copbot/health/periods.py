"""Calendar periods (week, month, quarter) in a community's time zone, as UTC instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    """The periods metrics are computed over."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class Period:
    """A half-open span [start, end) of local calendar time, held as UTC instants."""

    kind: PeriodKind
    first_day: date
    start: datetime
    end: datetime
    zone: str

    @property
    def label(self) -> str:
        """How people name it: "week of 2 Mar 2026", "March 2026", "2026 Q1"."""
        day = self.first_day
        if self.kind == PeriodKind.WEEK:
            return f"week of {day.day} {day:%b %Y}"
        if self.kind == PeriodKind.MONTH:
            return f"{day:%B %Y}"
        return self.quarter_key.replace("Q", " Q")

    @property
    def quarter_key(self) -> str:
        """The quarter this period starts in, as "2026Q1"."""
        return f"{self.first_day.year}Q{(self.first_day.month - 1) // 3 + 1}"

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_at(self.kind, self.start - timedelta(seconds=1), self.zone)


def _first_day(kind: PeriodKind, day: date) -> date:
    if kind == PeriodKind.WEEK:
        return day - timedelta(days=day.weekday())
    if kind == PeriodKind.MONTH:
        return day.replace(day=1)
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _next_first_day(kind: PeriodKind, first: date) -> date:
    if kind == PeriodKind.WEEK:
        return first + timedelta(days=7)
    months = 1 if kind == PeriodKind.MONTH else 3
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1)


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant at which `day` starts in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def period_at(kind: PeriodKind | str, at: datetime, zone: str) -> Period:
    """The period of `kind` that contains the instant `at`, in the time zone `zone`."""
    kind = PeriodKind(kind)
    first = _first_day(kind, at.astimezone(ZoneInfo(zone)).date())
    following = _next_first_day(kind, first)
    return Period(kind, first, local_midnight(first, zone), local_midnight(following, zone), zone)


def last_weeks(at: datetime, zone: str, count: int = 12) -> list[Period]:
    """The `count` weeks ending with the one containing `at`, oldest first."""
    weeks = [period_at(PeriodKind.WEEK, at, zone)]
    while len(weeks) < count:
        weeks.append(weeks[-1].previous())
    return weeks[::-1]
