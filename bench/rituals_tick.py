"""One tick that makes N communities' rituals due at the same minute, against a rate-limited fake Slack.

    python bench/rituals_tick.py [--communities 1000] [--database sqlite|URL]

Each community has its own channel and weekly sessions due at the same minute; in the second case each
also has a cycle kickoff that same minute, so every channel owes two posts at once. The fake Slack answers
`chat.postMessage` faster than 1 per second per channel with 429 and `Retry-After: 1`. We time the
rituals job alone (every post owed to the outbox), then `tick` (all jobs + delivery), then keep
delivering as the outbox's waits come due, until nothing is owed; then check the fake's transcript:
every owed post delivered exactly once (none lost, none doubled). Figures: total time, time per
post, 429s, p50/p95 of delivery latency after the tick began.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from copbot import migrate  # noqa: E402
from copbot.communities.models import Community, Member, MemberRole, Role, Workspace  # noqa: E402
from copbot.config import Settings  # noqa: E402
from copbot.outbox.models import OutboxMessage, Status  # noqa: E402
from copbot.rituals import jobs as rituals_jobs  # noqa: E402
from copbot.rituals.models import Frequency, RitualSchedule, ScheduleKind, ScheduleStatus  # noqa: E402
from copbot.runtime import Runtime  # noqa: E402
from copbot.scheduling.jobs import JobContext  # noqa: E402
from copbot.scheduling.runner import tick  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SESSION_DAY = date(2027, 3, 8)  # a Monday
STARTS = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # 09:00 UTC
TICK_AT = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)  # the reminder minute (an hour before)
SINCE = datetime(2027, 3, 1, tzinfo=UTC)


def seed(runtime: Runtime, communities: int, kickoff: bool) -> None:
    """Communities, each with a lead and live weekly sessions (and a kickoff) due at TICK_AT."""
    with Session(runtime.engine) as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        for n in range(communities):
            community = Community(
                team_id="T1",
                channel_id=f"C{n:05d}",
                name=f"Guild {n}",
                purpose="Benchmark community purpose.",
                timezone="UTC",
                created_by="U1",
            )
            session.add(community)
            session.flush()
            member = Member(team_id="T1", community_id=community.id, user_id="U1")
            member.roles.append(MemberRole(team_id="T1", role=Role.LEAD))
            session.add(member)
            session.add(
                RitualSchedule(
                    team_id="T1",
                    community_id=community.id,
                    kind=ScheduleKind.SESSIONS,
                    status=ScheduleStatus.ACTIVE,
                    title="Weekly session",
                    frequency=Frequency.WEEKLY,
                    first_date=SESSION_DAY,
                    local_time="09:00",
                    created_by="U1",
                    active_since=SINCE,
                )
            )
            if kickoff:
                session.add(
                    RitualSchedule(
                        team_id="T1",
                        community_id=community.id,
                        kind=ScheduleKind.CYCLE,
                        status=ScheduleStatus.ACTIVE,
                        title="Cycle",
                        kickoff_at=TICK_AT,
                        midpoint_at=datetime(2027, 3, 20, tzinfo=UTC),
                        finale_at=datetime(2027, 4, 20, tzinfo=UTC),
                        created_by="U1",
                        active_since=SINCE,
                    )
                )
        session.commit()


def run(communities: int, kickoff: bool, database: str) -> dict[str, float]:
    fake = FakeSlack().start()
    fake.rate_limit_post_message(1.0)
    with tempfile.TemporaryDirectory() as tmp:
        url = database if database != "sqlite" else f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-bench",
            slack_signing_secret="s",
            slack_api_url=fake.url,
            database_url=url,
        )
        runtime = Runtime(settings)
        seed(runtime, communities, kickoff)
        began = time.monotonic()
        wall_began = datetime.now(UTC)
        rituals_jobs.run(JobContext(deps=runtime.deps, at=TICK_AT))  # the rituals job alone, timed apart
        job_seconds = time.monotonic() - began
        tick(TICK_AT, deps=runtime.deps, app=None, sender=runtime.sender)
        tick_seconds = time.monotonic() - began
        while True:
            due = runtime.sender.next_due()
            if due is None:
                break
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            runtime.sender.drain()
        total = time.monotonic() - began
        with Session(runtime.engine) as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("ritual:%"))).all()
            latencies = sorted((r.delivered_at - wall_began).total_seconds() for r in rows if r.delivered_at)
            undelivered = sum(r.status != Status.DELIVERED for r in rows)
        runtime.engine.dispose()
    posted = Counter(
        c.params["metadata"]["event_payload"]["key"]
        for c in fake.calls_to("chat.postMessage")
        if c.outcome == "ok" and c.params["metadata"]["event_payload"]["key"].startswith("ritual:")
    )
    limited = sum(1 for c in fake.calls_to("chat.postMessage") if c.outcome != "ok")
    fake.stop()
    owed = communities * (2 if kickoff else 1)
    assert len(rows) == owed, (len(rows), owed)
    assert undelivered == 0 and len(posted) == owed, "lost"
    assert max(posted.values()) == 1, "doubled"
    return {
        "posts": owed,
        "job_s": job_seconds,
        "tick_s": tick_seconds,
        "total_s": total,
        "per_post_ms": 1000 * total / owed,
        "429s": limited,
        "p50_s": statistics.median(latencies),
        "p95_s": latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument(
        "--database", default="sqlite", help="sqlite, or a PostgreSQL URL (an empty database)"
    )
    args = parser.parse_args()
    columns = ("posts", "job s", "tick s", "total s", "ms/post", "429s", "p50 s", "p95 s")
    print(f"{'case':<28} " + " ".join(f"{c:>8}" for c in columns))
    for kickoff in (False, True):
        name = "session + kickoff / channel" if kickoff else "one session / channel"
        r = run(args.communities, kickoff, args.database)
        values = (
            r["posts"],
            r["job_s"],
            r["tick_s"],
            r["total_s"],
            r["per_post_ms"],
            r["429s"],
            r["p50_s"],
            r["p95_s"],
        )
        print(f"{name:<28} " + " ".join(f"{v:>8.2f}" if isinstance(v, float) else f"{v:>8}" for v in values))
    print("none lost, none doubled (checked against the fake Slack's transcript)")


if __name__ == "__main__":
    main()
