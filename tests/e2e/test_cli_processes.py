"""`copbot` as operators run it: real processes, a real database, the fake Slack on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from copbot import migrate
from copbot.communities.models import Community, Workspace
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, _postgres_database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, external, plain
from tests.processes import Serve, copbot_env, scheduler_lock_pids, wait_for

pytestmark = pytest.mark.e2e


def _copbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copbot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind the suite runs on."""
    configured = os.environ.get("COPBOT_TEST_DATABASE_URL")
    if configured:
        yield from _postgres_database(configured)
    else:
        yield f"sqlite:///{tmp_path}/fresh.db"


def test_serve_migrates_answers_slack_and_delivers(
    fresh_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    server = Serve(copbot_env(fresh_database, fake_slack), tmp_path)
    try:
        health = server.wait_healthy()
        assert health["schema"] == migrate.head_revision()
        slack = SlackSender(server.url, SIGNING_SECRET)
        assert slack.command("/cop", "help").json()["response_type"] == "ephemeral"
        values = {
            "name": {"name_input": plain("Process Guild")},
            "purpose": {"purpose_input": plain("Prove the real process works end to end.")},
            "timezone": {"timezone_select": external("America/New_York")},
        }
        reply = slack.view_submission(
            "community_setup", values, private_metadata=json.dumps({"channel_id": "C42"})
        ).json()
        assert reply["response_action"] == "update"
        (post,) = fake_slack.wait_for("chat.postMessage", timeout=15)  # the worker's sender delivered it
        assert post.params["channel"] == "C42"
        assert "Process Guild" in post.params["text"]
    finally:
        output = server.stop()
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_tick_runs_and_is_idempotent(database_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = copbot_env(database_url, fake_slack)
    first = _copbot("tick", "--at", "2026-03-02T09:00", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("tick 2026-03-02T09:00:00+00:00:")
    second = _copbot("tick", "--at", "2026-03-02T09:00:00+00:00", env=env, cwd=tmp_path)
    assert second.returncode == 0 and "delivered 0" in second.stdout
    bad = _copbot("tick", "--at", "yesterday", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "ISO-8601" in bad.stderr


def test_db_commands_and_manifest(fresh_database: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = copbot_env(fresh_database, fake_slack)
    assert _copbot("db", "current", env=env, cwd=tmp_path).stdout.strip() == "none"
    assert _copbot("tick", "--at", "2026-01-01", env=env, cwd=tmp_path).returncode == 2  # schema not there
    upgraded = _copbot("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0 and upgraded.stdout.strip() == migrate.head_revision()
    manifest = _copbot("manifest", "--url", "https://cop.example.org", env=env, cwd=tmp_path)
    assert "https://cop.example.org/slack/events" in manifest.stdout


def test_export_writes_json_and_csv(database_url: str, fake_slack: FakeSlack, tmp_path: Path, engine) -> None:
    with Session(engine) as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        purpose = 'A, "quoted" purpose'
        session.add(
            Community(
                team_id="T1", channel_id="C1", name="Guild", purpose=purpose, timezone="UTC", created_by="U1"
            )
        )
        session.commit()
    env = copbot_env(database_url, fake_slack)
    exported = json.loads(_copbot("export", "--format", "json", env=env, cwd=tmp_path).stdout)
    assert [c["channel_id"] for c in exported["communities"]] == ["C1"]
    assert exported["members"] == []
    assert (
        json.loads(_copbot("export", "--community", "C9", env=env, cwd=tmp_path).stdout)["communities"] == []
    )
    csv_text = _copbot("export", "--format", "csv", env=env, cwd=tmp_path).stdout
    assert csv_text.splitlines()[0].startswith("record,team_id,channel_id,name,purpose")
    assert 'communities,T1,C1,Guild,"A, ""quoted"" purpose"' in csv_text


def _scheduler_lock_holders(database_url: str) -> int:
    return len(scheduler_lock_pids(database_url))


def test_replicas_migrating_at_once_take_turns(
    fresh_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite serves one process")
    env = copbot_env(fresh_database, fake_slack)
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "copbot", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in upgrades]
    assert [code for code, _, _ in results] == [0] * 4, results
    assert {out.strip() for _, out, _ in results} == {migrate.head_revision()}


def test_one_replica_schedules_and_another_takes_over(
    fresh_database: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite serves one process")
    env = copbot_env(fresh_database, fake_slack)
    leader = Serve(env, tmp_path)
    others: list[Serve] = []
    try:
        leader.wait_healthy()
        wait_for(lambda: _scheduler_lock_holders(fresh_database) == 1)  # the first replica leads
        others = [Serve(env, tmp_path) for _ in range(2)]
        for replica in others:
            replica.wait_healthy()
        (first_pid,) = scheduler_lock_pids(fresh_database)  # the newcomers do not lead
        leader.stop(signal.SIGKILL)  # dies without letting go: its connection closes, the lock is freed
        wait_for(lambda: scheduler_lock_pids(fresh_database) not in ([], [first_pid]))
        time.sleep(1)  # several check intervals: still exactly one leader
        assert _scheduler_lock_holders(fresh_database) == 1
    finally:
        for replica in [leader, *others]:
            replica.stop()
    wait_for(lambda: _scheduler_lock_holders(fresh_database) == 0)


def test_forget_removes_a_member_for_an_admin(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path, engine
) -> None:
    from copbot.communities import service

    with Session(engine) as session:
        form = service.CommunityForm.parse(
            {"name": "Guild", "purpose": "Learn from incidents.", "timezone": "UTC"}
        )
        service.save_community(session, team_id="T1", channel_id="C1", user_id="U1", form=form)
        service.join(session, team_id="T1", channel_id="C1", user_id="U0009")
        session.commit()
    result = _copbot(
        "forget", "--user", "U0009", "--team", "T1", env=copbot_env(database_url, fake_slack), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    refused = _copbot(
        "forget", "--user", "bob", "--team", "T1", env=copbot_env(database_url, fake_slack), cwd=tmp_path
    )
    assert refused.returncode == 2 and refused.stderr.strip() == "copbot: 'bob' is not a Slack user id."
    assert result.stdout.startswith("forgot U0009 in T1: ") and "members 1" in result.stdout
    with Session(engine) as session:
        assert (
            service.find_member(
                session,
                community=service.community_for_channel(session, team_id="T1", channel_id="C1"),
                user_id="U0009",
            )
            is None
        )
