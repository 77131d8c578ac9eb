"""Block Kit builders of reviews: user text never pings or breaks formatting, limits hold."""

from __future__ import annotations

import json
from datetime import timedelta

from copbot.clock import now
from copbot.communities.models import Community
from copbot.reviews import blocks
from copbot.reviews.models import Lesson, Playbook, Review
from copbot.reviews.search import START, STOP, Found, Page

EVIL = "<!channel> <!here> <@U999> <http://evil.example|click> & < >"
ESCAPED = "&lt;!channel&gt; &lt;!here&gt; &lt;@U999&gt; &lt;http://evil.example|click&gt; &amp; &lt; &gt;"
RAW = ("<!channel>", "<!here>", "<@U999>", "<http://evil.example|click>")


def _community() -> Community:
    return Community(
        id=1,
        team_id="T1",
        channel_id="C1",
        name=f"Guild {EVIL}",
        purpose="p",
        timezone="UTC",
        created_by="U1",
    )


def _review() -> Review:
    at = now()
    lesson = Lesson(
        id=5, text=f"Lesson {EVIL}", owner_id="U1", status="verified", verified_at=at, verify_due_at=at
    )
    return Review(
        id=3,
        team_id="T1",
        community_id=1,
        author_id="U1",
        template="postmortem",
        title=f"Title {EVIL}",
        context=EVIL,
        expected=EVIL,
        happened=EVIL,
        went_well="",
        to_change=EVIL,
        decisions=EVIL,
        action_owners=["U2"],
        coauthors=[],
        tags=[f"tag{EVIL}"],
        links=["https://ok.example.com/a"],
        related_ids=[],
        revision=1,
        lessons=[lesson],
    )


def _mrkdwn(node: object) -> list[str]:
    """Every text Slack parses as mrkdwn: mrkdwn objects (plain_text shows text as typed)."""
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "mrkdwn" else []
    return own + [t for value in node.values() for t in _mrkdwn(value)]


def _assert_safe(payload: dict) -> None:
    parsed = [payload.get("text", ""), *_mrkdwn(payload.get("blocks"))]
    for raw in RAW:
        assert not any(raw in text for text in parsed), raw


def test_review_post_escapes_every_field_and_has_its_buttons() -> None:
    message = blocks.review_message(_review(), community=_community(), related=[_review()], applied=2)
    _assert_safe(message)
    assert ESCAPED in json.dumps(message["blocks"])
    actions = message["blocks"][-1]["elements"]
    # Only what every member may do: authors edit from their own search results.
    assert [a["action_id"] for a in actions] == [
        "review_applied",
        "review_promote",
        "recognition_thank_author",
    ]


def test_review_and_playbook_posts_offer_thanks_to_their_authors() -> None:
    review = _review()
    actions = blocks.review_message(review, community=_community())["blocks"][-1]["elements"]
    thanks = actions[-1]
    assert (thanks["action_id"], thanks["value"]) == ("recognition_thank_author", f"review:{review.id}")


def test_search_results_escape_snippets_and_show_lesson_status() -> None:
    review = _review()
    review.lessons[0].verify_due_at = now() - timedelta(days=1)
    found = [
        Found(
            "review", f"Title {EVIL}", f"before {START}match{STOP} {EVIL}", None, _community(), review.lessons
        )
    ]
    message = blocks.search_results(
        Page(query=EVIL, page=1, hits=[], has_more=True), found, at=now(), viewer="U1"
    )
    _assert_safe(message)
    text = json.dumps(message)
    assert "*match*" in text and ":hourglass: stale" in text and START not in text


def test_playbook_capture_and_lesson_messages_escape() -> None:
    playbook = Playbook(
        id=2,
        team_id="T1",
        community_id=1,
        author_id="U1",
        title=EVIL,
        when_to_use=EVIL,
        steps=f"{EVIL}\nstep two",
    )
    _assert_safe(blocks.playbook_message(playbook, source=_review(), applied=1))
    _assert_safe(blocks.playbook_list(_community(), [(playbook, 3)]))
    _assert_safe(
        blocks.capture_message(community=_community(), channel_id="C1", message_ts="1.2", reactor="U3")
    )
    review = _review()
    review.lessons[0].review = review
    _assert_safe(blocks.lesson_due_message(review.lessons[0], community=_community()))
    _assert_safe(blocks.lesson_answered(review.lessons[0], at=now()))


def test_modal_prefills_an_edit_within_limits() -> None:
    review = _review()
    review.context = "x" * 5000
    view = blocks.review_modal(
        blocks.ReviewDraft.of(review), metadata={"review_id": 3}, community=_community(), editing=True
    )
    context = next(b for b in view["blocks"] if b.get("block_id") == "review_context")
    assert len(context["element"]["initial_value"]) == 3000
