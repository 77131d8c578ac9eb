"""The outbox: stored first, delivered once, through every failure Slack can answer with."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from copbot.blockkit import message, text_message
from copbot.db import session_factory, session_scope
from copbot.leases import LeaseKeeper
from copbot.outbox import service as outbox
from copbot.outbox.models import OutboxMessage, Status
from copbot.outbox.sender import METADATA_EVENT, OutboxSender, Report, renew_claims
from copbot.tokens import SingleWorkspaceTokens
from tests.fakes.slack_api import FakeSlack

# Slack (and slack-sdk's View model) wants 1 to 100 blocks in a view.
HOME_VIEW = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}]}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        # a minute ahead of the real clock, so that rows made during the test are due
        self.start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(engine: Engine, fake_slack: FakeSlack, clock: Clock) -> OutboxSender:
    return OutboxSender(
        session_factory(engine),
        SingleWorkspaceTokens("xoxb-test"),
        api_url=fake_slack.url,
        timeout=2,
        clock=clock,
    )


def _post(engine: Engine, key: str = "k1", channel: str = "C1", at: datetime | None = None) -> None:
    with session_scope(session_factory(engine)) as session:
        outbox.enqueue(
            session,
            team_id="T1",
            key=key,
            kind=outbox.Kind.POST,
            channel_id=channel,
            payload={"text": "hello", "blocks": None, "thread_ts": None},
            not_before=at,
        )


def _row(engine: Engine, key: str = "k1") -> OutboxMessage:
    with Session(engine) as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_same_key_is_owed_once(engine: Engine) -> None:
    with session_scope(session_factory(engine)) as session:
        first = outbox.post(session, team_id="T1", channel_id="C1", key="digest:1", message=text_message("a"))
        second = outbox.post(
            session, team_id="T1", channel_id="C1", key="digest:1", message=text_message("b")
        )
        other_team = outbox.post(
            session, team_id="T2", channel_id="C1", key="digest:1", message=text_message("c")
        )
    assert (first, second, other_team) == (True, False, True)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_post_is_delivered_with_its_key_in_metadata(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack
) -> None:
    _post(engine)
    report = sender.deliver_due()
    assert report.delivered == 1
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "C1" and call.token == "xoxb-test"
    assert call.params["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"key": "k1"}}
    row = _row(engine)
    assert row.status == Status.DELIVERED and row.sent_ts and row.sent_channel_id == "C1"
    assert sender.deliver_due().attempted == 0  # nothing is sent twice


def test_rate_limit_waits_retry_after_without_sleeping(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine, "k1")
    _post(engine, "k2")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    report = sender.deliver_due()
    assert report.retried == 2 and report.delivered == 0  # the second waits with the first: same channel
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert _row(engine, "k1").next_attempt_at == clock.start + timedelta(seconds=7)
    clock.advance(6)
    assert sender.deliver_due().attempted == 0
    clock.advance(1)
    assert sender.deliver_due().delivered == 2


def test_server_errors_back_off_then_deliver(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine)
    fake_slack.fail_next("chat.postMessage", status=503, times=2)
    assert sender.deliver_due().retried == 1
    first_retry = _row(engine).next_attempt_at
    assert first_retry > clock.start
    clock.now = first_retry
    assert sender.deliver_due().retried == 1
    second_retry = _row(engine).next_attempt_at
    assert second_retry - first_retry > first_retry - clock.start - timedelta(seconds=1)  # backs off
    clock.now = second_retry
    assert sender.deliver_due().delivered == 1
    assert _row(engine).attempts == 3


def test_not_in_channel_joins_then_posts(engine: Engine, sender: OutboxSender, fake_slack: FakeSlack) -> None:
    _post(engine)
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    assert sender.deliver_due().delivered == 1
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == [
        "chat.postMessage",
        "conversations.join",
        "chat.postMessage",
    ]


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "invalid_blocks"])
def test_permanent_errors_are_recorded_and_reported(
    engine: Engine, fake_slack: FakeSlack, clock: Clock, error: str
) -> None:
    seen: list[tuple[str, str]] = []
    sender = OutboxSender(
        session_factory(engine),
        SingleWorkspaceTokens("xoxb-test"),
        api_url=fake_slack.url,
        clock=clock,
        failure_hooks=[lambda session, message, code: seen.append((message.key, code))],
    )
    _post(engine)
    fake_slack.fail_next("chat.postMessage", error=error)
    assert sender.deliver_due().failed == 1
    row = _row(engine)
    assert (row.status, row.last_error) == (Status.FAILED, error)
    assert seen == [("k1", error)]
    clock.advance(3600)
    assert sender.deliver_due().attempted == 0


def test_lost_response_is_reconciled_not_reposted(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine)
    fake_slack.fail_next("chat.postMessage", drop=True, apply=True)  # Slack posted it; the answer was lost
    assert sender.deliver_due().retried == 1
    assert _row(engine).status == Status.UNCERTAIN
    clock.now = _row(engine).next_attempt_at
    assert sender.deliver_due().delivered == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("conversations.history")) == 1
    history = fake_slack.calls_to("conversations.history")[0]
    assert str(history.params["include_all_metadata"]).lower() in ("true", "1")
    assert _row(engine).sent_ts is not None


def _until_settled(engine: Engine, sender: OutboxSender, clock: Clock, key: str = "k1") -> list[datetime]:
    """Run the sender at each instant the row asks for until it is delivered; return those instants."""
    instants = []
    while _row(engine, key).status not in (Status.DELIVERED, Status.FAILED):
        clock.now = max(clock.now, _row(engine, key).next_attempt_at)
        instants.append(clock.now)
        sender.deliver_due()
        assert len(instants) < 50
    return instants


def test_lost_request_is_sent_again_once_after_the_reconciliation_window(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine)
    fake_slack.fail_next("chat.postMessage", drop=True)  # never reached Slack
    sender.deliver_due()
    left = _row(engine).in_flight_at
    assert left == clock.start
    instants = _until_settled(engine, sender, clock)
    assert [c.outcome for c in fake_slack.calls_to("chat.postMessage")] == ["dropped", "ok"]
    lookups = fake_slack.calls_to("conversations.history")
    assert len(lookups) >= 4  # looked up again and again, backing off, before sending again
    gaps = [later - earlier for earlier, later in itertools.pairwise(instants)]
    assert gaps == sorted(gaps)
    assert instants[-1] - left >= timedelta(seconds=60)  # the window, longer than the 2 s timeout
    assert _row(engine).attempts == 2


def test_late_post_is_found_by_a_later_lookup_never_doubled(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    """Slack is slow but succeeds: the answer never comes, the post shows up 8 s later (issue #13)."""
    fake_slack.ts_clock = lambda: clock.now.timestamp()
    _post(engine)
    fake_slack.post_late(8)
    sender.deliver_due()
    assert _row(engine).status == Status.UNCERTAIN
    _until_settled(engine, sender, clock)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("conversations.history")) >= 3  # not found at first, then found
    assert len(fake_slack.messages_in("C1")) == 1
    row = _row(engine)
    assert row.status == Status.DELIVERED and row.sent_ts == fake_slack.messages_in("C1")[0]["ts"]
    assert clock.now - clock.start >= timedelta(seconds=8)


def test_failed_lookups_keep_the_post_uncertain(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.ts_clock = lambda: clock.now.timestamp()
    _post(engine)
    fake_slack.post_late(5)
    fake_slack.fail_next("conversations.history", status=429, retry_after=3)
    fake_slack.fail_next("conversations.history", status=503)
    _until_settled(engine, sender, clock)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.messages_in("C1")) == 1


def test_crash_mid_send_is_reconciled_after_the_lease(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine)
    fake_slack.add_message(
        "C1", "hello", metadata={"event_type": METADATA_EVENT, "event_payload": {"key": "k1"}}
    )
    with session_scope(session_factory(engine)) as session:  # a sender claimed it, posted it, died
        row = session.scalars(select(OutboxMessage)).one()
        row.status, row.in_flight_at = Status.UNCERTAIN, clock.start
        row.claimed_by, row.claimed_until = "dead-process", clock.start + timedelta(seconds=10)
    assert sender.deliver_due().attempted == 0  # the lease still holds
    clock.advance(11)
    assert sender.deliver_due().delivered == 1
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_live_sender_keeps_its_claims_and_a_dead_ones_lapse(
    engine: Engine, fake_slack: FakeSlack, clock: Clock
) -> None:
    live, other = (
        OutboxSender(
            session_factory(engine),
            SingleWorkspaceTokens("xoxb-test"),
            api_url=fake_slack.url,
            clock=clock,
            lease_seconds=10,
            identity=name,
        )
        for name in ("live", "other")
    )
    _post(engine)
    assert live._claim(10) and other._claim(10) == []
    keeper = LeaseKeeper(session_factory(engine), "live", 10, [renew_claims], clock=clock)
    for _ in range(5):  # the live process renews every few seconds while it works
        clock.advance(4)
        assert keeper.renew() == 1
        assert other.deliver_due().attempted == 0
    clock.advance(11)  # then it dies: nothing renews the claim, which lapses after one lease
    assert keeper.renew() == 0
    assert other.deliver_due().delivered == 1
    assert live.deliver_due().attempted == 0 and len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_sender_that_lost_its_lease_does_not_send(
    engine: Engine, fake_slack: FakeSlack, clock: Clock
) -> None:
    slow, fast = (
        OutboxSender(
            session_factory(engine),
            SingleWorkspaceTokens("xoxb-test"),
            api_url=fake_slack.url,
            clock=clock,
            identity=name,
        )
        for name in ("slow", "fast")
    )
    _post(engine)
    (claimed,) = slow._claim(10)
    clock.advance(11)  # the slow sender stalled past its lease; another takes the row and delivers it
    assert fast.deliver_due().delivered == 1
    report = Report()
    slow._deliver_one(claimed, report)
    assert report.attempted == 0 and len(fake_slack.calls_to("chat.postMessage")) == 1


def test_an_orderly_stop_hands_claims_back(engine: Engine, sender: OutboxSender, clock: Clock) -> None:
    _post(engine)
    assert sender._claim(10)
    assert sender.release_claims() == 1
    assert _row(engine).claimed_until is None


def test_direct_message_opens_the_conversation(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack
) -> None:
    with session_scope(session_factory(engine)) as session:
        outbox.direct_message(session, team_id="T1", user_id="U7", key="dm:1", message=text_message("hi"))
    assert sender.deliver_due().delivered == 1
    (opened,) = fake_slack.calls_to("conversations.open")
    assert opened.params["users"] == "U7"
    assert fake_slack.calls_to("chat.postMessage")[0].params["channel"] == "DU7"


def test_update_waits_for_the_original_then_edits_it(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine, "post:1")
    fake_slack.fail_next("chat.postMessage", status=500)
    with session_scope(session_factory(engine)) as session:
        outbox.update(session, team_id="T1", key="post:1:v2", of_key="post:1", message=text_message("edited"))
    sender.deliver_due()
    assert fake_slack.calls_to("chat.update") == []
    clock.advance(3600)
    sender.drain()
    (update,) = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == _row(engine, "post:1").sent_ts and update.params["text"] == "edited"


def test_home_view_is_published(engine: Engine, sender: OutboxSender, fake_slack: FakeSlack) -> None:
    view = HOME_VIEW
    with session_scope(session_factory(engine)) as session:
        outbox.publish_home(session, team_id="T1", user_id="U3", key="home:U3:1", view=view)
    assert sender.deliver_due().delivered == 1
    (call,) = fake_slack.calls_to("views.publish")
    assert call.params["user_id"] == "U3" and call.params["view"] == view


def test_workspace_without_token_fails_clearly(engine: Engine, fake_slack: FakeSlack, clock: Clock) -> None:
    sender = OutboxSender(
        session_factory(engine), SingleWorkspaceTokens(None), api_url=fake_slack.url, clock=clock
    )
    _post(engine)
    assert sender.deliver_due().failed == 1
    assert _row(engine).last_error == "no_token_for_workspace"
    assert fake_slack.calls == []


def test_gives_up_after_an_hour_of_server_errors_not_sooner(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine)
    fake_slack.fail_next("chat.postMessage", status=500, times=100)
    passes = 0
    while _row(engine).status != Status.FAILED:
        clock.now = _row(engine).next_attempt_at
        sender.deliver_due()
        passes += 1
    assert passes == 15
    assert timedelta(minutes=45) < clock.now - clock.start < timedelta(minutes=120)
    assert _row(engine).last_error == "internal_error"


def test_home_view_retries_count_too(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    with session_scope(session_factory(engine)) as session:
        outbox.publish_home(session, team_id="T1", user_id="U3", key="home:U3:2", view=HOME_VIEW)
    fake_slack.fail_next("views.publish", status=503)
    sender.deliver_due()
    row = _row(engine, "home:U3:2")
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    clock.now = row.next_attempt_at
    assert sender.deliver_due().delivered == 1


def test_two_senders_never_claim_the_same_message(
    engine: Engine, fake_slack: FakeSlack, clock: Clock
) -> None:
    for n in range(60):
        _post(engine, f"k{n}", channel=f"C{n}")
    senders = [
        OutboxSender(
            session_factory(engine), SingleWorkspaceTokens("xoxb-test"), api_url=fake_slack.url, clock=clock
        )
        for _ in range(2)
    ]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda sender: sender._claim(60), senders)
    assert {m.id for m in first}.isdisjoint(m.id for m in second)
    assert len(first) + len(second) == 60


def test_a_pass_posts_and_edits_in_one_batch_and_merges_edits_of_one_post(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack
) -> None:
    _post(engine, "post:1")
    with session_scope(session_factory(engine)) as session:
        for n in range(1, 4):  # three counts of an RSVP post, owed before any was sent
            edit = text_message(f"{n} going")
            outbox.update(session, team_id="T1", key=f"post:1:v{n}", of_key="post:1", message=edit)
    report = sender.deliver_due()
    assert report.claimed == 4 and report.delivered == 4
    (edit,) = fake_slack.calls_to("chat.update")  # the original's ts came from this very pass
    assert edit.params["text"] == "3 going" and edit.params["ts"] == _row(engine, "post:1").sent_ts
    assert {_row(engine, f"post:1:v{n}").status for n in range(1, 4)} == {Status.DELIVERED}
    assert sender.deliver_due().attempted == 0


def test_edits_with_different_fields_are_not_merged(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack
) -> None:
    _post(engine, "post:1")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "1 going"}}]
    with session_scope(session_factory(engine)) as session:
        with_blocks = message("1", blocks)
        outbox.update(session, team_id="T1", key="post:1:v1", of_key="post:1", message=with_blocks)
        outbox.update(session, team_id="T1", key="post:1:v2", of_key="post:1", message=text_message("2"))
    assert sender.deliver_due().delivered == 3
    assert [c.params["text"] for c in fake_slack.calls_to("chat.update")] == ["1", "2"]


def test_dm_channels_are_remembered(engine: Engine, sender: OutboxSender, fake_slack: FakeSlack) -> None:
    for n in range(3):
        with session_scope(session_factory(engine)) as session:
            hi = text_message("hi")
            outbox.direct_message(session, team_id="T1", user_id="U7", key=f"dm:{n}", message=hi)
        assert sender.deliver_due().delivered == 1
    assert len(fake_slack.calls_to("conversations.open")) == 1
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["DU7"] * 3


def test_drain_stops_without_an_empty_claim(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        _post(engine, f"k{n}")
    claims: list[int] = []
    claim = sender._claim
    monkeypatch.setattr(sender, "_claim", lambda limit: claims.append(limit) or claim(limit))
    assert sender.drain().delivered == 3
    assert len(claims) == 1  # the pass took fewer than its limit: nothing due was left behind


def test_edits_of_a_post_it_delivered_need_no_read_of_the_original(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack
) -> None:
    _post(engine, "post:1")
    assert sender.deliver_due().delivered == 1
    reads = _original_reads(engine)
    for n in range(2):  # one edit a pass: each would otherwise read where the original went
        with session_scope(session_factory(engine)) as session:
            edit = text_message(f"edit {n}")
            outbox.update(session, team_id="T1", key=f"post:1:v{n}", of_key="post:1", message=edit)
        assert sender.deliver_due().delivered == 1
    assert reads == []
    ts = _row(engine, "post:1").sent_ts
    assert [(c.params["ts"], c.params["text"]) for c in fake_slack.calls_to("chat.update")] == [
        (ts, "edit 0"),
        (ts, "edit 1"),
    ]


def test_a_second_sender_reads_the_original_once(
    engine: Engine, sender: OutboxSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    _post(engine, "post:1")
    sender.deliver_due()
    other = OutboxSender(
        session_factory(engine), SingleWorkspaceTokens("xoxb-test"), api_url=fake_slack.url, clock=clock
    )
    reads = _original_reads(engine)
    for n in range(2):
        with session_scope(session_factory(engine)) as session:
            edit = text_message(f"edit {n}")
            outbox.update(session, team_id="T1", key=f"post:1:v{n}", of_key="post:1", message=edit)
        assert other.deliver_due().delivered == 1
    assert len(reads) == 1
    assert {c.params["ts"] for c in fake_slack.calls_to("chat.update")} == {_row(engine, "post:1").sent_ts}


def _original_reads(engine: Engine) -> list[str]:
    """Record every read of an outbox row's delivery place (the original of an edit) from now on."""
    reads: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "sent_ts" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    return reads
