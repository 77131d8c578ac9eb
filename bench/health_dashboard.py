"""Health latency: the lead's App Home dashboard and `/cop stats` over 5,000 members and ~100k records.

    python bench/health_dashboard.py [--runs 30] [--postgres URL] [--only sqlite|postgresql] [--reuse DIR]

Each engine gets a fresh, migrated database (a temporary SQLite file; a temporary PostgreSQL database on the
server of --postgres). One community holds 5,000 members in 20 teams and a year of activity: 104 sessions
with 50,000 attendances, 12,000 reviews (a third about a session), 2,000 playbooks, 15,000 nominations with
15,000 nominees, 5,000 adoptions, 1,000 anonymous questions and 400 pulse answers (about 100k rows besides
the members). Measured, after a warm-up: the lead's whole App Home as `app_home_opened` builds it (home
data, this month's metrics with fairness, 12-week trends, Block Kit) and `/cop stats week|month|quarter` as
its ack builds it (metrics with fairness, trends, Block Kit). Then each computed from the records (what
a miss costs), and each read after a change ("changed:": the community's counter bumped before each run,
so the stored views are served as they are, marked behind, and a background refresh is asked for), and
last the background refresh of every stored view (which leaves a kept database exact), timed once.

`--reuse DIR` keeps the filled databases (a SQLite file in DIR, a PostgreSQL database named after the
members and scale) and measures the kept ones on later runs instead of filling again (~12 min each at
100k members and 1M records). The measured reads store views, so a reused database is warm after a run.
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

import copbot.models  # noqa: E402, F401
from copbot import migrate  # noqa: E402
from copbot.clock import now  # noqa: E402
from copbot.communities.models import Community, Member, MemberRole, Workspace  # noqa: E402
from copbot.db import create_db_engine  # noqa: E402
from copbot.health import blocks, home, service, snapshots  # noqa: E402
from copbot.people.models import Question  # noqa: E402
from copbot.recognition.models import Nomination, Nominee  # noqa: E402
from copbot.reviews.models import Adoption, Playbook, Review  # noqa: E402
from copbot.rituals.models import Attendance, Occurrence, PulseAnswer, RitualSchedule  # noqa: E402
from tests.databases import create_postgres_database  # noqa: E402

AT = datetime(2026, 6, 17, 12, tzinfo=UTC)
YEAR_AGO = AT - timedelta(days=364)
MEMBERS = 5000
SCALE = 1  # records multiplied by this (--scale)
RNG = random.Random(11)
TARGET_MS = 300


def _user(i: int) -> str:
    return f"U{i:06d}"


def _when() -> datetime:
    return YEAR_AGO + timedelta(seconds=RNG.randrange(364 * 86400))


def _chunks(session: Session, table, rows: list[dict]) -> None:
    for offset in range(0, len(rows), 5000):
        session.execute(insert(table), rows[offset : offset + 5000])
    session.commit()


def _change_counters(engine, *, on: bool) -> None:
    """Switch health's change-counter triggers off for the bulk load (no stored view exists yet to go
    stale) and back on after it, as a restore would; the load is then ~2x faster."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in COUNTED:
                state = "ENABLE" if on else "DISABLE"
                connection.execute(text(f"ALTER TABLE {table} {state} TRIGGER health_bump_{table}"))
        elif on:
            for statement in _saved_triggers:
                connection.execute(text(statement))
        else:
            found = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'health_bump_%'"
                )
            ).all()
            _saved_triggers[:] = [sql for _, sql in found]
            for name, _ in found:
                connection.execute(text(f"DROP TRIGGER {name}"))


COUNTED = ("reviews", "playbooks", "nominations", "people_questions", "members", "ritual_occurrences")
COUNTED += (
    "nomination_nominees",
    "ritual_attendance",
    "ritual_pulse_answers",
    "member_roles",
    "review_adoptions",
)
_saved_triggers: list[str] = []


def _fill(url: str) -> tuple[float, int]:
    migrate.upgrade(url)
    engine = create_db_engine(url)
    _change_counters(engine, on=False)
    started = time.perf_counter()
    ids = {"team_id": "T1", "community_id": 1}
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
                created_by=_user(0),
                created_at=YEAR_AGO - timedelta(days=30),
            )
        )
        session.commit()
        _chunks(
            session,
            Member.__table__,
            [
                {
                    **ids,
                    "id": i + 1,
                    "user_id": _user(i),
                    "department": f"Team {i % 20}",
                    "joined_at": YEAR_AGO - timedelta(days=RNG.randrange(-300, 300)),
                }
                for i in range(MEMBERS)
            ],
        )
        session.execute(
            insert(MemberRole.__table__),
            [{"team_id": "T1", "member_id": 1, "role": "lead", "granted_at": YEAR_AGO}],
        )
        session.add(
            RitualSchedule(
                id=1,
                team_id="T1",
                community_id=1,
                kind="sessions",
                status="active",
                title="Weekly",
                created_by=_user(0),
            )
        )
        session.commit()
        starts = [YEAR_AGO + timedelta(days=3.5 * i) for i in range(104)]
        occurrences = [
            {
                **ids,
                "id": i + 1,
                "schedule_id": 1,
                "kind": "session" if i % 26 else "midpoint",
                "starts_at": s,
                "post_at": s,
                "stage": "done" if s < AT else "planned",
                "facilitator_id": _user(RNG.randrange(MEMBERS)),
                "revision": 0,
                "created_at": s,
            }
            for i, s in enumerate(starts)
        ]
        _chunks(session, Occurrence.__table__, occurrences)
        attendance = []
        for o in range(104):
            for u in RNG.sample(range(MEMBERS), min(MEMBERS, 481 * SCALE) if o < 100 else 0):
                attendance.append(
                    {
                        "team_id": "T1",
                        "occurrence_id": o + 1,
                        "user_id": _user(u),
                        "rsvp": "going",
                        "attended": RNG.random() < 0.9,
                        "signed_up": False,
                        "updated_at": starts[o],
                    }
                )
        _chunks(session, Attendance.__table__, attendance)
        _chunks(
            session,
            PulseAnswer.__table__,
            [
                {
                    "team_id": "T1",
                    "occurrence_id": 1 + 26 * (i % 4),
                    "question": ("value", "safety")[i % 2],
                    "respondent": f"r{i}",
                    "score": RNG.randint(1, 5),
                }
                for i in range(400)
            ],
        )
        reviews = []
        for i in range(12000 * SCALE):
            at = _when()
            reviews.append(
                {
                    **ids,
                    "id": i + 1,
                    "author_id": _user(int(RNG.paretovariate(1.2)) % MEMBERS),
                    "template": "after_action",
                    "title": f"Review {i}",
                    "context": "c",
                    "expected": "",
                    "happened": "h",
                    "went_well": "",
                    "to_change": "",
                    "decisions": "",
                    "action_owners": [],
                    "coauthors": [],
                    "tags": [],
                    "links": [],
                    "related_ids": [],
                    "lessons_text": "",
                    "occurrence_id": RNG.randrange(1, 101) if i % 3 == 0 else None,
                    "revision": 1,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        _chunks(session, Review.__table__, reviews)
        _chunks(
            session,
            Playbook.__table__,
            [
                {
                    **ids,
                    "id": i + 1,
                    "author_id": _user(RNG.randrange(MEMBERS)),
                    "title": f"Playbook {i}",
                    "when_to_use": "w",
                    "steps": "s",
                    "created_at": _when(),
                    "updated_at": AT,
                }
                for i in range(2000 * SCALE)
            ],
        )
        nominations, nominees = [], []
        for i in range(15000 * SCALE):
            giver, receiver = RNG.randrange(MEMBERS), RNG.randrange(MEMBERS)
            nominations.append(
                {
                    **ids,
                    "id": i + 1,
                    "nominator_id": _user(giver),
                    "value": "Craft",
                    "action": "a",
                    "impact": "i",
                    "public": True,
                    "posted": True,
                    "created_at": _when(),
                }
            )
            nominees.append({"team_id": "T1", "nomination_id": i + 1, "user_id": _user(receiver)})
        _chunks(session, Nomination.__table__, nominations)
        _chunks(session, Nominee.__table__, nominees)
        adoptions = {
            (RNG.choice(("review", "playbook")), RNG.randrange(1, 2000 * SCALE + 1), RNG.randrange(MEMBERS))
            for _ in range(5000 * SCALE)
        }
        _chunks(
            session,
            Adoption.__table__,
            [
                {"team_id": "T1", "item_kind": k, "item_id": item, "user_id": _user(u), "created_at": _when()}
                for k, item, u in adoptions
            ],
        )
        _chunks(
            session,
            Question.__table__,
            [
                {**ids, "author_hash": f"{i:064d}", "text": "q", "status": "open", "created_at": _when()}
                for i in range(1000 * SCALE)
            ],
        )
        records = (
            len(occurrences)
            + len(attendance)
            + 400
            + len(reviews)
            + 2000 * SCALE
            + 2 * len(nominations)
            + len(adoptions)
            + 1000 * SCALE
        )
    _change_counters(engine, on=True)
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started, records


def _dashboard(*, behind: bool = False) -> Callable[[Session], None]:
    """The lead's App Home as `app_home_opened` builds it; `behind`: after a change (stored views served
    as they are, marked behind, a background refresh asked for)."""

    def run(session: Session) -> None:
        view = blocks.home_view(home.home(session, team_id="T1", user_id=_user(0), at=AT))
        assert len(view["blocks"]) <= 100 and "Last 12 weeks" in str(view)
        assert ("Counted" in str(view)) == behind

    return run


def _stats(kind: str, *, behind: bool = False) -> Callable[[Session], None]:
    """`/cop stats KIND` as a lead gets it, from the stored view as copbot serves it."""

    def run(session: Session) -> None:
        community = session.get(Community, 1)
        metrics = snapshots.metrics(session, community=community, kind=kind, at=AT, fairness=True)
        weeks = snapshots.trends(session, community=community, at=AT)
        assert metrics.behind == behind
        blocks.stats_message(community, metrics.value, weeks.value, as_of=metrics.as_of or weeks.as_of)

    return run


def _stats_computed(session: Session) -> None:
    """`/cop stats quarter` computed from the records (what a miss costs)."""
    community = session.get(Community, 1)
    metrics = service.metrics(session, community=community, kind="quarter", at=AT, fairness=True)
    blocks.stats_message(community, metrics, service.trends(session, community=community, at=AT))


def _a_change(session: Session) -> None:
    """What a write to a counted table does to the community's counter; the stored views' refresh marks
    are cleared so every measured read is the first after a change (it also marks the view)."""
    session.execute(text("UPDATE health_versions SET version = version + 1 WHERE community_id = 1"))
    session.execute(  # the fill ran without the triggers: the counter's row may not exist yet
        text(
            "INSERT INTO health_versions (community_id, version) SELECT 1, 1"
            " WHERE NOT EXISTS (SELECT 1 FROM health_versions WHERE community_id = 1)"
        )
    )
    session.execute(
        text(
            "UPDATE health_snapshots SET refresh_after = NULL, refreshing_until = NULL WHERE community_id = 1"
        )
    )


def _background_refresh(url: str) -> tuple[int, float]:
    """What the `health-refresh-views` job does with marked views: claim, recompute and store each (the
    leads' App Home re-publish left out), for every stored view (the changed reads left them all behind).
    Returns the views refreshed and the seconds."""
    engine = create_db_engine(url)
    with engine.begin() as connection:  # every stored view, so a kept database is left exact for the next run
        connection.execute(text("UPDATE health_snapshots SET refresh_after = computed_at"))
    started, done = time.perf_counter(), 0
    claim_at = now() + snapshots.DEBOUNCE  # the marks were made at the real clock; the bench reads at AT
    with Session(engine) as session:
        due = snapshots.due_refreshes(session, at=claim_at)
    for view_id in due:
        with Session(engine) as session:
            claimed = snapshots.claim_refresh(session, view_id=view_id, at=claim_at)
            session.commit()
        assert claimed is not None
        with Session(engine) as session:
            done += snapshots.refresh(session, view_id=view_id, claimed_until=claimed, at=AT) is not None
            session.commit()
    engine.dispose()
    return done, time.perf_counter() - started


def _dashboard_computed(session: Session) -> None:
    """The lead's dashboard computed from the records (what every open cost before stored views)."""
    community = session.get(Community, 1)
    service.metrics(session, community=community, kind="month", at=AT, fairness=True)
    service.trends(session, community=community, at=AT)


def _measure(
    url: str, work: Callable[[Session], None], runs: int, before: Callable[[Session], None] | None = None
) -> tuple[float, float, float]:
    """Wall p50, wall p95 and the median of this process's CPU time (ms): on a machine shared with
    other work the wall clock also counts waiting for a core, the CPU time does not. `before` runs,
    committed and not timed, before each run."""
    engine = create_db_engine(url)
    timings, cpu = [], []
    for i in range(runs + 3):
        if before is not None:
            with Session(engine) as session:
                before(session)
                session.commit()
        with Session(engine) as session:
            started, started_cpu = time.perf_counter(), time.process_time()
            work(session)
            session.commit()  # a stored view computed on a miss is kept, as the handlers' sessions do
            if i >= 3:  # the first runs warm the caches
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
    engine.dispose()
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], statistics.median(cpu)


def _postgres_database(base: str) -> tuple[str, Callable[[], None]]:
    return create_postgres_database(base, prefix="copbot_bench")


def _kept_database(engine_name: str, folder: str, postgres: str) -> tuple[str, Callable[[], None]]:
    """The database `--reuse` keeps for this engine, members and scale (made empty when missing)."""
    name = f"copbot_bench_{MEMBERS}_{SCALE}"
    if engine_name == "sqlite":
        Path(folder).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(folder).resolve()}/{name}.db", lambda: None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(postgres)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), lambda: None


def _filled_records(url: str) -> int | None:
    """How many records a kept database was filled with, or None when it was not filled (to the end)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT records FROM bench_filled")).scalar()
    except Exception:  # no such table: never filled, or the fill was interrupted
        return None
    finally:
        engine.dispose()


def _mark_filled(url: str, records: int) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bench_filled (records INTEGER)"))
        connection.execute(text("DELETE FROM bench_filled"))
        connection.execute(text("INSERT INTO bench_filled (records) VALUES (:r)"), {"r": records})
    engine.dispose()


def main() -> None:
    global MEMBERS, SCALE, TARGET_MS  # set from the command line; the fill reads them
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--scale", type=int, default=1, help="multiply every record count (10: ~1M records)")
    parser.add_argument("--target", type=float, default=TARGET_MS, help="p95 target in ms")
    parser.add_argument("--reuse", help="keep the filled databases (SQLite files in this folder); reuse them")
    args = parser.parse_args()
    MEMBERS, SCALE, TARGET_MS = args.members, args.scale, args.target
    work = {
        "dashboard (App Home)": _dashboard(),
        **{f"/cop stats {k}": _stats(k) for k in ("week", "month", "quarter")},
        "computed: dashboard": _dashboard_computed,
        "computed: stats quarter": _stats_computed,
        "changed: dashboard": _dashboard(behind=True),
        "changed: stats quarter": _stats("quarter", behind=True),
    }
    print(
        f"{'engine':<11} {'what':<24} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms':>7} {'p95/target':>10}",
        f" target p95 < {TARGET_MS} ms",
    )
    for engine_name in ("sqlite", "postgresql"):
        if args.only and engine_name != args.only:
            continue
        if args.reuse:
            url, cleanup = _kept_database(engine_name, args.reuse, args.postgres)
        elif engine_name == "sqlite":
            folder = tempfile.TemporaryDirectory()
            url, cleanup = f"sqlite:///{folder.name}/bench.db", folder.cleanup
        else:
            url, cleanup = _postgres_database(args.postgres)
        try:
            kept = _filled_records(url) if args.reuse else None
            if kept is None:
                fill, records = _fill(url)
                _mark_filled(url, records)
                print(
                    f"{engine_name:<11} filled {MEMBERS} members and {records} records in {fill:.1f} s",
                    flush=True,
                )
            else:
                migrate.upgrade(url)  # main may have moved on since the fill
                print(f"{engine_name:<11} reused {MEMBERS} members and {kept} records", flush=True)
            _background_refresh(url)  # a kept database's views exact, whatever an earlier run left
            for label, run in work.items():
                runs = max(3, args.runs // 5) if label.startswith("computed") else args.runs
                before = _a_change if label.startswith("changed") else None
                p50, p95, cpu = _measure(url, run, runs, before)
                verdict = "ok" if p95 < TARGET_MS else "OVER"
                print(
                    f"{engine_name:<11} {label:<24} {p50:>7.1f} {p95:>7.1f} {cpu:>7.1f}",
                    f"{p95 / TARGET_MS:>10.2f}  {verdict}",
                    flush=True,
                )
            views, seconds = _background_refresh(url)  # leaves the kept database's views exact again
            print(
                f"{engine_name:<11} background refresh of {views} views: {seconds * 1000:.0f} ms", flush=True
            )
        finally:
            cleanup()


if __name__ == "__main__":
    main()
