"""Synthetic reviews for the search and similar-items benchmarks: made-up words drawn with Zipf's law
(as real words are: a few very common, most rare), reproducible from a seed."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import datetime

VOCABULARY = 5000
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "ta",
    "sho",
    "vel",
    "dra",
    "pin",
    "gor",
    "zen",
    "qua",
    "lit",
    "bor",
]


class Corpus:
    """A vocabulary and a random source, both from `seed`; the rows the benchmarks insert."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < VOCABULARY:
            words.add("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4))))
        self.words = sorted(words)
        self._cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))

    def sentence(self, n: int) -> str:
        """`n` words, the common ones most often."""
        return " ".join(self.rng.choices(self.words, cum_weights=self._cumulative, k=n))

    def review_rows(self, count: int, community: Callable[[], int], at: datetime) -> list[dict[str, object]]:
        """`count` after-action reviews by U1 of workspace T1, each in `community()`, with fields of the
        usual lengths."""
        return [
            {
                "team_id": "T1",
                "community_id": community(),
                "author_id": "U1",
                "template": "after_action",
                "title": self.sentence(6),
                "context": self.sentence(40),
                "expected": self.sentence(15),
                "happened": self.sentence(60),
                "went_well": self.sentence(15),
                "to_change": self.sentence(15),
                "decisions": self.sentence(10),
                "action_owners": [],
                "coauthors": [],
                "tags": [self.rng.choice(self.words[:50])],
                "links": [],
                "related_ids": [],
                "lessons_text": self.sentence(20),
                "revision": 1,
                "created_at": at,
                "updated_at": at,
            }
            for _ in range(count)
        ]
