"""reviews: the SQLite search index holds a review's tags as words, not JSON text

The FTS5 triggers concatenated the `tags` column as stored, so snippets on SQLite showed
`["tag", "databases"]`; PostgreSQL indexes the elements. The triggers now join the elements with
spaces (as PostgreSQL's `review_search_body()` does) and the reviews already indexed are re-indexed.

Revision ID: 5e7a1c2d9b40
Revises: a7e1c0d2b3f4
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e7a1c2d9b40"
down_revision: str | Sequence[str] | None = "a7e1c0d2b3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIELDS = ("context", "expected", "happened", "went_well", "to_change", "decisions", "lessons_text")
_WORDS = "(SELECT group_concat(value, ' ') FROM json_each({p}.tags))"
_JSON = "{p}.tags"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_WORDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_JSON)


def _rebuild(tags: str) -> None:
    """Recreate the reviews' index triggers with `tags` rendered as given, and re-index every review."""
    for action in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS reviews_fts_{action}")
    op.execute(f"CREATE TRIGGER reviews_fts_insert AFTER INSERT ON reviews BEGIN {_insert('new', tags)} END")
    op.execute(
        f"CREATE TRIGGER reviews_fts_update AFTER UPDATE ON reviews BEGIN {_delete('old')} "
        f"{_insert('new', tags)} END"
    )
    op.execute(f"CREATE TRIGGER reviews_fts_delete AFTER DELETE ON reviews BEGIN {_delete('old')} END")
    op.execute("DELETE FROM review_search_fts WHERE kind = 'review'")
    op.execute(_insert("r", tags, source="FROM reviews AS r"))


def _insert(p: str, tags: str, source: str = "") -> str:
    fields = [f"{p}.{name}" for name in _FIELDS] + [tags.format(p=p)]
    body = " || char(10) || ".join(f"coalesce({field}, '')" for field in fields)
    columns = "rowid, title, body, team_key, team_id, community_id, kind, item_id"
    values = (
        f"2 * {p}.id, {p}.title, {body}, 'tm' || lower(hex({p}.team_id)) || '0', "
        f"{p}.team_id, {p}.community_id, 'review', {p}.id"
    )
    if source:
        return f"INSERT INTO review_search_fts({columns}) SELECT {values} {source}"
    return f"INSERT INTO review_search_fts({columns}) VALUES ({values});"  # noqa: S608


def _delete(p: str) -> str:
    return f"DELETE FROM review_search_fts WHERE rowid = 2 * {p}.id;"  # noqa: S608
