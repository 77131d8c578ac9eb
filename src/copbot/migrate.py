"""Schema migrations, run programmatically: upgrade to head, current revision, drift check.

Alembic is imported only inside the functions that need it: a server migrates in a short-lived child
process (`upgrade_in_child`), so Alembic and the revision modules never stay in its memory (about
10 MB of idle RSS), and reads its schema revision with plain SQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

import copbot

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
_CHILD_URL = "COPBOT_MIGRATE_DATABASE_URL"  # the child reads the URL here: never on a command line


def migrations_dir() -> Path:
    """Find the migrations: inside the installed package, or beside `src/` in a checkout."""
    package = Path(copbot.__file__).resolve().parent
    for candidate in (package / "_migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("copbot's migrations are missing from this installation")


def alembic_config(database_url: str) -> Config:
    """Build an Alembic config for `database_url` without an alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema (one linear history) to `revision`, the newest by default.

    Safe for concurrent starts: migrations run under an advisory lock.
    """
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def upgrade_in_child(database_url: str) -> str | None:
    """Upgrade in a child process and return the code's head revision, leaving Alembic out of this one."""
    done = subprocess.run(
        [sys.executable, "-m", "copbot.migrate"],
        env={**os.environ, _CHILD_URL: database_url},
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the schema upgrade failed (exit status {done.returncode}); see the log above")
    printed = done.stdout.split()
    return printed[-1] if printed else None


def head_revision() -> str | None:
    """The newest revision the code knows (None if there is none)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before migrating."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        heads = connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()  # noqa: S608
    return ",".join(sorted(heads)) or None


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    from alembic import command

    command.check(alembic_config(database_url))


if __name__ == "__main__":  # the child of `upgrade_in_child`: upgrade, then print the head revision
    upgrade(os.environ[_CHILD_URL])
    print(head_revision() or "")
