"""Recognition end to end: signed requests to the real server, Web API calls to the fake Slack."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.outbox.models import OutboxMessage
from copbot.recognition.models import Nomination, NominationQuota, UserFact
from copbot.reviews.models import Review
from copbot.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain, radio, static, users

pytestmark = pytest.mark.e2e

STORY = "Paired with me for an hour on the flaky deploy pipeline"
IMPACT = "We shipped on Friday instead of next week"


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _community_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalars(select(Community.id)).one()


@pytest.fixture
def community(slack: SlackSender, engine: Engine, fake_slack: FakeSlack) -> int:
    """A community in C1 led by U1, with U2 and U3 as ordinary people."""
    values = {
        "name": {"name_input": plain("Incident Guild")},
        "purpose": {"purpose_input": plain("Learn from every incident we run.")},
        "learning_goals": {"learning_goals_input": plain(None)},
        "boundaries": {"boundaries_input": plain(None)},
        "norms": {"norms_input": plain(None)},
        "timezone": {"timezone_select": external("Europe/Berlin")},
    }
    meta = json.dumps({"channel_id": "C1"})
    assert slack.view_submission("community_setup", values, private_metadata=meta).status_code == 200
    for user_id in ("U2", "U3"):
        fake_slack.add_user(user_id)
    with Session(engine) as session:  # the announcement is not what these tests look at
        session.query(OutboxMessage).delete()
        session.commit()
    return _community_id(engine)


def _values(
    nominees: list[str],
    *,
    value: str = "Mentoring",
    action: str = STORY,
    impact: str = IMPACT,
    share: str = "public",
) -> dict[str, dict[str, Any]]:
    return {
        "recognition_nominees": {"recognition_nominees": users(nominees)},
        "recognition_value": {"recognition_value": static(value)},
        "recognition_action": {"recognition_action": plain(action)},
        "recognition_impact": {"recognition_impact": plain(impact)},
        "recognition_visibility": {"recognition_visibility": radio(share)},
    }


def _submit(
    slack: SlackSender, community: int, values: dict, *, user_id: str = "U1", **meta: Any
) -> httpx.Response:
    metadata = json.dumps({"community_id": community, **meta})
    return slack.view_submission("recognition_nominate", values, user_id=user_id, private_metadata=metadata)


def test_nominate_opens_the_modal_prefilled(
    slack: SlackSender, fake_slack: FakeSlack, community: int
) -> None:
    response = slack.command("/nominate", "<@U2|ada> for fixing the pager at 3am", trigger_id="trig-n")
    assert response.status_code == 200 and response.content == b""
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    assert call.params["trigger_id"] == "trig-n" and view["callback_id"] == "recognition_nominate"
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["recognition_nominees"]["element"]["initial_users"] == ["U2"]
    assert by_id["recognition_action"]["element"]["initial_value"] == "for fixing the pager at 3am"
    options = [o["value"] for o in by_id["recognition_value"]["element"]["options"]]
    assert "Mentoring" in options and "Curiosity" in options
    assert "*5* more this week" in view["blocks"][0]["text"]["text"]
    assert [c.params["user"] for c in fake_slack.calls_to("users.info")] == ["U2"]
    assert json.loads(view["private_metadata"]) == {"community_id": community}


def test_prefilled_bots_and_oneself_are_left_out(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, community: int
) -> None:
    fake_slack.add_user("UBOT", is_bot=True)
    slack.command("/nominate", "<@UBOT|deploybot> <@U1|me> <@U2|ada>")
    (call,) = fake_slack.wait_for("views.open")
    blocks = call.params["view"]["blocks"]
    nominees = next(b for b in blocks if b.get("block_id") == "recognition_nominees")
    assert nominees["element"]["initial_users"] == ["U2"]
    assert "Left out: <@U1> (that's you), <@UBOT> (a bot)" in json.dumps(blocks)
    with Session(engine) as session:  # the facts are cached for the submission's ack
        assert session.scalar(select(UserFact.is_bot).where(UserFact.user_id == "UBOT")) is True


def test_nominate_outside_a_community_says_how(slack: SlackSender, fake_slack: FakeSlack) -> None:
    reply = slack.command("/nominate", "<@U2|ada>", channel_id="C9").json()
    assert reply["response_type"] == "ephemeral" and "/cop setup" in reply["text"]


@pytest.mark.parametrize(
    ("nominees", "changes", "block", "words"),
    [
        ([], {}, "recognition_nominees", "at least one person"),
        (["U1"], {}, "recognition_nominees", "can't nominate yourself"),
        (["UBOT"], {}, "recognition_nominees", "is a bot"),
        (["UGONE"], {}, "recognition_nominees", "is deactivated"),
        (["U2"], {"action": "Helped", "impact": "a lot"}, "recognition_action", "at least 40 characters"),
        (["U2"], {"value": "Speed"}, "recognition_value", "community's values"),
    ],
    ids=["nobody", "self", "bot", "deleted", "short-story", "unknown-value"],
)
def test_invalid_nominations_get_field_errors_and_store_nothing(
    slack: SlackSender,
    fake_slack: FakeSlack,
    engine: Engine,
    community: int,
    nominees: list[str],
    changes: dict,
    block: str,
    words: str,
) -> None:
    fake_slack.add_user("UBOT", is_bot=True)
    fake_slack.add_user("UGONE", deleted=True)
    reply = _submit(slack, community, _values(nominees, **changes)).json()
    assert reply["response_action"] == "errors"
    assert words in reply["errors"][block]
    assert _count(engine, Nomination) == 0 and _count(engine, OutboxMessage) == 0
    assert _count(engine, NominationQuota) == 0


def test_slack_not_answering_users_info_refuses_and_stores_nothing(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, community: int
) -> None:
    fake_slack.fail_next("users.info", status=500)
    reply = _submit(slack, community, _values(["U3"])).json()
    assert reply["response_action"] == "errors" and "send again" in reply["errors"]["recognition_nominees"]
    assert _count(engine, Nomination) == 0
    assert _submit(slack, community, _values(["U3"])).json()["response_action"] == "update"


def test_a_public_nomination_is_stored_dmed_and_posted(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime, community: int
) -> None:
    permalink = "https://example.slack.com/archives/C1/p1"
    reply = _submit(slack, community, _values(["U2", "U3"]), permalink=permalink).json()
    assert reply["response_action"] == "update"
    assert "4 more this week" in json.dumps(reply["view"])
    with Session(engine) as session:
        nomination = session.scalars(select(Nomination)).one()
        assert (nomination.nominator_id, nomination.nominee_ids, nomination.value) == (
            "U1",
            ["U2", "U3"],
            "Mentoring",
        )
        assert nomination.public and nomination.posted and nomination.permalink == permalink
    runtime.sender.drain()
    posts = fake_slack.calls_to("chat.postMessage")
    by_channel = {c.params["channel"]: json.dumps(c.params["blocks"]) for c in posts}
    assert set(by_channel) == {"DU2", "DU3", "C1"}
    assert "<@U1> recognised you for *Mentoring*" in by_channel["DU2"]
    # The notification, all many people read, says who too.
    texts = {c.params["channel"]: c.params["text"] for c in posts}
    assert texts["DU2"] == "<@U1> recognised you for Mentoring in Incident Guild"
    assert texts["C1"] == "<@U1> recognised <@U2>, <@U3> for Mentoring"
    assert STORY in by_channel["C1"] and "<@U2>, <@U3>" in by_channel["C1"] and permalink in by_channel["C1"]


def test_private_and_held_nominations_are_not_posted(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime, community: int
) -> None:
    assert "Saved" in slack.command("/cop", "recognition public digest").json()["text"]
    held = _submit(slack, community, _values(["U2"])).json()
    assert "this week's digest" in json.dumps(held["view"])
    private = _submit(slack, community, _values(["U3"], share="private")).json()
    assert "Only they will see it" in json.dumps(private["view"])
    runtime.sender.drain()
    channels = sorted(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage"))
    assert channels == ["DU2", "DU3"]


def test_the_weekly_limit_is_told_and_enforced(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, community: int
) -> None:
    slack.command("/cop", "recognition limit 2")
    for _ in range(2):
        assert _submit(slack, community, _values(["U2"])).json()["response_action"] == "update"
    third = _submit(slack, community, _values(["U3"])).json()
    assert "made your 2 nominations this week" in third["errors"]["recognition_nominees"]
    assert _count(engine, Nomination) == 2
    reply = slack.command("/nominate", "<@U2|ada>").json()
    assert reply["response_type"] == "ephemeral" and "2 nominations this week" in reply["text"]


def test_recognize_this_prefills_the_author_and_the_permalink(
    slack: SlackSender, fake_slack: FakeSlack, community: int
) -> None:
    response = slack.message_shortcut(
        "recognize_message", message={"user": "U2", "text": "fixed it", "ts": "1.2"}
    )
    assert response.status_code == 200
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    nominees = next(b for b in view["blocks"] if b.get("block_id") == "recognition_nominees")
    assert nominees["element"]["initial_users"] == ["U2"]
    meta = json.loads(view["private_metadata"])
    assert meta["permalink"] == "https://example.slack.com/archives/C1/p12"
    assert fake_slack.calls_to("chat.getPermalink")[0].params["message_ts"] == "1.2"


def test_thank_the_author_opens_the_modal_with_the_authors(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, community: int
) -> None:
    with Session(engine) as session:
        review = Review(
            team_id="T1",
            community_id=community,
            author_id="U2",
            coauthors=["U3"],
            template="postmortem",
            title="The pager storm",
            context="c",
            happened="h",
        )
        session.add(review)
        session.commit()
        value = f"review:{review.id}"
    slack.block_action("recognition_thank_author", value=value, user_id="U1")
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    nominees = next(b for b in view["blocks"] if b.get("block_id") == "recognition_nominees")
    assert nominees["element"]["initial_users"] == ["U2", "U3"]
    assert json.loads(view["private_metadata"])["subject"] == value
    assert "The pager storm" in json.dumps(view["blocks"])


def test_digest_preview_is_for_leads(slack: SlackSender, fake_slack: FakeSlack, community: int) -> None:
    _submit(slack, community, _values(["U2"]))
    reply = slack.command("/cop", "digest").json()
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    assert "Preview: the next digest is due Monday" in text and "Mentoring" in text and STORY in text
    refused = slack.command("/cop", "digest", user_id="U2").json()
    assert "Only a lead" in refused["text"]


def test_values_are_edited_by_leads(slack: SlackSender, fake_slack: FakeSlack, community: int) -> None:
    assert "Curiosity" in slack.command("/cop", "values").json()["text"]
    assert "Only a lead" in slack.command("/cop", "values set Speed", user_id="U2").json()["text"]
    saved = slack.command("/cop", "values set Speed, Care , speed").json()["text"]
    assert saved == "Values saved: *Speed*, *Care*"
    slack.command("/nominate", "")
    (call,) = fake_slack.wait_for("views.open")
    select_block = next(b for b in call.params["view"]["blocks"] if b.get("block_id") == "recognition_value")
    assert [o["value"] for o in select_block["element"]["options"]] == ["Speed", "Care"]


def test_help_lists_recognition(slack: SlackSender) -> None:
    listing = json.dumps(slack.command("/cop", "help recognise").json()["blocks"])
    for usage in ("/nominate", "/cop values", "Recognize this", "Thank the author"):
        assert usage in listing


def test_choosing_nominees_in_the_modal_looks_them_up_before_the_submission(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, community: int
) -> None:
    fake_slack.add_user("UBOT", is_bot=True)
    view = {
        "callback_id": "recognition_nominate",
        "private_metadata": json.dumps({"community_id": community}),
    }
    slack.block_action(
        "recognition_nominees",
        block_id="recognition_nominees",
        view=view,
        action_type="multi_users_select",
        extra_action={"selected_users": ["U1", "U2", "UBOT"]},
    )
    fake_slack.wait_for("users.info", count=2)
    deadline = time.monotonic() + 5
    while _count(engine, UserFact) < 2 and time.monotonic() < deadline:  # the lazy listener's commit
        time.sleep(0.01)
    assert sorted(c.params["user"] for c in fake_slack.calls_to("users.info")) == ["U2", "UBOT"]
    fake_slack.clear()
    reply = _submit(slack, community, _values(["U2", "UBOT"])).json()
    assert "<@UBOT> is a bot" in reply["errors"]["recognition_nominees"]
    assert fake_slack.calls_to("users.info") == []  # the ack answered from the cache
