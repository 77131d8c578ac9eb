"""Search latency of the practice library: p50/p95 over 10k and 100k stored reviews, SQLite and PostgreSQL.

    python bench/reviews_search.py [--sizes 10000 100000] [--queries 300] [--postgres URL]

Each size gets a fresh, migrated database (a temporary SQLite file; a temporary PostgreSQL database on
the server of --postgres, default the local one). Reviews are inserted in bulk through the ORM's table
(so the migration's triggers fill the index, as in production), with text drawn from a 5,000-word
vocabulary with Zipf-like frequencies, in one workspace. The measured call is what `/cop search` runs
before rendering: `search.search` (rank, snippets, one page of 5) plus `search.resolve` (items, lessons,
permalinks). Queries mix very common, mid and rare words, and two- and three-word queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # copbot, and tests.databases

from bench.review_corpus import VOCABULARY, Corpus  # noqa: E402

import copbot.models  # noqa: E402, F401
from copbot import migrate  # noqa: E402
from copbot.clock import now  # noqa: E402
from copbot.communities.models import Community, Workspace  # noqa: E402
from copbot.db import create_db_engine  # noqa: E402
from copbot.reviews import search  # noqa: E402
from copbot.reviews.models import Review  # noqa: E402
from tests.databases import create_postgres_database  # noqa: E402

CORPUS = Corpus(7)
RNG, WORDS = CORPUS.rng, CORPUS.words


def _queries(n: int) -> list[str]:
    kinds = [
        lambda: WORDS[RNG.randrange(10)],  # very common
        lambda: WORDS[RNG.randrange(100, 1000)],  # mid
        lambda: WORDS[RNG.randrange(2000, VOCABULARY)],  # rare
        lambda: f"{WORDS[RNG.randrange(50)]} {WORDS[RNG.randrange(50, 500)]}",  # two words
        lambda: " ".join(WORDS[RNG.randrange(30)] for _ in range(3)),  # three common words
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def _fill(url: str, size: int) -> float:
    migrate.upgrade(url)
    engine = create_db_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        session.add(
            Community(
                id=1,
                team_id="T1",
                channel_id="C1",
                name="Bench",
                purpose="p",
                timezone="UTC",
                created_by="U1",
            )
        )
        session.commit()
        for offset in range(0, size, 5000):
            session.execute(
                insert(Review.__table__), CORPUS.review_rows(min(5000, size - offset), lambda: 1, now())
            )
            session.commit()
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _measure(url: str, queries: list[str]) -> tuple[float, float, float]:
    engine = create_db_engine(url)
    timings = []
    with Session(engine) as session:
        for query in queries[:20]:  # warm the caches
            search.search(session, team_id="T1", query=query)
        for query in queries:
            started = time.perf_counter()
            page = search.search(session, team_id="T1", query=query, per_page=5)
            search.resolve(session, team_id="T1", page=page)
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
    engine.dispose()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], timings[-1]


def _postgres_database(base: str) -> tuple[str, Callable[[], None]]:
    return create_postgres_database(base, prefix="copbot_bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    queries = _queries(args.queries)
    print(
        f"{'engine':<11} {'reviews':>8} {'fill s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}",
        " target p95 < 50 ms",
    )
    for size in args.sizes:
        for engine_name in ("sqlite", "postgresql"):
            if args.only and engine_name != args.only:
                continue
            if engine_name == "sqlite":
                folder = tempfile.TemporaryDirectory()
                url, cleanup = f"sqlite:///{folder.name}/bench.db", folder.cleanup
            else:
                url, cleanup = _postgres_database(args.postgres)
            try:
                fill = _fill(url, size)
                p50, p95, worst = _measure(url, queries)
            finally:
                cleanup()
            verdict = "ok" if p95 < 50 else "OVER"
            print(
                f"{engine_name:<11} {size:>8} {fill:>7.1f} {p50:>7.2f} {p95:>7.2f} {worst:>7.2f}  {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
