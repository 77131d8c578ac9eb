"""The weekly digest: timing in the community's zone across DST, once per week, content, milestones."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.communities.models import Member
from copbot.outbox.models import OutboxMessage
from copbot.recognition import digest, jobs, service
from copbot.recognition.models import Digest, Nomination, Nominee
from copbot.runtime import Runtime
from copbot.scheduling.jobs import JobContext
from copbot.scheduling.runner import tick
from tests.fakes.slack_api import FakeSlack
from tests.unit.recognition.test_recognition_service import form, make_community


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _digest_keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        keys = session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id))
        return [k for k in keys if k.startswith("recognition-digest:")]


def _run(runtime: Runtime, at: datetime) -> None:
    jobs.run_digests(JobContext(deps=runtime.deps, at=at))


def _nominate(
    session: Session, community, at: datetime, nominator: str = "U1", **changes: object
) -> Nomination:
    nomination, _ = service.nominate(
        session, community=community, nominator_id=nominator, form=form(["U2"], **changes), at=at
    )
    session.commit()
    return nomination


def test_digest_follows_local_time_across_the_spring_dst_change(
    runtime: Runtime, session: Session, engine: Engine
) -> None:
    community = make_community(session)  # Europe/Berlin, default Monday 09:00
    _run(runtime, utc(2026, 3, 23, 7, 59))  # 08:59 CET
    assert _digest_keys(engine) == []
    _run(runtime, utc(2026, 3, 23, 8, 0))  # 09:00 CET
    assert _digest_keys(engine) == [f"recognition-digest:{community.id}:2026-03-23"]
    _run(runtime, utc(2026, 3, 30, 6, 59))  # 08:59 CEST, after the change on 29 March
    assert len(_digest_keys(engine)) == 1
    _run(runtime, utc(2026, 3, 30, 7, 0))  # 09:00 CEST
    assert _digest_keys(engine)[-1] == f"recognition-digest:{community.id}:2026-03-30"


def test_digest_in_autumn_and_on_a_chosen_day(runtime: Runtime, session: Session, engine: Engine) -> None:
    community = make_community(session, zone="America/New_York")
    service.change_setting(
        session, community=community, user_id="U1", change=service.parse_setting("digest sunday 18:00")
    )
    session.commit()
    _run(runtime, utc(2026, 11, 1, 22, 59))  # 17:59 EST, the day the clocks went back
    assert _digest_keys(engine) == []
    _run(runtime, utc(2026, 11, 1, 23, 0))  # 18:00 EST
    assert _digest_keys(engine) == [f"recognition-digest:{community.id}:2026-10-26"]  # its week's Monday


def test_one_digest_per_week_however_often_the_job_runs(
    runtime: Runtime, session: Session, engine: Engine, fake_slack: FakeSlack
) -> None:
    community = make_community(session)
    due = utc(2026, 3, 2, 8, 0)
    _run(runtime, due)
    _run(runtime, due + timedelta(minutes=5))
    contenders = [
        threading.Thread(target=_run, args=(runtime, due + timedelta(minutes=10))) for _ in range(4)
    ]
    for thread in contenders:
        thread.start()
    for thread in contenders:
        thread.join()
    tick(due + timedelta(hours=1), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    tick(due + timedelta(hours=1), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert _digest_keys(engine) == [f"recognition-digest:{community.id}:2026-03-02"]
    with Session(engine) as check:
        assert len(check.scalars(select(Digest)).all()) == 1
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert len(posts) == 1


def test_moving_the_digest_day_mid_week_sends_no_second_one(
    runtime: Runtime, session: Session, engine: Engine
) -> None:
    community = make_community(session)
    _run(runtime, utc(2026, 3, 2, 8, 0))  # Monday 09:00
    service.change_setting(
        session, community=community, user_id="U1", change=service.parse_setting("digest friday 16:00")
    )
    session.commit()
    _run(runtime, utc(2026, 3, 6, 15, 0))  # Friday 16:00, same week
    assert len(_digest_keys(engine)) == 1
    _run(runtime, utc(2026, 3, 13, 15, 0))  # next Friday
    assert len(_digest_keys(engine)) == 2


def test_a_digest_missed_by_more_than_its_grace_is_skipped(
    runtime: Runtime, session: Session, engine: Engine
) -> None:
    make_community(session)
    _run(runtime, utc(2026, 3, 2, 8, 0) + jobs.DIGEST_GRACE)
    assert _digest_keys(engine) == []


def test_digest_groups_the_weeks_public_nominations_by_value(
    runtime: Runtime, session: Session, engine: Engine, fake_slack: FakeSlack
) -> None:
    community = make_community(session)
    due = utc(2026, 3, 9, 8, 0)
    _nominate(
        session, community, due - timedelta(days=8), action="Old news from the week before, long enough"
    )
    _nominate(
        session, community, due - timedelta(days=3), value="Curiosity", action="Asked why the cache misses"
    )
    _nominate(session, community, due - timedelta(days=2), nominator="U3")
    _nominate(session, community, due - timedelta(days=1), public=False, action="A private thanks, not shown")
    _run(runtime, due)
    runtime.sender.drain()
    (post,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    text = json.dumps(post.params["blocks"])
    assert "This week in Incident Guild" in text and "2 recognitions this week" in text
    assert text.index("*Curiosity* (1)") < text.index("*Mentoring* (1)")  # the community's order of values
    assert "Asked why the cache misses" in text and "<@U3>" in text
    assert "Old news" not in text and "A private thanks" not in text
    # U3 recognised someone for the first time; U1 had done so the week before.
    assert "<@U3> made their first contribution" in text and "<@U1> made their first" not in text
    with Session(engine) as check:
        row = check.scalars(select(Digest)).one()
        assert (row.nominations, row.quiet) == (2, False)


def test_a_quiet_week_gets_a_short_nudge(runtime: Runtime, session: Session, fake_slack: FakeSlack) -> None:
    make_community(session)
    _run(runtime, utc(2026, 3, 9, 8, 0))
    runtime.sender.drain()
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert "A quiet week in *Incident Guild*" in json.dumps(post.params["blocks"])
    assert "/nominate" in json.dumps(post.params["blocks"])


def test_first_year_milestone(session: Session) -> None:
    community = make_community(session)
    end = utc(2026, 3, 9, 8, 0)
    session.add_all(
        [
            Member(team_id="T1", community_id=community.id, user_id="U7", joined_at=utc(2025, 3, 5, 10, 0)),
            Member(team_id="T1", community_id=community.id, user_id="U8", joined_at=utc(2025, 2, 20, 10, 0)),
        ]
    )
    session.commit()
    data = digest.gather(session, community=community, end=end)
    assert data.milestones == [":birthday: <@U7> has been a member for a year"]
    assert not data.quiet


def test_digest_stays_within_slack_limits_for_a_busy_week(session: Session) -> None:
    community = make_community(session)
    end = utc(2026, 3, 9, 8, 0)
    for i in range(60):
        session.add(
            Nomination(
                team_id="T1",
                community_id=community.id,
                nominator_id=f"U{100 + i}",
                value=["Curiosity", "Mentoring", "Craft"][i % 3],
                action="x" * 1500,
                impact="<!channel> & more " * 50,
                public=True,
                posted=True,
                created_at=end - timedelta(hours=i + 1),
                nominees=[Nominee(team_id="T1", user_id="U2")],
            )
        )
    session.commit()
    message = digest.digest_message(digest.gather(session, community=community, end=end))
    text = json.dumps(message["blocks"])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "*Curiosity* (20)" in text
