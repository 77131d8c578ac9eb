"""Forget-me and retention for the whole app: the core's own tables, then every feature's hooks.

`forget` is what `/cop forget-me` and `copbot forget` run; `purge` is what the retention job runs with
each workspace's cutoff. Both walk the feature registry they are given (never import it), so no feature
imports the others through here.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, Text, cast, delete, select, text, update
from sqlalchemy.orm import Session

from copbot.db import Base, affected
from copbot.errors import InvalidInput
from copbot.feature import Counts, Features, Person
from copbot.inbox.models import ProcessedEvent
from copbot.outbox.models import OutboxMessage

USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
FORMER_MEMBER = "a former member"  # what a forgotten person's mention reads as
ID_LENGTH = 32  # String(32) columns hold Slack ids; longer (and Text) columns can hold what people wrote


def mention_of(user_id: str) -> re.Pattern[str]:
    """A user's mention as Slack writes it: `<@U123>` or `<@U123|name>`."""
    return re.compile(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>")


def scrub(value: Any, user_id: str) -> Any:
    """Replace a user's mentions and id inside JSON-shaped data."""
    text = mention_of(user_id).sub(FORMER_MEMBER, json.dumps(value))
    return json.loads(text.replace(user_id, "someone"))


@dataclass
class ForgetReport:
    """What forgetting someone touched, by table."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, counts: Counts) -> None:
        """Add rows changed, by table (tables with none are left out)."""
        for name, count in counts.items():
            if count:
                self.counts[name] = self.counts.get(name, 0) + count


def forget(session: Session, features: Features, person: Person) -> ForgetReport:
    """Delete or anonymise every record naming the person in their workspace; aggregates stay.

    Every feature's `forget` runs first (their rows may name the person in outbox keys they owe),
    then the core's tables: the outbox, the events inbox and the OAuth installations.
    """
    if not USER_ID.fullmatch(person.user_id):
        raise InvalidInput({"user": f"{person.user_id[:40]!r} is not a Slack user id."})
    report = ForgetReport()
    for feature in features:
        if feature.forget is not None:
            report.add(feature.forget(session, person))
    report.add(forget_core(session, person))
    report.add(scrub_mentions(session, person))
    session.flush()
    return report


def forget_core(session: Session, person: Person) -> Counts:
    """The core's tables: owed messages to or naming the person, recorded events, installations."""
    team_id, user_id = person.team_id, person.user_id
    counts: dict[str, int] = {}
    dms = (OutboxMessage.team_id == team_id, OutboxMessage.user_id == user_id)
    counts["outbox_messages"] = affected(session.execute(delete(OutboxMessage).where(*dms)))
    naming = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id,
            cast(OutboxMessage.payload, Text).contains(user_id) | OutboxMessage.key.contains(user_id),
        )
    )
    for message in naming:
        message.payload = scrub(message.payload, user_id)
        message.key = message.key.replace(user_id, f"forgotten-{secrets.token_hex(4)}")
        counts["outbox_messages"] += 1
    events = (ProcessedEvent.team_id == team_id, cast(ProcessedEvent.payload, Text).contains(user_id))
    counts["processed_events"] = affected(session.execute(delete(ProcessedEvent).where(*events)))
    # slack-sdk's table, in SQL: its SQLAlchemy store loads only in OAuth mode (see copbot.oauth).
    installer = text(
        "UPDATE slack_installations SET user_id = '', user_token = NULL, user_refresh_token = NULL, "
        "user_scopes = NULL WHERE team_id = :team_id AND user_id = :user_id"
    )
    named = {"team_id": team_id, "user_id": user_id}
    counts["slack_installations"] = affected(session.execute(installer, named))
    return counts


def scrub_mentions(session: Session, person: Person) -> Counts:
    """Replace the person's mentions in what others wrote (review text, stories, lessons, questions,
    titles...) with FORMER_MEMBER: every free-text column of every table, in their workspace only.

    Read from the tables themselves, so a text column a feature adds later is covered without a hook.
    """
    counts: dict[str, int] = {}
    pattern, needle = mention_of(person.user_id), f"<@{person.user_id}"
    for table in Base.metadata.sorted_tables:
        if "team_id" not in table.c:
            continue
        for column in _free_text_columns(table):
            keys = list(table.primary_key.columns)
            found = session.execute(
                select(*keys, column).where(table.c.team_id == person.team_id, column.contains(needle))
            ).all()
            for row in found:
                where = [key == value for key, value in zip(keys, row, strict=False)]
                scrubbed = pattern.sub(FORMER_MEMBER, row[-1])
                session.execute(update(table).where(*where).values({column.name: scrubbed}))
            counts[table.name] = counts.get(table.name, 0) + len(found)
    return counts


def _free_text_columns(table: Table) -> list[Any]:
    return [
        column
        for column in table.columns
        if isinstance(column.type, String) and (column.type.length or ID_LENGTH + 1) > ID_LENGTH
    ]


def purge(session: Session, features: Features, cutoffs: Mapping[str, datetime]) -> dict[str, int]:
    """Retention: for each workspace, every feature deletes its raw records older than the cutoff."""
    removed: dict[str, int] = {}
    for team_id, cutoff in cutoffs.items():
        removed[team_id] = sum(
            feature.purge(session, cutoff, team_id) for feature in features if feature.purge is not None
        )
    return removed
