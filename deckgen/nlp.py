"""The one module that owns jieba: lazy import, quiet logging, the AI-terms dictionary, Latin terms kept whole.

jieba splits Latin terms (GPT-4 -> GPT, -, 4) and cannot hold dictionary entries with spaces,
so only the CJK runs of a text are ever given to it; Latin runs are matched by regex instead.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import math
import os
import re
import tempfile
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from deckgen.terms import Vocabulary

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")

_state: dict[str, object] = {}


def cache_dir() -> Path:
    """deckgen's folder in the user cache directory: jieba's dictionary cache and the idf table live here,
    never in $TMPDIR (a build leaves no temporary files behind)."""
    from platformdirs import user_cache_dir

    path = Path(user_cache_dir("deckgen"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _jieba(vocab: Vocabulary):
    """Import jieba on first use (it costs ~0.5 s) and load the vocabulary once per vocabulary.

    Only papers that are extracted need it: an incremental build with nothing changed never loads it.
    """
    import jieba

    if "cache" not in _state:
        jieba.dt.tmp_dir = str(cache_dir())  # jieba.cache (its parsed dictionary) goes here, not in $TMPDIR
        _state["cache"] = True
    if _state.get("vocab") is not vocab:
        jieba.setLogLevel(logging.WARNING)
        for form in vocab.forms:
            if _CJK_RUN.fullmatch(form):
                jieba.add_word(form, freq=2000)
        _state["vocab"] = vocab
    return jieba


def cjk_words(text: str, vocab: Vocabulary) -> list[str]:
    """Segment only the Chinese runs of `text`."""
    jieba = _jieba(vocab)
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(jieba.lcut(run, HMM=True))
    return out


class _IdfTable:
    """jieba's idf table in ~4 MB instead of a 270k-entry dict (~45 MB): the words sorted in one string,
    their start offsets, and each value as a 2-byte index into the few thousand distinct values.
    A lookup is a binary search; each word's value is remembered, and an article uses few distinct words."""

    def __init__(self, words: str, offsets: array, index: array, distinct: list[float], median: float):
        self.words, self.offsets, self.index, self.distinct, self.median = words, offsets, index, distinct, median
        self.known: dict[str, float | None] = {}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> str:  # the i-th word, for bisect
        return self.words[self.offsets[i] : self.offsets[i + 1] - 1]

    def get(self, word: str) -> float | None:
        if word not in self.known:
            i = bisect_left(self, word)
            self.known[word] = self.distinct[self.index[i]] if i < len(self) and self[i] == word else None
        return self.known[word]


def _compact(table: dict[str, float], median: float) -> tuple:
    words = sorted(table)
    distinct = sorted(set(table.values()))
    position = {v: i for i, v in enumerate(distinct)}
    offsets = array("I", [0])
    for word in words:
        offsets.append(offsets[-1] + len(word) + 1)
    index = array("H", [position[table[w]] for w in words])
    return "\n".join(words) + "\n", offsets.tobytes(), index.tobytes(), distinct, median


@lru_cache(maxsize=1)
def _idf_table() -> _IdfTable:
    """jieba's idf table, parsed once per jieba install and cached compactly in the user cache directory."""
    import jieba

    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    stat = path.stat()
    key = hashlib.sha1(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{jieba.__version__}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"idf2-{key}.marshal"  # idf2: this layout
    try:
        with cached.open("rb") as fh:
            data = marshal.load(fh)
        if not (isinstance(data, tuple) and len(data) == 5):
            data = None
    except (OSError, EOFError, ValueError, TypeError):
        data = None
    if data is None:
        table: dict[str, float] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                word, _, value = line.rstrip("\n").rpartition(" ")
                if word and "\n" not in word:
                    table[word] = float(value)
        data = _compact(table, sorted(table.values())[len(table) // 2])
        fd, tmp = tempfile.mkstemp(prefix=".idf-", dir=cached.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(data, fh)
            os.replace(tmp, cached)
        except OSError:
            pass  # no cache this time: parsing again next time is slower, not wrong
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    words, offsets_bytes, index_bytes, distinct, median = data
    offsets, index = array("I"), array("H")
    offsets.frombytes(offsets_bytes)
    index.frombytes(index_bytes)
    return _IdfTable(words, offsets, index, distinct, median)


def idf(word: str) -> float:
    """Inverse document frequency from jieba's table; unseen words count as rare."""
    table = _idf_table()
    value = table.get(word)
    return value if value is not None else max(table.median, 10.0)


def specificity(word: str) -> float:
    """How topic-specific a Chinese word is: rare, longer words score higher."""
    return idf(word) * math.log(1 + len(word))


# Word classes (jieba.posseg flags) that may not open or close a noun phrase such as a term's Chinese name.
_NOT_FIRST = ("v", "p", "d", "c", "r", "u", "m", "q", "f", "y", "e", "o", "z")
_NOUN_LAST = ("n", "vn", "an", "j", "l", "eng", "nz", "ng", "g")


def is_noun_phrase(text: str, vocab: Vocabulary) -> bool:
    """True when a short CJK run reads as a noun phrase (a term's name), not a clause ('问题的症结不在于计算量')."""
    if text in vocab.forms:
        return True
    _jieba(vocab)
    import jieba.posseg

    pairs = [(p.word, p.flag) for p in jieba.posseg.lcut(text, HMM=True)]
    if not pairs or len(text) > 14:
        return False
    first, last = pairs[0][1], pairs[-1][1]
    if "的" in text[1:-1] and last.startswith(_NOUN_LAST) and len(text) <= 12:
        return True  # a modifier with 的 before a noun: 带线性偏置的注意力
    if pairs[0][1].startswith(_NOT_FIRST) and not first.startswith("vn"):
        return False
    if any(flag.startswith(("v", "d", "p", "c")) and not flag.startswith("vn") for _, flag in pairs[1:-1]) and len(pairs) > 3:
        return False
    return last.startswith(_NOUN_LAST) or last in {"vn"}


COMMON_WORD_FREQ = 20  # jieba dictionary counts above this: an everyday word (上下文, 流水线), not an article's own term


def is_common_word(word: str) -> bool:
    """True for words jieba's general dictionary counts as frequent."""
    return _jieba_dict_freq(word) >= COMMON_WORD_FREQ


def _jieba_dict_freq(word: str) -> int:
    import jieba

    jieba.dt.check_initialized()
    return int(jieba.dt.FREQ.get(word, 0))
