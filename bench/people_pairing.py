"""Onboarding cost: one welcome (membership, mentor pairing, two DMs owed) as the mentor pool grows.

    python bench/people_pairing.py [--newcomers 300] [--mentors 5,50,200]

Runs the people service against a fresh SQLite file (WAL, as copbot runs it). For each pool size it
welcomes N newcomers one transaction each and prints p50/p95 in ms, and p95 as a ratio of the same
run's plain `/cop join` transaction (membership only), so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copbot import migrate
from copbot.communities import service as communities
from copbot.communities.models import Role
from copbot.db import create_db_engine, session_factory, session_scope
from copbot.people import flows, service

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def run(newcomers: int, mentors: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Welcome `newcomers` people with `mentors` opted-in mentors; return (onboard, join) p50/p95 in ms."""
    path = Path(tempfile.mkdtemp()) / "bench.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    form = communities.CommunityForm.parse(
        {"name": "Bench", "purpose": "Measure onboarding.", "timezone": "UTC"}
    )
    with session_scope(sessions) as session:
        communities.save_community(session, team_id="T1", channel_id="C1", user_id="ULEAD", form=form)
        for i in range(mentors):
            user = f"UM{i:04d}"
            communities.join(session, team_id="T1", channel_id="C1", user_id=user)
            service.opt_in(session, team_id="T1", channel_id="C1", user_id=user, role=Role.MENTOR, on=True)
            service.record_slack_profile(
                session,
                team_id="T1",
                user_id=user,
                is_bot=False,
                tz_offset=(i % 24 - 11) * 3600,
                profile_team=f"team{i % 7}",
                at=AT,
            )
    onboard, join = [], []
    for i in range(newcomers):
        start = time.perf_counter()
        with session_scope(sessions) as session:
            flows.welcome(
                session, team_id="T1", channel_id="C1", user_id=f"UN{i:05d}", at=AT + timedelta(minutes=i)
            )
        onboard.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with session_scope(sessions) as session:
            communities.join(session, team_id="T1", channel_id="C1", user_id=f"UJ{i:05d}")
        join.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    return _percentiles(onboard), _percentiles(join)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--newcomers", type=int, default=300)
    parser.add_argument("--mentors", default="5,50,200")
    args = parser.parse_args()
    print("mentors  onboard p50/p95 ms  join p50/p95 ms  onboard p95 / join p95")
    for mentors in (int(m) for m in args.mentors.split(",")):
        (op50, op95), (jp50, jp95) = run(args.newcomers, mentors)
        print(f"{mentors:7d}  {op50:6.2f} / {op95:6.2f}    {jp50:5.2f} / {jp95:5.2f}    {op95 / jp95:5.1f}x")


if __name__ == "__main__":
    main()
