"""People end to end: roles, the join flow with mentors and check-ins, anonymous questions, forget-me."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities.models import Member
from copbot.db import Base
from copbot.inbox.models import ProcessedEvent
from copbot.outbox.models import OutboxMessage
from copbot.people.models import Onboarding, Question
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain

pytestmark = pytest.mark.e2e

SETUP_VALUES = {
    "name": {"name_input": plain("Incident Guild")},
    "purpose": {"purpose_input": plain("Learn from every incident we run.")},
    "learning_goals": {"learning_goals_input": plain("Blameless reviews")},
    "boundaries": {"boundaries_input": plain(None)},
    "norms": {"norms_input": plain("Assume good intent; no question is silly.")},
    "timezone": {"timezone_select": external("Europe/Berlin")},
}


def _setup(slack: SlackSender, lead: str = "ULEAD") -> None:
    reply = slack.view_submission(
        "community_setup", SETUP_VALUES, user_id=lead, private_metadata=json.dumps({"channel_id": "C1"})
    )
    assert reply.json()["response_action"] == "update"


def _cop(slack: SlackSender, text: str, user: str) -> str:
    reply = slack.command("/cop", text, user_id=user).json()
    return reply.get("text", "") + json.dumps(reply.get("blocks", []))


def _roles(engine: Engine, user_id: str) -> set[str]:
    with Session(engine) as session:
        member = session.scalars(select(Member).where(Member.user_id == user_id)).one()
        return member.role_names


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _join_event(slack: SlackSender, engine: Engine, user_id: str, event_id: str) -> None:
    event = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": "C1",
        "channel_type": "C",
        "team": "T1",
    }
    assert slack.event(event, event_id=event_id).status_code == 200

    def processed() -> bool:
        with Session(engine) as session:
            return bool(
                session.scalar(select(ProcessedEvent.processed_at).where(ProcessedEvent.event_id == event_id))
            )

    _wait(processed, f"event {event_id}")


def _onboardings(engine: Engine, user_id: str) -> list[Onboarding]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Onboarding).where(Onboarding.newcomer_id == user_id).order_by(Onboarding.id)
            )
        )


def _dms_to(fake_slack: FakeSlack, user_id: str) -> list[str]:
    return [
        c.params.get("text", "") + json.dumps(c.params.get("blocks") or [])
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("channel") == f"D{user_id}"
    ]


def _rows_naming(engine: Engine, needle: str) -> list[str]:
    """Every (table.column) whose value, as text, contains `needle`, across every table."""
    found = []
    with Session(engine) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                    if needle in text:
                        found.append(f"{table.name}.{column}")
    return found


# --- roles -----------------------------------------------------------------------------------------


def test_people_role_commands_with_and_without_permission(slack: SlackSender, engine: Engine) -> None:
    _setup(slack)
    assert "Welcome" in _cop(slack, "join", "UBOB")
    refused = _cop(slack, "role <@UCAROL|carol> facilitator", "UBOB")
    assert "Only a lead" in refused and "<@ULEAD>" in refused
    assert "is now a *facilitator*" in _cop(slack, "role <@UBOB|bob> facilitator", "ULEAD")
    assert _roles(engine, "UBOB") == {"facilitator"}
    assert "already holds" in _cop(slack, "role <@UBOB|bob> facilitator", "ULEAD")
    assert "is now a *ambassador*" in _cop(slack, "role <@UCAROL|carol> ambassador", "ULEAD")  # joins them
    assert "no longer a *facilitator*" in _cop(slack, "role <@UBOB|bob> -facilitator", "ULEAD")
    assert _roles(engine, "UBOB") == set()
    assert "Only a lead" in _cop(slack, "role <@UBOB|bob> -ambassador", "UCAROL")
    assert "@ suggestions" in _cop(slack, "role @bob mentor", "ULEAD")
    assert "not a role" in _cop(slack, "role <@UBOB|bob> wizard", "ULEAD")
    assert "Usage" in _cop(slack, "role <@UBOB|bob>", "ULEAD")
    assert "needs a lead" in _cop(slack, "role <@ULEAD|ann> -lead", "ULEAD")
    assert "is now a *lead*" in _cop(slack, "role <@UBOB|bob> lead", "ULEAD")
    assert "no longer a *lead*" in _cop(slack, "role <@ULEAD|ann> -lead", "UBOB")

    listing = _cop(slack, "roles", "UCAROL")
    assert "*lead*" in listing and "<@UBOB>" in listing and "<@UCAROL>" in listing


def test_people_opt_in_and_settings(slack: SlackSender, engine: Engine, fake_slack: FakeSlack) -> None:
    _setup(slack)
    assert "not a member" in _cop(slack, "mentor on", "UBOB")
    _cop(slack, "join", "UBOB")
    assert "paired with newcomers" in _cop(slack, "mentor on", "UBOB")
    assert "already are" in _cop(slack, "mentor on", "UBOB")
    assert "facilitator rotation" in _cop(slack, "facilitate on", "UBOB")
    assert _roles(engine, "UBOB") == {"mentor", "facilitator"}
    assert "no new mentees" in _cop(slack, "mentor off", "UBOB")
    assert "Usage" in _cop(slack, "mentor maybe", "UBOB")
    fake_slack.wait_for("users.info")  # the time zone is learnt after the ack

    assert "Only a lead" in _cop(slack, "team-field Xf0001", "UBOB")
    assert "`Xf0001`" in _cop(slack, "team-field Xf0001", "ULEAD")
    assert "profile field's id" in _cop(slack, "team-field banana", "ULEAD")
    assert "whole number" in _cop(slack, "checkin-days 0", "ULEAD")
    assert "3 months" in _cop(slack, "retention 3", "ULEAD")

    assert "*Platform*" in _cop(slack, "team Platform", "UBOB")
    assert "Only a lead" in _cop(slack, "team <@ULEAD|ann> Sales", "UBOB")
    assert "*Sales*" in _cop(slack, "team <@UBOB|bob> Sales", "ULEAD")
    with Session(engine) as session:
        assert session.scalar(select(Member.department).where(Member.user_id == "UBOB")) == "Sales"


# --- onboarding ------------------------------------------------------------------------------------


def test_people_join_flow_welcome_pairing_checkin_rejoin_and_bots(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    _setup(slack)
    _cop(slack, "team-field Xf0001", "ULEAD")
    fields = {"fields": {"Xf0001": {"value": "SRE", "alt": ""}}}
    fake_slack.add_user("UNEAR", tz_offset=0, profile=fields)  # same team, same time zone
    fake_slack.add_user("UFAR", tz_offset=9 * 3600, profile={"fields": {"Xf0001": {"value": "Web"}}})
    fake_slack.add_user("UNEW", tz_offset=3600, profile=fields)
    for mentor in ("UNEAR", "UFAR"):
        _cop(slack, "join", mentor)
        _cop(slack, "mentor on", mentor)
    fake_slack.wait_for("users.info", count=2)
    _wait(lambda: len(fake_slack.calls_to("users.profile.get")) >= 2, "mentor profiles")

    _join_event(slack, engine, "UNEW", "EvJoin1")
    (onboarding,) = _onboardings(engine, "UNEW")
    # UFAR is on another team but 8 hours away; UNEAR fits, so UNEAR it is.
    assert onboarding.mentor_id == "UNEAR"
    assert _roles(engine, "UNEW") == {"newcomer"}
    with Session(engine) as session:
        assert session.scalar(select(Member.department).where(Member.user_id == "UNEW")) == "SRE"
    runtime.sender.drain()
    (welcome,) = _dms_to(fake_slack, "UNEW")
    for part in ("Learn from every incident", "Blameless reviews", "Assume good intent", "/postmortem"):
        assert part in welcome
    assert "/nominate" in welcome and "/cop ask" in welcome and "<@UNEAR>" in welcome
    (intro,) = _dms_to(fake_slack, "UNEAR")
    assert "<@UNEW>" in intro and "checklist" in intro

    start = now()
    tick(start + timedelta(days=13), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert len(_dms_to(fake_slack, "UNEW")) == 1
    for _ in range(2):  # a second tick for the same instant owes nothing new
        tick(start + timedelta(days=14, minutes=1), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert len(_dms_to(fake_slack, "UNEW")) == 2 and "How is" in _dms_to(fake_slack, "UNEW")[1]
    assert len(_dms_to(fake_slack, "UNEAR")) == 2 and "check in" in _dms_to(fake_slack, "UNEAR")[1]

    _join_event(slack, engine, "UNEW", "EvJoin2")  # re-joining within 30 days: no second welcome
    runtime.sender.drain()
    assert len(_onboardings(engine, "UNEW")) == 1 and len(_dms_to(fake_slack, "UNEW")) == 2

    fake_slack.add_user("UROBOT", is_bot=True)
    _join_event(slack, engine, "UROBOT", "EvJoinBot")
    runtime.sender.drain()
    assert _onboardings(engine, "UROBOT") == [] and _dms_to(fake_slack, "UROBOT") == []

    with Session(engine) as session:  # a month later, the same person comes back
        session.execute(update(Onboarding).values(welcomed_at=now() - timedelta(days=31)))
        session.commit()
    _join_event(slack, engine, "UNEW", "EvJoin3")
    first, second = _onboardings(engine, "UNEW")
    assert first.ended_at is not None and second.mentor_id == "UFAR"  # never the same pair twice
    runtime.sender.drain()
    assert len(_dms_to(fake_slack, "UNEW")) == 3


# --- anonymous questions ---------------------------------------------------------------------------

ASKER = "UASKER7"


def test_people_anonymous_question_leaves_no_trace_of_its_author(
    slack: SlackSender,
    engine: Engine,
    fake_slack: FakeSlack,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _setup(slack)
    _cop(slack, "ask-limit 2", "ULEAD")
    question = "How do we page <@ULEAD|ann> and <!channel>? See https://evil.example.com/x or wiki.corp.io"
    reply = _cop(slack, f"ask {question}", ASKER)
    assert "Posted anonymously" in reply
    runtime.sender.drain()
    (post,) = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == "C1" and "Anonymous" in c.params["text"]
    ]
    rendered = json.dumps(post.params["blocks"]) + post.params["text"]
    assert "<@ULEAD" not in rendered and "<!channel>" not in rendered
    assert "https://" not in rendered and "example.com" not in rendered and "wiki.corp.io" not in rendered
    with Session(engine) as session:
        (stored,) = session.scalars(select(Question)).all()
    assert stored.author_hash and ASKER not in stored.author_hash

    # Only the asker can close or delete it, through the buttons on the post.
    slack.block_action(
        "people_question_close",
        value=str(stored.id),
        user_id="UOTHER",
        response_url=fake_slack.response_url("o"),
    )
    (refusal,) = fake_slack.wait_for("response_url")
    assert "Only the person who asked" in refusal.params["text"]
    slack.block_action(
        "people_question_close",
        value=str(stored.id),
        user_id=ASKER,
        response_url=fake_slack.response_url("a"),
    )
    fake_slack.wait_for("response_url", count=2)
    runtime.sender.drain()
    (edit,) = fake_slack.calls_to("chat.update")
    assert "marked this answered" in json.dumps(edit.params["blocks"])

    # The modal path, and the rate limit (2 a day here).
    slack.command("/cop", "ask", user_id=ASKER, trigger_id="trig-ask")
    (opened,) = fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "people_ask"
    values = {"people_ask_text": {"people_ask_input": plain("Short?")}}
    meta = json.dumps({"channel_id": "C1"})
    assert (
        slack.view_submission("people_ask", values, user_id=ASKER, private_metadata=meta).json()[
            "response_action"
        ]
        == "errors"
    )
    values = {"people_ask_text": {"people_ask_input": plain("What is an error budget, really?")}}
    reply = slack.view_submission("people_ask", values, user_id=ASKER, private_metadata=meta).json()
    assert reply["response_action"] == "update"
    assert "the limit here" in _cop(slack, "ask Is a third question allowed today?", ASKER)
    runtime.sender.drain()

    assert _rows_naming(engine, ASKER) == []
    assert [c.method for c in fake_slack.calls if ASKER in json.dumps(c.params, default=str)] == []
    assert [r.getMessage() for r in caplog.records if ASKER in r.getMessage()] == []


# --- privacy ---------------------------------------------------------------------------------------

FORGOTTEN = "UFORGET9"


def test_people_forget_me_leaves_nothing_that_names_the_user(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    _setup(slack, lead=FORGOTTEN)  # the creator and first lead
    _cop(slack, "role <@UMENTOR|m> mentor", FORGOTTEN)
    _cop(slack, "role <@UOTHER|o> lead", FORGOTTEN)
    _cop(slack, "team Platform", FORGOTTEN)
    _join_event(slack, engine, "UNEWBIE", "EvA")  # FORGOTTEN's mentee? no: UMENTOR mentors UNEWBIE
    _cop(slack, "mentor on", FORGOTTEN)
    _join_event(slack, engine, "UNEWBIE2", "EvB")  # one of the two mentors gets UNEWBIE2
    _join_event(slack, engine, FORGOTTEN, "EvC")  # an event naming them in the inbox
    assert "Posted anonymously" in _cop(slack, "ask Does anyone actually read the runbooks?", FORGOTTEN)
    runtime.sender.drain()
    assert _rows_naming(engine, FORGOTTEN)  # plenty to forget

    reply = slack.command("/cop", "forget-me", user_id=FORGOTTEN).json()
    assert "people_forget_me" in json.dumps(reply["blocks"]) and reply["response_type"] == "ephemeral"
    slack.block_action(
        "people_forget_me", value="forget", user_id=FORGOTTEN, response_url=fake_slack.response_url("f")
    )
    (done,) = fake_slack.wait_for("response_url")
    assert "no longer holds records" in done.params["text"]

    assert _rows_naming(engine, FORGOTTEN) == []
    with Session(engine) as session:  # aggregates stay: onboardings and the question are still counted
        assert session.scalar(select(func.count()).select_from(Onboarding)) == 3
        assert session.scalar(select(func.count()).select_from(Question)) == 1
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel_id == "C1")
            )
            >= 2
        )
    assert "<@UOTHER>" in _cop(slack, "roles", "UOTHER")  # the community still works


def _library_with_a_paging_playbook(engine: Engine) -> None:
    """The community's practice library: one playbook that a question about paging matches."""
    from copbot.reviews.models import Playbook

    with Session(engine) as session:
        session.add(
            Playbook(
                team_id="T1",
                community_id=session.scalar(select(Member.community_id)),
                author_id="ULEAD",
                title="Paging etiquette during incidents",
                when_to_use="When an incident needs another team's on-call engineer",
                steps="1. Check the rota\n2. Page through the tool",
            )
        )
        session.commit()


def test_people_ask_shows_matching_playbooks_first(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    _setup(slack)
    _library_with_a_paging_playbook(engine)
    reply = slack.command("/cop", "ask How should I handle paging during incidents?", user_id=ASKER).json()
    shown = json.dumps(reply["blocks"])
    assert "Does one of these answer it" in shown and "Paging etiquette" in shown
    with Session(engine) as session:
        draft = session.scalars(select(Question)).one()
    assert draft.status == "draft"
    slack.block_action(
        "people_draft_drop", value=str(draft.id), user_id="UOTHER", response_url=fake_slack.response_url("x")
    )
    assert "Only the person who asked" in fake_slack.wait_for("response_url")[0].params["text"]
    slack.block_action(
        "people_draft_post", value=str(draft.id), user_id=ASKER, response_url=fake_slack.response_url("y")
    )
    assert "Posted anonymously" in fake_slack.wait_for("response_url", count=2)[1].params["text"]
    runtime.sender.drain()
    assert [c for c in fake_slack.calls_to("chat.postMessage") if "Anonymous question" in c.params["text"]]
    assert _rows_naming(engine, ASKER) == []


def test_people_ask_modal_shows_matches_before_posting(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    from copbot.people.ids import PeopleAction, PeopleBlock, PeopleView

    _setup(slack)
    _library_with_a_paging_playbook(engine)
    values = {
        PeopleBlock.ASK_TEXT: {PeopleAction.ASK_INPUT: plain("How should paging work during incidents?")}
    }
    reply = slack.view_submission(
        PeopleView.ASK, values, user_id=ASKER, private_metadata=json.dumps({"channel_id": "C1"})
    ).json()
    assert reply["response_action"] == "update"
    assert "Paging etiquette" in json.dumps(reply["view"]) and "Post my question anyway" in json.dumps(
        reply["view"]
    )
    with Session(engine) as session:
        draft = session.scalars(select(Question)).one()
    assert draft.status == "draft"  # nothing posted yet
    view = {"id": "V1", "type": "modal", "callback_id": "people_ask"}
    slack.block_action(PeopleAction.DROP_DRAFT, value=str(draft.id), user_id=ASKER, view=view)
    (update,) = fake_slack.wait_for("views.update")
    assert update.params["view_id"] == "V1" and "Nothing was posted" in json.dumps(update.params["view"])
    runtime.sender.drain()
    assert not [
        c for c in fake_slack.calls_to("chat.postMessage") if "Anonymous question" in c.params["text"]
    ]
