"""Tables of workspaces, communities, members and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from copbot.clock import now
from copbot.db import Base


class Role(StrEnum):
    """Roles a member can hold in a community."""

    LEAD = "lead"
    FACILITATOR = "facilitator"
    MENTOR = "mentor"
    AMBASSADOR = "ambassador"
    DOCUMENTER = "documenter"
    DISCUSSANT = "discussant"
    NEWCOMER = "newcomer"


class Workspace(Base):
    """A Slack team that uses copbot."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Enterprise Grid: the organisation the workspace belongs to, so an org-wide install's token is found.
    enterprise_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Set when the app is uninstalled (or its bot token revoked): schedules stop, data stays.
    uninstalled_at: Mapped[datetime | None] = mapped_column()

    @property
    def active(self) -> bool:
        """Whether copbot is installed in this workspace now."""
        return self.uninstalled_at is None


class Community(Base):
    """A community of practice bound to one channel of a workspace."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"), UniqueConstraint("team_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(Text)
    learning_goals: Mapped[str] = mapped_column(Text, default="")
    boundaries: Mapped[str] = mapped_column(Text, default="")
    norms: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    members: Mapped[list[Member]] = relationship(back_populates="community", cascade="all, delete-orphan")


class Member(Base):
    """A Slack user in a community; `left_at` is set when they leave, so history survives."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        ForeignKeyConstraint(
            ["team_id", "community_id"], ["communities.team_id", "communities.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int] = mapped_column()
    user_id: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(120))
    joined_at: Mapped[datetime] = mapped_column(default=now)
    left_at: Mapped[datetime | None] = mapped_column()

    community: Mapped[Community] = relationship(back_populates="members")
    roles: Mapped[list[MemberRole]] = relationship(back_populates="member", cascade="all, delete-orphan")

    @property
    def active(self) -> bool:
        """Tell whether the member is in the community now."""
        return self.left_at is None

    @property
    def role_names(self) -> set[Role]:
        """The roles the member holds."""
        return {Role(r.role) for r in self.roles}


class MemberRole(Base):
    """One role held by one member."""

    __tablename__ = "member_roles"
    __table_args__ = (UniqueConstraint("member_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(default=now)

    member: Mapped[Member] = relationship(back_populates="roles")
