"""Reading an action line: owner mention and due date, relative to the community's date."""

from __future__ import annotations

from datetime import date

import pytest

from copbot.actions.parsing import DueDateError, parse_line

TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("line", "text", "owner", "due"),
    [
        ("Write the failover script by 2026-12-15", "Write the failover script", None, date(2026, 12, 15)),
        ("Alert on lag (due 15 Dec) <@U22>", "Alert on lag", "U22", date(2026, 12, 15)),
        ("<@W7|ann> Update the runbook, due Jan 3rd", "Update the runbook", "W7", date(2027, 1, 3)),
        ("Retro by Friday", "Retro", None, date(2026, 12, 4)),
        ("Pair on it by Tuesday", "Pair on it", None, date(2026, 12, 8)),  # said on a Tuesday: next week's
        ("Ship it by tomorrow.", "Ship it", None, date(2026, 12, 2)),
        ("Call the vendor due 1 Dec 2027", "Call the vendor", None, date(2027, 1 + 11, 1)),
        ("Draft the RFC by 30 Nov", "Draft the RFC", None, date(2027, 11, 30)),  # passed this year: next
        ("Fix the wiki", "Fix the wiki", None, None),
        ("Stand by the pager rota", "Stand by the pager rota", None, None),
    ],
)
def test_lines_are_read(line: str, text: str, owner: str | None, due: date | None) -> None:
    parsed = parse_line(line, today=TUESDAY)
    assert (parsed.text, parsed.owner_id, parsed.due_on) == (text, owner, due)


def test_an_impossible_date_is_refused_with_the_phrase() -> None:
    with pytest.raises(DueDateError, match="by 2026-02-30"):
        parse_line("Migrate by 2026-02-30", today=TUESDAY)
