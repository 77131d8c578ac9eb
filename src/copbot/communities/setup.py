"""Fields other features add to the `/cop setup` modal, without communities knowing about them.

A feature lists its SetupExtensions in its `Feature.setup_fields`; the set-up modal shows their blocks,
validates them with the rest of the form (every field error together, nothing stored on any) and saves
them in the same transaction as the community.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.errors import InvalidInput

if TYPE_CHECKING:
    from copbot.feature import Features

StateValues = dict[str, dict[str, Any]]  # a modal's `view.state.values`


class SetupExtension(Protocol):
    """One feature's part of the set-up modal."""

    def blocks(self, session: Session, community: Community | None) -> list[dict[str, Any]]:
        """Input blocks to show; `community` is None when the channel has none yet."""
        ...

    def parse(self, values: StateValues) -> Any:
        """Read and validate this extension's fields; raise InvalidInput keyed by block id."""
        ...

    def save(self, session: Session, community: Community, user_id: str, parsed: Any) -> None:
        """Store what `parse` returned, in the caller's transaction (the caller commits)."""
        ...


@dataclass
class SetupExtensions:
    """The extensions registered for one app, in registration order."""

    items: list[SetupExtension] = field(default_factory=list)

    @classmethod
    def of(cls, features: Features) -> SetupExtensions:
        """Every feature's set-up fields, in the features' order."""
        return cls([extension for feature in features for extension in feature.setup_fields])

    def blocks(self, session: Session, community: Community | None) -> list[dict[str, Any]]:
        """Every extension's blocks, in registration order."""
        return [block for ext in self.items for block in ext.blocks(session, community)]

    def parse(self, values: StateValues) -> list[tuple[SetupExtension, Any]]:
        """Parse every extension; raise one InvalidInput with all their field errors."""
        parsed, errors = [], {}
        for ext in self.items:
            try:
                parsed.append((ext, ext.parse(values)))
            except InvalidInput as error:
                errors.update(error.field_errors)
        if errors:
            raise InvalidInput(errors)
        return parsed

    @staticmethod
    def save(
        session: Session, community: Community, user_id: str, parsed: list[tuple[SetupExtension, Any]]
    ) -> None:
        """Store every parsed extension in the caller's transaction."""
        for ext, value in parsed:
            ext.save(session, community, user_id, value)
