"""Every ack within 2.5 s whatever the database does: locked by another writer, or holding locks for
seconds; past the budget the person is told to try again and nothing is stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, text

from copbot.communities.models import Community
from copbot.runtime import Runtime
from tests.conftest import ServerThread
from tests.fakes.slack_client import SlackSender
from tests.reliability.conftest import ACK_LIMIT, Acks
from tests.reliability.helpers import busy, count, setup_request, stored_answers

HELD_FOR = 4.0  # seconds another writer keeps the database locked


def _hold_lock(url: str, started: threading.Event) -> None:
    """Another writer: SQLite's write lock, or PostgreSQL's strongest lock on the communities table."""
    engine = create_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("LOCK TABLE communities IN ACCESS EXCLUSIVE MODE"))
        started.set()
        time.sleep(HELD_FOR)
        connection.rollback()
    engine.dispose()


def test_a_locked_database_gets_try_again_in_time_and_stores_nothing(
    runtime: Runtime,
    server: ServerThread,
    slack: SlackSender,
    engine: Engine,
    database_url: str,
    acks: Acks,
    figures: Callable[..., None],
) -> None:
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(database_url, started))
    holder.start()
    assert started.wait(10)
    acks.send([setup_request(slack, f"C{n:03d}") for n in range(10)], threads=10)
    holder.join()
    answered_busy = sum(busy(r) for r in acks.responses)
    stored_while_locked = count(engine, Community)
    after = Acks().send([setup_request(slack, f"C{n:03d}") for n in range(10, 14)])
    figures(
        sent_while_locked=len(acks.responses),
        answered_try_again=answered_busy,
        acked_and_stored=stored_while_locked,
        slowest_ack=acks.slowest,
        stored_after_release=count(engine, Community) - stored_while_locked,
    )
    assert len(acks.ok) == len(acks.responses) and acks.slowest < ACK_LIMIT
    assert answered_busy == len(acks.responses) and stored_while_locked == 0
    assert stored_answers(after.responses) == 4 and count(engine, Community) == 4
