"""Every table copbot has, imported in one place for Alembic and the tests."""

from copbot.actions.models import ActionItem
from copbot.communities.models import Community, Member, MemberRole, Workspace
from copbot.db import Base
from copbot.health.models import HealthSnapshot, HealthVersion, QuarterlyReview
from copbot.inbox.models import ProcessedEvent
from copbot.native.models import NativeSettings, StepRun
from copbot.outbox.models import OutboxMessage
from copbot.people.models import Onboarding, PeopleSettings, Profile, Question
from copbot.recognition.models import (
    Digest,
    Nomination,
    NominationQuota,
    NominationReaction,
    Nominee,
    RecognitionSettings,
    UserFact,
)
from copbot.reviews.models import (
    Adoption,
    Lesson,
    Playbook,
    Review,
    ReviewClaim,
    ReviewOrigin,
    ReviewSettings,
)
from copbot.rituals.models import (
    Attendance,
    AwayPeriod,
    Exclusion,
    FacilitatorAsk,
    Occurrence,
    PulseAnswer,
    RitualSchedule,
    RotationMember,
)

__all__ = ["Base", "Community", "Member", "MemberRole", "OutboxMessage", "ProcessedEvent", "Workspace"]
__all__ += ["Adoption", "Lesson", "Playbook", "Review", "ReviewClaim", "ReviewSettings"]
__all__ += ["Onboarding", "PeopleSettings", "Profile", "Question"]
__all__ += ["Digest", "Nomination", "NominationQuota", "Nominee", "RecognitionSettings", "UserFact"]
__all__ += ["NominationReaction", "ReviewOrigin"]
__all__ += ["Attendance", "AwayPeriod", "Exclusion", "FacilitatorAsk", "Occurrence", "PulseAnswer"]
__all__ += ["RitualSchedule", "RotationMember"]
__all__ += ["HealthSnapshot", "HealthVersion", "QuarterlyReview"]
__all__ += ["NativeSettings", "StepRun"]
__all__ += ["ActionItem"]
