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
from copbot.feature import Person
from copbot.features import FEATURES

USER = "U0FORGET01"
TEAM = "T1"
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


def _value(table: Table, name: str) -> Any:
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
        return {"user": USER, "text": f"<@{USER}>"} if name in ("payload", "data") else [USER]
    if name == "team_id":
        return TEAM
    if is_person_column(table, name):
        return USER
    if name == "key":
        return f"kind:1:{USER}"
    length = getattr(kind, "length", None) or 20
    return "x"[:length] if isinstance(kind, (String, Text)) else None


def fill_every_table(engine: Engine) -> list[Table]:
    """One row in every table, naming USER wherever a person can be named."""
    tables = _tables(engine)
    with engine.begin() as connection:
        for table in tables:
            connection.execute(table.insert().values({c.name: _value(table, c.name) for c in table.columns}))
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


def test_retention_leaves_only_current_state(engine: Engine, filled: list[Table]) -> None:
    with Session(engine) as session:
        removed = privacy.purge(session, FEATURES, {TEAM: datetime(2030, 1, 1, tzinfo=UTC)})
        session.commit()
    assert removed[TEAM] > 0
    kept = {name.split(".")[0] for name in naming_the_user(engine, filled)}
    assert kept <= CURRENT_STATE, f"raw records no feature's retention deletes: {kept - CURRENT_STATE}"
