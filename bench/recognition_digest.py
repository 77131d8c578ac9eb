"""Building the weekly recognition digest for a community with 10k and 100k nominations.

    python bench/recognition_digest.py [--sizes 10000,100000] [--runs 30] [--postgres URL]

Nominations are spread evenly over two years (about 100 or 1,000 in the digest's week), one or two
nominees each, across six values and 400 members; a second community holds as many again, so the
indexes must do the filtering. Each run gathers the digest of the last week (nominations grouped by
value, first-contribution and first-year milestones, and every extra section: new reviews and
playbooks, lesson of the week) and renders its Block Kit, in one read transaction. Figures are p50/p95
in ms after two warm-up runs, and the p95 as a ratio of the 200 ms target. PostgreSQL: pass a server
URL; a database is created and dropped.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # copbot, and tests.databases

import copbot.models  # noqa: E402,F401
from copbot import migrate  # noqa: E402
from copbot.communities.models import Community, Member, Workspace  # noqa: E402
from copbot.db import create_db_engine  # noqa: E402
from copbot.recognition import digest  # noqa: E402
from copbot.recognition.models import DEFAULT_VALUES, Nomination, Nominee  # noqa: E402
from tests.databases import create_postgres_database  # noqa: E402

END = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
TARGET_MS = 200.0


def populate(engine, size: int) -> int:  # type: ignore[no-untyped-def]
    """Two communities of `size` nominations each; return the measured one's id."""
    rng = random.Random(size)
    with Session(engine) as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        ids = []
        for channel in ("C1", "C2"):
            community = Community(
                team_id="T1",
                channel_id=channel,
                name="Bench Guild",
                purpose="p",
                timezone="Europe/Berlin",
                created_by="U1",
            )
            session.add(community)
            session.flush()
            ids.append(community.id)
            session.execute(
                insert(Member),
                [
                    {
                        "team_id": "T1",
                        "community_id": community.id,
                        "user_id": f"U{i}",
                        "joined_at": END - timedelta(days=rng.randrange(800)),
                    }
                    for i in range(400)
                ],
            )
        session.commit()
        next_id = 1
        for community_id in ids:
            for start in range(0, size, 5000):
                rows, nominees = [], []
                for i in range(start, min(size, start + 5000)):
                    created = END - SPAN * (i / size) - timedelta(seconds=1)
                    rows.append(
                        {
                            "id": next_id,
                            "team_id": "T1",
                            "community_id": community_id,
                            "nominator_id": f"U{rng.randrange(400)}",
                            "value": DEFAULT_VALUES[i % 6],
                            "action": "Paired with me on the flaky deploy pipeline for an hour " * 2,
                            "impact": "We shipped on Friday instead of next week",
                            "public": i % 5 != 0,
                            "posted": True,
                            "created_at": created,
                        }
                    )
                    for k in range(1 + i % 2):
                        nominees.append(
                            {"team_id": "T1", "nomination_id": next_id, "user_id": f"U{(i + k) % 400}"}
                        )
                    next_id += 1
                session.execute(insert(Nomination), rows)
                session.execute(insert(Nominee), nominees)
                session.commit()
    if engine.dialect.name == "postgresql":  # what autovacuum does to a table this size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return ids[0]


def measure(engine, community_id: int, runs: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """p50, p95 (ms) of gathering and rendering the digest, and the week's nomination count."""
    timings, count = [], 0
    for run in range(runs + 2):
        with Session(engine) as session:
            started = time.perf_counter()
            community = session.get(Community, community_id)
            data = digest.gather(session, community=community, end=END)
            digest.digest_message(data)
            if run >= 2:  # two warm-up runs: caches and prepared plans, as in a long-running worker
                timings.append((time.perf_counter() - started) * 1000)
            count = data.nomination_count
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], count


def sqlite_url(size: int) -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='recog-bench-')}/bench-{size}.db"


def postgres_url(base: str) -> tuple[str, Callable[[], None]]:
    return create_postgres_database(base, prefix="recog_bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print("| database | nominations | in the week | p50 (ms) | p95 (ms) | p95 / 200 ms target |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        for kind in ("sqlite", "postgresql"):
            drop = None
            url = sqlite_url(size) if kind == "sqlite" else None
            if kind == "postgresql":
                if not args.postgres:
                    continue
                url, drop = postgres_url(args.postgres)
            try:
                migrate.upgrade(url)
                engine = create_db_engine(url)
                community_id = populate(engine, size)
                p50, p95, count = measure(engine, community_id, args.runs)
                print(f"| {kind} | {size:,} | {count:,} | {p50:.1f} | {p95:.1f} | {p95 / TARGET_MS:.2f} |")
                engine.dispose()
            finally:
                if drop is not None:
                    drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
