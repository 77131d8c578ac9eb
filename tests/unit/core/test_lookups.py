"""Cached lookups (copbot.lookups): a second read costs no statement, every change is seen by the next
request on this replica at once and, on PostgreSQL, on another replica once its NOTIFY arrives."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, event, text, update
from sqlalchemy.orm import Session, sessionmaker

from copbot import lookups
from copbot.communities import service as communities
from copbot.communities.models import Community, Role
from copbot.db import create_db_engine, session_factory, session_scope
from copbot.feature import Person
from copbot.recognition import service as recognition
from copbot.recognition.models import RecognitionSettings

FORM = communities.CommunityForm.parse(
    {"name": "Incident Guild", "purpose": "Learn from every incident we run.", "timezone": "UTC"}
)


class Replica:
    """One process's engine, sessions and cache (with its listener on PostgreSQL)."""

    def __init__(self, url: str):
        self.engine = create_db_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.listener = lookups.Listener(self.engine, poll=0.05)
        self.listener.start()
        assert self.engine.dialect.name == "sqlite" or self.listener.listening.wait(10)
        self.statements: list[str] = []
        event.listen(self.engine, "before_cursor_execute", lambda *a: self.statements.append(a[2]))

    def community(self, channel_id: str = "C1") -> Community | None:
        """What a request in `channel_id` reads, and the community reads it made."""
        self.statements.clear()
        with session_scope(self.sessions) as session:
            return communities.community_for_channel(session, team_id="T1", channel_id=channel_id)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that writes watched rows; on PostgreSQL its own NOTIFY (a second, later
        eviction) is waited for, so that what the test reads next is not evicted under it."""
        cache = lookups.cache_for(self.engine)
        before = cache.generation
        with session_scope(self.sessions) as session:
            yield session
        if self.engine.dialect.name == "postgresql":
            assert _eventually(lambda: cache.generation >= before + 2)

    def community_reads(self) -> int:
        return sum("FROM communities" in s for s in self.statements)

    def leads(self) -> list[str]:
        """Who leads the community in C1, as `/cop help` and App Home ask; the statements it made."""
        self.statements.clear()
        with session_scope(self.sessions) as session:
            community = communities.community_for_channel(session, team_id="T1", channel_id="C1")
            assert community is not None
            return communities.leads(session, community=community)

    def close(self) -> None:
        self.listener.stop()
        self.engine.dispose()


@pytest.fixture
def replica(database_url: str, engine: Engine) -> Iterator[Replica]:
    one = Replica(database_url)
    yield one
    one.close()


def _create(replica: Replica, channel_id: str = "C1") -> int:
    with replica.writing() as session:
        community, _ = communities.save_community(
            session, team_id="T1", channel_id=channel_id, user_id="U1", form=FORM
        )
        return community.id


def test_a_second_request_reads_no_community(replica: Replica) -> None:
    _create(replica)
    first = replica.community()
    assert first is not None and replica.community_reads() == 1
    second = replica.community()
    assert second is not None and second.name == "Incident Guild"
    assert replica.community_reads() == 0
    assert replica.statements == []  # nothing at all: not even a connection's BEGIN
    with session_scope(replica.sessions) as session:  # the copy is a loaded object of its session
        found = communities.community_for_channel(session, team_id="T1", channel_id="C1")
        assert found is not None and [m.user_id for m in found.members] == ["U1"]
        assert communities.community_for_channel(session, team_id="T1", channel_id="C1") is found


def test_edits_deletions_and_creations_are_seen_by_the_next_request(replica: Replica) -> None:
    assert replica.community("C1") is None
    assert replica.community("C1") is None and replica.community_reads() == 0  # "none" is cached too
    community_id = _create(replica)
    assert replica.community("C1") is not None  # the cached "none" was evicted by the creation
    with session_scope(replica.sessions) as session:
        found = communities.community_for_channel(session, team_id="T1", channel_id="C1")
        assert found is not None
        found.name = "Renamed"
    assert replica.community("C1").name == "Renamed"  # type: ignore[union-attr]
    with session_scope(replica.sessions) as session:  # channel rebinding
        session.get_one(Community, community_id).channel_id = "C2"
    assert replica.community("C1") is None and replica.community("C2") is not None
    with session_scope(replica.sessions) as session:  # a bulk statement (forget-me rewrites created_by)
        communities.forget_user(session, Person("T1", "U1", b"k"))
    assert replica.community("C2").created_by == ""  # type: ignore[union-attr]
    with session_scope(replica.sessions) as session:  # a Core statement (forget-me's scrub of free text)
        session.execute(update(Community.__table__).values(purpose="a former member's guild"))
    assert replica.community("C2").purpose == "a former member's guild"  # type: ignore[union-attr]
    with session_scope(replica.sessions) as session:
        session.delete(session.get_one(Community, community_id))
    assert replica.community("C2") is None


def test_a_rolled_back_write_changes_nothing_and_its_session_reads_its_own_writes(replica: Replica) -> None:
    _create(replica)
    assert replica.community() is not None
    with pytest.raises(RuntimeError), session_scope(replica.sessions) as session:
        community = communities.community_for_channel(session, team_id="T1", channel_id="C1")
        assert community is not None
        community.name = "Never"
        session.flush()
        # the writing transaction reads past the cache: it sees its own change
        again = communities.community_for_channel(session, team_id="T1", channel_id="C2")
        assert again is None
        raise RuntimeError
    assert replica.community().name == "Incident Guild"  # type: ignore[union-attr]


def test_settings_are_cached_and_a_change_is_seen_at_once(replica: Replica) -> None:
    _create(replica)

    def limit() -> int:
        with session_scope(replica.sessions) as session:
            community = communities.require_community(session, team_id="T1", channel_id="C1")
            return recognition.settings_for(session, community=community).weekly_limit

    default = limit()
    replica.statements.clear()
    assert limit() == default and not any("recognition_settings" in s for s in replica.statements)
    with replica.writing() as session:
        community = communities.require_community(session, team_id="T1", channel_id="C1")
        recognition.change_setting(
            session, community=community, user_id="U1", change=recognition.parse_setting("limit 2")
        )
    assert limit() == 2
    with session_scope(replica.sessions) as session:
        found = session.get_one(
            RecognitionSettings, communities.require_community(session, team_id="T1", channel_id="C1").id
        )
        found.weekly_limit = 4
    assert limit() == 4


def test_a_read_that_began_before_an_eviction_is_not_kept() -> None:
    cache = lookups.LookupCache(live=True)
    generation = cache.generation
    cache.evict(["T1"])  # a commit lands while the read runs
    cache.put(("k",), "T1", {"name": "old"}, generation)
    assert cache.get(("k",)) is lookups._MISS
    cache.put(("k",), "T1", {"name": "new"}, cache.generation)
    assert cache.get(("k",)) == {"name": "new"}


def test_entries_expire_after_the_safety_bound() -> None:
    clock = [0.0]
    cache = lookups.LookupCache(live=True, ttl=60.0, clock=lambda: clock[0])
    cache.put(("k",), "T1", None, cache.generation)
    assert cache.get(("k",)) is None
    clock[0] = 61.0
    assert cache.get(("k",)) is lookups._MISS


def _make_lead(session: Session, user_id: str, on: bool = True) -> None:
    community, _ = communities.join(session, team_id="T1", channel_id="C1", user_id=user_id)
    member = communities.find_member(session, community=community, user_id=user_id)
    assert member is not None
    communities.set_role(session, member=member, role=Role.LEAD, on=on)


def test_role_holders_are_cached_and_joins_leaves_and_role_changes_are_seen_at_once(replica: Replica) -> None:
    _create(replica)
    assert replica.leads() == ["U1"]
    assert replica.leads() == ["U1"] and replica.statements == []  # nothing read: /cop help costs no SQL
    with replica.writing() as session:
        _make_lead(session, "U2")
    assert replica.leads() == ["U1", "U2"]
    with replica.writing() as session:
        communities.leave(session, team_id="T1", channel_id="C1", user_id="U1")
    assert replica.leads() == ["U2"]
    with replica.writing() as session:
        _make_lead(session, "U2", on=False)
    assert replica.leads() == []
    with replica.writing() as session:  # a transaction sees its own change, not the cached answer
        _make_lead(session, "U3")
        session.flush()
        community = communities.community_for_channel(session, team_id="T1", channel_id="C1")
        assert community is not None and communities.leads(session, community=community) == ["U3"]
    assert replica.leads() == ["U3"]


# --- PostgreSQL: several replicas -------------------------------------------------------------------


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


@pytest.fixture
def postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas need PostgreSQL; SQLite serves one process")


def test_a_change_on_another_replica_is_seen_after_its_notify(
    postgres: None, database_url: str, replica: Replica
) -> None:
    _create(replica)
    assert replica.community() is not None and replica.community().name == "Incident Guild"  # type: ignore[union-attr]
    # another replica: no ORM events of this process, only the trigger's NOTIFY on commit
    other = create_engine(database_url)
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE communities SET name = 'Elsewhere' WHERE channel_id = 'C1'"))
        assert _eventually(lambda: replica.community().name == "Elsewhere")  # type: ignore[union-attr]
        assert replica.community() is not None and replica.community_reads() == 0  # cached again
        with other.begin() as connection:  # a role given elsewhere
            connection.execute(
                text(
                    "INSERT INTO member_roles (team_id, member_id, role, granted_at) "
                    "SELECT team_id, id, 'facilitator', now() FROM members WHERE user_id = 'U1'"
                )
            )
            connection.execute(text("DELETE FROM member_roles WHERE role = 'lead'"))
        assert _eventually(lambda: replica.leads() == [])
        with other.begin() as connection:  # a workspace's deletion cascades in the database
            connection.execute(text("DELETE FROM workspaces WHERE team_id = 'T1'"))
        assert _eventually(lambda: replica.community() is None)
    finally:
        other.dispose()


def test_without_its_listener_the_cache_is_cleared_and_bypassed_until_it_listens_again(
    postgres: None, replica: Replica
) -> None:
    _create(replica)
    cache = lookups.cache_for(replica.engine)
    # the creation's own NOTIFY may evict the first fill: read until an entry stays
    assert _eventually(lambda: replica.community() is not None and len(cache) == 1)
    with replica.engine.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = 'LISTEN copbot_lookups'"
            )
        )
    assert _eventually(lambda: not cache.live or len(cache) == 0)
    assert len(cache) == 0
    assert replica.listener.listening.wait(10) and _eventually(lambda: cache.live)
    assert _eventually(lambda: replica.community() is not None and replica.community_reads() == 0)


def test_a_stopped_listener_leaves_the_cache_bypassed(postgres: None, replica: Replica) -> None:
    _create(replica)
    replica.listener.stop()
    replica.community()
    assert replica.community() is not None and replica.community_reads() == 1
