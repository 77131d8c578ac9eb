"""Block Kit for community health: /cop stats, the App Home views, the quarterly review DM. Pure functions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from copbot.actions import blocks as action_blocks
from copbot.blockkit import (
    LIMITS,
    Message,
    button,
    channel_link,
    check,
    context,
    divider,
    escape,
    fields,
    header,
    local_time,
    mention,
    message,
    plural,
    section,
    truncate,
)
from copbot.communities.models import Community
from copbot.health.follow_through import FollowThrough
from copbot.health.home import Dashboard, Home, Membership, Upcoming
from copbot.health.ids import HealthAction, HealthBlock
from copbot.health.service import MIN_GROUP, Metrics, Week
from copbot.reviews.checkins import MIN_ANSWERS, Retention
from copbot.reviews.ids import ReviewAction

SPARKS = "▁▂▃▄▅▆▇█"
NONE = "\u2013"  # an en dash: the figure cannot be told (too few people, or nothing to divide)
KIND_LABELS = {  # (one, many)
    "review": ("review", "reviews"),
    "playbook": ("playbook", "playbooks"),
    "nomination": ("recognition", "recognitions"),
    "question": ("question", "questions"),
    "facilitation": ("session facilitated", "sessions facilitated"),
    "attendance": ("attendance", "attendances"),
}
OCCURRENCE_LABELS = {"session": "Session", "kickoff": "Kickoff", "midpoint": "Mid-point", "finale": "Finale"}


def sparkline(values: Sequence[int]) -> str:
    """A text sparkline: one bar per value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))] for v in values)


def percent(value: float | None) -> str:
    """A share as a whole percentage, or a dash when it cannot be told."""
    return NONE if value is None else f"{round(value * 100)}%"


def _when(at: datetime) -> str:
    return local_time(at)


def _adoption(m: Metrics) -> str:
    shown = f"{plural(m.adoptions, 'application')} by {plural(m.adopters, 'person', 'people')}"
    if m.spread.exported or m.spread.imported:
        shown += f"\n{plural(m.spread.exported, 'practice')} exported, {m.spread.imported} imported"
    return shown


def metric_fields(m: Metrics) -> list[tuple[str, str]]:
    """The headline metrics as (label, value) pairs."""
    pairs = [
        ("Members", f"{m.members} ({m.newcomers} new)"),
        ("Participation", f"{percent(m.participation)} ({m.contributors} contributed)"),
        ("Contributions", str(m.contributions)),
        ("Voice balance", _voice(m)),
        ("Cross-team reach", _reach(m)),
        ("Adoption", _adoption(m)),
    ]
    if m.sessions is not None:
        attendance = (
            f"{percent(m.attendance_rate)} of places over {plural(m.sessions, 'session')}, "
            f"{plural(m.regulars or 0, 'regular')}"
            if m.sessions
            else "no sessions held"
        )
        pairs.append(("Attendance", attendance))
        lag = (
            f"{m.review_lag_hours:.0f} h on average ({plural(m.reviewed_sessions, 'review')})"
            if m.reviewed_sessions
            else NONE
        )
        pairs.append(("Session to review", lag))
    if m.pulse:
        pairs.append(("Pulse", _pulse(m)))
    if m.follow_through and (m.follow_through.due or m.follow_through.closed):
        pairs.append(("Follow-through", _follow_through(m.follow_through)))
    return pairs


def _follow_through(f: FollowThrough) -> str:
    """Review actions: the share closed by their date, and the median days to close one."""
    on_time = f"{percent(f.on_time)} of {plural(f.due, 'action')} due closed on time" if f.due else "none due"
    days = f"median {f.median_days:.1f} days to close" if f.median_days is not None else "none closed yet"
    return f"{on_time}; {days}"


def _voice(m: Metrics) -> str:
    if m.voice_top_share is None:
        return f"{NONE} (fewer than {MIN_GROUP} contributors)"
    return f"top 20% gave {percent(m.voice_top_share)}"


def _reach(m: Metrics) -> str:
    if m.teams_reached is None:
        return f"{NONE} (fewer than {MIN_GROUP} contributors)"
    return f"{plural(m.teams_reached, 'team')}; {percent(m.outside_share)} from outside the leads' teams"


def _pulse(m: Metrics) -> str:
    parts = []
    for question, label in (("value", "value"), ("safety", "speaking up")):
        pulse = m.pulse.get(question)
        if pulse is None:
            continue
        score = f"{pulse.mean:.1f}/5" if pulse.mean is not None else f"needs {MIN_GROUP} answers"
        parts.append(f"{label} {score}")
    return ", ".join(parts)


def _by_kind(m: Metrics) -> str:
    found = [plural(n, *KIND_LABELS[k]) for k, n in m.by_kind.items() if n]
    return ", ".join(found) or "nothing yet"


def _fairness(m: Metrics) -> list[dict[str, Any]]:
    f = m.fairness
    if f is None:
        return []
    names = ", ".join(mention(u) for u in f.unrecognised_ids)
    more = (
        f" and {f.unrecognised - len(f.unrecognised_ids)} more"
        if f.unrecognised > len(f.unrecognised_ids)
        else ""
    )
    lines = [
        f"*Not recognised in 8 weeks:* {f.unrecognised}" + (f" ({names}{more})" if f.unrecognised else ""),
        "*Giving:* "
        + (
            f"the top 20% of nominators gave {percent(f.giving_top_share)}"
            if f.giving_top_share is not None
            else f"{NONE} (fewer than {MIN_GROUP} nominators)"
        ),
        "*Across teams:* "
        + (
            f"{percent(f.cross_team_share)} of recognitions"
            if f.cross_team_share is not None
            else f"{NONE} (fewer than {MIN_GROUP} people with known teams)"
        ),
    ]
    return [section(":scales: *Fairness* (leads only)\n" + "\n".join(lines))]


def _trend(weeks: Sequence[Week]) -> dict[str, Any]:
    def line(label: str, values: list[int]) -> str:
        return f"`{sparkline(values)}` {label} (last week {values[-1]}, peak {max(values, default=0)})"

    return section(
        f"*Last {len(weeks)} weeks*\n"
        + "\n".join(
            [
                line("contributions", [w.contributions for w in weeks]),
                line("contributors", [w.contributors for w in weeks]),
                line("attendances", [w.attendance for w in weeks]),
            ]
        )
    )


def _teams(m: Metrics) -> list[dict[str, Any]]:
    if not m.teams:
        return []
    text = ", ".join(f"{escape(name)} {people} people / {n}" for name, people, n in m.teams)
    return [context(f"Teams of {MIN_GROUP}+ contributors: {text}")]


def retention_blocks(practices: Sequence[Retention]) -> list[dict[str, Any]]:
    """For leads: how the community's practices hold up with their adopters (only from three answers)."""
    if not practices:
        return [context(f"Does it stick? Shown once a practice has {MIN_ANSWERS} check-in answers.")]
    lines = []
    for practice in practices[:10]:
        flag = " · :warning: nobody still uses it: up for re-verification" if practice.flagged else ""
        lines.append(
            f"• *{escape(truncate(practice.title, 100))}*: {round(practice.share * 100)}% still use it "
            f"({plural(practice.answers, 'answer')} at {practice.stage} days){flag}"
        )
    return [section("*Does it stick?*\n" + "\n".join(lines))]


def stats_message(
    community: Community,
    m: Metrics,
    weeks: Sequence[Week] | None = None,
    *,
    so_far: bool = True,
    practices: Sequence[Retention] | None = None,
    as_of: datetime | None = None,
) -> Message:
    """The ephemeral `/cop stats` answer (with the practices' retention for leads); `as_of` when the
    numbers were counted, for numbers the latest activity is not in yet."""
    title = f"{community.name}: {m.period.label}" + (" so far" if so_far else "")
    blocks = [
        header(title),
        fields(metric_fields(m)),
        context(f"Contributions: {_by_kind(m)}"),
        *_teams(m),
        *([_trend(weeks)] if weeks else []),
        *_fairness(m),
        *_counted(as_of, "run `/cop stats` again in a minute to see it"),
        *(retention_blocks(practices) if practices is not None else []),
        context(
            "`/cop stats week`, `/cop stats month` or `/cop stats quarter`. "
            f"Groups under {MIN_GROUP} people are not broken down."
        ),
    ]
    text = (
        f"{escape(community.name)} health, {m.period.label}: "
        f"{plural(m.contributors, 'contributor')} of {plural(m.members, 'member')}"
    )
    return message(text, blocks)


# --- App Home ------------------------------------------------------------------------------------


def home_view(home: Home) -> dict[str, Any]:
    """The App Home tab: the person's communities and part; leads also get dashboards. At most 100 blocks."""
    if not home.memberships:
        welcome = [
            header("Welcome to copbot"),
            section(
                "You are not in a community of practice yet. In a community's channel, `/cop join` makes you "
                "a member; `/cop setup` turns a channel into a new community."
            ),
            _actions([_refresh()]),
        ]
        return check({"type": "home", "blocks": welcome}, surface="home")
    blocks: list[dict[str, Any]] = [header("Your communities")]
    blocks += [_membership(m) for m in home.memberships]
    for m in home.newcomer_in:
        blocks += _newcomer(m)
    blocks += _upcoming(home)
    blocks += action_blocks.home_section(home.actions)
    blocks += _recognition(home)
    blocks.append(_actions(_quick_actions(home)))
    tail = [
        context(f"Updated {_when(home.at)}. Numbers for groups under {MIN_GROUP} people are never shown.")
    ]
    for board in home.dashboards:
        blocks += dashboard(board)
    if home.more_led:
        blocks.append(
            context(f"You lead {home.more_led} more communities: run `/cop stats` in their channels.")
        )
    return check({"type": "home", "blocks": fit(blocks, tail, LIMITS.home_blocks)}, surface="home")


def fit(blocks: list[dict[str, Any]], tail: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Keep within Slack's block limit: drop blocks from the end, then say something was left out."""
    if len(blocks) + len(tail) <= limit:
        return blocks + tail
    note = context("There is more than fits here: `/cop stats` in a community's channel shows the rest.")
    return [*blocks[: limit - len(tail) - 1], note, *tail]


def _membership(m: Membership) -> dict[str, Any]:
    roles = ", ".join(m.roles) or "member"
    part = f"{plural(m.contributions, 'contribution')} this quarter"
    if m.sessions:
        part += f", {m.attended} of {plural(m.sessions, 'session')} attended"
    return section(
        f"*{escape(m.community.name)}* in {channel_link(m.community.channel_id)} · {roles}\n{part}"
    )


def _newcomer(m: Membership) -> list[dict[str, Any]]:
    mentor = f" Your mentor is {mention(m.mentor_id)}: ask them anything." if m.mentor_id else ""
    return [
        section(
            f":seedling: *New to {escape(m.community.name)}?*{mentor}\n"
            f"*Purpose:* {escape(truncate(m.community.purpose, 600))}\n"
            "Start here: come to the next session, read the latest reviews with `/cop search`, "
            "and ask anything anonymously with `/cop ask`."
        )
    ]


def _occurrence_line(u: Upcoming, *, with_facilitator: bool = True) -> str:
    label = OCCURRENCE_LABELS.get(u.kind, u.kind.title())
    who = f", facilitated by {mention(u.facilitator_id)}" if with_facilitator and u.facilitator_id else ""
    return f"• {label} of *{escape(u.community.name)}*, {_when(u.starts_at)}{who}"


def _upcoming(home: Home) -> list[dict[str, Any]]:
    blocks = [divider()]
    sessions = "\n".join(_occurrence_line(u) for u in home.upcoming) or "Nothing scheduled yet."
    blocks.append(section(f":calendar: *Next sessions*\n{sessions}"))
    if home.turns:
        turns = "\n".join(_occurrence_line(u, with_facilitator=False) for u in home.turns)
        blocks.append(section(f":microphone: *Your facilitation turns*\n{turns}"))
    return blocks


def _recognition(home: Home) -> list[dict[str, Any]]:
    r = home.recognition
    text = (
        f":sparkles: *Recognition*\nReceived {r.received} ({r.received_recently} in the last 8 weeks), "
        f"given {r.given}."
    )
    for value, giver, community_name in r.latest:
        by = f" from {mention(giver)}" if giver else ""
        text += f"\n• _{escape(value)}_{by} in {escape(community_name)}"
    return [section(text)]


def _actions(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "actions", "block_id": HealthBlock.HOME_ACTIONS, "elements": elements}


def _refresh() -> dict[str, Any]:
    return button("Refresh", HealthAction.REFRESH_HOME, "refresh")


def _quick_actions(home: Home) -> list[dict[str, Any]]:
    first = home.memberships[0].community
    write = json.dumps({"c": first.channel_id})
    return [
        button(
            f"Write a review ({truncate(first.name, 40)})", ReviewAction.OPEN_REVIEW, write, style="primary"
        ),
        _refresh(),
    ]


def _counted(as_of: datetime | None, then: str) -> list[dict[str, Any]]:
    """Say when numbers behind the latest activity were counted (nothing for exact ones)."""
    if as_of is None:
        return []
    return [
        context(
            f":hourglass_flowing_sand: Counted {_when(as_of)}; the latest activity is being added, {then}."
        )
    ]


def dashboard(board: Dashboard) -> list[dict[str, Any]]:
    """A lead's dashboard of one community: metrics this month, 12-week trends, fairness, set-up."""
    community, m = board.community, board.metrics
    return [
        divider(),
        header(f"{community.name}: {m.period.label} so far"),
        fields(metric_fields(m)),
        context(f"Contributions: {_by_kind(m)}"),
        *_teams(m),
        _trend(board.trend),
        *_fairness(m),
        *_counted(board.as_of, "this page updates itself when it is counted"),
        {
            "type": "actions",
            "block_id": f"{HealthBlock.DASHBOARD_ACTIONS}:{community.id}",
            "elements": [button("Revisit purpose and goals", HealthAction.OPEN_SETUP, community.channel_id)],
        },
    ]


# --- quarterly review ----------------------------------------------------------------------------


def _change(now: float | int | None, before: float | int | None, *, as_percent: bool = False) -> str:
    shown = percent(now) if as_percent else (NONE if now is None else str(now))
    if now is None or before is None:
        return shown
    delta = (now - before) * (100 if as_percent else 1)
    unit = " pts" if as_percent else ""
    sign = "+" if delta > 0 else ""
    return f"{shown} ({sign}{delta:.0f}{unit})" if delta else f"{shown} (=)"


def quarterly_review(community: Community, this: Metrics, before: Metrics) -> Message:
    """The DM a lead gets when a quarter ends: the quarter against the one before, and a set-up prompt."""
    pairs = [
        ("Members", _change(this.members, before.members)),
        ("Newcomers", _change(this.newcomers, before.newcomers)),
        ("Participation", _change(this.participation, before.participation, as_percent=True)),
        ("Contributions", _change(this.contributions, before.contributions)),
        ("Adoption", _change(this.adoptions, before.adoptions)),
        (
            "Practices exported / imported",  # one field: a section holds ten at most
            f"{_change(this.spread.exported, before.spread.exported)} / "
            f"{_change(this.spread.imported, before.spread.imported)}",
        ),
        ("Voice balance (top 20%)", _change(this.voice_top_share, before.voice_top_share, as_percent=True)),
        ("From outside leads' teams", _change(this.outside_share, before.outside_share, as_percent=True)),
    ]
    if this.sessions is not None:
        pairs.append(("Attendance", _change(this.attendance_rate, before.attendance_rate, as_percent=True)))
    if this.pulse:
        pairs.append(("Pulse", _pulse(this)))
    blocks = [
        header(f"{community.name}: {this.period.label} in review"),
        section(f"How {channel_link(community.channel_id)} did this quarter, against {before.period.label}."),
        fields(pairs),
        *_fairness(this),
        section(
            "*Time to revisit the charter.* Does the purpose still hold? Which learning goals were met, "
            "which are next? Are the boundaries still right?\n"
            f"*Purpose:* {escape(truncate(community.purpose, 1000))}"
        ),
        {
            "type": "actions",
            "block_id": HealthBlock.REVIEW_ACTIONS,
            "elements": [
                button(
                    "Revisit purpose and goals",
                    HealthAction.OPEN_SETUP,
                    community.channel_id,
                    style="primary",
                )
            ],
        },
        context("A chart of the quarter's weekly trends follows."),
    ]
    text = f"{escape(community.name)}: {this.period.label} in review"
    return message(text, blocks)
