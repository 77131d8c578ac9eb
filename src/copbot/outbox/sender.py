"""Deliver what the outbox owes through the Slack Web API, with retries and rate-limit waits.

Rules: a 429 waits its `Retry-After` (in this sender, never on a request thread); 5xx answers back off
exponentially; `not_in_channel` joins the channel and tries again; permanent errors are recorded.
`chat.postMessage` has no idempotency key, so each post carries its outbox key in message metadata and
a send whose outcome is unknown (timeout, lost connection) is looked up in the channel's recent history,
again and again with growing pauses, for a reconciliation window longer than the Web API timeout (Slack
may post after the client gave up); only a post still not found when the window closes is sent again.

Rows are claimed in batches under a short lease naming this process (`copbot.leases`); no database
transaction is open while a Web API call runs. A pass claims up to `limit` due rows in one statement
(which returns them whole), sends each (a post is first marked in flight, so a crash is reconciled, not
re-sent), and writes every outcome back in one transaction at the end, each only if this process still
holds the row. Several pending `chat.update`s of one post in a batch become one call (the last), and
the DM channel `conversations.open` answered is remembered per person.
"""

from __future__ import annotations

import base64
import http.client
import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from copbot import leases
from copbot.clock import now as clock_now
from copbot.db import affected, built_once, session_scope
from copbot.leases import process_identity
from copbot.outbox.models import Kind, OutboxMessage, Status
from copbot.slack.client import SlackClient
from copbot.tokens import TokenResolver

log = logging.getLogger(__name__)

METADATA_EVENT = "copbot_outbox"
MAX_ATTEMPTS = 15  # with back-off capped at 10 minutes: about an hour of Slack outage before giving up
UNCONFIRMED = "not_found_yet"  # an uncertain post not in the channel's history yet: look again later
WAITS = {"ratelimited", "original_not_delivered", UNCONFIRMED}  # not failures: they use up no attempts
FIRST_LOOKUP_SECONDS = 1.0
OWED = (Status.PENDING, Status.UNCERTAIN)
MAX_BACKOFF_SECONDS = 600
BATCH = 100  # messages claimed, and outcomes written back, per pass
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
CONNECTION_ERRORS = (OSError, http.client.HTTPException)

FailureHook = Callable[[Session, OutboxMessage, str], None]
# Brings one Slack object to the state a SYNC message carries (a feature's own Web API calls).
Syncer = Callable[[sessionmaker[Session], WebClient, OutboxMessage], None]


class Notifier:
    """Wakes the sender as soon as a request has committed new outbox rows."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        """Tell the sender there is work."""
        self._event.set()

    def wait(self, timeout: float) -> None:
        """Sleep until notified or `timeout` seconds pass."""
        self._event.wait(timeout)
        self._event.clear()


@dataclass
class Report:
    """What one delivery pass did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    waits: dict[str, datetime] = field(default_factory=dict)
    claimed: int = 0  # rows the pass claimed: fewer than its limit means nothing due was left behind
    followed_up: bool = False  # a failure hook or a syncer ran: it may have owed something new

    @property
    def attempted(self) -> int:
        """How many messages the pass touched."""
        return self.delivered + self.retried + self.failed


class _Outcome(Exception):
    """Internal: how a send ended when it did not deliver."""

    def __init__(self, status: Status, error: str, retry_at: datetime | None = None):
        super().__init__(error)
        self.status, self.error, self.retry_at = status, error, retry_at


class _LeaseLost(_Outcome):
    """Internal: another sender took the message over; this one leaves it alone."""

    def __init__(self) -> None:
        super().__init__(Status.UNCERTAIN, "lease_lost")


# What a delivery attempt changes on its row, written back in one guarded UPDATE.
OUTCOME_COLUMNS = (
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "last_error",
    "sent_channel_id",
    "sent_ts",
    "delivered_at",
    "in_flight_at",
)


# The sender's statements run for every message: built once (per dialect where it matters), only bound.
_T = cast(Table, OutboxMessage.__table__)
_OWED = _T.c.status.in_([s.value for s in OWED])
_HELD = and_(_T.c.id == bindparam("message_id"), _T.c.claimed_by == bindparam("me"))


def _build_claim(dialect: str) -> Update:
    unclaimed = or_(_T.c.claimed_until.is_(None), _T.c.claimed_until < bindparam("at"))
    due = (
        select(_T.c.id)
        .where(_OWED, _T.c.next_attempt_at <= bindparam("at"), unclaimed)
        .order_by(_T.c.id)  # creation order: an original goes before its edits
        .limit(bindparam("limit"))
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(_T)
        .where(_T.c.id.in_(due.scalar_subquery()), unclaimed)
        .values(claimed_until=bindparam("until"), claimed_by=bindparam("me"))
        .returning(*_T.c)
    )


_CLAIM = built_once(_build_claim)
_RENEW = update(_T).where(_HELD, _OWED).values(claimed_until=bindparam("until"))
_SAVE = update(_T).where(_HELD).values({column: bindparam(f"new_{column}") for column in OUTCOME_COLUMNS})
_ORIGINAL = select(_T.c.status, _T.c.sent_channel_id, _T.c.sent_ts).where(
    _T.c.team_id == bindparam("team_id"), _T.c.key == bindparam("key")
)
_IN_FLIGHT = (
    update(_T)
    .where(_HELD, _OWED)
    .values(
        status=Status.UNCERTAIN.value,
        in_flight_at=bindparam("in_flight_at"),
        attempts=bindparam("attempts"),
        sent_channel_id=bindparam("sent_channel_id"),
    )
)


class OutboxSender:
    """Claims due outbox rows and delivers them; safe to run on every replica at once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        tokens: TokenResolver,
        *,
        api_url: str,
        timeout: float = 10.0,
        failure_hooks: Iterable[FailureHook] = (),
        syncers: dict[str, Syncer] | None = None,
        clock: Callable[[], datetime] = clock_now,
        identity: str | None = None,
        lease_seconds: float = 10.0,
        reconcile_seconds: float = 60.0,
    ):
        self._sessions = sessions
        self._tokens = tokens
        self._api_url = api_url
        self._timeout = timeout
        self._hooks = list(failure_hooks)
        self._syncers = dict(syncers or {})
        self._clock = clock
        self._clients: dict[str, WebClient] = {}
        self._dm_channels: dict[tuple[str, str], str] = {}  # (team, user) -> the DM channel Slack opened
        self._places = _Places()
        self.identity = identity or process_identity()
        self._lease = timedelta(seconds=lease_seconds)
        self._window = timedelta(seconds=max(reconcile_seconds, timeout * 1.5))

    def deliver_due(self, *, limit: int = BATCH) -> Report:
        """Deliver up to `limit` messages that are due now; write their outcomes back in one go."""
        report = Report()
        batch = _Batch(self._claim(limit), self._places)
        report.claimed = len(batch.messages)
        try:
            for message in batch.messages:
                if batch.superseded(message):
                    self._supersede(message, batch, report)
                else:
                    self._deliver_one(message, report, batch)
        finally:
            self._save_all(batch)
        report.followed_up |= batch.followed_up
        return report

    def drain(self, *, max_passes: int = 1000) -> Report:
        """Deliver until nothing due is left (messages waiting on a rate limit stay owed)."""
        total = Report()
        for _ in range(max_passes):
            report = self.deliver_due()
            total.delivered += report.delivered
            total.retried += report.retried
            total.failed += report.failed
            total.waits.update(report.waits)
            if report.attempted == 0 or report.delivered + report.failed == 0:
                break
            if report.claimed < BATCH and not report.followed_up:  # nothing due was left behind
                break
        return total

    def next_due(self) -> datetime | None:
        """When the earliest owed message becomes due, or None when nothing is owed."""
        with session_scope(self._sessions) as session:
            return session.scalar(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status.in_(OWED))
                .order_by(OutboxMessage.next_attempt_at)
                .limit(1)
            )

    def release_claims(self) -> int:
        """Give up this sender's leases (an orderly stop), so another sender need not wait them out."""
        with session_scope(self._sessions) as session:
            return affected(
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.claimed_by == self.identity, OutboxMessage.status.in_(OWED))
                    .values(claimed_until=None, claimed_by=None)
                    .execution_options(synchronize_session=False)
                )
            )

    # -- claiming -------------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[OutboxMessage]:
        """Lease due rows to this sender and return them, oldest first; the lease is taken by a guarded
        UPDATE, so two senders (replicas, or `serve` and `worker` on one SQLite file) never hold the same
        row."""
        at = self._clock()
        values = {"at": at, "until": at + self._lease, "me": self.identity, "limit": limit}
        with session_scope(self._sessions) as session:
            rows = session.connection().execute(_CLAIM(session), values).all()
        # Plain (transient) objects: what the pass changes is written back by `_save_all`, guarded.
        return sorted((OutboxMessage(**row._mapping) for row in rows), key=lambda message: message.id)

    def _still_held(self, message: OutboxMessage) -> bool:
        """Check the lease before sending: a fresh claim holds; one taken a third of a lease ago or more
        (a long pass, a stalled process) is renewed first, and False means another sender has it."""
        at = self._clock()
        if message.claimed_until is not None and message.claimed_until - at > self._lease * 2 / 3:
            return True
        values = {"message_id": message.id, "me": self.identity, "until": at + self._lease}
        with session_scope(self._sessions) as session:
            taken = session.connection().execute(_RENEW, values).rowcount
        if taken:
            message.claimed_until = at + self._lease
        return bool(taken)

    def _save_all(self, batch: _Batch) -> None:
        """Write a pass's outcomes back in one transaction, each unless its lease was lost meanwhile
        (then the new holder owns the row); a message that failed for good is told to the hooks."""
        if not batch.outcomes:
            return
        with session_scope(self._sessions) as session:
            connection = session.connection()
            for message, hook_error in batch.outcomes:
                values = {f"new_{column}": getattr(message, column) for column in OUTCOME_COLUMNS}
                values.update(message_id=message.id, me=self.identity)
                if not connection.execute(_SAVE, values).rowcount:
                    log.warning("outbox %s: lease lost before its outcome was saved", message.key)
                elif hook_error is not None:
                    for hook in self._hooks:
                        hook(session, message, hook_error)
        batch.outcomes.clear()

    # -- delivering -----------------------------------------------------------------------------

    def _deliver_one(self, message: OutboxMessage, report: Report, batch: _Batch | None = None) -> None:
        batch = batch if batch is not None else _Batch([message], self._places)
        if not self._still_held(message):
            return
        wait_key = f"{message.team_id}:{message.channel_id or message.user_id}"
        if wait_key in report.waits:  # this channel is rate limited for the rest of the pass
            message.next_attempt_at, message.claimed_until = report.waits[wait_key], None
            report.retried += 1
            batch.outcomes.append((message, None))
            return
        try:
            self._send(message, batch)
        except _LeaseLost:
            log.warning("outbox %s: another sender took it over; leaving it", message.key)
            return
        except _Outcome as outcome:
            hook_error = self._record_outcome(message, outcome, report, wait_key)
            batch.outcomes.append((message, hook_error))
            if hook_error is not None and self._hooks:
                report.followed_up = True
                self._save_all(batch)  # the hooks may owe something: let it be claimed at once
            return
        message.status, message.delivered_at = Status.DELIVERED, self._clock()
        message.claimed_until, message.last_error = None, None
        report.delivered += 1
        batch.delivered(message)

    def _supersede(self, message: OutboxMessage, batch: _Batch, report: Report) -> None:
        """An edit that a later edit of the same post in this batch replaces: done without a call."""
        if not self._still_held(message):
            return
        message.status, message.delivered_at = Status.DELIVERED, self._clock()
        message.claimed_until, message.last_error = None, None
        report.delivered += 1
        batch.outcomes.append((message, None))

    def _record_outcome(
        self, message: OutboxMessage, outcome: _Outcome, report: Report, wait_key: str
    ) -> str | None:
        """Apply an outcome to the message; return the error when the message failed for good."""
        message.claimed_until, message.last_error = None, outcome.error
        if outcome.status == Status.FAILED or (
            outcome.error not in WAITS and message.attempts >= MAX_ATTEMPTS
        ):
            message.status = Status.FAILED
            report.failed += 1
            log.warning("outbox %s (%s) failed: %s", message.key, message.kind, outcome.error)
            return outcome.error
        message.status = outcome.status
        if message.status == Status.UNCERTAIN and outcome.retry_at is None:
            message.next_attempt_at = self._next_lookup(message)
        else:
            message.next_attempt_at = outcome.retry_at or self._backoff(message.attempts)
        if outcome.error == "ratelimited":
            report.waits[wait_key] = message.next_attempt_at
        report.retried += 1
        log.info("outbox %s retry at %s: %s", message.key, message.next_attempt_at.isoformat(), outcome.error)
        return None

    def _backoff(self, attempts: int) -> datetime:
        seconds = min(MAX_BACKOFF_SECONDS, 2 ** max(attempts, 1)) * random.uniform(0.8, 1.2)
        return self._clock() + timedelta(seconds=seconds)

    def _next_lookup(self, message: OutboxMessage) -> datetime:
        """The next history look-up of an uncertain post: the pause doubles with the time since it left,
        and the last look-up falls when the reconciliation window closes."""
        at = self._clock()
        left = message.in_flight_at or at
        pause = max(timedelta(seconds=FIRST_LOOKUP_SECONDS), at - left)
        return min(at + pause, max(left + self._window, at))

    def _send(self, message: OutboxMessage, batch: _Batch) -> None:
        token = self._tokens.bot_token(message.team_id)
        if token is None:
            raise _Outcome(Status.FAILED, "no_token_for_workspace")
        client = self._client(token)
        if message.kind == Kind.HOME:
            message.attempts += 1
            self._call(
                message, lambda: client.views_publish(user_id=message.user_id or "", **message.payload)
            )
        elif message.kind == Kind.UPDATE:
            self._send_update(client, message, batch)
        elif message.kind == Kind.UPLOAD:
            self._send_upload(client, message, batch)
        elif message.kind == Kind.SYNC:
            syncer = self._syncers.get(message.payload.get("target", ""))
            if syncer is None:
                raise _Outcome(Status.FAILED, "no_syncer")
            message.attempts += 1
            self._call(message, lambda: syncer(self._sessions, client, message))
            batch.followed_up = True
        else:
            self._send_post(client, message)

    def _send_post(self, client: WebClient, message: OutboxMessage) -> None:
        if message.kind == Kind.DM and message.sent_channel_id is None:
            message.sent_channel_id = self._dm_channel(client, message)
        channel = message.sent_channel_id or message.channel_id
        if message.status == Status.UNCERTAIN:
            if self._reconcile(client, message, channel):
                return
            self._await_window(message)
        message.attempts += 1
        self._mark_in_flight(message)
        try:
            sent = self._call(message, lambda: client.chat_postMessage(**self._post_args(message, channel)))
        except _Outcome as outcome:
            if outcome.error == "not_in_channel" and message.kind == Kind.POST:
                self._call(message, lambda: client.conversations_join(channel=channel or ""))
                sent = self._call(
                    message, lambda: client.chat_postMessage(**self._post_args(message, channel))
                )
            else:
                raise
        message.sent_channel_id, message.sent_ts = sent["channel"], sent["ts"]

    def _dm_channel(self, client: WebClient, message: OutboxMessage) -> str:
        """The DM channel with the message's person: remembered, or opened (and then remembered)."""
        person = (message.team_id, message.user_id or "")
        channel = self._dm_channels.get(person)
        if channel is None:
            opened = self._call(message, lambda: client.conversations_open(users=message.user_id))
            channel = self._dm_channels[person] = str(opened["channel"]["id"])
        return channel

    def _await_window(self, message: OutboxMessage) -> None:
        """Refuse to send an uncertain post again before its reconciliation window has closed."""
        at = self._clock()
        if message.in_flight_at is not None and at < message.in_flight_at + self._window:
            raise _Outcome(Status.UNCERTAIN, UNCONFIRMED)
        log.info("outbox %s not found in the channel after %s: sending it again", message.key, self._window)

    def _mark_in_flight(self, message: OutboxMessage) -> None:
        """Commit that a post is on its way (and where), so a crash mid-send is reconciled, not re-sent;
        a sender that lost its lease stops here."""
        message.status, message.in_flight_at = Status.UNCERTAIN, self._clock()
        values = {
            "message_id": message.id,
            "me": self.identity,
            "in_flight_at": message.in_flight_at,
            "attempts": message.attempts,
            "sent_channel_id": message.sent_channel_id,
        }
        with session_scope(self._sessions) as session:
            marked = session.connection().execute(_IN_FLIGHT, values).rowcount
        if not marked:
            raise _LeaseLost

    def _send_update(self, client: WebClient, message: OutboxMessage, batch: _Batch) -> None:
        channel, ts = self._original(message, batch)
        message.attempts += 1
        args = {k: v for k, v in message.payload.items() if k != "of_key" and v is not None}
        self._call(message, lambda: client.chat_update(channel=channel, ts=ts, **args))

    def _send_upload(self, client: WebClient, message: OutboxMessage, batch: _Batch) -> None:
        channel, _ = self._original(message, batch)
        message.attempts += 1
        args = {k: v for k, v in message.payload.items() if k not in ("of_key", "content_b64")}
        content = base64.b64decode(message.payload["content_b64"])
        self._call(
            message,
            lambda: client.files_upload_v2(content=content, channel=channel, request_file_info=False, **args),
        )

    def _original(self, message: OutboxMessage, batch: _Batch) -> tuple[str, str]:
        """Where the message this one follows (`of_key`) was delivered; wait while it is not yet."""
        of = (message.team_id, str(message.payload["of_key"]))
        known = batch.places.get(of)
        if known is not None:  # delivered (or looked up) before: a post's place never changes
            return known
        with session_scope(self._sessions) as session:
            original = session.execute(_ORIGINAL, {"team_id": of[0], "key": of[1]}).one_or_none()
        if original is not None and original.status == Status.FAILED:
            raise _Outcome(Status.FAILED, "original_failed")
        if original is None or original.sent_channel_id is None or original.sent_ts is None:
            # the original is not delivered yet: wait for it
            raise _Outcome(Status.PENDING, "original_not_delivered", self._clock() + timedelta(seconds=2))
        batch.places.put(of, (original.sent_channel_id, original.sent_ts))
        return original.sent_channel_id, original.sent_ts

    def _post_args(self, message: OutboxMessage, channel: str | None) -> dict[str, Any]:
        args = {k: v for k, v in message.payload.items() if v is not None}
        return {
            **args,
            "channel": channel,
            "unfurl_links": False,
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}},
        }

    def _reconcile(self, client: WebClient, message: OutboxMessage, channel: str | None) -> bool:
        """Find a post whose outcome was unknown in the channel's history since it left."""
        left = message.in_flight_at or message.created_at
        try:
            history = self._call(
                message,
                lambda: client.conversations_history(
                    channel=channel or "",
                    limit=200,
                    include_all_metadata=True,
                    oldest=f"{left.timestamp() - 60:.6f}",  # a minute of clock skew between us and Slack
                ),
            )
        except _Outcome as outcome:  # a failed look-up tells nothing: the post stays uncertain
            if outcome.status == Status.FAILED:
                raise
            raise _Outcome(Status.UNCERTAIN, f"lookup: {outcome.error}", outcome.retry_at) from None
        for found in history.get("messages", []):
            metadata = found.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and metadata.get("event_payload", {}).get("key") == message.key
            ):
                message.sent_channel_id, message.sent_ts = channel, found["ts"]
                log.info("outbox %s was delivered although its answer was lost", message.key)
                return True
        return False

    def _call(self, message: OutboxMessage, call: Callable[[], Any]) -> Any:
        """Run one Web API call, turning every failure into an outcome the outbox understands."""
        try:
            return call()
        except SlackApiError as error:
            raise self._classify(error) from None
        except CONNECTION_ERRORS as error:
            # The request may have reached Slack: posts are reconciled before they are sent again.
            unknown = Status.UNCERTAIN if message.kind in (Kind.POST, Kind.DM) else Status.PENDING
            raise _Outcome(unknown, f"connection: {type(error).__name__}") from None

    def _classify(self, error: SlackApiError) -> _Outcome:
        status = error.response.status_code
        code = str(error.response.get("error", "")) if isinstance(error.response.data, dict) else ""
        if status == 429 or code == "ratelimited":
            retry_after = int(_header(error.response.headers, "retry-after") or 1)
            return _Outcome(Status.PENDING, "ratelimited", self._clock() + timedelta(seconds=retry_after))
        if status >= 500 or code in TRANSIENT_ERRORS:
            return _Outcome(Status.PENDING, code or f"http_{status}")
        return _Outcome(Status.FAILED, code or f"http_{status}")

    def _client(self, token: str) -> WebClient:
        client = self._clients.get(token)
        if client is None:
            # No retry handlers: a blind retry of chat.postMessage could post twice.
            client = SlackClient(
                token=token,
                base_url=self._api_url,
                timeout=self._timeout,  # type: ignore[arg-type]  # slack-sdk annotates int; a float works
                retry_handlers=[],
            )
            self._clients[token] = client
        return client


class _Places:
    """Where recent posts were delivered, (team, key) -> (channel, ts): an edit of a post this sender
    delivered or looked up needs no read. Bounded (the oldest go first); shared by the sender's passes."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._places: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[str, str] | None:
        """The post's place, when known."""
        return self._places.get(key)

    def put(self, key: tuple[str, str], place: tuple[str, str]) -> None:
        """Remember a delivered post's place."""
        with self._lock:
            self._places[key] = place
            if len(self._places) > self.LIMIT:
                del self._places[next(iter(self._places))]


class _Batch:
    """One pass's claimed messages, what they delivered and the outcomes still to write back."""

    def __init__(self, messages: list[OutboxMessage], places: _Places):
        self.messages = messages
        self.outcomes: list[tuple[OutboxMessage, str | None]] = []
        self.places = places  # delivered posts' places, this pass's included before their outcome is saved
        self.followed_up = False
        self._last_edit: dict[tuple[str, str], int] = {}
        for message in messages:  # oldest first: the last edit of a post wins
            if message.kind == Kind.UPDATE:
                self._last_edit[(message.team_id, str(message.payload.get("of_key")))] = message.id

    def superseded(self, message: OutboxMessage) -> bool:
        """Tell whether a later edit of the same post, with the same fields, is in this batch."""
        if message.kind != Kind.UPDATE or message.status != Status.PENDING:
            return False
        last = self._last_edit[(message.team_id, str(message.payload.get("of_key")))]
        if last == message.id:
            return False
        later = next(m for m in self.messages if m.id == last)
        return _fields(later.payload) == _fields(message.payload)

    def delivered(self, message: OutboxMessage) -> None:
        """Record a delivery: its outcome is owed to the database, its place known to its edits."""
        self.outcomes.append((message, None))
        if message.sent_channel_id and message.sent_ts:
            self.places.put((message.team_id, message.key), (message.sent_channel_id, message.sent_ts))


def _fields(payload: dict[str, Any]) -> set[str]:
    return {key for key, value in payload.items() if value is not None}


def renew_claims(session: Session, identity: str, at: datetime, until: datetime) -> int:
    """Extend the live leases `identity` holds on owed messages (a `copbot.leases` renewal)."""
    return leases.renew(session, OutboxMessage, identity, at, until, OutboxMessage.status.in_(OWED))


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


class SenderLoop:
    """Runs the sender in a background thread: wakes on notify, or every `idle_seconds`, until stopped."""

    def __init__(self, sender: OutboxSender, notifier: Notifier, *, idle_seconds: float = 1.0):
        self._sender, self._notifier, self._idle = sender, notifier, idle_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copbot-outbox", daemon=True)

    def start(self) -> None:
        """Start delivering in the background; first what a crash may have left owed."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass and hand back the claims not yet worked on."""
        self._stopping.set()
        self._notifier.notify()
        self._thread.join(timeout=10)
        try:
            self._sender.release_claims()
        except Exception as error:
            log.warning("releasing outbox claims failed (%s); they lapse", type(error).__name__)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = self._sender.deliver_due()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                report = Report()
            if report.claimed < BATCH and not report.followed_up:
                # Everything due was taken: sleep until a request owes more (or the idle timeout),
                # rather than claiming again only to find nothing.
                self._notifier.wait(self._idle)
