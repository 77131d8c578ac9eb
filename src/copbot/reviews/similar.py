"""Items of *other* communities like a new review: the full-text engine asked for its rarest words.

A review has a few hundred words; asking the engine for all of them would match most of the library.
Its most distinctive words are the rare ones, by document frequency: on SQLite counted among the
newest WINDOW items (a rowid-bounded MATCH per word: cheap, where fts5vocab walks a word's whole
doclist), on PostgreSQL from the index column's statistics (pg_stats' most common elements; a word
absent from them is rarer than all those listed). The few rarest words
shared with at least one other item are then asked for, two at least of them in each match (an item
sharing one rare word is seldom about the same thing): matches are few, so ranking them (BM25 /
ts_rank) stays cheap; as in `search`, only the newest CANDIDATES matches are ranked, whatever happens.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.db import dialect_name
from copbot.outbox.models import OutboxMessage
from copbot.reviews.models import Review
from copbot.reviews.search import Found, Hit, permalink, post_key

TERMS = 6  # how many of the review's rarest words are asked for
# PostgreSQL: fewer, as GIN checks every pair of them on the union of their posting lists (the six
# rarest of a 100k library: ~10 ms for the bitmap alone)
PG_TERMS = 4
CANDIDATES = 300  # how many of the newest matches are ranked
MAX_WORDS = 20  # how many of the review's distinct words are looked up
WINDOW = 600  # SQLite: how many of the newest items a word's frequency is taken from
PER_WORD = 300  # SQLite: how many of the newest items holding a rare word are scored
SHORTLIST = 100  # SQLite: how many of the best scored are checked for their workspace and community
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
    return [Hit(kind=r[0], item_id=int(r[1]), community_id=int(r[2]), title=r[3], snippet="") for r in rows]


def _pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """Every two of the words (a match must hold two of them); one word alone when there is only one."""
    if len(words) == 1:
        return [(words[0], words[0])]
    return [(a, b) for n, a in enumerate(words) for b in words[n + 1 :]]


# --- SQLite ----------------------------------------------------------------------------------------


def _sqlite_rarest(session: Session, words: Sequence[str]) -> dict[str, int]:
    """The rarest TERMS words that some other item shares, with their frequency among the newest WINDOW
    items (fts5vocab's exact counts walk each word's whole doclist: 40 ms for a common word at 100k)."""
    # ORDER BY ... LIMIT 1 reads one row of the index; max(rowid) would scan every one.
    newest = session.execute(text("SELECT rowid FROM review_search_fts ORDER BY rowid DESC LIMIT 1")).scalar()
    # One statement for every word: its items among the newest WINDOW, counted up to the ceiling only
    # (a common word stops there); a word seen once there is the review's own unless an older item has
    # it too (that count stops at two).
    ceiling = max(2, int(min(WINDOW, (newest or 0) // 2) * COMMON))
    rows = session.execute(
        text(
            "SELECT value, seen, CASE WHEN seen >= 2 THEN 2 ELSE (SELECT count(*) FROM ("
            "  SELECT rowid FROM review_search_fts WHERE review_search_fts MATCH quoted LIMIT 2)) END "
            "FROM (SELECT value, quoted, (SELECT count(*) FROM (SELECT rowid FROM review_search_fts "
            "  WHERE review_search_fts MATCH quoted AND rowid > :floor LIMIT :ceiling + 1)) AS seen "
            "  FROM (SELECT value, '\"' || value || '\"' AS quoted FROM json_each(:words)))"
        ),
        {"words": json.dumps(list(words)), "floor": (newest or 0) - 2 * WINDOW, "ceiling": ceiling},
    )
    frequencies = {word: seen for word, seen, anywhere in rows if anywhere >= 2 and seen <= ceiling}
    return dict(sorted(frequencies.items(), key=lambda pair: pair[1])[:TERMS])


# The newest items holding word number {n} (bound as :w{n}), each with the word's weight (:g{n}).
_POSTINGS = (
    "SELECT * FROM (SELECT :g{n} AS weight, rowid FROM review_search_fts "
    "WHERE review_search_fts MATCH :w{n} ORDER BY rowid DESC LIMIT :per_word)"
)
# The best scored items (two words at least), then those of other communities of the workspace.
_BEST = """
    SELECT t.kind, t.item_id, t.community_id, t.title
    FROM (
        SELECT rowid AS id, sum(weight) AS score FROM ({postings}) GROUP BY rowid HAVING count(*) >= :enough
        ORDER BY score DESC, rowid DESC LIMIT :shortlist
    ) AS best
    JOIN review_search_fts AS t ON t.rowid = best.id
    WHERE t.team_id = :team AND t.community_id != :community
    ORDER BY best.score DESC, best.id DESC
    LIMIT :limit
"""


def _sqlite(session: Session, words: list[str], *, team_id: str, community_id: int, limit: int) -> list[Any]:
    """Score the newest PER_WORD items of each rare word (rarer words weigh more), in one statement.
    FTS5 reads each doclist once this way; a MATCH of the word pairs read each one five times, and BM25
    over an OR of them ranked thousands of rows."""
    rarest = _sqlite_rarest(session, words)
    if not rarest:
        return []
    postings = " UNION ALL ".join(_POSTINGS.replace("{n}", str(n)) for n in range(len(rarest)))
    params: dict[str, Any] = {f"w{n}": f'"{word}"' for n, word in enumerate(rarest)}  # quoted: no operators
    params |= {f"g{n}": math.log((WINDOW + 1) / (seen + 0.5)) for n, seen in enumerate(rarest.values())}
    params |= {"per_word": PER_WORD, "enough": min(2, len(rarest)), "shortlist": SHORTLIST}
    params |= {"team": team_id, "community": community_id, "limit": limit}
    return list(session.execute(text(_BEST.replace("{postings}", postings)), params))


# --- PostgreSQL ------------------------------------------------------------------------------------

_LEXEMES = text("SELECT lexeme FROM unnest(to_tsvector('english', :body)) ORDER BY positions[1]")
_STATISTICS = text(
    "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs "
    "FROM pg_class AS c LEFT JOIN pg_stats AS s ON s.schemaname = current_schema() "
    "AND s.tablename = 'review_search_fts' AND s.attname = 'tsv' "
    "WHERE c.oid = 'review_search_fts'::regclass"
)
STATISTICS_SECONDS = 600.0  # ANALYZE renews them seldom; reading 10,000 lexemes per look-up cost ~10 ms


class _Statistics:
    """The index column's lexeme frequencies as ANALYZE left them, read once per database and kept a
    while (per process): None for a small or never-analysed library."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, dict[str, float] | None]] = {}

    def get(self, session: Session) -> dict[str, float] | None:
        key = str(session.get_bind().engine.url)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < STATISTICS_SECONDS:
            return kept[1]
        row = session.execute(_STATISTICS).first()
        frequencies = None
        if row is not None and row[0] >= SMALL and row[1] is not None:
            frequencies = dict(zip(row[1], row[2], strict=False))
        with self._lock:
            self._kept[key] = (time.monotonic(), frequencies)
        return frequencies


_statistics = _Statistics()


def _postgres_rarest(session: Session, words: Sequence[str]) -> list[str]:
    """The rarest TERMS lexemes of the words, by the index's statistics (unlisted ones are rarest)."""
    lexemes = [
        lexeme
        for lexeme in session.execute(_LEXEMES, {"body": " ".join(words)}).scalars()
        if _LEXEME.fullmatch(lexeme)
    ]
    frequencies = _statistics.get(session)
    if frequencies is None:  # a small library: count the matches
        return _counted_rarest(session, lexemes)
    kept = [lexeme for lexeme in lexemes if frequencies.get(lexeme, 0.0) <= COMMON]
    return sorted(kept, key=lambda lexeme: frequencies.get(lexeme, 0.0))[:PG_TERMS]


SMALL = 5_000  # below this many items (by the planner's estimate), counting matches is cheap
_COUNT = text("SELECT count(*) FROM review_search_fts WHERE tsv @@ to_tsquery('simple', :lexeme)")


def _counted_rarest(session: Session, lexemes: Sequence[str]) -> list[str]:
    """The rarest lexemes shared with another item, by counting their matches (a small library)."""
    ceiling = max(
        2, int((session.execute(text("SELECT count(*) FROM review_search_fts")).scalar() or 0) * COMMON)
    )
    counts = {lexeme: session.execute(_COUNT, {"lexeme": lexeme}).scalar() or 0 for lexeme in lexemes[:30]}
    shared = [lexeme for lexeme in counts if 2 <= counts[lexeme] <= ceiling]
    return sorted(shared, key=lambda lexeme: counts[lexeme])[:TERMS]


def _postgres(
    session: Session, words: list[str], *, team_id: str, community_id: int, limit: int
) -> list[Any]:
    rarest = _postgres_rarest(session, words)
    if not rarest:
        return []
    # Lexemes are already stemmed: the 'simple' configuration takes them as they are.
    statement = text(
        """
        SELECT c.kind, c.item_id, c.community_id,
               coalesce((SELECT r.title FROM reviews AS r WHERE r.id = c.review_id),
                        (SELECT p.title FROM playbooks AS p WHERE p.id = c.playbook_id))
        FROM (
            SELECT s.id, s.kind, s.item_id, s.community_id, s.review_id, s.playbook_id, s.tsv
            FROM review_search_fts AS s
            WHERE s.team_id = :team AND s.community_id <> :community
              AND s.tsv @@ to_tsquery('simple', :tsquery)
            ORDER BY s.id DESC
            LIMIT :candidates
        ) AS c
        ORDER BY ts_rank(c.tsv, to_tsquery('simple', :tsquery)) DESC, c.id DESC
        LIMIT :limit
        """
    )
    params = {
        "team": team_id,
        "community": community_id,
        "tsquery": " | ".join(f"({a} & {b})" for a, b in _pairs(rarest)),
        "candidates": CANDIDATES,
        "limit": limit,
    }
    return list(session.execute(statement, params))


def found(session: Session, *, team_id: str, hits: Sequence[Hit], domain: str | None = None) -> list[Found]:
    """What the similar items are rendered from: title, community, the address of their channel post."""
    keys = {post_key(h.kind, h.item_id): h for h in hits}
    posts = session.execute(
        select(OutboxMessage.key, OutboxMessage.sent_channel_id, OutboxMessage.sent_ts).where(
            OutboxMessage.team_id == team_id, OutboxMessage.key.in_(keys)
        )
    )
    urls = {key: permalink(domain, channel_id, ts) for key, channel_id, ts in posts}
    places = {
        c.id: c
        for c in session.scalars(select(Community).where(Community.id.in_({h.community_id for h in hits})))
    }
    return [
        Found(h.kind, h.title, "", urls.get(key), places.get(h.community_id), item_id=h.item_id)
        for key, h in keys.items()
    ]
