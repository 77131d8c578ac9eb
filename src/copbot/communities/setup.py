"""Fields other features add to the `/cop setup` modal, without communities knowing about them.

A feature registers a SetupExtension for the router it was handed (`extensions_for(router).add(...)`);
the set-up modal shows the extension's blocks, validates them with the rest of the form (every field
error together, nothing stored on any) and saves them in the same transaction as the community.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.errors import InvalidInput

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

    def add(self, extension: SetupExtension) -> None:
        """Register one extension."""
        self.items.append(extension)

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


# Keyed by the router each feature is handed at register time: one registry per assembled app.
_REGISTRIES: WeakKeyDictionary[Any, SetupExtensions] = WeakKeyDictionary()


def extensions_for(router: Any) -> SetupExtensions:
    """The set-up extensions of the app that `router` belongs to (created on first use)."""
    found = _REGISTRIES.get(router)
    if found is None:
        found = _REGISTRIES[router] = SetupExtensions()
    return found
