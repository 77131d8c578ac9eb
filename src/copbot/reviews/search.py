"""Full-text search over a workspace's reviews and playbooks: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Both engines get the same query: the words of what was typed, all required, each stemmed (English);
user text never reaches either engine's query syntax (no prefix matching: on a large library a short
prefix merges hundreds of terms and costs 100x a word). The index is kept by
triggers (see the reviews migration), so this module only reads. To keep latency flat whatever the
library's size, the newest CANDIDATES matches are ranked (by BM25 / ts_rank, titles weighing most).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from copbot.communities.models import Community
from copbot.db import dialect_name
from copbot.outbox.models import OutboxMessage
from copbot.reviews.models import Lesson, Playbook, Review

START, STOP = "\x02", "\x03"  # marks around matched words in snippets; never in rendered text
MAX_TERMS = 12
CANDIDATES = 500  # how many of the newest matches are ranked
QUERY_LIMIT = 200
_WORD = re.compile(r"\w+", re.UNICODE)
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class Hit:
    """One search result: which item, its title, a snippet with matches between START and STOP."""

    kind: str  # "review" or "playbook"
    item_id: int
    community_id: int
    title: str
    snippet: str


@dataclass(frozen=True)
class Scope:
    """Where a search looks: the community of the channel it was typed in, or every community."""

    home: int | None = None  # the channel's community, None outside one
    everywhere: bool = True

    @property
    def community_id(self) -> int | None:
        """The one community searched, or None for all of the workspace's."""
        return None if self.everywhere or self.home is None else self.home

    def toggled(self) -> Scope:
        """The same search the other way round (only valid with a home community)."""
        return Scope(home=self.home, everywhere=not self.everywhere)


@dataclass(frozen=True)
class Page:
    """One page of results."""

    query: str
    page: int
    hits: list[Hit]
    has_more: bool
    scope: Scope = Scope()


def terms(query: str) -> list[str]:
    """The words searched for, lower-cased, at most MAX_TERMS."""
    return [word.lower() for word in _WORD.findall(query[:QUERY_LIMIT])][:MAX_TERMS]


def search(
    session: Session, *, team_id: str, query: str, page: int = 1, per_page: int = 5, scope: Scope = Scope()
) -> Page:
    """Rank the reviews and playbooks of the scope's community (or the workspace's) against `query`;
    return one page of hits."""
    words = terms(query)
    page = max(1, page)
    if not words:
        return Page(query=query, page=page, hits=[], has_more=False, scope=scope)
    params = {
        "team": team_id,
        "limit": per_page + 1,
        "offset": (page - 1) * per_page,
        "community": scope.community_id,
    }
    if dialect_name(session) == "postgresql":
        rows = _postgres(session, words, params)
    else:
        rows = _sqlite(session, words, params)
    hits = [
        Hit(kind=r[0], item_id=int(r[1]), community_id=int(r[2]), title=r[3], snippet=r[4] or "")
        for r in rows
    ]
    return Page(query=query, page=page, hits=hits[:per_page], has_more=len(hits) > per_page, scope=scope)


_SNIPPETS = (
    "SELECT rowid, kind, item_id, community_id, title, "
    "snippet(review_search_fts, 1, char(2), char(3), '…', 24) FROM review_search_fts "
    "WHERE review_search_fts MATCH :match AND rowid IN "
)


def team_key(team_id: str) -> str:
    """The workspace's token in the SQLite index (see the migration)."""
    return "tm" + team_id.encode().hex() + "0"


def _sqlite(session: Session, words: list[str], params: dict[str, Any]) -> list[Any]:
    # Each word quoted, so no FTS5 operator can be typed.
    terms_ = " ".join(f'"{w}"' for w in words)
    match = f'team_key : "{team_key(params["team"])}" AND ({terms_})'
    # Rank the newest CANDIDATES matches (FTS5 walks its doclist backwards and stops), then make
    # snippets for the page only: both costs stay bounded however common the words are.
    # A community's search filters on the (unindexed) community column: only the matches are read.
    scoped = " AND community_id = :community" if params["community"] is not None else ""
    ranked = session.execute(
        text(
            (
                "SELECT rowid FROM review_search_fts "
                "WHERE review_search_fts MATCH :match{scoped} AND rowid >= ("
                "  SELECT coalesce(min(rowid), 0) FROM (SELECT rowid FROM review_search_fts"
                "  WHERE review_search_fts MATCH :match{scoped} ORDER BY rowid DESC LIMIT :candidates)) "
                "ORDER BY bm25(review_search_fts, 4.0, 1.0, 0.0), rowid DESC LIMIT :limit OFFSET :offset"
            ).replace("{scoped}", scoped)
        ),
        {**params, "match": match, "candidates": CANDIDATES},
    ).scalars()
    order = {rowid: n for n, rowid in enumerate(ranked)}
    if not order:
        return []
    rowids = ", ".join(str(int(r)) for r in order)  # integers we just read
    rows = session.execute(text(_SNIPPETS + f"({rowids})"), {"match": match})
    return [row[1:] for row in sorted(rows, key=lambda row: order[row[0]])]


def _postgres(session: Session, words: list[str], params: dict[str, Any]) -> list[Any]:
    # to_tsquery on words we split ourselves (letters, digits, `_`), `&` between them.
    tsquery = " & ".join(words)
    # Rank the newest CANDIDATES matches, then headline the page only (see _sqlite). The newest are
    # picked by id alone (whichever way the planner reads them: backwards along the primary key for
    # common words, a GIN bitmap for the rest), so the sort never carries tsvectors; the 500 are then
    # fetched by key to be ranked. The index table holds ids and tsvectors only (see the migration):
    # titles and bodies come from the items, for the page's rows.
    scoped = " AND s.community_id = :community" if params["community"] is not None else ""
    statement = text(
        """
        SELECT hit.kind, hit.item_id, hit.community_id, coalesce(r.title, p.title),
               ts_headline('english',
                           CASE WHEN hit.kind = 'review' THEN review_search_body(r)
                                ELSE playbook_search_body(p) END,
                           hit.query,
                           'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                           ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')
        FROM (
            SELECT t.id, t.kind, t.item_id, t.community_id, t.review_id, t.playbook_id, c.query,
                   ts_rank(t.tsv, c.query) AS score
            FROM (
                SELECT s.id, q.query
                FROM review_search_fts AS s, to_tsquery('english', :tsquery) AS q(query)
                WHERE s.team_id = :team AND s.tsv @@ q.query{scoped}
                ORDER BY s.id DESC
                LIMIT :candidates
            ) AS c
            JOIN review_search_fts AS t ON t.id = c.id
            ORDER BY score DESC, t.id DESC
            LIMIT :limit OFFSET :offset
        ) AS hit
        LEFT JOIN reviews AS r ON r.id = hit.review_id
        LEFT JOIN playbooks AS p ON p.id = hit.playbook_id
        ORDER BY hit.score DESC, hit.id DESC
        """.replace("{scoped}", scoped)
    )
    return list(session.execute(statement, {**params, "tsquery": tsquery, "candidates": CANDIDATES}))


@dataclass(frozen=True)
class Found:
    """What a hit is rendered from: the item, the address of its channel post, its lessons when a review."""

    kind: str
    title: str
    snippet: str
    url: str | None
    community: Community | None
    lessons: Sequence[Lesson] = ()
    item_id: int = 0
    editors: frozenset[str] = frozenset()  # who may edit it: a review's author and co-authors


def post_key(kind: str, item_id: int) -> str:
    """The outbox key of an item's channel post."""
    return f"{kind}:{item_id}"


def permalink(domain: str | None, channel_id: str | None, ts: str | None) -> str | None:
    """The web address of a message the bot posted (None until it is delivered)."""
    if not channel_id or not ts:
        return None
    host = f"{domain}.slack.com" if domain and _DOMAIN.fullmatch(domain) else "slack.com"
    return f"https://{host}/archives/{channel_id}/p{ts.replace('.', '')}"


def post_link(session: Session, *, team_id: str, kind: str, item_id: int, domain: str | None) -> str | None:
    """The address of an item's channel post, once delivered (None before)."""
    post = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id, OutboxMessage.key == post_key(kind, item_id)
        )
    )
    return permalink(domain, post.sent_channel_id, post.sent_ts) if post else None


def resolve(session: Session, *, team_id: str, page: Page, domain: str | None = None) -> list[Found]:
    """Load what the page's hits are rendered from, in rank order; hits whose item vanished are dropped."""
    review_ids = [h.item_id for h in page.hits if h.kind == "review"]
    playbook_ids = [h.item_id for h in page.hits if h.kind == "playbook"]
    items: dict[tuple[str, int], Review | Playbook] = {}
    if review_ids:
        items |= {
            ("review", r.id): r for r in session.scalars(select(Review).where(Review.id.in_(review_ids)))
        }
    if playbook_ids:
        items |= {
            ("playbook", p.id): p
            for p in session.scalars(select(Playbook).where(Playbook.id.in_(playbook_ids)))
        }
    keys = [post_key(h.kind, h.item_id) for h in page.hits]
    posts = {
        m.key: m
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key.in_(keys))
        )
    }
    community_ids = {h.community_id for h in page.hits}
    places = {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(community_ids)))}
    found = []
    for hit in page.hits:
        item = items.get((hit.kind, hit.item_id))
        if item is None or item.team_id != team_id:
            continue
        post = posts.get(post_key(hit.kind, hit.item_id))
        url = permalink(domain, post.sent_channel_id, post.sent_ts) if post else None
        lessons, editors = (
            (item.lessons, frozenset([item.author_id, *item.coauthors]))
            if isinstance(item, Review)
            else ((), frozenset())
        )
        place = places.get(hit.community_id)
        found.append(Found(hit.kind, item.title, hit.snippet, url, place, lessons, item.id, editors))
    return found
