"""Action items end to end: a review's lines become items, owners get one DM when due and one reminder,
their answers update the DM and the review post in place; `/cop actions` and "Edit actions"."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot import export, privacy
from copbot.actions import flows
from copbot.actions.models import ActionItem, ItemStatus
from copbot.clock import now
from copbot.feature import Person
from copbot.features import FEATURES
from copbot.outbox.models import OutboxMessage
from copbot.reviews.models import Review
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.e2e.test_reviews_flows import make_community, review_values
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, datepicker, plain, user, users
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def shown(blocks: object) -> str:
    """Blocks as the text people read (mrkdwn, arrows and all)."""
    return json.dumps(blocks, ensure_ascii=False)


def _today() -> date:
    return now().astimezone(UTC).date()


def share_review(slack: SlackSender, community_id: int, decisions: str, owners: list[str]) -> dict:
    values = review_values(decisions=decisions)
    values["review_action_owners"] = {"review_action_owners": users(owners)}
    return slack.view_submission(
        "review_modal", values, user_id="U1", private_metadata=json.dumps({"community_id": community_id})
    ).json()


def items(engine: Engine) -> list[ActionItem]:
    with Session(engine) as session:
        return list(session.scalars(select(ActionItem).order_by(ActionItem.position)))


def morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), UTC)


def dms_to(fake_slack: FakeSlack, channel: str) -> list:
    return [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def test_review_lines_become_items_with_owners_and_due_dates(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    due = _today() + timedelta(days=14)
    decisions = (
        f"- Write the failover script by {due.isoformat()}\n- Alert on replica lag <@U7>\n- Update the wiki"
    )
    assert share_review(slack, community_id, decisions, ["U2", "U3"])["response_action"] == "update"
    found = items(engine)
    assert [(i.text, i.owner_id, i.due_on, i.status) for i in found] == [
        ("Write the failover script", "U2", due, "open"),
        ("Alert on replica lag", "U7", None, "open"),  # the mention in the line wins
        ("Update the wiki", "U1", None, "open"),  # no owner chosen for its place: the author
    ]
    runtime.sender.drain()
    (post,) = fake_slack.calls_to("chat.postMessage")
    text = shown(post.params["blocks"])
    assert (
        "3 of 3 open" in text
        and f"Write the failover script → <@U2> · due {due:%a} {due.day} {due:%b}" in text
    )
    edit = post.params["blocks"][-1]["elements"][-1]
    assert edit["action_id"] == "actions_edit" and edit["value"] == str(found[0].review_id)


def test_an_unreadable_date_is_a_field_error_and_nothing_is_stored(
    slack: SlackSender, engine: Engine
) -> None:
    community_id = make_community(engine)
    reply = share_review(slack, community_id, "Fix it\nMigrate by 2026-02-30", [])
    assert reply["response_action"] == "errors"
    assert (
        "Line 2" in reply["errors"]["review_decisions"]
        and "2026-02-30" in reply["errors"]["review_decisions"]
    )
    with Session(engine) as session:
        assert session.scalars(select(Review)).all() == [] and items(engine) == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_editing_the_review_keeps_items_and_their_state(
    slack: SlackSender, engine: Engine, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    share_review(slack, community_id, "Write the failover script\nAlert on replica lag", ["U2", "U3"])
    first, second = items(engine)
    with Session(engine) as session:
        session.get_one(ActionItem, second.id).status = ItemStatus.DONE
        session.commit()
        review = session.scalars(select(Review)).one()
        assert review.decisions == "Write the failover script\nAlert on replica lag"
    due = _today() + timedelta(days=3)
    values = review_values(
        decisions=f"Alert on replica lag\nWrite the failover script by {due}\nPage the DBA"
    )
    values["review_action_owners"] = {"review_action_owners": users(["U4", "U5", "U6"])}
    slack.view_submission(
        "review_modal", values, user_id="U1", private_metadata=json.dumps({"review_id": review.id})
    )
    kept = items(engine)
    assert [(i.id, i.text, i.owner_id, i.status, i.due_on) for i in kept] == [
        (second.id, "Alert on replica lag", "U3", "done", None),  # kept: its owner and its outcome
        (first.id, "Write the failover script", "U2", "open", due),
        (kept[2].id, "Page the DBA", "U6", "open", None),  # new: the owner chosen for its place
    ]


def test_owner_gets_one_due_dm_one_reminder_and_done_updates_both_in_place(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    due = _today() + timedelta(days=2)
    share_review(slack, community_id, f"Write the failover script by {due}", ["U2"])
    runtime.sender.drain()
    (item,) = items(engine)
    for at in (morning(due) - timedelta(minutes=1), morning(due), morning(due) + timedelta(hours=5)):
        tick(at, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    (dm,) = dms_to(fake_slack, "DU2")
    buttons = dm.params["blocks"][-1]
    assert buttons["block_id"] == f"actions_dm:{item.id}:due:{due}"
    assert [e["action_id"] for e in buttons["elements"]] == [
        "actions_done",
        "actions_not_doing",
        "actions_new_date",
    ]
    later = morning(due + timedelta(days=3))
    for at in (later, later + timedelta(hours=1), later):  # a repeated `tick --at` sends nothing new
        tick(at, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    _due_dm, reminder = dms_to(fake_slack, "DU2")
    assert "still open, 3 days after its date" in reminder.params["text"] + json.dumps(
        reminder.params["blocks"]
    )
    block_id = reminder.params["blocks"][-1]["block_id"]

    slack.block_action("actions_done", value=str(item.id), block_id=block_id, user_id="U2", channel_id="DU2")
    wait_until(lambda: items(engine)[0].status == ItemStatus.DONE, "the item closed")
    runtime.sender.drain()
    updates = {c.params["channel"]: c.params for c in fake_slack.calls_to("chat.update")}
    with Session(engine) as session:  # the reminder itself is edited, not the first DM
        key = f"action:{item.id}:reminder:{due}"
        sent = session.scalar(select(OutboxMessage.sent_ts).where(OutboxMessage.key == key))
    assert updates["DU2"]["ts"] == sent
    assert "Done" in shown(updates["DU2"]["blocks"]) and "actions_done" not in json.dumps(
        updates["DU2"]["blocks"]
    )
    assert "all closed" in json.dumps(updates["C1"]["blocks"]) and "~Write the failover script~" in shown(
        updates["C1"]["blocks"]
    )
    tick(later + timedelta(days=7), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    assert len(dms_to(fake_slack, "DU2")) == 2


def test_new_date_reopens_for_a_dm_on_that_date_and_others_may_not_answer(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    due = _today()
    share_review(slack, community_id, f"Write the failover script by {due}", ["U2"])
    tick(morning(due), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    (item,) = items(engine)
    block_id = f"actions_dm:{item.id}:due:{due}"
    slack.block_action(
        "actions_done",
        value=str(item.id),
        block_id=block_id,
        user_id="U9",
        response_url=fake_slack.response_url("x"),
    )
    (refused,) = fake_slack.wait_for("response_url")
    assert "Only the action's owner" in refused.params["text"] and items(engine)[0].status == "open"

    later = due + timedelta(days=10)
    pick = {"selected_date": later.isoformat()}
    slack.block_action(
        "actions_new_date", block_id=block_id, user_id="U2", action_type="datepicker", extra_action=pick
    )
    wait_until(lambda: items(engine)[0].due_on == later, "the new date")
    tick(morning(later), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    dms = dms_to(fake_slack, "DU2")
    assert [d.params["blocks"][-1]["block_id"] for d in dms] == [
        block_id,
        f"actions_dm:{item.id}:due:{later}",
    ]
    answered = [c for c in fake_slack.calls_to("chat.update") if c.params["channel"] == "DU2"]
    assert f"New date: {later:%a} {later.day} {later:%b}" in shown(answered[0].params["blocks"])


def test_cop_actions_lists_open_items_by_owner_overdue_first(
    slack: SlackSender, engine: Engine, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    soon = _today() + timedelta(days=5)
    share_review(
        slack, community_id, f"Write the script by {soon}\nTidy the wiki\nPage the DBA <@U3>", ["U2"]
    )
    with Session(engine) as session:  # the DBA page is overdue
        dba = session.scalars(select(ActionItem).where(ActionItem.owner_id == "U3")).one()
        dba.due_on = _today() - timedelta(days=2)
        session.commit()
    reply = slack.command("/cop", "actions").json()
    assert reply["response_type"] == "ephemeral"
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*<@U3>*\n• :warning: Page the DBA · *overdue since")
    assert sections[1].startswith(f"*<@U2>*\n• Write the script · due {soon:%a}")
    assert sections[2] == "*<@U1>*\n• Tidy the wiki · _Database failover drill_"
    assert "3 open actions, 1 overdue" in shown(reply["blocks"])
    assert "/cop actions" in shown(slack.command("/cop", "help capture").json())


def test_edit_actions_modal_changes_owner_date_and_text_with_field_errors(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    share_review(slack, community_id, "Write the script\nTidy the wiki", ["U2", "U3"])
    runtime.sender.drain()
    first, second = items(engine)
    review_id = first.review_id
    slack.block_action("actions_edit", value=str(review_id), user_id="U3", trigger_id="t-own")
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        f"actions_text:{second.id}",
        f"actions_owner:{second.id}",
        f"actions_due:{second.id}",
    ]  # an owner edits only their own

    def submit(text: str, owner: str | None, due: str | None, who: str = "U1") -> dict:
        values = {
            f"actions_text:{first.id}": {"actions_text": plain(text)},
            f"actions_owner:{first.id}": {"actions_owner": user(owner)},
            f"actions_due:{first.id}": {"actions_due": datepicker(due)},
        }
        meta = json.dumps({"review_id": review_id})
        return slack.view_submission("actions_edit_modal", values, user_id=who, private_metadata=meta).json()

    yesterday = (_today() - timedelta(days=1)).isoformat()
    refused = submit("x", None, yesterday)
    assert set(refused["errors"]) == {
        f"actions_text:{first.id}",
        f"actions_owner:{first.id}",
        f"actions_due:{first.id}",
    }
    assert items(engine)[0].text == "Write the script"
    later = _today() + timedelta(days=9)
    assert submit("Write the failover script", "U5", later.isoformat()) == {"response_action": "clear"}
    edited = items(engine)[0]
    assert (edited.text, edited.owner_id, edited.due_on) == ("Write the failover script", "U5", later)
    with Session(engine) as session:
        assert (
            session.get_one(Review, review_id).decisions
            == f"Write the failover script by {later}\nTidy the wiki"
        )
    runtime.sender.drain()
    (update,) = fake_slack.calls_to("chat.update")
    assert "Write the failover script → <@U5> · due" in shown(update.params["blocks"])
    slack.block_action(
        "actions_edit", value=str(review_id), user_id="U8", response_url=fake_slack.response_url("n")
    )
    (reply,) = fake_slack.wait_for("response_url")
    assert "Only the review's authors and the actions' owners" in reply.params["text"]


def test_owner_sees_open_actions_on_app_home_and_stats_show_follow_through(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)  # U1 leads it
    soon = _today() + timedelta(days=4)
    share_review(slack, community_id, f"Write the script by {soon}\nTidy the wiki\nPage the DBA <@U3>", [])
    done = items(engine)[1]
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    wait_until(lambda: (runtime.sender.drain(), "U1" in fake_slack.home_views)[1], "the App Home")
    home = [b for b in fake_slack.home_views["U1"]["blocks"] if b["type"] == "section"]
    mine = [b for b in home if b.get("accessory", {}).get("action_id") == "actions_edit"]
    assert [b["text"]["text"] for b in mine] == [
        f"• Write the script · due {soon:%a} {soon.day} {soon:%b}",
        "• Tidy the wiki",
    ]  # U3's page is not U1's

    with Session(engine) as session:  # one action closed two days after its review
        item = session.get_one(ActionItem, done.id)
        item.created_at, item.status, item.closed_at = now() - timedelta(days=2), "done", now()
        session.commit()
    slack.command("/cop", "stats quarter", user_id="U1", response_url=fake_slack.response_url("s"))
    (stats,) = fake_slack.wait_for("response_url")
    assert "*Follow-through*" in shown(stats.params) and "median 2.0 days to close" in shown(stats.params)


def test_export_carries_items_and_forget_me_clears_their_owner(
    slack: SlackSender, engine: Engine, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    due = _today() + timedelta(days=2)
    share_review(slack, community_id, f"Write the script by {due}\nTidy the wiki", ["UOWNER01"])
    with Session(engine) as session:
        rows = export.collect(session, FEATURES, team_id="T1")["action_items"]
        assert [(r["channel_id"], r["text"], r["owner_id"], r["due_on"], r["status"]) for r in rows] == [
            ("C1", "Write the script", "UOWNER01", due.isoformat(), "open"),
            ("C1", "Tidy the wiki", "U1", None, "open"),
        ]
        privacy.forget(session, FEATURES, Person(team_id="T1", user_id="UOWNER01"))
        session.commit()
    assert [i.owner_id for i in items(engine)] == ["", "U1"]
    tick(morning(due), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    with Session(engine) as session:  # a forgotten owner is asked nothing
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("action:%"))).all() == []


def test_a_second_replica_claiming_the_same_item_owes_no_second_dm(
    slack: SlackSender, engine: Engine, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    due = _today()
    share_review(slack, community_id, f"Write the script by {due}", ["U2"])
    with Session(engine) as session:
        assert flows.send_due(session, at=morning(due)) == 1
        session.commit()
        # Another replica read the item before this one marked it: it claims it too.
        session.scalars(select(ActionItem)).one().due_dm_for = None
        assert flows.send_due(session, at=morning(due)) == 1
        session.commit()
        owed = session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("action:%"))).all()
    assert owed == [f"action:{items(engine)[0].id}:due:{due}"]  # the outbox key holds it to one DM
