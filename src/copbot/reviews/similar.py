"""Items of *other* communities like a new review: the full-text engine asked for its rarest words.

A review has a few hundred words; asking the engine for all of them would match most of the library.
Its most distinctive words are the rare ones, by document frequency: on SQLite from an fts5vocab table
over the index (`review_search_fts_vocab`), on PostgreSQL from the index column's statistics (pg_stats'
most common elements; a word absent from them is rarer than all those listed). The few rarest words
shared with at least one other item are then OR-ed: matches are few, so ranking them (BM25 / ts_rank)
stays cheap; as in `search`, only the newest CANDIDATES matches are ranked, whatever happens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from copbot.db import dialect_name
from copbot.reviews.models import Review
from copbot.reviews.search import Hit, team_key

TERMS = 6  # how many of the review's rarest words are asked for
CANDIDATES = 300  # how many of the newest matches are ranked
MAX_WORDS = 60  # how many of the review's distinct words are looked up
COMMON = 0.05  # a word in more than this share of the library says little about a review
_WORD = re.compile(r"[^\W\d_]\w{2,}", re.UNICODE)  # starts with a letter, three characters or more
_LEXEME = re.compile(r"\w+", re.UNICODE)
_STOP = """
the and for was were with that this from have has had not but are our
they their them then than into onto when what which who will would could should there
here about after before over under been being its also just only very more most some
any all each other such can did does done out off too again once why how
you your
"""
STOP_WORDS = frozenset(_STOP.split())


def review_text(review: Review) -> str:
    """The words of a review that say what it is about, the title first (ties go to earlier words)."""
    parts = [review.title, " ".join(review.tags), review.lessons_text, review.happened, review.context]
    parts += [review.to_change, review.decisions]
    return "\n".join(parts)


def words_of(body: str) -> list[str]:
    """The distinct candidate words of a text, in order of first appearance, at most MAX_WORDS."""
    found = (w.lower() for w in _WORD.findall(body))
    return list(dict.fromkeys(w for w in found if w not in STOP_WORDS))[:MAX_WORDS]


def similar_items(
    session: Session, *, team_id: str, community_id: int, body: str, limit: int = 3
) -> list[Hit]:
    """The `limit` items of the workspace's other communities that best match `body`'s rarest words."""
    words = words_of(body)
    if not words:
        return []
    if dialect_name(session) == "postgresql":
        rows = _postgres(session, words, team_id=team_id, community_id=community_id, limit=limit)
    else:
        rows = _sqlite(session, words, team_id=team_id, community_id=community_id, limit=limit)
    return [Hit(kind=r[0], item_id=int(r[1]), community_id=int(r[2]), title="", snippet="") for r in rows]


# --- SQLite ----------------------------------------------------------------------------------------


def _sqlite_rarest(session: Session, words: Sequence[str]) -> list[str]:
    """The rarest TERMS words that some other item shares (document frequency 2 or more).

    The vocabulary holds porter stems ("failover" -> "failov"), so each word is matched to the longest
    stem in the vocabulary that starts it, at most three letters shorter.
    """
    ceiling = max(2, int(_documents(session) * COMMON))
    frequencies: dict[str, int] = {}
    for word in words:
        low = word[: max(3, len(word) - 3)]
        stems = session.execute(
            text("SELECT term, doc FROM review_search_fts_vocab WHERE term >= :low AND term <= :word"),
            {"low": low, "word": word},
        ).all()
        prefixes = [(len(term), doc) for term, doc in stems if word.startswith(term)]
        if prefixes:
            frequencies[word] = max(prefixes)[1]
    shared = [w for w in words if 2 <= frequencies.get(w, 0) <= ceiling]
    return sorted(shared, key=lambda w: frequencies[w])[:TERMS]


def _documents(session: Session) -> int:
    """How many items the index holds (its largest rowid is about twice that; cheap, unlike count)."""
    largest = session.execute(text("SELECT coalesce(max(rowid), 0) FROM review_search_fts")).scalar()
    return int(largest or 0) // 2


def _sqlite(session: Session, words: list[str], *, team_id: str, community_id: int, limit: int) -> list[Any]:
    rarest = _sqlite_rarest(session, words)
    if not rarest:
        return []
    # Each word quoted, so no FTS5 operator can come from a review.
    match = f'team_key : "{team_key(team_id)}" AND (' + " OR ".join(f'"{w}"' for w in rarest) + ")"
    statement = text(
        "SELECT kind, item_id, community_id FROM review_search_fts "
        "WHERE review_search_fts MATCH :match AND community_id != :community AND rowid >= ("
        "  SELECT coalesce(min(rowid), 0) FROM (SELECT rowid FROM review_search_fts"
        "  WHERE review_search_fts MATCH :match AND community_id != :community"
        "  ORDER BY rowid DESC LIMIT :candidates)) "
        "ORDER BY bm25(review_search_fts, 4.0, 1.0, 0.0), rowid DESC LIMIT :limit"
    )
    params = {"match": match, "community": community_id, "candidates": CANDIDATES, "limit": limit}
    return list(session.execute(statement, params))


# --- PostgreSQL ------------------------------------------------------------------------------------

_LEXEMES = text("SELECT lexeme FROM unnest(to_tsvector('english', :body)) ORDER BY positions[1]")
_COMMON_LEXEMES = text(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
    "WHERE tablename = 'review_search_fts' AND attname = 'tsv' AND schemaname = current_schema()"
)


def _postgres_rarest(session: Session, words: Sequence[str]) -> list[str]:
    """The rarest TERMS lexemes of the words, by the index's statistics (unlisted ones are rarest)."""
    lexemes = [
        lexeme
        for lexeme in session.execute(_LEXEMES, {"body": " ".join(words)}).scalars()
        if _LEXEME.fullmatch(lexeme)
    ]
    stats = session.execute(_COMMON_LEXEMES).first()
    frequencies: dict[str, float] = dict(zip(stats[0], stats[1], strict=False)) if stats and stats[0] else {}
    kept = [lexeme for lexeme in lexemes if frequencies.get(lexeme, 0.0) <= COMMON]
    return sorted(kept, key=lambda lexeme: frequencies.get(lexeme, 0.0))[:TERMS]


def _postgres(
    session: Session, words: list[str], *, team_id: str, community_id: int, limit: int
) -> list[Any]:
    rarest = _postgres_rarest(session, words)
    if not rarest:
        return []
    # Lexemes are already stemmed: the 'simple' configuration takes them as they are.
    statement = text(
        """
        SELECT t.kind, t.item_id, t.community_id
        FROM (
            SELECT s.id
            FROM review_search_fts AS s
            WHERE s.team_id = :team AND s.community_id <> :community
              AND s.tsv @@ to_tsquery('simple', :tsquery)
            ORDER BY s.id DESC
            LIMIT :candidates
        ) AS c
        JOIN review_search_fts AS t ON t.id = c.id
        ORDER BY ts_rank(t.tsv, to_tsquery('simple', :tsquery)) DESC, t.id DESC
        LIMIT :limit
        """
    )
    params = {
        "team": team_id,
        "community": community_id,
        "tsquery": " | ".join(rarest),
        "candidates": CANDIDATES,
        "limit": limit,
    }
    return list(session.execute(statement, params))
