"""Recognition tied to learning, end to end: co-signs by reaction on a nomination's post (shown in the
digest, not against the weekly limit) and "Turn this into a lesson" (a review drafted from the story)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.outbox.models import OutboxMessage
from copbot.recognition.models import Nomination, NominationQuota, NominationReaction
from copbot.reviews.models import Review, ReviewOrigin
from copbot.runtime import Runtime
from tests.e2e import test_recognition_flows as nominating
from tests.e2e.test_recognition_flows import IMPACT, STORY, _submit, _values
from tests.e2e.test_reviews_flows import review_values
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import BOT_USER_ID, SlackSender
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

community = nominating.community  # the fixture: a community in C1 led by U1


def posted_nomination(
    slack: SlackSender, engine: Engine, runtime: Runtime, community: int
) -> tuple[int, str]:
    """U1 recognises U2 in public; the nomination's id and its post's ts."""
    assert _submit(slack, community, _values(["U2"])).json()["response_action"] == "update"
    runtime.sender.drain()
    with Session(engine) as session:
        nomination_id = session.scalars(select(Nomination.id)).one()
        key = f"nomination:{nomination_id}:post"
        ts = session.scalar(select(OutboxMessage.sent_ts).where(OutboxMessage.key == key))
    assert ts
    return nomination_id, ts


def react(
    slack: SlackSender, who: str, emoji: str, ts: str, *, added: bool = True, author: str = BOT_USER_ID
):
    kind = "reaction_added" if added else "reaction_removed"
    item = {"type": "message", "channel": "C1", "ts": ts}
    event = {"type": kind, "user": who, "reaction": emoji, "item": item, "item_user": author, "event_ts": ts}
    assert slack.event(event).status_code == 200


def cosigners(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(NominationReaction.user_id)))


def reactions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(NominationReaction))


def test_reactions_on_the_post_cosign_once_each_and_show_in_the_digest(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime, community: int
) -> None:
    _, ts = posted_nomination(slack, engine, runtime, community)
    react(slack, "U3", "+1", ts)
    wait_until(lambda: cosigners(engine) == {"U3"}, "U3's co-sign")
    react(slack, "U3", "tada::skin-tone-2", ts)
    react(slack, "U4", "+1", ts)
    wait_until(lambda: reactions(engine) == 3, "three reactions by two people")
    react(slack, "U2", "heart", ts)  # the nominee
    react(slack, "U1", "heart", ts)  # the nominator
    react(slack, "U5", "heart", "1700000000.000100")  # another message of the channel
    react(slack, "U6", "heart", ts, author="U2")  # someone's own message, with the same ts
    react(slack, "U7", "eyes", ts)
    wait_until(lambda: cosigners(engine) == {"U3", "U4", "U7"}, "U7's co-sign, and no one else's")

    react(slack, "U3", "+1", ts, added=False)  # still co-signs with :tada:
    react(slack, "U7", "eyes", ts, added=False)  # their last one: the co-sign goes
    wait_until(lambda: cosigners(engine) == {"U3", "U4"}, "U7's co-sign taken back")
    with Session(engine) as session:  # co-signing is not nominating: nobody's weekly limit moved
        quotas = dict(session.execute(select(NominationQuota.nominator_id, NominationQuota.used)).all())
    assert quotas == {"U1": 1}

    preview = slack.command("/cop", "digest", user_id="U1").json()
    story = next(
        b["text"]["text"] for b in preview["blocks"] if STORY[:20] in b.get("text", {}).get("text", "")
    )
    assert "• <@U2> (from <@U1>) · +2 co-signed" in story


def test_the_post_says_how_to_cosign_and_turns_into_a_lesson(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime, community: int
) -> None:
    nomination_id, _ = posted_nomination(slack, engine, runtime, community)
    post = next(c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C1")
    assert "Any emoji on this post co-signs it." in json.dumps(post.params["blocks"])
    button = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"][0]
    assert (button["action_id"], button["value"]) == ("recognition_turn_into_lesson", str(nomination_id))

    slack.block_action(button["action_id"], value=button["value"], user_id="U3", trigger_id="trig-l")
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    fields = {b.get("block_id"): b.get("element", {}).get("initial_value") for b in view["blocks"]}
    assert fields["review_title"] == STORY and fields["review_happened"] == STORY
    assert fields["review_went_well"] == IMPACT and fields["review_context"] == "Recognised for Mentoring."
    metadata = json.loads(view["private_metadata"])
    assert metadata == {"community_id": community, "nomination_id": nomination_id}

    reply = slack.view_submission(
        "review_modal", review_values(), user_id="U3", private_metadata=view["private_metadata"]
    ).json()
    assert reply["response_action"] == "update"
    with Session(engine) as session:
        review = session.scalars(select(Review)).one()
        assert session.get_one(ReviewOrigin, review.id).nomination_id == nomination_id
    runtime.sender.drain()
    review_post = fake_slack.calls_to("chat.postMessage")[-1]
    assert "Turned from the recognition of <@U2> for _Mentoring_." in json.dumps(review_post.params["blocks"])


def test_a_private_recognition_cannot_be_turned_into_a_lesson(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime, community: int
) -> None:
    _submit(slack, community, _values(["U2"], share="private"))
    with Session(engine) as session:
        nomination_id = session.scalars(select(Nomination.id)).one()
    url = fake_slack.response_url("l")
    slack.block_action(
        "recognition_turn_into_lesson", value=str(nomination_id), user_id="U3", response_url=url
    )
    (reply,) = fake_slack.wait_for("response_url")
    assert "no longer exists" in reply.params["text"] and fake_slack.calls_to("views.open") == []
