"""Card forms: a cloze trimmed to the clause that holds the fact, a Q&A, and the checks every card passes."""

from __future__ import annotations

import re

from deckgen.ingest import MATH
from deckgen.model import CLOZE_DELETION, Card

_CLAUSE_BREAK = re.compile(r"[，,；;：:]")
MAX_CLOZE = 90  # characters of a cloze card before it is trimmed to its clause


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Spans of the clauses of a sentence, never cutting inside parentheses or a formula."""
    depth, start, spans = 0, 0, []
    protected = [(m.start(), m.end()) for m in MATH.finditer(sentence)]
    for i, ch in enumerate(sentence):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_BREAK.match(ch) and not any(a <= i < b for a, b in protected):
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if sentence[a:b].strip()]


def widen_to_formula(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A blank inside a formula would not highlight on the back: the whole formula becomes the blank."""
    for m in MATH.finditer(sentence):
        if m.start() < end and start < m.end():
            return min(start, m.start()), max(end, m.end())
    return start, end


def cloze_text(sentence: str, spans: list[tuple[int, int]], keep: tuple[int, int] | None = None) -> str:
    """The sentence (or its `keep` window) with each span as c1, c2 …"""
    lo, hi = keep or (0, len(sentence))
    out, last = [], lo
    for number, (start, end) in enumerate(sorted(spans), 1):
        out.append(sentence[last:start])
        out.append(f"{{{{c{number}::{sentence[start:end].strip()}}}}}")
        last = end
    out.append(sentence[last:hi])
    text = "".join(out).strip(" ，,；;：:")
    if hi < len(sentence) and not re.search(r"[。！？]$", text):
        text += "。"
    return text


_OPENS_MID_SENTENCE = re.compile(r"^\s*(?:以|并|而|从而|来|使|让|且|即|见|则|也|还|又|但|再)")


def window(sentence: str, start: int, end: int, has_subject) -> tuple[int, int] | None:
    """The clauses holding [start, end), widened leftwards until they name their subject or setting.

    None when no window of at most MAX_CLOZE characters names one: a card without context asks nothing.
    """
    if len(sentence) <= MAX_CLOZE and (has_subject(sentence) or len(sentence) >= 25):
        return 0, len(sentence)  # the whole sentence is short enough, and all the context there is
    spans = clauses(sentence)
    first = next((i for i, (a, b) in enumerate(spans) if a <= start < b), 0)
    last = next((i for i, (a, b) in enumerate(spans) if a < end <= b), first)
    lo, hi = spans[first][0], spans[last][1]
    while not has_subject(sentence[lo:hi]) and first > 0 and hi - spans[first - 1][0] <= MAX_CLOZE:
        first -= 1
        lo = spans[first][0]
    while first > 0 and _OPENS_MID_SENTENCE.match(sentence[lo:]):
        first -= 1  # '以获得 …' or '并把 …' is the second half of a sentence: take the first half along
        lo = spans[first][0]
    return (lo, hi) if has_subject(sentence[lo:hi]) else None


def visible_without(card: Card) -> str:
    """What the front shows: a cloze's text with its blanks removed, or a Q&A's question."""
    if card.type == "cloze":
        return CLOZE_DELETION.sub(" ", card.text)
    return card.front


def answers(card: Card) -> list[str]:
    if card.type == "cloze":
        return [m.group(1) for m in CLOZE_DELETION.finditer(card.text)]
    return [card.back]


def _compact(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", MATH.sub(lambda m: m.group(), text)).lower()


def leak(card: Card) -> str | None:
    """Why the card gives its own answer away (CARDS.md pattern 3), or None."""
    shown = visible_without(card)
    shown_compact = _compact(shown)
    for answer in answers(card):
        compact = _compact(answer)
        if len(compact) >= 2 and compact in shown_compact:
            return f"the answer '{answer}' stands elsewhere on the card"
        for digits in re.findall(r"\d+(?:\.\d+)?", answer):
            if len(digits) >= 2 and re.search(rf"(?<![\d.]){re.escape(digits)}(?![\d])", shown):
                return f"the digits {digits} of the answer stand elsewhere on the card"
        unit = re.fullmatch(r"[^\d]*\d+(?:[.,]\d+)*\s*([^\d\s]{1,4})", answer.strip())
        same_unit = unit and unit.group(1) not in ("倍", "%", "％") and re.search(rf"\d\s*{re.escape(unit.group(1))}", shown)
        if same_unit and _RATIO_WORD.search(shown):
            return "the answer can be computed from a ratio on the card"
    return None


_RATIO_WORD = re.compile(r"分之|一半|的\s*[\d.]+\s*倍")  # 70B … 是 280B 的四分之一: the blank follows from the rest
