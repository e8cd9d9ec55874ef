"""De-duplication of articles: the same article saved twice (a repost, a second scrape) becomes one.

Linear and deterministic: each article gets a one-permutation MinHash sketch (128 bins) of its
5-character shingles, hashed with CRC-32 (stable across processes, unlike Python's salted `hash()`).
Locality-sensitive hashing over bands of the sketch finds the few articles worth comparing; only
those are compared exactly, their shingles recomputed on the spot, so no shingle set is kept.
"""

from __future__ import annotations

import re
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from operator import eq

from deckgen.model import Article

N = 5  # shingle length in characters
BINS = 128  # sketch size: bin j holds the smallest shingle hash in [j * 2**25, (j + 1) * 2**25)
# Two articles are compared when all ROWS values of one of BANDS bands agree: a pair with Jaccard 0.8
# is missed with probability (1 - 0.8**5)**25 < 1e-4, one with 0.3 is compared with probability 0.06.
ROWS = 5
BANDS = BINS // ROWS
_WIDTH = (1 << 32) // BINS
_MASK = 0xFFFFFFFF  # values stay 32-bit
_SPACE = re.compile(r"\s+")


def _shingle_hashes(text: str) -> set[int]:
    """CRC-32 of every 5-character window of the text without whitespace (the whole text if shorter)."""
    compact = _SPACE.sub("", text)
    raw = compact.encode("utf-32-le")  # 4 bytes a character: a window is a fixed-width byte slice
    n = max(len(compact) - N + 1, 1)
    windows = map(slice, range(0, 4 * n, 4), range(4 * N, 4 * n + 4 * N, 4))
    return set(map(zlib.crc32, map(raw.__getitem__, windows)))


def _sketch(hashes: set[int]) -> array:
    """One-permutation MinHash; an empty bin borrows from the next filled one (densification by rotation),
    so short articles get comparable sketches too."""
    ordered = sorted(hashes)
    mins: list[int | None] = [None] * BINS
    for j in range(BINS):
        i = bisect_left(ordered, j * _WIDTH)
        if i < len(ordered) and ordered[i] < (j + 1) * _WIDTH:
            mins[j] = ordered[i] - j * _WIDTH
    out = array("I", bytes(4 * BINS))
    for j in range(BINS):
        step = 0
        while mins[(j + step) % BINS] is None:
            step += 1
        out[j] = (mins[(j + step) % BINS] + step * _WIDTH) & _MASK
    return out


def _bands(sketch: array) -> Iterator[bytes]:
    raw = sketch.tobytes()
    step = ROWS * sketch.itemsize
    for b in range(BANDS):
        yield bytes((b,)) + raw[b * step : (b + 1) * step]


def _estimate(a: array, b: array) -> float:
    """The share of bins where both sketches agree: an unbiased estimate of the Jaccard similarity."""
    return sum(map(eq, a, b)) / BINS


def _shingles(text: str) -> set[str]:
    compact = _SPACE.sub("", text)
    return {compact[i : i + N] for i in range(max(len(compact) - N + 1, 1))}


def _jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingles: computed only for the few candidate pairs."""
    x, y = _shingles(a), _shingles(b)
    return len(x & y) / len(x | y) if x or y else 1.0


def sketch_of(text: str) -> array:
    """The article's MinHash sketch (128 32-bit values); what `dedupe` compares."""
    return _sketch(_shingle_hashes(text))


def dedupe(
    articles: list[Article], threshold: float = 0.8, sketch: Callable[[Article], array] | None = None
) -> tuple[list[Article], int]:
    """Drop repeated articles (Jaccard similarity of shingles >= `threshold`), keeping the longer copy.

    The first kept article that matches wins, as before; the sketch only picks candidates, the exact
    similarity decides. Work and memory grow with the number of articles, not its square.
    `sketch` may return remembered sketches (deckgen.incremental); by default they are computed.
    """
    kept: list[Article] = []
    sketches: list[array] = []
    buckets: dict[bytes, list[int]] = {}
    for art in articles:
        mine = sketch(art) if sketch else _sketch(_shingle_hashes(art.text))
        bands = list(_bands(mine))
        candidates = sorted({i for key in bands for i in buckets.get(key, ())})
        twin = None
        for i in candidates:
            # the estimate skips articles that merely quote the same sentences; the exact one decides
            if _estimate(mine, sketches[i]) >= threshold - 0.25 and _jaccard(kept[i].text, art.text) >= threshold:
                twin = i
                break
        if twin is None:
            twin = len(kept)
            kept.append(art)
            sketches.append(mine)
        elif len(art.text) > len(kept[twin].text):
            kept[twin] = art
        else:
            continue
        for key in bands:
            bucket = buckets.setdefault(key, [])
            if not bucket or bucket[-1] != twin:
                bucket.append(twin)
    return kept, len(articles) - len(kept)
