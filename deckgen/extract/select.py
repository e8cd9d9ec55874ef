"""Choose, then write: rank every candidate of a paper and keep the best within a budget.

Precision beats recall: a card the student deletes costs more than a missing card. At most one card per
sentence (a contrast is one card with two blanks), no two cards asking the same fact or answer, no card
that gives its answer away, and a budget that grows with the article's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deckgen.extract.context import Candidate
from deckgen.extract.forms import leak, visible_without
from deckgen.terms import name_key

_DANGLING = re.compile(
    r"这一问题|这个问题|该问题|上述|前述|前面提到|这一方法|这些结果|这一过程|这一框架|两者|这一点|如上所述|这个数字|这种方式|这一方式|以上|"
    r"这两[种个]|^(?:它们|它|其(?!中))|^这(?!篇|里)"
)
_POINTER = re.compile(r"这一|这些|这个|这种|该(?!方法)|此|其")  # a question must say what it asks about
DEFAULT_MAX_CARDS = 20
MIN_SCORE = 4.0  # below this a candidate is a guess, not a fact worth a review a day
FLOOR = 3  # a deck keeps its best few flawless candidates even below MIN_SCORE, so no paper is left empty
MAX_PROMPT = 150


def budget_for(prose_chars: int, max_cards: int = DEFAULT_MAX_CARDS) -> int:
    """A short article gets a handful of cards, a long one up to `max_cards`."""
    return max(min(4, max_cards), min(max_cards, 4 + prose_chars // 150))


@dataclass
class Choice:
    kept: list[Candidate] = field(default_factory=list)
    dropped: list[tuple[Candidate, str]] = field(default_factory=list)


def defect(candidate: Candidate, paper: str) -> str | None:
    """Why a candidate is not a card at all, whatever the budget."""
    card = candidate.card
    if why := leak(card):
        return why
    if _DANGLING.search(visible_without(card)) or card.type != "cloze" and _POINTER.search(card.front):
        return "it points at something not on the card (这一问题, 两者 …)"
    if candidate.answer_key and candidate.answer_key == name_key(paper) and card.kind != "term":
        return "the answer is the paper's own name"
    if len(visible_without(card)) > MAX_PROMPT:
        return f"the question is over {MAX_PROMPT} characters"
    return None


def choose(candidates: list[Candidate], paper: str, budget: int) -> Choice:
    choice = Choice()
    used_sentences: set[int] = set()
    answers: set[str] = set()
    prompts: set[str] = set()
    term_room = max(3, budget // 3)
    for cand in sorted(candidates, key=lambda c: (-c.score, c.sentence, c.card.id)):
        why = defect(cand, paper)
        if why is None:
            if cand.sentence >= 0 and cand.sentence in used_sentences:
                why = "its sentence already has a card"
            elif cand.answer_key and cand.answer_key in answers:
                why = "another card has the same answer"
            elif cand.card.prompt in prompts:
                why = "another card asks the same"
            elif cand.card.kind == "term" and term_room <= 0:
                why = "enough term cards"
            elif len(choice.kept) >= budget:
                why = f"over the budget of {budget} cards"
            elif cand.score < MIN_SCORE and len(choice.kept) >= min(FLOOR, budget):
                # an article whose facts all score low still gets its best few, so no paper is left empty
                why = f"score {cand.score:.1f} below {MIN_SCORE}"
        if why is not None:
            choice.dropped.append((cand, why))
            continue
        choice.kept.append(cand)
        if cand.sentence >= 0:
            used_sentences.add(cand.sentence)
        if cand.answer_key:
            answers.add(cand.answer_key)
        prompts.add(cand.card.prompt)
        if cand.card.kind == "term":
            term_room -= 1
    return choice
