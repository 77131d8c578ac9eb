"""Reviews service and search on the real database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.communities.models import Community
from copbot.errors import InvalidInput, PermissionDenied
from copbot.reviews import search, service
from copbot.reviews.models import LessonStatus


def _community(session: Session, channel_id: str = "C1", team_id: str = "T1") -> Community:
    form = communities.CommunityForm.parse(
        {"name": "Guild", "purpose": "Learning together, weekly.", "timezone": "UTC"}
    )
    community, _ = communities.save_community(
        session, team_id=team_id, channel_id=channel_id, user_id="U1", form=form
    )
    return community


def _form(**override: str) -> service.ReviewForm:
    fields = {
        "template": "after_action",
        "title": "A review",
        "context": "Some context here",
        "happened": "Things happened",
        "lessons": "One lesson",
    }
    return service.ReviewForm.parse({**fields, **override})


def _add(session: Session, community: Community, **override: str):
    return service.create_review(
        session, team_id=community.team_id, user_id="U1", community=community, form=_form(**override)
    )


def _titles(session: Session, query: str, team_id: str = "T1", page: int = 1, per_page: int = 5) -> list[str]:
    found = search.search(session, team_id=team_id, query=query, page=page, per_page=per_page)
    return [hit.title for hit in found.hits]


def test_title_matches_rank_above_body_matches(session: Session) -> None:
    community = _community(session)
    _add(session, community, title="Weekly sync notes", context="we talked about the cache layer")
    _add(session, community, title="Cache stampede at launch", context="traffic spike")
    session.commit()
    assert _titles(session, "cache") == ["Cache stampede at launch", "Weekly sync notes"]


def test_bodies_tags_and_playbooks_are_searched_with_snippets(session: Session) -> None:
    community = _community(session)
    _add(session, community, title="Quiet week", happened="the replica lagged behind", tags="postgres")
    form = service.PlaybookForm.parse(
        {
            "playbook_title": "Failover drill",
            "playbook_when": "when a replica lags",
            "playbook_steps": "promote the standby",
        }
    )
    service.create_playbook(session, team_id="T1", user_id="U1", community=community, form=form)
    session.commit()
    hits = search.search(session, team_id="T1", query="replica").hits
    assert {(h.kind, h.title) for h in hits} == {("review", "Quiet week"), ("playbook", "Failover drill")}
    assert all(f"{search.START}replica{search.STOP}" in h.snippet for h in hits)
    assert _titles(session, "postgres") == ["Quiet week"]
    assert _titles(session, "standby") == ["Failover drill"]


def test_index_follows_edits_and_deletes(session: Session) -> None:
    community = _community(session)
    review = _add(session, community, title="Queue backlog")
    session.commit()
    service.update_review(
        session, team_id="T1", user_id="U1", review_id=review.id, form=_form(title="Zebra outage")
    )
    session.commit()
    assert _titles(session, "zebra") == ["Zebra outage"] and _titles(session, "backlog") == []
    service.delete_review(session, team_id="T1", user_id="U1", review_id=review.id)
    session.commit()
    assert _titles(session, "zebra") == []


def test_index_follows_cascaded_deletes(session: Session) -> None:
    community = _community(session)
    _add(session, community, title="Gone with its community")
    session.commit()
    session.execute(delete(Community).where(Community.id == community.id))
    session.commit()
    assert _titles(session, "community") == []


def test_search_stays_in_its_workspace_and_pages(session: Session) -> None:
    mine = _community(session)
    theirs = _community(session, channel_id="C2", team_id="T2")
    for n in range(3):
        _add(session, mine, title=f"Deploy review {n}")
    _add(session, theirs, title="Deploy review elsewhere")
    session.commit()
    first = search.search(session, team_id="T1", query="deploy", per_page=2)
    second = search.search(session, team_id="T1", query="deploy", page=2, per_page=2)
    assert len(first.hits) == 2 and first.has_more
    assert len(second.hits) == 1 and not second.has_more
    assert "Deploy review elsewhere" not in [h.title for h in first.hits + second.hits]


@pytest.mark.parametrize(
    "query", ['"unbalanced', "a OR b NOT c", "title:x", "*", "(x", "a & b | !c", "x:* <->"]
)
def test_query_syntax_never_reaches_the_engine(session: Session, query: str) -> None:
    _add(session, _community(session), title="Plain title")
    session.commit()
    search.search(session, team_id="T1", query=query)  # no syntax error on either engine


def test_lessons_need_one_and_links_must_be_web_links() -> None:
    with pytest.raises(InvalidInput) as error:
        _form(lessons=" - \n", links="ftp://x.example.com")
    assert set(error.value.field_errors) == {"lessons", "links"}


def test_lesson_lifecycle_and_one_reminder_per_due_date(session: Session) -> None:
    community = _community(session)
    review = _add(session, community, lessons="Keep runbooks short")
    session.commit()
    lesson = review.lessons[0]
    later = now() + timedelta(days=91)
    assert lesson.status_at(later) == LessonStatus.STALE
    assert [item.id for item in service.lessons_due(session, at=later)] == [lesson.id]
    lesson.reminded_for = lesson.verify_due_at
    session.commit()
    assert service.lessons_due(session, at=later) == []
    with pytest.raises(PermissionDenied):
        service.verify_lesson(session, team_id="T1", lesson_id=lesson.id, user_id="U9")
    service.rewrite_lesson(
        session, team_id="T1", lesson_id=lesson.id, user_id="U1", text="Keep runbooks tiny"
    )
    session.commit()
    assert lesson.status_at(now()) == LessonStatus.VERIFIED
    assert _titles(session, "tiny") == ["A review"]  # the new wording is searchable


def test_settings_default_and_leads_change_them(session: Session) -> None:
    community = _community(session)
    current = service.settings_for(session, team_id="T1", community_id=community.id)
    assert (current.capture_emoji, current.reverify_days, current.reminder_hours) == ("bulb", 90, 24)
    with pytest.raises(PermissionDenied):
        service.change_settings(session, community=community, user_id="U9", changes={"emoji": "star"})
    service.change_settings(
        session, community=community, user_id="U1", changes={"emoji": ":star:", "reverify": "30"}
    )
    session.commit()
    review = _add(session, community)
    assert review.lessons[0].verify_due_at - review.lessons[0].verified_at == timedelta(days=30)
    with pytest.raises(InvalidInput):
        service.change_settings(session, community=community, user_id="U1", changes={"reminder": "-1"})


def test_reaction_capture_is_claimed_once(session: Session) -> None:
    _community(session)
    args = {"team_id": "T1", "channel_id": "C1", "message_ts": "1.2", "author_id": "U2"}
    assert service.capture_by_reaction(session, emoji="bulb", **args) is not None
    assert service.capture_by_reaction(session, emoji="bulb", **args) is None
    assert service.capture_by_reaction(session, emoji="bulb::skin-tone-2", **{**args, "message_ts": "1.3"})
    assert service.capture_by_reaction(session, emoji="tada", **{**args, "message_ts": "1.4"}) is None


def test_tag_snippets_read_as_words_on_both_databases(session: Session) -> None:
    community = _community(session)
    _add(
        session,
        community,
        title="Calm failover",
        context="We switched the primary",
        happened="It went safer and calmer.",
        lessons="Rehearse",
        tags="tag, databases",
    )
    session.commit()
    (hit,) = search.search(session, team_id="T1", query="databases").hits
    flat = " ".join(hit.snippet.split())
    # The tags column is JSON; the index must hold its elements, as PostgreSQL's does.
    assert f"tag {search.START}databases{search.STOP}" in flat
    assert "[" not in flat and '"' not in flat
