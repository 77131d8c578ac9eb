"""Reading an action line: its owner (a `<@U…>` mention) and its due date ("by 2026-12-15", "due 15 Dec",
"by Friday"), as dates in the community's time zone. Plain Python."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOW_TO_WRITE = "by 2026-12-15, due 15 Dec, by Friday or by tomorrow"

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_WHEN = (
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
    rf"|{_DAY}\s+{_MONTH}{_YEAR}"
    rf"|(?P<month2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?"
    r"(?:,?\s+(?P<year2>\d{4}))?"
    r"|(?P<weekday>mon|tue|wed|thu|fri|sat|sun)[a-z]*"
    r"|(?P<relative>today|tomorrow)"
)
_DUE = re.compile(rf"[\s,;(\[-]*\b(?:by|due(?:\s+on)?|before)\s+(?:{_WHEN})\b[)\].]*", re.IGNORECASE)


class DueDateError(ValueError):
    """A due phrase that names no date (e.g. "by 2026-02-30")."""


@dataclass(frozen=True)
class ParsedLine:
    """An action line read: its text without the owner and date, the owner named in it, its due date."""

    text: str
    owner_id: str | None
    due_on: date | None


def parse_line(line: str, *, today: date) -> ParsedLine:
    """Read one action line; relative dates count from `today` (the community's date)."""
    owner = None
    mention = _MENTION.search(line)
    if mention:
        owner = mention.group(1)
    text = _MENTION.sub("", line)
    due = None
    found = _DUE.search(text)
    if found:
        due = _date_of(found, today=today)
        text = text[: found.start()] + text[found.end() :]
    return ParsedLine(text=" ".join(text.split()).strip(" -,;:"), owner_id=owner, due_on=due)


def _date_of(found: re.Match[str], *, today: date) -> date:
    groups = found.groupdict()
    try:
        if groups["iso"]:
            year, month, day = (int(part) for part in groups["iso"].split("-"))
            return date(year, month, day)
        if groups["relative"]:
            return today + timedelta(days=0 if groups["relative"].lower() == "today" else 1)
        if groups["weekday"]:
            wanted = [w[:3] for w in WEEKDAYS].index(groups["weekday"].lower()[:3])
            ahead = (wanted - today.weekday()) % 7 or 7  # "by Friday" said on a Friday: next week's
            return today + timedelta(days=ahead)
        month = MONTHS.index((groups["month"] or groups["month2"]).lower()[:3]) + 1
        day, named_year = int(groups["day"] or groups["day2"]), groups["year"] or groups["year2"]
        if named_year:
            return date(int(named_year), month, day)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:
        raise DueDateError(f"“{found.group(0).strip(' ,;([')}” is not a date I can read.") from None


def due_phrase(due_on: date | None) -> str:
    """How a due date is written back into an action line, read the same way later."""
    return f" by {due_on.isoformat()}" if due_on else ""
