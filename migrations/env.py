"""Alembic environment: copbot's metadata, the URL from DATABASE_URL, one migrator at a time."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

import copbot.models  # noqa: F401  (registers every table on Base.metadata)
from copbot.db import Base, advisory_lock, create_db_engine
from copbot.oauth.models import oauth_metadata

MIGRATION_LOCK = "copbot:migrations"
config = context.config
target_metadata = [Base.metadata, oauth_metadata]  # copbot's tables and slack-sdk's OAuth stores


def _url() -> str:
    return config.attributes.get("database_url") or os.environ.get("DATABASE_URL", "sqlite:///copbot.db")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave out of autogenerate what models do not describe (full-text search shadow tables)."""
    return not (type_ == "table" and reflected and compare_to is None and name and "_fts" in name)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate under an advisory lock, so replicas starting together take turns."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_db_engine(_url(), pool_size=1)
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection: Connection) -> None:
    with advisory_lock(connection, MIGRATION_LOCK):
        connection.commit()  # the lock is session-level: release the implicit transaction that took it
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
