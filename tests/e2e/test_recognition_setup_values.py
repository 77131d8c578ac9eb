"""The community's values in the `/cop setup` modal: shown pre-filled, validated, saved with the community."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.outbox.models import OutboxMessage
from copbot.recognition.models import DEFAULT_VALUES, RecognitionSettings
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain

pytestmark = pytest.mark.e2e

META = json.dumps({"channel_id": "C1"})


def _form(values_text: str | None, *, purpose: str = "Learn from every incident we run.") -> dict[str, Any]:
    return {
        "name": {"name_input": plain("Incident Guild")},
        "purpose": {"purpose_input": plain(purpose)},
        "learning_goals": {"learning_goals_input": plain(None)},
        "boundaries": {"boundaries_input": plain(None)},
        "norms": {"norms_input": plain(None)},
        "timezone": {"timezone_select": external("Europe/Berlin")},
        "recognition_values": {"recognition_values_input": plain(values_text)},
    }


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _stored_values(engine: Engine) -> list[str] | None:
    with Session(engine) as session:
        return session.scalars(select(RecognitionSettings.values)).one_or_none()


def _values_field(view: dict[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "recognition_values"]
    return block


def _open_setup(slack: SlackSender, fake_slack: FakeSlack, count: int) -> dict[str, Any]:
    slack.command("/cop", "setup", trigger_id=f"trig-{count}")
    return fake_slack.wait_for("views.open", count=count)[-1].params["view"]


def test_setup_shows_the_values_pre_filled(slack: SlackSender, fake_slack: FakeSlack) -> None:
    field = _values_field(_open_setup(slack, fake_slack, 1))
    assert field["label"]["text"] == "Values people are recognised for" and field["optional"] is True
    assert field["element"]["initial_value"] == ", ".join(DEFAULT_VALUES)

    assert (
        slack.view_submission("community_setup", _form("Curiosity, Courage"), private_metadata=META).json()[
            "response_action"
        ]
        == "update"
    )
    field = _values_field(_open_setup(slack, fake_slack, 2))
    assert field["element"]["initial_value"] == "Curiosity, Courage"


def test_a_new_community_left_as_pre_filled_gets_the_defaults(slack: SlackSender, engine: Engine) -> None:
    reply = slack.view_submission("community_setup", _form(", ".join(DEFAULT_VALUES)), private_metadata=META)
    assert reply.json()["response_action"] == "update"
    assert _stored_values(engine) == list(DEFAULT_VALUES)
    assert _count(engine, Community) == 1


@pytest.mark.parametrize(
    "text",
    [" , ,  ", ", ".join(f"Value {n}" for n in range(21)), "Curiosity, " + "x" * 61],
    ids=["only-commas", "too-many", "too-long"],
)
def test_invalid_values_get_a_field_error_and_store_nothing(
    slack: SlackSender, engine: Engine, text: str
) -> None:
    reply = slack.view_submission("community_setup", _form(text), private_metadata=META).json()
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == {"recognition_values"}
    assert _count(engine, Community) == 0 and _count(engine, RecognitionSettings) == 0
    assert _count(engine, OutboxMessage) == 0


def test_errors_in_both_parts_come_back_together(slack: SlackSender, engine: Engine) -> None:
    reply = slack.view_submission(
        "community_setup", _form(" , ", purpose="short"), private_metadata=META
    ).json()
    assert set(reply["errors"]) == {"purpose", "recognition_values"}
    assert _count(engine, Community) == 0 and _count(engine, RecognitionSettings) == 0


def test_an_edit_saves_community_and_values_together(slack: SlackSender, engine: Engine) -> None:
    slack.view_submission("community_setup", _form(None), private_metadata=META)
    assert _stored_values(engine) is None  # left empty: the defaults apply, nothing stored for them

    form = _form("Curiosity,  sharing   knowledge, curiosity, Mentoring")
    form["name"] = {"name_input": plain("Incident Guild II")}
    assert slack.view_submission("community_setup", form, private_metadata=META).json()[
        "response_action"
    ] == ("update")
    assert _stored_values(engine) == ["Curiosity", "sharing knowledge", "Mentoring"]
    with Session(engine) as session:
        assert session.scalars(select(Community.name)).one() == "Incident Guild II"

    bad = _form("x" * 61)
    bad["name"] = {"name_input": plain("Renamed Guild")}
    assert slack.view_submission("community_setup", bad, private_metadata=META).json()["response_action"] == (
        "errors"
    )
    with Session(engine) as session:
        assert session.scalars(select(Community.name)).one() == "Incident Guild II"
    assert _stored_values(engine) == ["Curiosity", "sharing knowledge", "Mentoring"]


def test_values_from_setup_reach_cop_values(slack: SlackSender, fake_slack: FakeSlack) -> None:
    slack.view_submission("community_setup", _form("Curiosity, Courage"), private_metadata=META)
    text = slack.command("/cop", "values").json()["text"]
    assert "*Curiosity*, *Courage*" in text
    assert "Values saved: *Craft*" in slack.command("/cop", "values set Craft").json()["text"]
    field = _values_field(_open_setup(slack, fake_slack, 1))
    assert field["element"]["initial_value"] == "Craft"


def test_a_non_lead_cannot_change_values_through_setup(slack: SlackSender, engine: Engine) -> None:
    slack.view_submission("community_setup", _form("Curiosity"), private_metadata=META)
    reply = slack.view_submission(
        "community_setup", _form("Courage"), user_id="U2", private_metadata=META
    ).json()
    assert reply["response_action"] == "errors"
    assert _stored_values(engine) == ["Curiosity"]
