"""The AI/ML vocabulary: which terms are general, and which Chinese/English forms go together."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from deckgen.errors import InputError
from deckgen.resources import data_path

DEFAULT_TERMS = "ai_terms.tsv"


@dataclass
class Vocabulary:
    forms: set[str] = field(default_factory=set)  # every spelling, as written
    generic: set[str] = field(default_factory=set)  # normalised Latin spellings of general terms
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (term or abbreviation, 中文名)


def name_key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def parse_terms(text: str, origin: str) -> Vocabulary:
    vocab = Vocabulary()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) > 3:
            raise InputError(f"{origin}:{number}: expected at most 3 tab-separated columns, got {len(cols)}")
        term, zh, full = (cols + ["", ""])[:3]
        for form in (term, zh, full):
            if form:
                vocab.forms.add(form)
                if re.search(r"[A-Za-z]", form):
                    vocab.generic.add(name_key(form))
        if term and zh:
            vocab.pairs.append((term, zh))
        if full and zh:
            vocab.pairs.append((full, zh))
    return vocab


@lru_cache(maxsize=8)
def load_vocabulary(extra: tuple[str, ...] = ()) -> Vocabulary:
    """The shipped dictionary plus user files (same TSV format)."""
    vocab = parse_terms(data_path(DEFAULT_TERMS).read_text(encoding="utf-8"), DEFAULT_TERMS)
    for name in extra:
        text = _read_terms_file(Path(name))
        more = parse_terms(text, name)
        vocab.forms |= more.forms
        vocab.generic |= more.generic
        vocab.pairs += more.pairs
    return vocab


def _read_terms_file(path: Path) -> str:
    """A user's TSV of terms: UTF-8 text, or a one-line error saying what it is instead."""
    if not path.is_file():
        raise InputError(f"{path}: not a regular file; --terms takes a TSV file (TERM<TAB>中文<TAB>English)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read terms file ({exc.strerror})") from exc
    if b"\x00" in data:
        raise InputError(f"{path}: a binary file, not a terms file; --terms takes UTF-8 text (TERM<TAB>中文<TAB>English)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the terms file as UTF-8 and run again"
        ) from exc


def is_generic_name(name: str, vocab: Vocabulary | None = None) -> bool:
    vocab = vocab or load_vocabulary()
    key = name_key(name)
    return key in vocab.generic or key.rstrip("s") in vocab.generic
