"""What the reliability cases share: set-up requests, and counting what Slack received."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.outbox.models import OutboxMessage, Status
from copbot.outbox.sender import METADATA_EVENT
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain


def setup_values(name: str) -> dict:
    """The `/cop setup` modal's answers for a community called `name`."""
    return {
        "name": {"name_input": plain(name)},
        "purpose": {"purpose_input": plain(f"{name}: learn from each other's incidents.")},
        "timezone": {"timezone_select": external("Europe/Berlin")},
    }


def setup_request(slack: SlackSender, channel: str, *, user: str = "U1") -> Callable[[], httpx.Response]:
    """A `/cop setup` submission for `channel` (stored, and its announcement owed, before the ack)."""
    metadata = json.dumps({"channel_id": channel})
    return lambda: slack.view_submission(
        "community_setup", setup_values(f"Guild {channel}"), user_id=user, private_metadata=metadata
    )


def make_community(engine: Engine, *, team: str = "T1", channel: str = "C1", lead: str = "U1") -> int:
    """A community stored directly; returns its id."""
    with Session(engine) as session:
        form = communities.CommunityForm.parse(
            {"name": f"Guild {channel}", "purpose": "Learn from incidents.", "timezone": "UTC"}
        )
        community, _ = communities.save_community(
            session, team_id=team, channel_id=channel, user_id=lead, form=form
        )
        session.commit()
        return community.id


def posted_keys(fake: FakeSlack, channels: list[str]) -> Counter[str]:
    """How many times each outbox key appears among the messages Slack holds in `channels`."""
    keys: Counter[str] = Counter()
    for channel in channels:
        for message in fake.messages_in(channel):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT:
                keys[metadata["event_payload"]["key"]] += 1
    return keys


def owed(engine: Engine) -> int:
    """Outbox messages not delivered yet (pending or uncertain)."""
    with Session(engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_([Status.PENDING, Status.UNCERTAIN]))
        )


def count(engine: Engine, model: type) -> int:
    """Rows of a table."""
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def busy(response: object) -> bool:
    """Whether copbot answered "try again" (the database did not answer within the ack budget)."""
    return isinstance(response, httpx.Response) and "saved nothing" in response.text


def stored_answers(responses: list) -> int:
    """Answers that said the request was taken (200, neither "try again" nor "something went wrong")."""
    taken = [r for r in responses if isinstance(r, httpx.Response) and r.status_code == 200]
    return sum(1 for r in taken if not busy(r) and "went wrong" not in r.text)
