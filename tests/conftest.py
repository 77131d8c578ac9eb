"""Shared fixtures: a real database (SQLite file, or PostgreSQL when COPBOT_TEST_DATABASE_URL is set),
the fake Slack Web API, and copbot's real HTTP server on loopback."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import copbot.models  # noqa: F401  (every table, for cleaning between tests)
from copbot import lookups, migrate
from copbot.config import Settings
from copbot.db import Base, create_db_engine
from copbot.oauth.models import oauth_metadata
from copbot.runtime import Runtime
from copbot.server import create_http_app
from copbot.slack import client as slack_client
from tests.databases import create_postgres_database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender

# A Slack call made while SQLite's write lock is held fails the test that made it (in production: logged).
slack_client.STRICT = True

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def _postgres_database(base_url: str) -> Iterator[str]:
    """Create a fresh database for this run on the PostgreSQL server, and drop it afterwards."""
    url, drop = create_postgres_database(base_url)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the whole run."""
    configured = os.environ.get("COPBOT_TEST_DATABASE_URL")
    if configured:
        yield from _migrated(_postgres_database(configured))
    else:
        path = Path(tmp_path_factory.mktemp("db")) / "copbot.db"
        yield from _migrated(iter([f"sqlite:///{path}"]))


def _migrated(urls: Iterator[str]) -> Iterator[str]:
    for url in urls:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine tests use to look at rows."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


_ALL_TABLES = text(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> :version_table"
)
# Ids start from 1 again in every test, as they do in a fresh database.
_RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
    " FROM pg_sequences WHERE schemaname = current_schema()"
)


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after a test that used the database, so tests stay independent."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + list(oauth_metadata.tables)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE's new files cost ~0.3 s a test.
            # Replica mode skips triggers and foreign-key actions while emptying, so every table is
            # listed, the ones only migrations know (the search index) included.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            tables = list(connection.scalars(_ALL_TABLES, {"version_table": migrate.VERSION_TABLE}))
        for table in tables:
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our own table names)
        if connection.dialect.name == "postgresql":
            connection.execute(_RESTART_SEQUENCES)
    lookups.evict_everywhere("", [lookups.ALL])  # rows deleted behind the ORM's back (and, on PostgreSQL,
    # with triggers off): no process-local cache may keep them


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for a service test; the test decides when to commit."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback, recording every call."""
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()
    assert fake.invalid_payloads == [], "Block Kit that Slack would refuse was sent"


@pytest.fixture
def settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    """Settings pointing at the test database and the fake Slack."""
    return Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        database_url=database_url,
        listener_threads=8,
        slack_timeout=2.0,
        ack_budget_seconds=2.5,  # the suite shares a loaded machine; tests/reliability checks the default
    )


@pytest.fixture
def runtime(settings: Settings, engine: Engine) -> Iterator[Runtime]:
    """copbot's wiring against the test database and the fake Slack."""
    runtime = Runtime(settings)
    runtime.lookups.start()  # PostgreSQL: lookups cached as in `copbot serve`, invalidated by NOTIFY
    assert runtime.engine.dialect.name == "sqlite" or runtime.lookups.listening.wait(10)
    yield runtime
    runtime.lookups.stop()
    if "app" in runtime.__dict__:
        runtime.app.listener_runner.lazy_listener_runner.shutdown()
    runtime.engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the reliability suite's figures at the end of the run (tests/reliability)."""
    from tests.reliability.conftest import FIGURES

    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


class ServerThread:
    """copbot's real HTTP server (uvicorn) on a loopback port, in a background thread."""

    def __init__(self, runtime: Runtime):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        app = create_http_app(runtime.app, runtime.engine, threads=16, signing_secret=SIGNING_SECRET)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def server(runtime: Runtime) -> Iterator[ServerThread]:
    """copbot serving HTTP on loopback."""
    thread = ServerThread(runtime)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def slack(server: ServerThread) -> Iterator[SlackSender]:
    """Sends requests to copbot signed as Slack signs them."""
    sender = SlackSender(server.url, SIGNING_SECRET)
    yield sender
