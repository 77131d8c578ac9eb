"""Charts still owed by the old upload job when chart uploads moved to the outbox (revision a7e4c2d9b318)
become outbox `upload` messages that follow their review DM, and the sender delivers them into its DM."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from copbot.db import session_factory
from copbot.outbox.models import OutboxMessage, Status
from copbot.outbox.sender import OutboxSender
from copbot.tokens import SingleWorkspaceTokens
from tests.databases import sqlite_at_revision
from tests.fakes.slack_api import FakeSlack

BEFORE = "8d3f6b1a2c57"
MOVE = "a7e4c2d9b318"
PNG = b"\x89PNG\r\n\x1a\nchart"
DAY = "2026-04-01 00:00:00"


def _dm(connection: object, user_id: str, status: str, channel: str | None) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO outbox_messages (team_id, key, kind, user_id, payload, status, attempts,"
            " next_attempt_at, created_at, sent_channel_id, sent_ts)"
            " VALUES ('T1', :key, 'dm', :user, :payload, :status, 1, :d, :d, :channel, :ts)"
        ),
        {
            "key": f"health-quarter:1:2026-Q1:{user_id}",
            "user": user_id,
            "payload": json.dumps({"text": "Q1 in review", "blocks": None}),
            "status": status,
            "d": DAY,
            "channel": channel,
            "ts": "1.000100" if channel else None,
        },
    )


def _upload(connection: object, user_id: str, *, attempts: int = 0, file_id: str | None = None) -> None:
    connection.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO health_chart_uploads (team_id, review_id, user_id, file_id, attempts, uploaded_at)"
            " VALUES ('T1', 1, :user, :file, :attempts, :uploaded)"
        ),
        {"user": user_id, "file": file_id, "attempts": attempts, "uploaded": DAY if file_id else None},
    )


def test_pending_chart_uploads_become_outbox_uploads_after_their_dm(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config, engine = sqlite_at_revision(tmp_path / "old.db", BEFORE)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO health_quarterly_reviews"
                " (id, team_id, community_id, quarter, summary, chart_png, created_at)"
                " VALUES (1, 'T1', 1, '2026-Q1', 'Q1 in review', :png, :d)"
            ),
            {"png": PNG, "d": DAY},
        )
        _dm(connection, "ULEAD", "delivered", "D0LEAD")  # DM there, chart failed once: owed
        _upload(connection, "ULEAD", attempts=1)
        _dm(connection, "UNEXT", "pending", None)  # DM not sent yet: the chart waits for it
        _upload(connection, "UNEXT")
        _dm(connection, "UDONE", "delivered", "D0DONE")  # uploaded already
        _upload(connection, "UDONE", attempts=1, file_id="F1")
        _dm(connection, "UGAVEUP", "delivered", "D0GAVE")  # the old job had given up
        _upload(connection, "UGAVEUP", attempts=5)
        _dm(connection, "UFAILED", "failed", None)  # its DM failed for good: nothing to follow
        _upload(connection, "UFAILED")
        _upload(connection, "UNODM")  # no DM row at all (purged)

    command.upgrade(config, MOVE)

    with engine.connect() as connection:
        uploads = connection.execute(
            text("SELECT key, payload, status FROM outbox_messages WHERE kind = 'upload' ORDER BY key")
        ).all()
        tables = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
    assert [u.key for u in uploads] == [
        "health-quarter:1:2026-Q1:ULEAD:chart",
        "health-quarter:1:2026-Q1:UNEXT:chart",
    ]
    lead = json.loads(uploads[0].payload)
    assert lead["of_key"] == "health-quarter:1:2026-Q1:ULEAD" and uploads[0].status == "pending"
    assert base64.b64decode(lead["content_b64"]) == PNG
    assert (lead["filename"], lead["title"]) == ("2026-Q1-weekly-trends.png", "Guild: weekly trends, 2026-Q1")
    assert "health_chart_uploads" not in tables

    command.upgrade(config, "head")
    later = datetime.now(UTC) + timedelta(minutes=1)
    sender = OutboxSender(
        session_factory(engine),
        SingleWorkspaceTokens("xoxb-test"),
        api_url=fake_slack.url,
        clock=lambda: later,
    )
    sender.drain()
    completed = fake_slack.wait_for("files.completeUploadExternal", count=2)
    assert any("D0LEAD" in json.dumps(call.params) for call in completed)  # into the review DM
    with Session(engine) as session:
        statuses = {m.key: m.status for m in session.scalars(select(OutboxMessage))}
    engine.dispose()
    assert statuses["health-quarter:1:2026-Q1:ULEAD:chart"] == Status.DELIVERED
    assert statuses["health-quarter:1:2026-Q1:UNEXT"] == Status.DELIVERED  # the DM first,
    assert statuses["health-quarter:1:2026-Q1:UNEXT:chart"] == Status.DELIVERED  # then its chart
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2  # nothing for the others
