"""Storage plumbing: UTC timestamps, SQLite pragmas, migrations without drift, advisory locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from copbot import migrate
from copbot.communities.models import Workspace
from copbot.db import advisory_lock, create_db_engine, holds_advisory_lock, lock_key, try_advisory_lock


def test_timestamps_come_back_aware_and_in_utc(session: Session) -> None:
    berlin = timezone(timedelta(hours=1))
    session.add(Workspace(team_id="T1", created_at=datetime(2026, 3, 1, 10, 0, tzinfo=berlin)))
    session.commit()
    session.expunge_all()
    stored = session.scalar(select(Workspace.created_at))
    assert stored == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Workspace(team_id="T1", created_at=datetime(2026, 3, 1, 10, 0)))
    with pytest.raises(Exception, match="naive"):
        session.flush()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_a_savepoint_as_the_first_write_commits_nothing_on_its_own(engine: Engine) -> None:
    """A unit of work whose first write sits in a savepoint (get-or-create) stays one transaction.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT issued first began
    its own transaction and its RELEASE committed it: a kill -9 between that and the real commit kept
    a new community without the announcement owed with it.
    """
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        session.scalar(select(Workspace.team_id))  # a read first, as a request does
        with session.begin_nested():
            session.add(Workspace(team_id="T1", created_at=now))
        session.add(Workspace(team_id="T2", created_at=now))
        session.flush()
        with engine.connect() as other:
            assert other.scalars(select(Workspace.team_id)).all() == []  # nothing is visible before commit
        session.rollback()
    with Session(engine) as session:
        assert session.scalars(select(Workspace.team_id)).all() == []  # and the rollback took it all back


def test_schema_is_at_head_and_models_match_migrations(engine: Engine, database_url: str) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.check(database_url)  # raises when autogenerate would find a difference


def test_history_is_one_linear_chain() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1 and len(script.get_bases()) == 1
    assert all(isinstance(r.down_revision, str | None) for r in revisions)  # no merge points


def test_occurrence_foreign_key_keeps_lessons_and_search_on_an_existing_sqlite_database(tmp_path) -> None:
    from tests.unit.core.test_privacy_coverage import fill_every_table

    url = f"sqlite:///{tmp_path}/old.db"
    migrate.upgrade(url, "62be9c3b1b68")  # the head before the foreign key
    engine = create_db_engine(url)
    fill_every_table(engine)  # a row in every table, lessons of the review included
    with engine.begin() as connection:
        connection.execute(text("UPDATE reviews SET occurrence_id = 77"))  # names no session
    engine.dispose()
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, occurrence_id FROM reviews ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, None)]
        assert connection.execute(text("SELECT count(*) FROM review_lessons")).scalar() == 1
        triggers = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        expected = {"reviews_fts_insert", "reviews_fts_delete", "health_bump_reviews_insert"}
        assert expected <= set(triggers)
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_upgrade_twice_is_a_no_op(engine: Engine, database_url: str) -> None:
    migrate.upgrade(database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("copbot:scheduler") == lock_key("copbot:scheduler")
    assert lock_key("copbot:scheduler") != lock_key("copbot:migrations")
    assert -(2**63) <= lock_key("x") < 2**63


def test_advisory_lock_excludes_a_second_connection(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only; SQLite runs one process")
    with engine.connect() as first, engine.connect() as second:
        assert try_advisory_lock(first, "test-lock")
        first.commit()
        assert holds_advisory_lock(first, "test-lock")
        assert not try_advisory_lock(second, "test-lock")
        assert not holds_advisory_lock(second, "test-lock")
        first.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("test-lock")})
        assert try_advisory_lock(second, "test-lock")
        second.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("test-lock")})


def test_advisory_lock_block_releases(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks exist on PostgreSQL only")
    with engine.connect() as first, engine.connect() as second:
        with advisory_lock(first, "block-lock"):
            assert not try_advisory_lock(second, "block-lock")
        assert try_advisory_lock(second, "block-lock")
        second.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("block-lock")})


def test_no_ping_per_checkout_but_a_connection_closed_while_idle_is_replaced(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files: nothing closes them behind the pool's back")
    from copbot import db

    pooled = create_db_engine(database_url, pool_size=1)
    statements: list[str] = []
    event.listen(pooled, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with pooled.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with pooled.connect() as connection:  # checked out again at once: no ping
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() == pid
        assert statements == ["SELECT pg_backend_pid()"] * 2
        with engine.connect() as other:  # the server closes the pooled connection while it is idle
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        with pooled.connect() as connection:  # pinged, found dead, replaced: the statement succeeds
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        pooled.dispose()
