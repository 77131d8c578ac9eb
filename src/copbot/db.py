"""Database plumbing: the declarative Base, the engine factory, transactions and advisory locks."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import CursorResult, DateTime, Engine, MetaData, Result, create_engine, event, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from copbot.clock import as_utc

if TYPE_CHECKING:  # the type only: a SQLite server never loads the PostgreSQL dialect
    from sqlalchemy.dialects.postgresql import Insert as UpsertInsert

SQLITE_BUSY_MS = 5000

# The instant (time.monotonic) by which the current request must have done its database work.
_DEADLINE: ContextVar[float | None] = ContextVar("copbot_db_deadline", default=None)


class OverBudget(Exception):
    """The database could not do a request's work within its time budget (locked, or slow)."""


@contextmanager
def time_budget(seconds: float, *, since: float | None = None) -> Iterator[None]:
    """Bound the database work of the block (a request's ack path): every transaction begun in it is
    given what is left as its SQLite busy timeout or PostgreSQL statement and lock timeouts, and no
    statement starts once the time is up. Past it the work fails with `OverBudget` (or the driver's
    timeout error) and is rolled back: nothing half-stored. `since` (time.monotonic) is when the clock
    started, e.g. when the request arrived, before it waited for a thread."""
    token = _DEADLINE.set((time.monotonic() if since is None else since) + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds left in the current budget, or None outside one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def is_over_budget(error: BaseException | None) -> bool:
    """Tell whether an error (or one it arose from) means the database did not answer within the
    budget: locked past it, too slow, or its connection dropped. Trying again later is the remedy."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, OverBudget | TimeoutError):
            return True
        original = getattr(error, "orig", None)
        if _transient(original):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _transient(original: object) -> bool:
    """A driver error that says "not now" rather than "never": a timeout, a lock, a lost connection."""
    name, module = type(original).__name__, type(original).__module__
    if name in ("QueryCanceled", "LockNotAvailable"):
        return True
    if name != "OperationalError":
        return False
    return module.startswith("psycopg") or "locked" in str(original)  # psycopg: the connection dropped


def _bound_transaction(connection: Connection) -> None:
    """At each transaction's start: give the driver what is left of the budget as its timeouts."""
    left = time_left()
    sqlite = connection.dialect.name == "sqlite"
    if left is None:
        if sqlite and connection.info.pop("budgeted", False):
            _raw_execute(connection, f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        return
    if left <= 0:
        raise OverBudget("the request's time budget was spent before its transaction began")
    ms = max(1, int(left * 1000))
    if sqlite:
        _raw_execute(connection, f"PRAGMA busy_timeout={ms}")
        connection.info["budgeted"] = True
    else:
        _raw_execute(connection, f"SET LOCAL statement_timeout = {ms}")
        _raw_execute(connection, f"SET LOCAL lock_timeout = {ms}")


def _raw_execute(connection: Connection, statement: str) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None  # a connection that began a transaction is open
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _check_budget(*_args: Any) -> None:
    left = time_left()
    if left is not None and left <= 0:
        raise OverBudget("the request's time budget is spent")


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass a timezone-aware value")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base of every copbot table; constraint names follow one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


_TURNS = threading.local()  # how many SQLite write turns this thread holds (one per open write transaction)


def holds_sqlite_write_lock() -> bool:
    """Tell whether this thread has a SQLite write transaction open: its file stays locked for every
    other writer until it commits, so nothing slow (a Slack call) may run meanwhile."""
    return getattr(_TURNS, "held", 0) > 0


class _SQLiteWriteTurns:
    """Gives this process's writers to SQLite one at a time.

    SQLite allows one writer; a second one waits in SQLite's busy handler, which sleeps in steps of up to
    100 ms. Queuing writers on a Python lock from their first write to their commit hands the turn over
    at once instead, which keeps p99 latency at the cost of a commit, not of a sleep.
    """

    def __init__(self, timeout: float = 10.0):
        self._lock = threading.Lock()
        self._timeout = timeout

    def before_execute(self, connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get("write_turn") or statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
            return
        left = time_left()
        if not self._lock.acquire(timeout=self._timeout if left is None else max(0.0, left)):
            raise TimeoutError("waited too long for a turn to write to SQLite")
        connection.info["write_turn"] = True
        _TURNS.held = getattr(_TURNS, "held", 0) + 1
        if left is not None:  # SQLite's own wait (another process writing) gets only what is left now
            left = time_left() or 0.0
            if left <= 0:
                raise OverBudget("the request's time budget was spent waiting for a turn to write")
            _raw_execute(connection, f"PRAGMA busy_timeout={max(1, int(left * 1000))}")
            connection.info["budgeted"] = True

    @staticmethod
    def begin_before_savepoint(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
        """Open the transaction before a SAVEPOINT that would otherwise start it.

        pysqlite begins a transaction only before INSERT/UPDATE/DELETE; a SAVEPOINT issued first
        begins one of its own, and its RELEASE commits it, so a get-or-create in a savepoint would be
        committed ahead of the rest of its unit of work.
        """
        if statement.lstrip()[:9].upper() == "SAVEPOINT" and not cursor.connection.in_transaction:
            cursor.execute("BEGIN")

    def end_transaction(self, connection: Any) -> None:
        if connection.info.pop("write_turn", False):
            _TURNS.held = max(0, getattr(_TURNS, "held", 0) - 1)
            self._lock.release()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self.before_execute)
        event.listen(engine, "before_cursor_execute", self.begin_before_savepoint)
        event.listen(engine, "commit", self.end_transaction)
        event.listen(engine, "rollback", self.end_transaction)


def create_db_engine(url: str | URL, *, pool_size: int = 10) -> Engine:
    """Build the engine: SQLite in WAL mode with foreign keys on, or PostgreSQL through psycopg 3."""
    if str(url).startswith("postgresql://"):
        url = str(url).replace("postgresql://", "postgresql+psycopg://", 1)
    if str(url).startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _SQLiteWriteTurns().install(engine)
    else:
        # No pool_pre_ping: a round trip on every checkout costs more than many of the statements it
        # guards. Connections are recycled after RECYCLE_SECONDS, and one idle longer than
        # IDLE_PING_SECONDS (a server restart or an idle timeout may have closed it) is checked once.
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=RECYCLE_SECONDS)
        _ping_when_idle(engine)
    event.listen(engine, "begin", _bound_transaction)
    event.listen(engine, "before_cursor_execute", _check_budget)
    return engine


RECYCLE_SECONDS = 1800
IDLE_PING_SECONDS = 30.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle; a dead one is replaced (the pool
    retries the checkout when a checkout hook raises DisconnectionError)."""

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("a pooled connection was closed while idle") from error
            raise

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the factory of sessions bound to `engine`; objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """Run a unit of work: commit on success, roll back on any error."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_key(name: str) -> int:
    """Map a lock name to a stable signed 64-bit PostgreSQL advisory lock key."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def dialect_insert(session: Session) -> Callable[[Any], UpsertInsert]:
    """The dialect's `insert`, which has `on_conflict_do_nothing` and `on_conflict_do_update`.

    SQLite's insert has the same two methods with the same arguments; it is typed as PostgreSQL's.
    """
    return insert_for(dialect_name(session))


_Statement = TypeVar("_Statement")


def built_once(build: Callable[[str], _Statement]) -> Callable[[Session], _Statement]:
    """Wrap the builder of a hot statement (given the dialect's name) so it runs once per dialect.

    The statement takes its values as bound parameters (`bindparam`, or the execute's parameters):
    building a statement and computing its cache key cost more CPU than SQLite spends running it, and a
    statement object built once keeps its cache key.
    """
    built: dict[str, _Statement] = {}

    def statement(session: Session) -> _Statement:
        name = dialect_name(session)
        found = built.get(name)
        if found is None:
            found = built[name] = build(name)
        return found

    return statement


def insert_for(dialect: str) -> Callable[[Any], UpsertInsert]:
    """`dialect_insert` by the dialect's name."""
    # Imported here: a SQLite server never loads the PostgreSQL dialect's modules.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return cast("Callable[[Any], UpsertInsert]", sqlite_insert)


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (its result is a cursor result)."""
    return cast("CursorResult[Any]", result).rowcount


_Row = TypeVar("_Row", bound="Base")


def ensure_row(session: Session, model: type[_Row], key: dict[str, Any], **defaults: Any) -> _Row:
    """Return the row with `key`, inserting it (with `defaults`) when missing.

    INSERT .. ON CONFLICT DO NOTHING, then read: two transactions creating the same row at once both
    get the one row, on SQLite and PostgreSQL alike, with no IntegrityError and no retry.
    """
    query = select(model).filter_by(**key)
    found = session.scalars(query).first()
    if found is not None:
        return found
    session.execute(dialect_insert(session)(model).values(**key, **defaults).on_conflict_do_nothing())
    return session.scalars(query).one()


def dialect_name(session: Session) -> str:
    """Name the dialect a session talks to: "sqlite" or "postgresql"."""
    return session.get_bind().dialect.name


@contextmanager
def advisory_lock(connection: Connection, name: str) -> Iterator[None]:
    """Hold a session-level PostgreSQL advisory lock (a no-op elsewhere) for the block's duration."""
    if connection.dialect.name != "postgresql":
        yield
        return
    key = lock_key(name)
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def try_advisory_lock(connection: Connection, name: str) -> bool:
    """Try once to take a session-level advisory lock; True on SQLite, where one process runs."""
    if connection.dialect.name != "postgresql":
        return True
    return bool(
        connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(name)}).scalar()
    )


def holds_advisory_lock(connection: Connection, name: str) -> bool:
    """Tell whether this connection still holds the named advisory lock (it dies with the connection)."""
    if connection.dialect.name != "postgresql":
        return True
    key = lock_key(name)
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    held = connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND classid = :classid AND objid = :objid AND objsubid = 1 AND granted"
        ),
        {"classid": classid, "objid": objid},
    ).scalar()
    return bool(held)
