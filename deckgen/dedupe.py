"""De-duplication of articles: the same article saved twice (a repost, a second scrape) becomes one."""

from __future__ import annotations

import heapq
import re
from collections import Counter

from deckgen.model import Article


def _shingles(text: str, n: int = 5) -> frozenset[str]:
    compact = re.sub(r"\s+", "", text)
    return frozenset(compact[i : i + n] for i in range(max(len(compact) - n + 1, 1)))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def dedupe(articles: list[Article], threshold: float = 0.8) -> tuple[list[Article], int]:
    """Drop repeated articles, keeping the longer copy.

    Only articles that share one of their few smallest-hash shingles (a bottom-k MinHash sketch)
    are compared, so a thousand articles cost a thousand sketches, not half a million comparisons.
    """
    kept: list[Article] = []
    sets: list[frozenset[str]] = []
    sketches: list[set[int]] = []
    index: dict[int, list[int]] = {}
    k = 32
    # Two sets with Jaccard J share about J*k of their k smallest hashes; asking for a margin below the
    # threshold keeps every likely twin while skipping articles that merely quote the same sentence.
    needed = max(2, int((threshold - 0.25) * k))
    for art in articles:
        shingles = _shingles(art.text)
        sketch = heapq.nsmallest(k, map(hash, shingles))
        mine = set(sketch)
        twin = None
        shared = Counter(i for h in sketch for i in index.get(h, ()))
        for i in sorted(i for i, n in shared.items() if n >= needed):
            # the bottom-k estimate of the Jaccard similarity; the exact one only for likely twins
            union_low = sorted(mine | sketches[i])[:k]
            estimate = sum(1 for h in union_low if h in mine and h in sketches[i]) / len(union_low)
            if estimate >= threshold - 0.25 and _jaccard(sets[i], shingles) >= threshold:
                twin = i
                break
        if twin is None:
            for h in sketch:
                index.setdefault(h, []).append(len(kept))
            kept.append(art)
            sets.append(shingles)
            sketches.append(mine)
        elif len(art.text) > len(kept[twin].text):
            kept[twin], sets[twin] = art, shingles
    return kept, len(articles) - len(kept)
