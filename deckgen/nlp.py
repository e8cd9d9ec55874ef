"""The one module that owns jieba: lazy import, quiet logging, the AI-terms dictionary, Latin terms kept whole.

jieba splits Latin terms (GPT-4 -> GPT, -, 4) and cannot hold dictionary entries with spaces,
so only the CJK runs of a text are ever given to it; Latin runs are matched by regex instead.
"""

from __future__ import annotations

import hashlib
import io
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


_SEGMENTED: dict[str, tuple[str, ...]] = {}  # text -> words, for the vocabulary loaded now (extraction asks twice)
_SEGMENTED_MAX = 20000


def cjk_words(text: str, vocab: Vocabulary) -> list[str]:
    """Segment only the Chinese runs of `text`."""
    jieba = _jieba(vocab)
    if _state.get("segmented_for") is not vocab or len(_SEGMENTED) > _SEGMENTED_MAX:
        _SEGMENTED.clear()
        _state["segmented_for"] = vocab
    words = _SEGMENTED.get(text)
    if words is None:
        words = tuple(w for run in _CJK_RUN.findall(text) for w in jieba.lcut(run, HMM=True))
        _SEGMENTED[text] = words
    return list(words)


class _CompactTable:
    """A read-mostly word table from jieba (idf values, word classes) in a few MB instead of a dict of
    ~300k entries (~45-55 MB): the words sorted in one string, their start offsets, and each value as a
    2-byte index into the few thousand distinct values. A lookup is a binary search, and each word's
    value is remembered (an article uses few distinct words); `update` adds entries on top."""

    def __init__(self, words: str, offsets: array, index: array, distinct: list):
        self.words, self.offsets, self.index, self.distinct = words, offsets, index, distinct
        self.known: dict = {}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> str:  # the i-th word, for bisect
        return self.words[self.offsets[i] : self.offsets[i + 1] - 1]

    def get(self, word: str, default=None):
        if word not in self.known:
            i = bisect_left(self, word)
            self.known[word] = self.distinct[self.index[i]] if i < len(self) and self[i] == word else None
        value = self.known[word]
        return default if value is None else value

    def update(self, more: dict) -> None:
        self.known.update(more)


def _compact(table: dict) -> tuple:
    words = sorted(table)
    distinct = sorted(set(table.values()))
    position = {v: i for i, v in enumerate(distinct)}
    offsets = array("I", [0])
    for word in words:
        offsets.append(offsets[-1] + len(word) + 1)
    index = array("H", [position[table[w]] for w in words])
    return "\n".join(words) + "\n", offsets.tobytes(), index.tobytes(), distinct


def _cached_table(name: str, source: Path, parse) -> _CompactTable:
    """`parse(source)` -> {word: value}, done once per jieba install and kept compact in the user cache dir."""
    stat = source.stat()
    key = hashlib.sha1(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"{name}-{key}.marshal"
    try:
        with cached.open("rb") as fh:
            data = marshal.load(fh)
        if not (isinstance(data, tuple) and len(data) == 4):
            data = None
    except (OSError, EOFError, ValueError, TypeError):
        data = None
    if data is None:
        table = {w: v for w, v in parse(source).items() if "\n" not in w}
        data = _compact(table)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=cached.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(data, fh)
            os.replace(tmp, cached)
        except OSError:
            pass  # no cache this time: parsing again next time is slower, not wrong
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    words, offsets_bytes, index_bytes, distinct = data
    offsets, index = array("I"), array("H")
    offsets.frombytes(offsets_bytes)
    index.frombytes(index_bytes)
    return _CompactTable(words, offsets, index, distinct)


def _parse_idf(path: Path) -> dict[str, float]:
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, _, value = line.rstrip("\n").rpartition(" ")
            if word:
                table[word] = float(value)
    return table


def _parse_word_classes(path: Path) -> dict[str, str]:
    """jieba's dictionary lines are `word frequency class`; what jieba.posseg loads as its word_tag_tab."""
    table: dict[str, str] = {}
    with path.open("rb") as fh:
        for line in fh:
            line = line.strip().decode("utf-8")
            if line:
                word, _, tag = line.split(" ")
                table[word] = tag
    return table


@lru_cache(maxsize=1)
def _idf_table() -> tuple[_CompactTable, float]:
    import jieba

    table = _cached_table("idf", Path(jieba.__file__).parent / "analyse" / "idf.txt", _parse_idf)
    median = table.distinct[sorted(table.index)[len(table) // 2]]  # the values are sorted, so are their indices
    return table, median


def idf(word: str) -> float:
    """Inverse document frequency from jieba's table; unseen words count as rare."""
    table, median = _idf_table()
    return table.get(word, max(median, 10.0))


def _posseg():
    """jieba.posseg with a compact word-class table: its import otherwise parses jieba's whole dictionary
    into a dict (~1.4 s, +54 MB). The import is given an empty dictionary file, then the table is set."""
    import sys

    import jieba

    if "jieba.posseg" not in sys.modules:
        get_dict_file = jieba.Tokenizer.get_dict_file
        jieba.Tokenizer.get_dict_file = lambda self: io.BytesIO(b"")
        try:
            import jieba.posseg
        finally:
            jieba.Tokenizer.get_dict_file = get_dict_file
        source = Path(jieba.__file__).parent / "dict.txt"
        if jieba.dt.dictionary in (None, jieba.DEFAULT_DICT, str(source)):
            jieba.posseg.dt.word_tag_tab = _cached_table("word-classes", source, _parse_word_classes)
        else:  # someone set another main dictionary: let posseg read it the usual way
            jieba.posseg.dt.load_word_tag(jieba.dt.get_dict_file())
    return sys.modules["jieba.posseg"]


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
    pairs = [(p.word, p.flag) for p in _posseg().lcut(text, HMM=True)]
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
