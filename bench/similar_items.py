"""The similar-items look-up at 100k items: p50/p95 and CPU per look-up, SQLite and PostgreSQL.

    python bench/similar_items.py fill [--items 100000] [--postgres URL]   # once; the databases are kept
    python bench/similar_items.py measure [--lookups 300] [--postgres URL] [--only sqlite|postgresql]

The fill makes a migrated SQLite file (copbot-bench/similar_items.db in the temporary directory) and
a PostgreSQL database (copbot_bench_similar on the server of --postgres) holding 100k reviews in 20
communities of one workspace, inserted in bulk through the ORM's table so the migration's triggers fill
the search index,
then VACUUM ANALYZE on PostgreSQL (what autovacuum does after a bulk load; the look-up reads the word
statistics it leaves). Text is drawn from a 5,000-word vocabulary with Zipf-like frequencies (~200 words
per review), the pessimistic case: even its rarest words are in hundreds of reviews, where a real
library's jargon and names are in a handful.

The measured call is what a posted review runs: `similar.similar_items` (the review's rarest words,
then the three best items of the other communities) plus `similar.found` (their channels and
posts), for stored reviews of community 1 taken as the new review. `cpu ms` is this process's CPU
time per look-up (on PostgreSQL the server's work is not in it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.review_corpus import Corpus  # noqa: E402

import copbot.models  # noqa: E402, F401
from copbot import migrate  # noqa: E402
from copbot.clock import now  # noqa: E402
from copbot.communities.models import Community, Workspace  # noqa: E402
from copbot.db import create_db_engine  # noqa: E402
from copbot.reviews import similar  # noqa: E402
from copbot.reviews.models import Review  # noqa: E402

DATA = Path(tempfile.gettempdir()) / "copbot-bench"
SQLITE_URL = f"sqlite:///{DATA / 'similar_items.db'}"
PG_DATABASE = "copbot_bench_similar"
COMMUNITIES = 20
TARGET_MS = 30.0
CORPUS = Corpus(16)
RNG = CORPUS.rng


def _postgres_url(base: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + PG_DATABASE


def _create_postgres(base: str) -> str:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"'))
        connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return _postgres_url(base)


def fill(url: str, items: int) -> float:
    """Migrate a fresh database and store `items` reviews in COMMUNITIES communities; return seconds."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        for n in range(1, COMMUNITIES + 1):
            session.add(
                Community(
                    id=n, team_id="T1", channel_id=f"C{n}", name=f"Guild {n}", purpose="p", timezone="UTC",
                    created_by="U1",
                )
            )  # fmt: skip
        session.commit()
        for offset in range(0, items, 5000):
            session.execute(
                insert(Review.__table__),
                CORPUS.review_rows(min(5000, items - offset), lambda: RNG.randrange(COMMUNITIES) + 1, now()),
            )
            session.commit()
            print(f"  {offset + 5000} stored", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _new_reviews(engine: Engine, lookups: int) -> list[Review]:
    with Session(engine) as session:
        ids = list(session.scalars(select(Review.id).where(Review.community_id == 1)))
        chosen = RNG.sample(ids, min(lookups, len(ids)))
        reviews = list(session.scalars(select(Review).where(Review.id.in_(chosen))))
        session.expunge_all()
    return reviews


def measure(url: str, lookups: int) -> tuple[float, float, float, float, int]:
    """p50, p95, max (ms), mean CPU ms per look-up, and how many found three items."""
    engine = create_db_engine(url)
    reviews = _new_reviews(engine, lookups + 20)
    timings, cpu, full = [], [], 0
    with Session(engine) as session:
        for n, review in enumerate(reviews):
            started, started_cpu = time.perf_counter(), time.process_time()
            hits = similar.similar_items(
                session, team_id="T1", community_id=1, body=similar.review_text(review)
            )
            found = similar.found(session, team_id="T1", hits=hits)
            elapsed, used = time.perf_counter() - started, time.process_time() - started_cpu
            session.rollback()
            if n < 20:  # warm-up
                continue
            timings.append(elapsed * 1000)
            cpu.append(used * 1000)
            full += len(found) == 3
    engine.dispose()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    return statistics.median(timings), p95, timings[-1], statistics.mean(cpu), full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fill", "measure"])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    engines = [e for e in ("sqlite", "postgresql") if not args.only or e == args.only]
    if args.action == "fill":
        for name in engines:
            if name == "sqlite":
                DATA.mkdir(exist_ok=True)
                (DATA / "similar_items.db").unlink(missing_ok=True)
                url = SQLITE_URL
            else:
                url = _create_postgres(args.postgres)
            print(f"{name}: filled {args.items} items in {fill(url, args.items):.1f} s", flush=True)
        return
    print(
        f"{'engine':<11} {'items':>8} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu ms':>7} {'3 found':>8}"
    )
    for name in engines:
        url = SQLITE_URL if name == "sqlite" else _postgres_url(args.postgres)
        with create_db_engine(url).connect() as connection:
            items = connection.execute(text("SELECT count(*) FROM reviews")).scalar()
        p50, p95, worst, cpu, full = measure(url, args.lookups)
        verdict = "ok" if p95 < TARGET_MS else "OVER"
        print(
            f"{name:<11} {items:>8} {p50:>7.2f} {p95:>7.2f} {worst:>7.2f} {cpu:>7.2f} {full:>8}  "
            f"p95 target {TARGET_MS:.0f} ms: {verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
