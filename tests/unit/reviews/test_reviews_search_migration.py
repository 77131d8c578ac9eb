"""The migration that re-indexes reviews' tags as words on SQLite (on a fresh file: it walks revisions)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from tests.databases import sqlite_at_revision

BEFORE = "a7e1c0d2b3f4"  # the revision before the fix: its triggers stored the tags as JSON text
FIX = "5e7a1c2d9b40"


def test_reviews_indexed_before_the_fix_are_reindexed_as_words(tmp_path: Path) -> None:
    config, engine = sqlite_at_revision(tmp_path / "old.db", BEFORE)
    with engine.begin() as connection:
        review = {
            **dict.fromkeys(("expected", "went_well", "to_change", "decisions"), ""),
            **dict.fromkeys(("links", "coauthors", "action_owners", "related_ids"), "[]"),
            "id": 1, "team_id": "T1", "community_id": 1, "author_id": "U1", "template": "after_action",
            "title": "Old", "context": "c", "happened": "h", "lessons_text": "l",
            "tags": '["databases"]', "revision": 1, "created_at": "2026-01-01", "updated_at": "2026-01-01",
        }  # fmt: skip
        columns = ", ".join(review)
        values = ", ".join(f":{name}" for name in review)
        connection.execute(text(f"INSERT INTO reviews ({columns}) VALUES ({values})"), review)  # noqa: S608
    body = "SELECT body FROM review_search_fts WHERE kind = 'review'"
    with engine.connect() as connection:
        assert '["databases"]' in connection.scalar(text(body))
    command.upgrade(config, FIX)
    with engine.connect() as connection:
        indexed = connection.scalar(text(body))
    engine.dispose()
    assert indexed.endswith("\ndatabases") and "[" not in indexed
