"""Stage 2: the few facts of a paper worth remembering, as cards (rule-based, jieba).

sentences (with their section) -> roles and skip rules (rules.py) -> candidate facts, each with the span its
role says to test (facts.py) -> the card form (forms.py) -> ranking and a budget (select.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from deckgen.extract.context import Candidate, Context, component_names, repeated_terms
from deckgen.extract.facts import sentence_candidates
from deckgen.extract.figures import Figure, find_figures
from deckgen.extract.glossary import Term, find_latin_names, find_term_pairs
from deckgen.extract.ids import RULES_VERSION, anchor_text, card_id, tag_for
from deckgen.extract.select import DEFAULT_MAX_CARDS, budget_for, choose
from deckgen.extract.sentences import PLANTED_INSTRUCTION, Sentence, split_sentences
from deckgen.extract.termcards import term_candidates
from deckgen.model import Deck, Paper
from deckgen.terms import Vocabulary, load_vocabulary, name_key

__all__ = [
    "DEFAULT_MAX_CARDS", "PLANTED_INSTRUCTION", "RULES_VERSION", "Explanation", "Figure", "Sentence", "Term",
    "anchor_text", "card_id", "explain", "extract", "find_figures", "find_term_pairs", "split_sentences", "tag_for",
]


@dataclass
class Explanation:
    """Why each candidate was kept or left out, and why sentences offered none (`deckgen explain`)."""

    paper: str
    budget: int
    kept: list[Candidate] = field(default_factory=list)
    dropped: list[tuple[Candidate, str]] = field(default_factory=list)
    silent: list[tuple[Sentence, str]] = field(default_factory=list)  # sentences without a candidate


def _context(paper: Paper, vocab: Vocabulary, sentences: list[Sentence]) -> Context:
    terms = find_term_pairs(sentences, vocab)
    latin = find_latin_names(sentences)
    names = {n for n in latin} | {t.latin for t in terms} | {t.chinese for t in terms if t.chinese}
    components = component_names(sentences, vocab) | repeated_terms(sentences, vocab)
    components |= {t.latin for t in terms} | {t.chinese for t in terms if t.chinese}
    names |= components
    names.add(paper.name)
    mentions: Counter[str] = Counter()
    prose = "\n".join(s.prose for s in sentences)
    for name in names:
        mentions[name_key(name)] = max(mentions[name_key(name)], prose.count(name))
    for term in terms:  # a term is as often mentioned as its most used name
        if term.chinese:
            mentions[name_key(term.latin)] = max(mentions[name_key(term.latin)], prose.count(term.chinese))
    return Context(
        paper=paper.name,
        vocab=vocab,
        sentences=sentences,
        title=paper.title or "",
        terms=terms,
        names=sorted(names, key=lambda n: (-len(n), n)),  # a fixed order: sets iterate by a per-process hash
        mentions=mentions,
        components=components,
    )


def explain(paper: Paper, vocab: Vocabulary | None = None, max_cards: int = DEFAULT_MAX_CARDS) -> Explanation:
    vocab = vocab or load_vocabulary()
    sentences = split_sentences(paper)
    ctx = _context(paper, vocab, sentences)
    budget = budget_for(sum(len(s.text) for s in sentences), max_cards)
    report = Explanation(paper.name, budget)
    candidates = term_candidates(ctx)
    for sent in sentences:
        found, why = sentence_candidates(ctx, sent)
        candidates += found
        if why:
            report.silent.append((sent, why))
    choice = choose(candidates, paper.name, budget)
    report.kept, report.dropped = choice.kept, choice.dropped
    return report


def extract(paper: Paper, vocab: Vocabulary | None = None, max_cards: int = DEFAULT_MAX_CARDS) -> Deck:
    """The paper's best cards, best first, each carrying the sentence that supports it."""
    report = explain(paper, vocab, max_cards)
    cards = []
    for cand in report.kept:
        cand.card.tags = ["deckgen", tag_for(paper.name), cand.card.kind]
        cards.append(cand.card)
    return Deck(
        paper=paper.name,
        title=paper.title,
        links=paper.links,
        sources=sorted({a.source for a in paper.articles}),
        cards=cards,
        budget=report.budget,
    )
