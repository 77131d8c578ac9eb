"""A process-local cache of the small rows nearly every request reads: a channel's community, the
settings rows beside it, and who holds a community's roles (`cached_value`). Correct across replicas:

- every commit of a session that wrote a watched table (flushed objects; UPDATE/DELETE/INSERT statements
  run through a session, which evict every workspace) evicts that workspace's entries in this process,
  after the commit, never before. SQL run on a bare connection is not seen here (tests that empty
  tables that way call `evict_everywhere`);
- on PostgreSQL a trigger on each watched table sends `NOTIFY copbot_lookups, '<team_id>'` in the writing
  transaction (delivered on commit, whoever wrote: another replica, a CLI, plain SQL); each process's
  `Listener` evicts on it. Without a listening connection the cache is bypassed, and a lost connection
  clears it; SQLite is one process, so there the local eviction is complete;
- every entry also expires after `TTL` seconds, a bound should anything slip past both.

What is cached is a snapshot of the row's columns, never a live ORM object (those belong to one session
and thread). A hit builds a fresh instance from the snapshot and adds it to the caller's session as a
persistent object, as if a query had loaded it: services keep taking `Community`, can follow its
relationships and edit it, and no statement runs. Measured per lookup on SQLite: 28 us for this against
133 us for the indexed read (a fresh session's first read, its checkout included); `session.merge(...,
load=False)` of a cached detached copy costs the same but would share mutable JSON values between threads.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class

log = logging.getLogger(__name__)

TTL = 60.0
MAX_ENTRIES = 20_000
CHANNEL = "copbot_lookups"
ALL = "*"  # a notification or eviction that means every workspace

_Row = TypeVar("_Row")
_WATCHED: set[type] = set()
_TABLES: set[str] = set()  # the watched models' tables, for statements written without the ORM's objects
_WROTE = "copbot_lookups_wrote"  # session.info: workspaces this transaction wrote watched rows of
_MISS = object()


def watch(*models: type) -> None:
    """Evict a workspace's entries whenever a row of these models changes (the cached ones, and the ones
    whose deletion cascades to them in the database)."""
    for model in models:
        if model not in _WATCHED:
            _WATCHED.add(model)
            _TABLES.add(inspect(model).local_table.name)


class LookupCache:
    """The entries of one engine: (model, lookup) -> a column snapshot or None, each with its expiry."""

    def __init__(self, *, live: bool, ttl: float = TTL, clock: Callable[[], float] = time.monotonic):
        self.live = live  # False: bypassed (PostgreSQL with no invalidations arriving)
        self.generation = 0  # bumped by every eviction: a read begun before one must not be stored
        self._ttl, self._clock = ttl, clock
        self._entries: dict[tuple[Any, ...], tuple[float, str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        """The snapshot or value (or None) stored under `key`, or _MISS."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < self._clock():
            return _MISS
        return entry[2]

    def put(self, key: tuple[Any, ...], team_id: str, snapshot: Any, generation: int) -> None:
        """Store what a read found, unless an eviction happened since the read began."""
        with self._lock:
            if not self.live or generation != self.generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (self._clock() + self._ttl, team_id, snapshot)

    def evict(self, team_ids: Iterable[str]) -> None:
        """Forget the entries of these workspaces (all of them for ALL)."""
        teams = set(team_ids)
        with self._lock:
            self.generation += 1
            if ALL in teams:
                self._entries.clear()
                return
            for key in [k for k, entry in self._entries.items() if entry[1] in teams]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: weakref.WeakKeyDictionary[Engine, LookupCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(engine: Engine) -> LookupCache:
    """The engine's cache; live from the start on SQLite, on PostgreSQL only while a Listener listens."""
    found = _CACHES.get(engine)
    if found is None:
        with _CACHES_LOCK:
            found = _CACHES.setdefault(engine, LookupCache(live=engine.dialect.name == "sqlite"))
    return found


def evict_everywhere(database: str, team_ids: Iterable[str]) -> None:
    """Evict in every cache of this process on the same database (`str(engine.url)`, or "" for all)."""
    teams = list(team_ids)
    with _CACHES_LOCK:  # another thread may be adding an engine's cache
        caches = list(_CACHES.items())
    for engine, cache in caches:
        if not database or str(engine.url) == database:
            cache.evict(teams)


def cached(
    session: Session, model: type[_Row], where: Mapping[str, Any], load: Callable[[], _Row | None]
) -> _Row | None:
    """The row of `model` whose attributes equal `where` (which names its `team_id`), or None: from the
    cache when it holds it, else from `load()` (the real read), whose answer is then kept."""
    cache = _readable(session, model)
    if cache is None:
        return load()  # this transaction changed watched rows: only the database knows what it sees
    key = (model, *where.items())
    snapshot = cache.get(key)
    if snapshot is not _MISS:
        if snapshot is None:
            return None
        found = _attach(session, model, snapshot, where)
        if found is not None:
            return found
    generation = cache.generation  # before the read: an eviction during it voids what it finds
    row = load()
    cache.put(key, where["team_id"], None if row is None else _snapshot(row), generation)
    return row


_Value = TypeVar("_Value", bound=tuple[Any, ...] | frozenset[Any])


def cached_value(
    session: Session,
    key: tuple[Any, ...],
    team_id: str,
    load: Callable[[], _Value],
    *,
    models: tuple[type, ...],
) -> _Value:
    """A value read from `models`' rows of one workspace (immutable: a tuple or frozenset, shared between
    threads as it is), from the cache when it holds it under `key`, else from `load()`, then kept; evicted
    as the rows of `models` change, like a cached row."""
    cache = _readable(session, *models)
    if cache is None:
        return load()
    found = cache.get(key)
    if found is not _MISS:
        return cast(_Value, found)
    generation = cache.generation  # as in `cached`
    value = load()
    cache.put(key, team_id, value, generation)
    return value


def _readable(session: Session, *models: type) -> LookupCache | None:
    """The engine's cache, or None when this session must read the database: nothing invalidates the
    cache (PostgreSQL without its listener), or its transaction changed rows of `models`."""
    watch(*models)  # (also declared where the models' services are imported, before any write)
    cache = cache_for(session.get_bind().engine)
    if not cache.live or session.info.get(_WROTE) or any(_unflushed(session, m) for m in models):
        return None
    return cache


def _unflushed(session: Session, model: type) -> bool:
    return any(isinstance(obj, model) for obj in session.new)


_SHAPES: dict[type, tuple[Mapper[Any], tuple[str, ...], tuple[str, ...]]] = {}


def _shape(model: type) -> tuple[Mapper[Any], tuple[str, ...], tuple[str, ...]]:
    """The model's mapper, its column attributes and its primary key's attributes."""
    found = _SHAPES.get(model)
    if found is None:
        mapper: Mapper[Any] = inspect(model)
        columns = tuple(str(attr.key) for attr in mapper.column_attrs)
        key = tuple(str(mapper.get_property_by_column(column).key) for column in mapper.primary_key)
        found = _SHAPES[model] = (mapper, columns, key)
    return found


def _copied(values: dict[str, Any]) -> dict[str, Any]:
    # JSON values (lists, dicts) copied so no caller's edit reaches the cache or another thread
    return {k: copy.deepcopy(v) if isinstance(v, list | dict) else v for k, v in values.items()}


def _snapshot(row: Any) -> dict[str, Any]:
    return _copied({name: row.__dict__[name] for name in _shape(type(row))[1] if name in row.__dict__})


def _attach(
    session: Session, model: type[_Row], snapshot: dict[str, Any], where: Mapping[str, Any]
) -> _Row | None:
    """A persistent instance in `session` as a load would give it; None when the session already holds
    the row in another state (then the caller reads it, as a query would, after autoflush)."""
    mapper, _, key = _shape(model)
    existing = session.identity_map.get(mapper.identity_key_from_primary_key(tuple(snapshot[k] for k in key)))
    if existing is not None:
        return existing if all(getattr(existing, k) == v for k, v in where.items()) else None
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(_copied(snapshot))
    make_transient_to_detached(instance)  # its history reset, as if loaded; unloaded relationships lazy
    session.add(instance)
    return instance


# --- eviction on commit ----------------------------------------------------------------------------


def _note(session: Session, teams: Iterable[str]) -> None:
    session.info.setdefault(_WROTE, set()).update(teams)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if not _WATCHED:
        return
    teams = {
        obj.team_id
        for objects in (session.new, session.dirty, session.deleted)
        for obj in objects
        if type(obj) in _WATCHED
    }
    if teams:
        _note(session, teams)


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    # an UPDATE/DELETE/INSERT statement (of the ORM's or Core's: forget-me scrubs every text column) names
    # no object: evict every workspace
    if state.is_select or not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        _note(state.session, [ALL])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    teams = session.info.pop(_WROTE, None)
    if teams:
        evict_everywhere(str(session.get_bind().engine.url), teams)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction (rolled back, or committed and evicted)
        session.info.pop(_WROTE, None)


# --- PostgreSQL: invalidations from every process -------------------------------------------------


class Listener:
    """A thread with its own connection that LISTENs for changes and evicts; the cache is live only while
    it listens. A lost connection clears the cache and is re-made with back-off."""

    def __init__(self, engine: Engine, *, poll: float = 0.5, max_backoff: float = 30.0):
        self._engine, self._cache = engine, cache_for(engine)
        self._poll, self._max_backoff = poll, max_backoff
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copbot-lookups", daemon=True)
        self.listening = threading.Event()

    def start(self) -> None:
        """Listen from now on (a no-op on SQLite, whose cache needs no notifications)."""
        if self._engine.dialect.name == "postgresql":
            self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection; the cache is bypassed from then on."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg  # PostgreSQL only

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._cache.evict([ALL])  # whatever changed while nobody listened
                    self._cache.live = True
                    self.listening.set()
                    backoff = 0.1
                    while not self._stopping.is_set():
                        teams = [note.payload for note in connection.notifies(timeout=self._poll)]
                        if teams:
                            self._cache.evict(teams)
            except Exception as error:  # the server restarted, the database was dropped, the network
                if not self._stopping.is_set():
                    log.warning(
                        "lookup invalidations lost (%s); retrying in %.1f s", type(error).__name__, backoff
                    )
            finally:
                self._cache.live = False
                self.listening.clear()
                self._cache.evict([ALL])
            if self._stopping.wait(backoff):
                break
            backoff = min(self._max_backoff, backoff * 2)
