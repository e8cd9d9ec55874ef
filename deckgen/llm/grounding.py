"""Is a model's card grounded in the article? Lenient on format, strict on substance.

Format does not count: LaTeX or Unicode symbols, full or half width, spacing and punctuation, cloze
markup copied into `source`, `……` eliding part of it, and a number written another way (numbers.py).
Substance does: the source must be a clause of the article (not a bare name), and the answer's numbers
and Latin terms must stand in the card's own source sentence or the one next to it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from deckgen.extract import PLANTED_INSTRUCTION, anchor_text, card_id, tag_for
from deckgen.llm import numbers
from deckgen.model import CLOZE_DELETION, LLM_KIND, Card

MAX_ANSWER = 80  # characters: "answers short" — one fact, not a paragraph
SLIP_SHARE = 0.85  # of a slipped source's character pairs that must stand in one sentence of the article
SWAP_MARGIN = 2  # how much better another number's context must fit the question to call the answer swapped
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-+.][A-Za-z0-9]+)*")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”」』\"]?|$)")
_ELISION = re.compile(r"…+|\.{3,}|⋯+")
_BRACKETED = re.compile(r"[（(][^（）()]*[）)]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE_END = re.compile(r"[,，;；:：、。!！?？]")
_LATEX = {
    "times": "×", "cdot": "·", "lambda": "λ", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
    "epsilon": "ε", "varepsilon": "ε", "theta": "θ", "mu": "μ", "sigma": "σ", "tau": "τ", "pi": "π",
    "phi": "φ", "omega": "ω", "eta": "η", "rho": "ρ", "Sigma": "Σ", "Delta": "Δ", "leq": "≤", "le": "≤",
    "geq": "≥", "ge": "≥", "neq": "≠", "approx": "≈", "infty": "∞", "sqrt": "√", "sum": "∑", "to": "→",
    "rightarrow": "→", "log": "log", "exp": "exp", "in": "∈",
}  # fmt: skip


def _latex_to_unicode(text: str) -> str:
    text = re.sub(r"\\(?:mathcal|mathrm|mathbf|text|operatorname|mathit)\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _LATEX.get(m.group(1), m.group(1)), text)
    return re.sub(r"\\[()\[\]]|\$|[{}^_]", "", text)


def strip_cloze(text: str) -> str:
    return CLOZE_DELETION.sub(r"\1", text)


@lru_cache(maxsize=8192)
def norm(text: str) -> str:
    """For "is this in the article": width, case, spacing, punctuation, LaTeX and cloze markup do not count."""
    return anchor_text(_latex_to_unicode(unicodedata.normalize("NFKC", strip_cloze(text))))


@dataclass
class ArticleIndex:
    """An article as sentences, normalised once, for finding where a card's source stands."""

    sentences: list[str]
    text: str  # the normalised sentences, concatenated
    starts: list[int]  # where each sentence begins in `text`

    @classmethod
    def of(cls, article: str) -> ArticleIndex:
        sentences = [s.strip() for para in article.splitlines() for s in _SENTENCE.findall(para) if s.strip()]
        starts, parts, pos = [], [], 0
        for sentence in sentences:
            starts.append(pos)
            parts.append(norm(sentence))
            pos += len(parts[-1])
        return cls(sentences, "".join(parts), starts)

    def locate(self, source: str, slips: bool = False) -> tuple[int, int] | None:
        """The sentences (first, last) a source covers; `……` may elide text between parts found in order.

        `slips`: also accept a source copied with a slip or two (a character changed, dropped or added):
        the one sentence holding nearly all its character pairs. For grounding only — whether a fact is
        still in an article is decided on the exact words.
        """
        parts = [p for p in (norm(x) for x in _ELISION.split(source)) if p]
        if not parts or (len(parts) > 1 and min(len(p) for p in parts) < 2):
            return None
        begin = pos = self.text.find(parts[0])
        if begin < 0:
            return self._nearest(parts[0]) if slips and len(parts) == 1 else None
        pos += len(parts[0])
        for part in parts[1:]:
            found = self.text.find(part, pos)
            if found < 0:
                return None
            pos = found + len(part)
        first, last = self._sentence_at(begin), self._sentence_at(pos - 1)
        return (first, last) if last - first <= 3 else None

    def _nearest(self, source: str) -> tuple[int, int] | None:
        pairs = {source[i : i + 2] for i in range(len(source) - 1)}
        if len(pairs) < 8:
            return None
        best, score = None, 0.0
        for n, start in enumerate(self.starts):
            end = self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text)
            sentence = self.text[start:end]
            shared = len(pairs & {sentence[i : i + 2] for i in range(len(sentence) - 1)}) / len(pairs)
            if shared > score:
                best, score = n, shared
        return (best, best) if best is not None and score >= SLIP_SHARE else None

    def _sentence_at(self, offset: int) -> int:
        return max(0, bisect_right(self.starts, offset) - 1)

    def contains(self, source: str) -> bool:
        return bool(source.strip()) and self.locate(source) is not None

    @cached_property
    def values(self) -> frozenset[float]:
        """Every number the article states, as values."""
        return _values(" ".join(self.sentences))


@lru_cache(maxsize=8)
def article_index(article: str) -> ArticleIndex:
    """Computed once per article, not once per card."""
    return ArticleIndex.of(article)


def answer_of(card: Card) -> str:
    return " ".join(CLOZE_DELETION.findall(card.text)) if card.type == "cloze" else card.back


def _plain_answer(text: str) -> str:
    return _latex_to_unicode(strip_cloze(text))


def is_clause(source: str) -> bool:
    """A real clause, not a bare name or a term with its gloss: outside brackets, at least six words
    (a Chinese character, an English word or a number each count one), two of them Chinese unless it
    is an English sentence."""
    outside = _BRACKETED.sub("", _ELISION.sub("", source))
    chinese, latin = len(_CJK.findall(outside)), len(_LATIN.findall(outside))
    words = chinese + latin + len(re.findall(r"\d+(?:\.\d+)?", outside))
    return words >= 6 and (chinese >= 2 or latin >= 4)


def _terms(text: str) -> list[str]:
    return [t for t in _LATIN.findall(_plain_answer(text)) if len(t) > 1]


def ground(raw: dict[str, Any], paper: str, article: str) -> Card | str:
    """A card from the model if it is grounded in the article, else the reason it is not."""
    kind = raw.get("type")
    if kind not in ("qa", "cloze", "term"):
        return f"unknown card type {kind!r}"
    fields = {k: raw.get(k) for k in ("front", "back", "text", "source")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return "a field is not text"
    front, back, text, source = ((fields[k] or "").strip() for k in ("front", "back", "text", "source"))
    if kind == "cloze" and not CLOZE_DELETION.search(text):
        return "a cloze card without a {{c1::…}} deletion"
    if kind != "cloze" and not (front and back):
        return "a question or answer is missing"
    card = Card(id="", type=kind, kind=LLM_KIND, front=front if kind != "cloze" else "",
                back=back if kind != "cloze" else "", text=text if kind == "cloze" else "", source=source)
    answer = answer_of(card)
    if len(answer) > MAX_ANSWER:
        return f"the answer is longer than {MAX_ANSWER} characters"
    if PLANTED_INSTRUCTION.search(" ".join((card.front, card.back, card.text, source))):
        return "it repeats an instruction planted in the article"
    index = article_index(article)
    span = index.locate(source, slips=True) if len(norm(source)) >= 6 else None
    if span is None:
        return "no source sentence" if len(norm(source)) < 6 else "its source sentence is not in the article"
    if not is_clause(source):
        return "its source is a bare name, not a sentence of the article"
    first, last = span
    own = " ".join(index.sentences[first : last + 1])
    nearby = " ".join(index.sentences[max(0, first - 1) : last + 2])
    problem = _check_substance(card, answer, own, nearby, index)
    if problem:
        return problem
    card.source = own  # the article's own words, whatever formatting the model copied them with
    card.id = card_id(paper, LLM_KIND, norm(own) + "|" + norm(answer))
    card.tags = ["deckgen", tag_for(paper), LLM_KIND]
    return card


def _check_substance(card: Card, answer: str, own: str, nearby: str, index: ArticleIndex) -> str | None:
    article_values, nearby_values = index.values, _values(nearby)
    answer_numbers = numbers.occurrences(_plain_answer(answer), strict_chinese=True)
    for start, end, vals in answer_numbers:
        shown = numbers.plain(_plain_answer(answer))[start:end].strip()
        if not vals & article_values:
            return f"the number {shown} is not in the article"
        if not vals & nearby_values:
            return f"the number {shown} stands in another sentence of the article, not in its source"
    asked = strip_cloze(CLOZE_DELETION.sub(" ", card.text)) if card.type == "cloze" else card.front
    for start, end, vals in numbers.occurrences(_plain_answer(asked), strict_chinese=True):
        if not vals & article_values:
            return f"the number {numbers.plain(_plain_answer(asked))[start:end].strip()} is not in the article"
    nearby_norm, article_norm = norm(nearby), index.text
    for term in _terms(answer) + (_terms(card.front) if card.type == "term" else []):
        if norm(term) not in article_norm:
            return f"the term {term} is not in the article"
        if norm(term) not in nearby_norm:
            return f"the term {term} stands in another sentence of the article, not in its source"
    for _, _, vals in answer_numbers:
        if _swapped(card, vals, own):
            return "the answer is another figure of its source sentence (a swapped number)"
    return None


@lru_cache(maxsize=1024)
def _values(text: str) -> frozenset[float]:
    return frozenset(numbers.values(_latex_to_unicode(text)))


@lru_cache(maxsize=4096)
def _features(text: str) -> frozenset[str]:
    """What a stretch of text is about: its Latin terms (weighty) and its Chinese character pairs."""
    latin = {"#" + t.lower() for t in _terms(text)}
    cjk = "".join(_CJK.findall(text))
    return frozenset(latin | {cjk[i : i + 2] for i in range(len(cjk) - 1)})


def _fit(a: frozenset[str], b: frozenset[str]) -> int:
    return sum(3 if f.startswith("#") else 1 for f in a & b)


def _swapped(card: Card, answer_values: frozenset[float], source: str) -> bool:
    """The answer is a number of its source sentence, but the question fits another number of it better."""
    source = numbers.plain(_latex_to_unicode(source))
    # figures only: "一个" and "每一步" are words, not numbers a card could swap
    found = [f for f in numbers.occurrences(source, strict_chinese=True) if source[f[0] : f[1]].strip() not in ("一", "两")]
    if len({frozenset(v) for _, _, v in found}) < 2:
        return False
    if card.type == "cloze":
        before = numbers.plain(card.text[: CLOZE_DELETION.search(card.text).start()])
        cut = numbers.occurrences(before, strict_chinese=True)
        context = before[cut[-1][1] :] if cut else before
    else:
        context = card.front
    wanted = _features(context)
    leads = []
    for n, (start, end, vals) in enumerate(found):
        # a number's own words: its clause, from the number (or comma) before it to the one after it
        lo = found[n - 1][1] if n else 0
        hi = found[n + 1][0] if n + 1 < len(found) else len(source)
        lo = max([lo] + [m.end() for m in _CLAUSE_END.finditer(source, lo, start)])
        after = _CLAUSE_END.search(source, end, hi)
        own = source[lo:start] + " " + source[end : after.start() if after else hi]
        leads.append((_fit(wanted, _features(own)), vals))
    mine = [score for score, vals in leads if vals & answer_values]
    others = [score for score, vals in leads if not vals & answer_values]
    return bool(mine and others) and max(others) >= max(mine) + SWAP_MARGIN


def same_fact(a: Card, b: Card) -> bool:
    """Two cards asking the same thing: one source contains the other, and their answers match.

    Never by the answer alone: the same number on two different sentences is two facts.
    """
    sa, sb = norm(a.source), norm(b.source)
    if not sa or not sb or (sa not in sb and sb not in sa):
        return False
    xa, xb = answer_of(a), answer_of(b)
    if norm(xa) == norm(xb):
        return True
    va, vb = numbers.values(_plain_answer(xa), True), numbers.values(_plain_answer(xb), True)
    return bool(va) and va == vb
