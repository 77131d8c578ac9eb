"""copbot's canvas sections: rendered from data, people's text kept from making headings of its own."""

from __future__ import annotations

from copbot.communities.models import Community
from copbot.native import canvas


def community(**text: str) -> Community:
    fields = {"purpose": "Learn from incidents.", "learning_goals": "", "boundaries": "", "norms": ""}
    return Community(id=1, team_id="T1", channel_id="C1", name="SRE", timezone="UTC", **(fields | text))


def test_sections_show_the_charter_rituals_playbooks_and_lessons() -> None:
    data = canvas.CanvasData(
        community=community(norms="Blameless, always"),
        rituals=[canvas.Ritual("Tue 3 Mar 2026, 09:00 UTC", "Drills", "Session", "U2")],
        playbooks=[("Rollback", 3), ("Comms", 1)],
        lessons=[("Pin images", "Flaky deploys")],
    )
    parts = canvas.sections(data)
    assert [p.heading for p in parts] == [canvas.CHARTER, canvas.RITUALS, canvas.PLAYBOOKS, canvas.LESSONS]
    text = canvas.document(parts)
    assert "**Purpose:** Learn from incidents.\n**Norms:** Blameless, always" in text
    assert "**Boundaries**" not in text  # empty parts of the charter are left out
    assert "- Tue 3 Mar 2026, 09:00 UTC · Drills (Session) · facilitated by ![](@U2)" in text
    assert "- Rollback · applied 3 times\n- Comms · applied 1 time" in text
    assert "- Pin images _(from “Flaky deploys”)_" in text


def test_people_text_cannot_make_headings_or_break_lines() -> None:
    data = canvas.CanvasData(
        community=community(purpose="## Hijack\n# the canvas"), rituals=[], playbooks=[], lessons=[]
    )
    charter = canvas.sections(data)[0].body
    assert charter == "**Purpose:** Hijack # the canvas"
    assert all(not line.startswith("#") for p in canvas.sections(data) for line in p.body.splitlines())


def test_the_fingerprint_changes_with_the_content_only() -> None:
    empty = canvas.CanvasData(community=community(), rituals=[], playbooks=[], lessons=[])
    more = canvas.CanvasData(community=community(), rituals=[], playbooks=[], lessons=[("New", "Review")])
    assert canvas.digest(canvas.sections(empty)) == canvas.digest(canvas.sections(empty))
    assert canvas.digest(canvas.sections(empty)) != canvas.digest(canvas.sections(more))
