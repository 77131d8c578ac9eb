"""Reviews end to end: signed requests to the real HTTP server, Web API calls to the fake Slack."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from copbot.clock import now
from copbot.communities import service as communities
from copbot.outbox.models import OutboxMessage
from copbot.reviews.models import Adoption, Lesson, LessonStatus, Playbook, Review
from copbot.runtime import Runtime
from copbot.scheduling.runner import tick
from tests.e2e.test_reviews_reminders import held_session
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, plain, static, user, users

pytestmark = pytest.mark.e2e

INJECTION = "<!channel> <!here> <@U999> <http://evil.example|click> & < >"


def make_community(
    engine: Engine, channel_id: str = "C1", lead: str = "U1", name: str = "Incident Guild"
) -> int:
    form = communities.CommunityForm.parse(
        {"name": name, "purpose": "Learn from every incident we run.", "timezone": "UTC"}
    )
    with Session(engine) as session:
        community, _ = communities.save_community(
            session, team_id="T1", channel_id=channel_id, user_id=lead, form=form
        )
        session.commit()
        return community.id


def review_values(**override: str | None) -> dict:
    fields = {
        "review_template": static("postmortem"),
        "review_title": plain("Database failover drill"),
        "review_context": plain(f"We practised failover of the primary database. {INJECTION}"),
        "review_expected": plain("A switch in under a minute"),
        "review_happened": plain("Replica lag held the switch for ten minutes"),
        "review_went_well": plain(None),
        "review_to_change": plain("Check replication lag before starting"),
        "review_lessons": plain("- Check replication lag first\n- Automate the runbook"),
        "review_lesson_owner": user(None),
        "review_decisions": plain("Write the failover script"),
        "review_action_owners": users(["U2"]),
        "review_coauthors": users([]),
        "review_tags": plain("database, #Failover"),
        "review_links": plain("https://wiki.example.com/failover"),
        "review_related": {"type": "multi_external_select", "selected_options": []},
    }
    for name, value in override.items():
        fields[f"review_{name}"] = plain(value) if name not in ("template",) else static(value)
    return {block: {block: state} for block, state in fields.items()}


def submit_review(slack: SlackSender, metadata: dict, user_id: str = "U1", **override: str | None):
    return slack.view_submission(
        "review_modal", review_values(**override), user_id=user_id, private_metadata=json.dumps(metadata)
    )


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_postmortem_opens_the_modal_with_the_title(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine
) -> None:
    community_id = make_community(engine)
    response = slack.command("/postmortem", "Checkout outage", trigger_id="trig-9")
    assert response.status_code == 200 and response.content == b""
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    assert call.params["trigger_id"] == "trig-9" and view["callback_id"] == "review_modal"
    assert json.loads(view["private_metadata"]) == {"community_id": community_id}
    title = next(b for b in view["blocks"] if b.get("block_id") == "review_title")
    assert title["element"]["initial_value"] == "Checkout outage"
    template = next(b for b in view["blocks"] if b.get("block_id") == "review_template")
    assert template["element"]["initial_option"]["value"] == "postmortem"
    assert not any(b.get("block_id") == "review_community" for b in view["blocks"])


def test_postmortem_outside_a_community_asks_which(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine
) -> None:
    make_community(engine, "C1", name="Guild A")
    make_community(engine, "C2", name="Guild B")
    slack.command("/postmortem", "", channel_id="C9")
    (call,) = fake_slack.wait_for("views.open")
    choice = next(b for b in call.params["view"]["blocks"] if b.get("block_id") == "review_community")
    assert [o["text"]["text"] for o in choice["element"]["options"]] == ["Guild A", "Guild B"]


def test_postmortem_without_any_community_says_how(slack: SlackSender, fake_slack: FakeSlack) -> None:
    slack.command("/postmortem", "x", response_url=fake_slack.response_url("pm"))
    (reply,) = fake_slack.wait_for("response_url")
    assert "/cop setup" in reply.params["text"]
    assert fake_slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    ("override", "errored"),
    [
        ({"title": "", "lessons": "  \n - \n"}, {"review_title", "review_lessons"}),
        ({"happened": "x" * 3001}, {"review_happened"}),
        ({"links": "javascript:alert(1)"}, {"review_links"}),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, {"review_tags"}),
    ],
    ids=["required", "too-long", "bad-link", "too-many-tags"],
)
def test_invalid_review_gets_field_errors_and_stores_nothing(
    slack: SlackSender, engine: Engine, override: dict, errored: set
) -> None:
    community_id = make_community(engine)
    reply = submit_review(slack, {"community_id": community_id}, **override).json()
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == errored
    assert count(engine, Review) == 0 and count(engine, Lesson) == 0
    assert count(engine, OutboxMessage) == 0


def test_review_is_stored_and_posted_escaped(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    reply = submit_review(slack, {"community_id": community_id}).json()
    assert reply["response_action"] == "update"
    with Session(engine) as session:
        review = session.scalars(select(Review)).one()
        assert review.tags == ["database", "failover"] and review.action_owners == ["U2"]
        assert [(lesson.text, lesson.owner_id) for lesson in review.lessons] == [
            ("Check replication lag first", "U1"),
            ("Automate the runbook", "U1"),
        ]
        due = review.lessons[0].verify_due_at - review.lessons[0].verified_at
        assert due == timedelta(days=90)
    runtime.sender.drain()
    post = next(c for c in fake_slack.calls_to("chat.postMessage") if "Database failover" in c.params["text"])
    assert post.params["channel"] == "C1"
    rendered = json.dumps(post.params["blocks"])
    for raw in ("<!channel>", "<!here>", "<@U999>", "<http://evil.example|click>"):
        assert raw not in rendered
    assert (
        "&lt;!channel&gt; &lt;!here&gt; &lt;@U999&gt; &lt;http://evil.example|click&gt; &amp; &lt; &gt;"
        in rendered
    )
    assert "<@U1>" in rendered and "<https://wiki.example.com/failover|" in rendered


def test_review_post_names_owners_by_their_part_and_labels_links(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    values = review_values(
        decisions="- Write the failover script\n- Alert on replica lag",
        links="https://wiki.example.com/runbooks/failover\nhttps://team-t1.slack.com/archives/C1/p123",
    )
    values["review_action_owners"] = {"review_action_owners": users(["U2", "U3", "U5"])}
    values["review_lesson_owner"] = {"review_lesson_owner": user("U4")}
    slack.view_submission(
        "review_modal", values, user_id="U1", private_metadata=json.dumps({"community_id": community_id})
    )
    runtime.sender.drain()
    (post,) = fake_slack.calls_to("chat.postMessage")
    texts = [b["text"]["text"] for b in post.params["blocks"] if b["type"] == "section"]
    lessons = next(t for t in texts if t.startswith("*Lessons*"))
    assert lessons.startswith("*Lessons* · owner <@U4>, who re-checks them\n• Check replication lag first")
    actions = next(t for t in texts if t.startswith("*Decisions"))
    assert "• Write the failover script → <@U2>\n• Alert on replica lag → <@U3>" in actions
    assert "Also following up: <@U5>" in actions
    links = next(t for t in texts if t.startswith("*Links*"))
    assert "<https://wiki.example.com/runbooks/failover|wiki.example.com: failover>" in links
    assert "<https://team-t1.slack.com/archives/C1/p123|Slack thread>" in links


def test_author_edits_and_the_post_is_updated_in_place(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    submit_review(slack, {"community_id": community_id})
    runtime.sender.drain()
    with Session(engine) as session:
        review_id = session.scalar(select(Review.id))
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert "review_edit" not in json.dumps(post.params["blocks"])  # the channel sees no Edit it can't use
    found = slack.command("/cop", "search failover", user_id="U1").json()["blocks"]
    (edit,) = [b["accessory"] for b in found if "accessory" in b]  # the author's own results carry it
    assert "review_edit" not in json.dumps(slack.command("/cop", "search failover", user_id="U7").json())
    slack.block_action(edit["action_id"], value=edit["value"], user_id="U1", trigger_id="trig-e")
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    assert json.loads(view["private_metadata"]) == {"review_id": review_id}
    lessons = next(b for b in view["blocks"] if b.get("block_id") == "review_lessons")
    assert lessons["element"]["initial_value"] == "Check replication lag first\nAutomate the runbook"

    reply = submit_review(slack, {"review_id": review_id}, title="Failover drill, revisited").json()
    assert reply["response_action"] == "update"
    runtime.sender.drain()
    (update,) = fake_slack.calls_to("chat.update")
    assert update.params["channel"] == "C1"
    (post,) = [m for m in fake_slack.messages_in("C1") if "failover" in m["text"].lower()]
    assert post["ts"] == update.params["ts"] and "Failover drill, revisited" in json.dumps(post["blocks"])


def test_only_authors_may_edit(slack: SlackSender, engine: Engine, fake_slack: FakeSlack) -> None:
    community_id = make_community(engine)
    submit_review(slack, {"community_id": community_id})
    with Session(engine) as session:
        review_id = session.scalar(select(Review.id))
    slack.block_action(
        "review_edit", value=str(review_id), user_id="U7", response_url=fake_slack.response_url("e")
    )
    (reply,) = fake_slack.wait_for("response_url")
    assert "Only the review's author" in reply.params["text"]
    assert fake_slack.calls_to("views.open") == []
    refused = submit_review(slack, {"review_id": review_id}, user_id="U7", title="Hijacked").json()
    assert refused["response_action"] == "errors"
    with Session(engine) as session:
        assert session.scalar(select(Review.title)) == "Database failover drill"


def test_search_ranks_paginates_and_links(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    for n in range(12):
        submit_review(
            slack,
            {"community_id": community_id},
            title=f"Kafka incident {n}",
            context="queue backlog",
            tags="",
            decisions="",
        )
    submit_review(slack, {"community_id": community_id}, title="Database failover drill")
    runtime.sender.drain()
    reply = slack.command("/cop", "search failover").json()
    text = json.dumps(reply["blocks"])
    assert "Database failover drill" in text and "Kafka" not in text
    assert "https://team-t1.slack.com/archives/C1/p" in text and "*failover*" in text

    first = slack.command("/cop", "search kafka").json()
    assert first["response_type"] == "ephemeral"
    nav = next(b for b in first["blocks"] if b.get("block_id") == "review_search_nav")
    next_button, toggle = nav["elements"]  # searched in the community's channel: a toggle to every one
    assert json.loads(next_button["value"]) == {"q": "kafka", "p": 2, "h": community_id, "all": False}
    assert toggle["text"]["text"] == "Search every community"
    page_two = _turn(slack, fake_slack, next_button, "page-2")
    titles = json.dumps(page_two["blocks"])
    assert titles.count("Kafka incident") == 5 and "(page 2)" in titles
    # A middle page carries both buttons in one block: each needs its own action id (it used to crash).
    nav = next(b for b in page_two["blocks"] if b.get("block_id") == "review_search_nav")
    previous, following, _ = nav["elements"]
    assert (previous["text"]["text"], following["text"]["text"]) == ("Previous", "Next")
    assert previous["action_id"] != following["action_id"]
    page_three = json.dumps(_turn(slack, fake_slack, following, "page-3")["blocks"])
    assert page_three.count("Kafka incident") == 2 and "(page 3)" in page_three
    assert "Something went wrong" not in page_three
    back = json.dumps(_turn(slack, fake_slack, previous, "page-1")["blocks"])
    assert "(page 1)" in back and back.count("Kafka incident") == 5


def test_search_snippets_show_tags_as_words(slack: SlackSender, engine: Engine) -> None:
    community_id = make_community(engine)
    submit_review(slack, {"community_id": community_id}, context="Calm.", to_change="", tags="tag, zookeeper")
    (result,) = [b for b in slack.command("/cop", "search zookeeper").json()["blocks"] if "Review" in str(b)]
    snippet = result["text"]["text"].splitlines()[2]
    assert "tag *zookeeper*" in snippet and "[" not in snippet and "&quot;" not in snippet


def _turn(slack: SlackSender, fake_slack: FakeSlack, button: dict, name: str) -> dict:
    """Click a paging button; return the replacement page copbot sends to the response_url."""
    url = fake_slack.response_url(name)
    slack.block_action(button["action_id"], value=button["value"], response_url=url)
    call = fake_slack.wait_for_call(lambda c: c.method == "response_url" and c.params.get("_path") == name)
    assert call.params["replace_original"] is True
    return call.params


def test_search_needs_words(slack: SlackSender) -> None:
    assert "Tell me what to look for" in slack.command("/cop", "search   ").json()["text"]
    assert "Nothing matches" in json.dumps(slack.command("/cop", "search zebra <!here>").json()["blocks"])
    assert "<!here>" not in json.dumps(slack.command("/cop", "search zebra <!here>").json()["blocks"])


def test_promote_to_playbook_and_applied_once_per_member(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    submit_review(slack, {"community_id": community_id})
    runtime.sender.drain()
    fake_slack.wait_for("chat.postMessage")
    with Session(engine) as session:
        review_id = session.scalar(select(Review.id))
        key = f"review:{review_id}"
        review_ts = session.scalar(select(OutboxMessage.sent_ts).where(OutboxMessage.key == key))
    slack.block_action("review_promote", value=str(review_id), user_id="U3")
    (call,) = fake_slack.wait_for("views.open")
    view = call.params["view"]
    assert view["callback_id"] == "review_playbook_modal"
    steps = next(b for b in view["blocks"] if b.get("block_id") == "review_playbook_steps")
    assert steps["element"]["initial_value"] == "Check replication lag first\nAutomate the runbook"
    values = {
        "review_playbook_title": {"review_playbook_title": plain("Failover playbook")},
        "review_playbook_when": {"review_playbook_when": plain("Before any planned failover")},
        "review_playbook_steps": {"review_playbook_steps": plain("1. Check lag\n2. Run the script")},
    }
    reply = slack.view_submission(
        "review_playbook_modal", values, user_id="U3", private_metadata=view["private_metadata"]
    ).json()
    assert reply == {"response_action": "clear"}
    with Session(engine) as session:
        playbook = session.scalars(select(Playbook)).one()
        assert playbook.source_review_id == review_id and playbook.steps == "Check lag\nRun the script"
    listing = json.dumps(slack.command("/cop", "playbook").json()["blocks"])
    assert "Failover playbook" in listing
    runtime.sender.drain()
    playbook_post = fake_slack.calls_to("chat.postMessage")[-1]
    byline = playbook_post.params["blocks"][1]["elements"][0]["text"]
    review_url = f"https://team-t1.slack.com/archives/C1/p{review_ts.replace('.', '')}"
    assert f"from the review <{review_url}|Database failover drill>" in byline

    for _ in range(2):
        slack.block_action(
            "review_applied",
            value=f"playbook:{playbook.id}",
            user_id="U4",
            response_url=fake_slack.response_url("a"),
        )
    answers = fake_slack.wait_for("response_url", count=2)
    assert sorted("already" in a.params["text"] for a in answers) == [False, True]
    assert count(engine, Adoption) == 1
    runtime.sender.drain()
    (update,) = fake_slack.calls_to("chat.update")
    assert "Applied by 1 member" in json.dumps(update.params["blocks"])
    assert review_url in json.dumps(update.params["blocks"])  # the link survives the update


def test_thread_capture_prefills_the_modal(slack: SlackSender, engine: Engine, fake_slack: FakeSlack) -> None:
    make_community(engine)
    root = fake_slack.add_message("C1", "Deploy broke checkout <!channel>", user="U2")
    fake_slack.add_message("C1", "rolled back", user="U3", thread_ts=root["ts"])
    fake_slack.add_message("C1", "me too", user="U1", thread_ts=root["ts"])
    slack.message_shortcut("capture_review", message={"ts": root["ts"], "user": "U2", "text": root["text"]})
    (call,) = fake_slack.wait_for("views.open")
    blocks = {b.get("block_id"): b for b in call.params["view"]["blocks"]}
    assert blocks["review_context"]["element"]["initial_value"] == "Deploy broke checkout <!channel>"
    assert blocks["review_links"]["element"]["initial_value"].startswith(
        "https://example.slack.com/archives/C1/p"
    )
    assert blocks["review_coauthors"]["element"]["initial_users"] == ["U2", "U3"]
    assert [c.params["ts"] for c in fake_slack.calls_to("conversations.replies")] == [root["ts"]]


def test_reaction_capture_dms_the_author_once(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    make_community(engine)
    flagged = fake_slack.add_message("C1", "Always warm the cache before <!here> a launch", user="U2")
    item = {"type": "message", "channel": "C1", "ts": flagged["ts"]}
    for reactor in ("U3", "U4"):
        slack.event(
            {"type": "reaction_added", "user": reactor, "reaction": "bulb", "item": item, "item_user": "U2"}
        )
    slack.event({"type": "reaction_added", "user": "U5", "reaction": "tada", "item": item, "item_user": "U2"})
    other = {**item, "channel": "C9"}  # not a community channel
    slack.event(
        {"type": "reaction_added", "user": "U5", "reaction": "bulb", "item": other, "item_user": "U2"}
    )
    _settle(runtime, fake_slack)
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"].startswith("D")]
    assert [c.params["channel"] for c in dms] == ["DU2"]
    button = dms[0].params["blocks"][-1]["elements"][0]
    slack.block_action("review_record_captured", value=button["value"], user_id="U2", channel_id="DU2")
    (call,) = fake_slack.wait_for("views.open")
    blocks = {b.get("block_id"): b for b in call.params["view"]["blocks"]}
    assert blocks["review_context"]["element"]["initial_value"] == flagged["text"]
    assert json.loads(call.params["view"]["private_metadata"])["community_id"] is not None


def _settle(runtime: Runtime, fake_slack: FakeSlack) -> None:
    """Wait until the event handlers have committed, then deliver what they owe."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        runtime.sender.drain()
        if fake_slack.calls_to("chat.postMessage"):
            time.sleep(0.3)
            runtime.sender.drain()
            return
        time.sleep(0.05)


def test_session_prompt_button_links_the_review(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack
) -> None:
    community_id = make_community(engine)
    held = held_session(engine, community_id, now(), "U1")
    slack.block_action("review_open_from_session", value=str(held), channel_id="C1", user_id="U2")
    (call,) = fake_slack.wait_for("views.open")
    metadata = json.loads(call.params["view"]["private_metadata"])
    assert metadata == {"community_id": community_id, "occurrence_id": held}
    submit_review(slack, metadata, user_id="U2")
    submit_review(slack, {**metadata, "occurrence_id": held + 1000}, user_id="U2")  # names no session
    with Session(engine) as session:
        assert list(session.scalars(select(Review.occurrence_id).order_by(Review.id))) == [held, None]


def test_due_lesson_dms_its_owner_once(
    slack: SlackSender, engine: Engine, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    community_id = make_community(engine)
    submit_review(slack, {"community_id": community_id}, lessons="Check replication lag first")
    runtime.sender.drain()
    fake_slack.clear()
    later = now() + timedelta(days=91)
    tick(later, deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    tick(later + timedelta(hours=2), deps=runtime.deps, app=runtime.app, sender=runtime.sender)
    dms = fake_slack.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in dms] == ["DU1"]
    with Session(engine) as session:
        lesson = session.scalars(select(Lesson)).one()
    stale = json.dumps(slack.command("/cop", "search replication").json()["blocks"])
    assert "verified" in stale  # not stale yet by the real clock
    slack.block_action(
        "review_lesson_retire", value=str(lesson.id), user_id="U1", response_url=fake_slack.response_url("l")
    )
    (answer,) = fake_slack.wait_for("response_url")
    assert "Retired" in json.dumps(answer.params["blocks"])
    with Session(engine) as session:
        assert session.scalar(select(Lesson.status)) == LessonStatus.RETIRED
    assert ":wastebasket: retired" in json.dumps(slack.command("/cop", "search replication").json()["blocks"])
