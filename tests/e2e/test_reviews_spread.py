"""Practices that spread, end to end: "We applied this" across communities, `/cop search --all` and its
toggle, similar items offered when a review is posted. Signed requests to the real server; assertions on
the fake Slack's calls and the stored rows."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from copbot.communities import service as communities
from copbot.reviews import spread
from copbot.reviews.models import Adoption, Review
from copbot.runtime import Runtime
from tests.e2e.test_reviews_flows import make_community, submit_review
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender, static

pytestmark = pytest.mark.e2e


def join(engine: Engine, channel_id: str, user_id: str) -> None:
    with Session(engine) as session:
        communities.join(session, team_id="T1", channel_id=channel_id, user_id=user_id)
        session.commit()


def only_review_id(engine: Engine, title: str) -> int:
    with Session(engine) as session:
        return session.scalars(select(Review.id).where(Review.title == title)).one()


def adoptions(engine: Engine) -> list[tuple[str, int | None, int | None]]:
    with Session(engine) as session:
        rows = session.scalars(select(Adoption).order_by(Adoption.id))
        return [(a.user_id, a.source_community_id, a.adopter_community_id) for a in rows]


def dm_texts(fake_slack: FakeSlack, user_id: str) -> str:
    return json.dumps(fake_slack.messages_in(f"D{user_id}"))


def write(
    slack: SlackSender, community_id: int, user_id: str, title: str, context: str, lessons: str
) -> None:
    """A review whose every field is its own (the shared defaults would make every review alike)."""
    reply = submit_review(
        slack,
        {"community_id": community_id},
        user_id=user_id,
        title=title,
        context=context,
        happened=context,
        lessons=lessons,
        expected="",
        to_change="",
        decisions="",
        tags="",
        links="",
    ).json()
    assert reply["response_action"] == "update", reply


def click_applied(
    slack: SlackSender, fake_slack: FakeSlack, value: str, user_id: str, channel_id: str
) -> str:
    url = fake_slack.response_url(f"applied-{user_id}-{channel_id}")
    slack.block_action(
        "review_applied", value=value, user_id=user_id, channel_id=channel_id, response_url=url
    )
    call = fake_slack.wait_for_call(lambda c: c.method == "response_url" and url.endswith(c.params["_path"]))
    return str(call.params["text"])


def test_a_member_of_another_community_exports_the_practice_and_its_authors_hear(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    sre = make_community(engine, "C2", lead="U9", name="SRE Guild")
    submit_review(slack, {"community_id": guild}, user_id="U1")
    runtime.sender.drain()
    review_id = only_review_id(engine, "Database failover drill")

    said = click_applied(slack, fake_slack, f"review:{review_id}", "U9", "C1")  # on the post, in #C1
    assert "<#C2> applied this" in said
    assert adoptions(engine) == [("U9", guild, sre)]
    runtime.sender.drain()
    news = dm_texts(fake_slack, "U1")
    assert "travelled" in news and "<@U9> applied it in <#C2>" in news
    assert "The first community beyond yours" in news
    with Session(engine) as session:
        assert spread.spread_of(session, team_id="T1", community_id=guild) == spread.Spread(1, 0, 1)
        assert spread.spread_of(session, team_id="T1", community_id=sre) == spread.Spread(0, 1, 0)

    assert "Noted: you applied this" in click_applied(slack, fake_slack, f"review:{review_id}", "U1", "C1")
    assert adoptions(engine)[-1] == ("U1", guild, guild)  # the author's own community: local
    runtime.sender.drain()
    assert dm_texts(fake_slack, "U1").count("travelled") == 1  # a local adoption tells no one


def test_a_member_of_several_communities_is_asked_which_unless_the_channel_says(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    make_community(engine, "C2", lead="U9", name="SRE Guild")
    platform = make_community(engine, "C3", lead="U8", name="Platform Guild")
    join(engine, "C3", "U9")
    submit_review(slack, {"community_id": guild}, user_id="U1")
    review_id = only_review_id(engine, "Database failover drill")

    slack.block_action("review_applied", value=f"review:{review_id}", user_id="U9", trigger_id="trig-w")
    (opened,) = fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trig-w" and view["callback_id"] == "review_applied_where_modal"
    choice = next(b for b in view["blocks"] if b.get("block_id") == "review_applied_community")
    assert [o["text"]["text"] for o in choice["element"]["options"]] == ["Platform Guild", "SRE Guild"]
    assert adoptions(engine) == []  # nothing stored before the choice

    bad = slack.view_submission(
        "review_applied_where_modal",
        {"review_applied_community": {"review_applied_community": static(str(guild + 100))}},
        user_id="U9",
        private_metadata=view["private_metadata"],
    ).json()
    assert bad["response_action"] == "errors" and adoptions(engine) == []
    reply = slack.view_submission(
        "review_applied_where_modal",
        {"review_applied_community": {"review_applied_community": static(str(platform))}},
        user_id="U9",
        private_metadata=view["private_metadata"],
    ).json()
    assert reply["response_action"] == "update" and "<#C3> applied" in json.dumps(reply["view"])
    assert adoptions(engine) == [("U9", guild, platform)]

    join(engine, "C2", "U7")
    join(engine, "C3", "U7")
    said = click_applied(slack, fake_slack, f"review:{review_id}", "U7", "C2")  # clicked in #C2: that one
    assert "<#C2> applied this" in said and len(fake_slack.calls_to("views.open")) == 1


def test_search_looks_in_the_channel_s_community_or_everywhere(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    sre = make_community(engine, "C2", lead="U9", name="SRE Guild")
    submit_review(slack, {"community_id": guild}, user_id="U1", title="Database failover drill")
    submit_review(slack, {"community_id": sre}, user_id="U9", title="Failover of the load balancer")
    runtime.sender.drain()

    here = json.dumps(slack.command("/cop", "search failover", channel_id="C1").json()["blocks"])
    assert "Database failover drill" in here and "load balancer" not in here and "in <#C1>" in here
    everywhere = slack.command("/cop", "search --all failover", channel_id="C1").json()
    text = json.dumps(everywhere["blocks"], ensure_ascii=False)
    assert "Database failover drill" in text and "Failover of the load balancer" in text
    assert "_Review · <#C2>_" in text and "in every community" in text
    assert "https://team-t1.slack.com/archives/C2/p" in text  # each result links to its channel's post

    nav = next(b for b in slack.command("/cop", "search failover").json()["blocks"] if b.get("block_id"))
    (toggle,) = [e for e in nav["elements"] if e["action_id"] == "review_search_scope"]
    url = fake_slack.response_url("toggle")
    slack.block_action(toggle["action_id"], value=toggle["value"], response_url=url)
    call = fake_slack.wait_for_call(
        lambda c: c.method == "response_url" and c.params.get("_path") == "toggle"
    )
    assert call.params["replace_original"] is True
    toggled = json.dumps(call.params["blocks"])
    assert "load balancer" in toggled and "Only this community" in toggled

    outside = json.dumps(slack.command("/cop", "search failover", channel_id="C9").json()["blocks"])
    assert "load balancer" in outside and "Database failover drill" in outside
    assert "review_search_scope" not in outside  # outside a community there is nothing to toggle


def test_a_new_review_is_offered_what_other_communities_solved(
    slack: SlackSender, fake_slack: FakeSlack, engine: Engine, runtime: Runtime
) -> None:
    guild = make_community(engine, "C1", lead="U1", name="Incident Guild")
    sre = make_community(engine, "C2", lead="U9", name="SRE Guild")
    write(
        slack,
        sre,
        "U9",
        "Zookeeper quorum lost during rolling restart",
        "The ensemble lost quorum while we restarted nodes.",
        "Restart one zookeeper node at a time",
    )
    write(slack, sre, "U9", "Certificate expiry", "Renewal cron failed.", "Alert on expiry")
    write(slack, guild, "U1", "Kafka backlog", "Consumers lag.", "Scale consumers")
    runtime.sender.drain()
    assert fake_slack.messages_in("DU1") == []  # nothing like it elsewhere: no DM

    write(slack, guild, "U1", "Zookeeper quorum flapped after a deploy",
          "Our zookeeper ensemble lost quorum twice.", "Pin the ensemble size")  # fmt: skip
    runtime.sender.drain()
    (offer,) = fake_slack.messages_in("DU1")
    text = json.dumps(offer["blocks"])
    assert (
        "<#C2> solved something like this" in text and "Zookeeper quorum lost during rolling restart" in text
    )
    assert "Certificate expiry" not in text and "Kafka backlog" not in text  # other topics, own community
    (button,) = [b["accessory"] for b in offer["blocks"] if "accessory" in b]
    assert button["action_id"] == "review_applied"

    said = click_applied(slack, fake_slack, button["value"], "U1", "DU1")  # from the DM: U1's other community
    assert "<#C1> applied this" in said
    source = only_review_id(engine, "Zookeeper quorum lost during rolling restart")
    assert button["value"] == f"review:{source}"
    assert adoptions(engine) == [("U1", sre, guild)]
    runtime.sender.drain()
    assert "travelled" in dm_texts(fake_slack, "U9")
