"""Candidate facts: each sentence's role decides the span a card tests and the card's form (CARDS.md).

Every generator returns Candidates with a score and the rule that made them; `select` chooses among them.
"""

from __future__ import annotations

from deckgen.extract.claims import claim_candidates
from deckgen.extract.context import Candidate, Context
from deckgen.extract.forms import MAX_CLOZE
from deckgen.extract.questions import (
    because_candidates,
    consequence_candidates,
    definition_candidates,
    is_the_candidates,
    list_candidates,
    means_candidates,
    named_candidates,
    parts_candidates,
    performs_candidates,
    purpose_candidates,
    relation_candidates,
    turns_candidates,
    unlike_candidates,
    versus_candidates,
)
from deckgen.extract.results import result_candidates
from deckgen.extract.rules import SKIP_RULES, roles, skip_rule
from deckgen.extract.sentences import Sentence
from deckgen.extract.termcards import term_candidates

SENTENCE_GENERATORS = (
    definition_candidates, because_candidates, means_candidates, unlike_candidates, parts_candidates, list_candidates,
    performs_candidates, purpose_candidates, consequence_candidates, is_the_candidates, versus_candidates,
    turns_candidates, named_candidates, relation_candidates,
)


def sentence_candidates(ctx: Context, sent: Sentence) -> tuple[list[Candidate], str | None]:
    """Every candidate a sentence offers, or why it offers none."""
    if (rule := skip_rule(sent.text)) is not None:
        only_meta = all(r.name == "meta" for r in SKIP_RULES if r.search(sent.text))
        if only_meta and (results := result_candidates(ctx, sent)):
            return results, None  # '例如，表 3 …推理时间减少了 70%': the figure is a result all the same
        return [], f"{rule.code} {rule.name}"
    found: list[Candidate] = []
    for generate in SENTENCE_GENERATORS:
        found += generate(ctx, sent)
    sentence_roles = roles(sent.text)
    found += result_candidates(ctx, sent)
    if sentence_roles:
        found += claim_candidates(ctx, sent, sentence_roles)
    if not found:
        return [], "no role with a clear span" if not sentence_roles else f"{'/'.join(sentence_roles)}: no span worth hiding"
    return found, None


__all__ = ["Candidate", "Context", "MAX_CLOZE", "sentence_candidates", "term_candidates"]
