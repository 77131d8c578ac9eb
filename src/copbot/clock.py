"""The one source of time: timezone-aware UTC. Tests freeze it with freezegun."""

from datetime import UTC, datetime


def now() -> datetime:
    """Return the current instant in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return `value` in UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
