"""Schema migrations, run programmatically: upgrade to head, current revision, drift check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import copbot


def migrations_dir() -> Path:
    """Find the migrations: inside the installed package, or beside `src/` in a checkout."""
    package = Path(copbot.__file__).resolve().parent
    for candidate in (package / "_migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("copbot's migrations are missing from this installation")


def alembic_config(database_url: str) -> Config:
    """Build an Alembic config for `database_url` without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Upgrade the schema to every head (features branch from the foundation); safe for concurrent starts."""
    command.upgrade(alembic_config(database_url), "heads")


def head_revision() -> str | None:
    """The newest revisions the code knows, as one comma-separated string (None if there are none)."""
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ",".join(sorted(heads)) or None


def current_revision(engine: Engine) -> str | None:
    """The revisions the database is at, comma-separated like `head_revision`, or None before migrating."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))
