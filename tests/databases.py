"""Fresh PostgreSQL databases for test runs and benchmarks, made and dropped on the given server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from copbot import migrate
from copbot.db import create_db_engine


def create_postgres_database(base_url: str, *, prefix: str = "copbot_test") -> tuple[str, Callable[[], None]]:
    """Create an empty database beside `base_url`'s; return its URL and a function that drops it."""
    url = make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def sqlite_at_revision(path: Path, revision: str) -> tuple[Config, Engine]:
    """A fresh SQLite file migrated up to `revision`, holding workspace T1 and its community 1 in C1:
    where a data migration's test puts the old rows it then upgrades."""
    url = f"sqlite:///{path}"
    config = migrate.alembic_config(url)
    command.upgrade(config, revision)
    engine = create_db_engine(url)
    day = "2026-01-01"
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO workspaces (team_id, created_at) VALUES ('T1', :d)"), {"d": day})
        connection.execute(
            text(
                "INSERT INTO communities (id, team_id, channel_id, name, purpose, learning_goals, boundaries,"
                " norms, timezone, created_by, created_at, updated_at)"
                " VALUES (1, 'T1', 'C1', 'Guild', 'p', '', '', '', 'UTC', 'U1', :d, :d)"
            ),
            {"d": day},
        )
    return config, engine
