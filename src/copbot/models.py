"""Every table copbot has, imported in one place for Alembic and the tests."""

from copbot.communities.models import Community, Member, MemberRole, Workspace
from copbot.db import Base
from copbot.inbox.models import ProcessedEvent
from copbot.outbox.models import OutboxMessage

__all__ = ["Base", "Community", "Member", "MemberRole", "OutboxMessage", "ProcessedEvent", "Workspace"]
