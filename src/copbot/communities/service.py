"""Rules about communities and membership. Plain Python: no Slack code, the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from copbot import lookups
from copbot.blockkit import mention
from copbot.clock import now
from copbot.communities.models import Community, Member, MemberRole, Role, Workspace
from copbot.db import affected, ensure_row
from copbot.errors import InvalidInput, NotFound, PermissionDenied
from copbot.feature import Counts, Person

TEXT_LIMIT = 3000
NO_COMMUNITY = "This channel has no community yet. A lead can create one with `/cop setup`."


class CommunityForm(BaseModel):
    """What the set-up modal asks for, validated; field names match the modal's block ids."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str
    purpose: str
    learning_goals: str = ""
    boundaries: str = ""
    norms: str = ""
    timezone: str

    @field_validator("name")
    @classmethod
    def _name_length(cls, value: str) -> str:
        if not 2 <= len(value) <= 80:
            raise ValueError("Give the community a name of 2 to 80 characters.")
        return value

    @field_validator("purpose")
    @classmethod
    def _purpose_given(cls, value: str) -> str:
        if len(value) < 10:
            raise ValueError("Say in a sentence what the community is for (at least 10 characters).")
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep the purpose under {TEXT_LIMIT} characters.")
        return value

    @field_validator("learning_goals", "boundaries", "norms")
    @classmethod
    def _text_length(cls, value: str) -> str:
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"Keep this under {TEXT_LIMIT} characters.")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_known(cls, value: str) -> str:
        if value not in timezone_names():
            raise ValueError("Choose a time zone from the list (type a city, e.g. Berlin).")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("Choose a time zone from the list.") from None
        return value

    @classmethod
    def parse(cls, fields: dict[str, str | None]) -> CommunityForm:
        """Validate raw modal input; raise InvalidInput naming each bad field."""
        try:
            return cls.model_validate({k: v or "" for k, v in fields.items()})
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "name"
                errors.setdefault(field, error["msg"].removeprefix("Value error, "))
            raise InvalidInput(errors) from None


_ZONES: list[str] = []


def timezone_names() -> list[str]:
    """Every IANA zone name, sorted, without the legacy aliases."""
    if not _ZONES:
        legacy = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
        zones = {z for z in available_timezones() if "/" in z and not z.startswith(legacy)} | {"UTC"}
        _ZONES.extend(sorted(zones))
    return _ZONES


def find_timezones(query: str, *, limit: int = 100) -> list[str]:
    """Zones whose name contains every word of `query`, best (prefix of the city) first."""
    words = [w.lower() for w in query[:100].replace("/", " ").replace("_", " ").split()][:8]
    matches = [z for z in timezone_names() if all(w in z.lower().replace("_", " ") for w in words)]
    city_first = sorted(
        matches, key=lambda z: not z.rsplit("/", 1)[-1].lower().startswith(tuple(words) or ("",))
    )
    return city_first[:limit]


def ensure_workspace(session: Session, *, team_id: str) -> Workspace:
    """Return the workspace row, creating it on first contact (race-free)."""
    return session.get(Workspace, team_id) or ensure_row(session, Workspace, {"team_id": team_id})


def installed_communities() -> Select[Community]:
    """A query of the communities whose workspace has copbot installed: scheduled work runs for these only."""
    return (
        select(Community)
        .join(Workspace, Workspace.team_id == Community.team_id)
        .where(Workspace.uninstalled_at.is_(None))
        .order_by(Community.id)
    )


@cache
def _for_channel() -> Select[Community]:
    # Nearly every request reads this: built once, only bound.
    return select(Community).where(
        Community.team_id == bindparam("team_id"), Community.channel_id == bindparam("channel_id")
    )


# A workspace's deletion cascades to its communities in the database: it evicts them too.
lookups.watch(Workspace, Community)


@cache
def _by_id() -> Select[Community]:
    return select(Community).where(Community.team_id == bindparam("team_id"), Community.id == bindparam("id"))


def community_for_channel(session: Session, *, team_id: str, channel_id: str) -> Community | None:
    """Return the community bound to a channel, if any (cached across requests: copbot.lookups)."""
    where = {"team_id": team_id, "channel_id": channel_id}
    return lookups.cached(session, Community, where, lambda: session.scalar(_for_channel(), where))


def community_by_id(session: Session, *, team_id: str, community_id: int) -> Community | None:
    """Return a community of the workspace by its id, if it exists (cached like the channel's)."""
    where = {"team_id": team_id, "id": community_id}
    return lookups.cached(session, Community, where, lambda: session.scalar(_by_id(), where))


def require_community(session: Session, *, team_id: str, channel_id: str) -> Community:
    """Return the channel's community or say how to make one."""
    community = community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is None:
        raise NotFound(NO_COMMUNITY)
    return community


def find_member(session: Session, *, community: Community, user_id: str) -> Member | None:
    """Return a user's membership row in a community (active or not)."""
    return session.scalar(
        select(Member).where(Member.community_id == community.id, Member.user_id == user_id)
    )


@cache
def _holders() -> Select[str]:
    return (
        select(Member.user_id)
        .join(MemberRole, MemberRole.member_id == Member.id)
        .where(
            Member.community_id == bindparam("community_id"),
            Member.left_at.is_(None),
            MemberRole.role.in_(bindparam("roles", expanding=True)),
        )
        .distinct()
        .order_by(Member.user_id)
    )


lookups.watch(Member, MemberRole)  # who holds a role: cached by the function below


def holders(session: Session, *, community: Community, roles: Iterable[Role]) -> list[str]:
    """User ids of active members holding any of `roles`, sorted (cached across requests: copbot.lookups;
    a join, a leave or a role change evicts them)."""
    wanted = sorted({Role(r).value for r in roles})
    values = {"community_id": community.id, "roles": wanted}
    found = lookups.cached_value(
        session,
        ("holders", community.id, *wanted),
        community.team_id,
        lambda: tuple(session.scalars(_holders(), values)),
        models=(Member, MemberRole),
    )
    return list(found)


def leads(session: Session, *, community: Community) -> list[str]:
    """User ids of the community's active leads."""
    return holders(session, community=community, roles=[Role.LEAD])


def set_role(session: Session, *, member: Member, role: Role, on: bool) -> bool:
    """Give or take a member's role; False when nothing changed."""
    held = {r.role: r for r in member.roles}
    if on == (role.value in held):
        return False
    if on:
        try:
            with session.begin_nested():
                member.roles.append(MemberRole(team_id=member.team_id, role=role.value))
        except IntegrityError:  # granted by a concurrent request a moment ago (a double click)
            return False
        return True
    member.roles.remove(held[role.value])
    session.flush()
    return True


def require_role(
    session: Session, *, community: Community, user_id: str, roles: Iterable[Role], action: str
) -> None:
    """Refuse unless the user holds one of `roles`, naming who may act instead."""
    wanted = [Role(r) for r in roles]
    allowed = holders(session, community=community, roles=wanted)
    if user_id in allowed:
        return
    titles = " or ".join(f"a {r.value}" for r in wanted)
    named = ", ".join(mention(u) for u in allowed) or "the community's leads"
    raise PermissionDenied(f"Only {titles} of this community can {action}. Ask {named}.")


def require_lead(session: Session, *, community: Community, user_id: str, action: str) -> None:
    """Refuse unless the user leads the community, naming who may act instead."""
    require_role(session, community=community, user_id=user_id, roles=[Role.LEAD], action=action)


def save_community(
    session: Session, *, team_id: str, channel_id: str, user_id: str, form: CommunityForm
) -> tuple[Community, bool]:
    """Create the channel's community (its creator becomes the first lead) or edit it (leads only)."""
    community = community_for_channel(session, team_id=team_id, channel_id=channel_id)
    if community is None:
        ids = {"team_id": team_id, "channel_id": channel_id}
        created = _create_community(session, user_id=user_id, form=form, **ids)
        if created is not None:
            return created, True
        # set up by someone else a moment ago: this submission is an edit of it
        community = require_community(session, team_id=team_id, channel_id=channel_id)
    require_lead(session, community=community, user_id=user_id, action="change its set-up")
    for name, value in form.model_dump().items():
        setattr(community, name, value)
    session.flush()
    return community, False


def _create_community(
    session: Session, *, team_id: str, channel_id: str, user_id: str, form: CommunityForm
) -> Community | None:
    """Insert the channel's community with its creator as lead; None when a concurrent set-up won."""
    ensure_workspace(session, team_id=team_id)
    community = Community(team_id=team_id, channel_id=channel_id, created_by=user_id, **form.model_dump())
    lead = Member(team_id=team_id, user_id=user_id, roles=[MemberRole(team_id=team_id, role=Role.LEAD)])
    community.members.append(lead)  # a new community: no one else can be joining it yet
    try:
        with session.begin_nested():
            session.add(community)
    except IntegrityError:
        return None
    return community


def membership(
    session: Session, *, team_id: str, channel_id: str, user_id: str
) -> tuple[Community, Member | None]:
    """Return the channel's community and the user's membership row in it, in one query."""
    found = session.execute(
        select(Community, Member)
        .outerjoin(Member, (Member.community_id == Community.id) & (Member.user_id == user_id))
        .where(Community.team_id == team_id, Community.channel_id == channel_id)
    ).first()
    if found is None:
        raise NotFound(NO_COMMUNITY)
    return found[0], found[1]


def join(session: Session, *, team_id: str, channel_id: str, user_id: str) -> tuple[Community, bool]:
    """Make the user a member of the channel's community; False when they already were."""
    community, member = membership(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
    if member is not None and member.active:
        return community, False
    if member is None:
        _add_member(session, community=community, user_id=user_id)
    else:
        member.left_at, member.joined_at = None, now()
    session.flush()
    return community, True


def leave(session: Session, *, team_id: str, channel_id: str, user_id: str) -> tuple[Community, bool]:
    """End the user's membership, keeping its history; False when they were not a member."""
    community, member = membership(session, team_id=team_id, channel_id=channel_id, user_id=user_id)
    if member is None or not member.active:
        return community, False
    member.left_at = now()
    session.flush()
    return community, True


def _add_member(session: Session, *, community: Community, user_id: str) -> Member:
    """Insert a membership; a concurrent insert of the same one (a double click) is not an error."""
    try:
        with session.begin_nested():
            member = Member(team_id=community.team_id, community_id=community.id, user_id=user_id)
            session.add(member)
    except IntegrityError:
        found = find_member(session, community=community, user_id=user_id)
        if found is None:
            raise
        return found
    return member


def forget_user(session: Session, person: Person) -> Counts:
    """The person leaves every community of their workspace (roles too); communities they created stay."""
    team_id, user_id = person.team_id, person.user_id
    member_ids = select(Member.id).where(Member.team_id == team_id, Member.user_id == user_id)
    roles = affected(session.execute(delete(MemberRole).where(MemberRole.member_id.in_(member_ids))))
    members = session.execute(delete(Member).where(Member.team_id == team_id, Member.user_id == user_id))
    created = (Community.team_id == team_id, Community.created_by == user_id)
    creator = session.execute(update(Community).where(*created).values(created_by=""))
    return {"member_roles": roles, "members": affected(members), "communities": affected(creator)}
