"""Every column of every table that can hold a Slack user id is covered by forget-me, and by retention.

The database is read as it is (after every migration, so slack-sdk's OAuth tables count too), not as the
models say. One row goes into every table; each column that can hold a person (by name: `*_id` and `*_by`
string columns that are not a workspace, channel, app or bot id) and each JSON column gets the user id,
and keys name them as outbox and claim keys do. Then forget-me runs over the feature registry, and every
text and JSON column of every table is scanned for the id. A new table or column that no feature forgets
fails here.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.orm import Session

from copbot import privacy
from copbot.db import Base
from copbot.feature import Person
from copbot.features import FEATURES

USER = "U0FORGET01"
OTHER = "U0WRITER02"  # someone who stays, and wrote about USER
TEAM = "T1"
MENTIONS = f"thanks to <@{USER}> and <@{USER}|ann>"
NOT_PEOPLE = {
    "team_id",
    "channel_id",
    "sent_channel_id",
    "team_field_id",
    "event_id",
    "client_id",
    "app_id",
    "enterprise_id",
    "bot_id",
    "bot_user_id",  # the bot itself
    "incoming_webhook_channel_id",
    "usergroup_id",  # a Slack user group's id (S…), not a person
    "canvas_id",  # a canvas file's id (F…)
}
# JSON columns of words people chose (tags, links, values) or of row ids: they never hold a user id.
NOT_PEOPLE_JSON = {"tags", "links", "related_ids", "values"}
DERIVED = re.compile(r"_fts|^alembic_version$")  # search indexes rebuilt from their tables; Alembic's own
# Tables that keep a person's current state, not raw records: retention leaves them, forget-me does not.
CURRENT_STATE = {
    "members",
    "people_profiles",
    "ritual_rotation",
    "ritual_away",
    "recognition_user_facts",
    "nomination_nominees",
    "people_onboardings",
    "ritual_schedules",
    "ritual_facilitator_asks",
    "communities",
    "outbox_messages",
    "processed_events",
    "slack_installations",
    "review_lessons",
    "native_settings",  # a community's @handle and canvas: who is in the group now
}


def _tables(engine: Engine) -> list[Table]:
    reflected = MetaData()
    reflected.reflect(engine)
    return [t for t in reflected.sorted_tables if not DERIVED.search(t.name)]


def is_person_column(table: Table, name: str) -> bool:
    """A string column named like a user id (`*_id`, `*_by`) that names no workspace, channel, app or bot."""
    column = table.c[name]
    named = name.endswith(("_id", "_by")) and name not in NOT_PEOPLE
    return named and isinstance(column.type, String) and not column.foreign_keys


def _value(table: Table, name: str, person: str = USER) -> Any:
    column = table.c[name]
    kind = column.type
    if column.foreign_keys or (column.primary_key and isinstance(kind, Integer)):
        target = next(iter(column.foreign_keys)).column if column.foreign_keys else None
        return TEAM if target is not None and target.name == "team_id" else 1
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return datetime(2020, 1, 1, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2020, 1, 1)
    if isinstance(kind, (Integer, Numeric)):
        return 1
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, JSON) or "json" in type(kind).__name__.lower():
        if name in NOT_PEOPLE_JSON:
            return ["x"]
        if name not in ("payload", "data", "outputs"):
            return [person]
        return {"user": person, "text": f"<@{person}>"}
    if name == "team_id":
        return TEAM
    if is_person_column(table, name):
        return person
    if name == "key":
        return f"kind:1:{person}"
    length = getattr(kind, "length", None)
    writable = table.name in Base.metadata.tables  # copbot's tables: slack-sdk's hold tokens, not words
    if (
        person != USER
        and writable
        and isinstance(kind, String)
        and (length or len(MENTIONS)) >= len(MENTIONS)
    ):
        return MENTIONS  # free text someone else wrote, mentioning USER
    return "x"[: length or 20] if isinstance(kind, (String, Text)) else None


def fill_every_table(engine: Engine, person: str = USER) -> list[Table]:
    """One row in every table, naming `person` wherever a person can be named (and, when `person` is not
    USER, mentioning USER in every text column long enough for it)."""
    tables = _tables(engine)
    with engine.begin() as connection:
        for table in tables:
            row = {c.name: _value(table, c.name, person) for c in table.columns}
            connection.execute(table.insert().values(row))
    return tables


def naming_the_user(engine: Engine, tables: list[Table]) -> list[str]:
    """`table.column` of every text or JSON value that still holds USER."""
    found = []
    with engine.connect() as connection:
        for table in tables:
            for row in connection.execute(select(table)).mappings():
                for name, value in row.items():
                    text = json.dumps(value) if isinstance(value, (dict, list)) else value
                    if isinstance(text, str) and USER in text:
                        found.append(f"{table.name}.{name}")
    return sorted(set(found))


@pytest.fixture
def filled(engine: Engine) -> list[Table]:
    tables = fill_every_table(engine)
    with engine.connect() as connection:
        empty = [t.name for t in tables if connection.execute(select(t)).first() is None]
    assert not empty
    return tables


def test_every_person_column_is_found_and_filled(engine: Engine, filled: list[Table]) -> None:
    people = {f"{t.name}.{c.name}" for t in filled for c in t.columns if is_person_column(t, c.name)}
    expected = {"reviews.author_id", "ritual_attendance.user_id", "slack_installations.user_id"}
    assert expected <= people and len(people) >= 20
    assert people <= set(naming_the_user(engine, filled))


def test_forget_me_covers_every_column_of_every_table(engine: Engine, filled: list[Table]) -> None:
    assert "health_quarterly_reviews" in {t.name for t in filled}
    assert len(naming_the_user(engine, filled)) > 25
    with Session(engine) as session:
        report = privacy.forget(session, FEATURES, Person(TEAM, USER, b"k" * 32))
        session.commit()
    assert report.counts["members"] == 1
    assert naming_the_user(engine, filled) == []


def test_forget_me_replaces_mentions_in_what_others_wrote(engine: Engine) -> None:
    tables = fill_every_table(engine, person=OTHER)
    mentioned = naming_the_user(engine, tables)
    free_text = {"reviews.context", "reviews.lessons_text", "nominations.action", "review_lessons.text"}
    assert free_text | {"people_questions.text", "playbooks.steps", "communities.purpose"} <= set(mentioned)
    assert len(mentioned) > 30
    with Session(engine) as session:
        report = privacy.forget(session, FEATURES, Person(TEAM, USER, b"k" * 32))
        session.commit()
    assert report.counts["reviews"] >= 1
    assert naming_the_user(engine, tables) == []
    with engine.connect() as connection:  # the rows are OTHER's: they stay, reading "a former member"
        context = connection.scalar(select(_table(tables, "reviews").c.context))
        author = connection.scalar(select(_table(tables, "reviews").c.author_id))
    assert (context, author) == ("thanks to a former member and a former member", OTHER)


def _table(tables: list[Table], name: str) -> Table:
    return next(t for t in tables if t.name == name)


def test_retention_leaves_only_current_state(engine: Engine, filled: list[Table]) -> None:
    with Session(engine) as session:
        removed = privacy.purge(session, FEATURES, {TEAM: datetime(2030, 1, 1, tzinfo=UTC)})
        session.commit()
    assert removed[TEAM] > 0
    kept = {name.split(".")[0] for name in naming_the_user(engine, filled)}
    assert kept <= CURRENT_STATE, f"raw records no feature's retention deletes: {kept - CURRENT_STATE}"
