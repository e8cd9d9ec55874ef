"""The model decides, deckgen checks: one paper's candidates and the model's grounded cards become its deck.

A candidate the model dropped, or replaced with a grounded rewrite, leaves; one it kept stays with its
id; one it did not mention stays unless a model card asks the same fact. A rewrite that failed
grounding does not take its candidate with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deckgen.llm.grounding import same_fact
from deckgen.model import Card


@dataclass
class Decided:
    """A paper's model cards (with the candidate ids each replaces) and the candidates kept or dropped."""

    cards: list[tuple[Card, set[str]]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)  # card ids
    drop: set[str] = field(default_factory=set)


@dataclass
class Combined:
    cards: list[Card]
    dropped: set[str]  # candidate ids that leave
    duplicates: list[tuple[Card, str]]  # model cards not used, with why


def combine(candidates: list[Card], decided: Decided) -> Combined:
    """Model cards first, then the candidates that stay, in their order (best first)."""
    replaced = {cid for _, ids in decided.cards for cid in ids}
    dropped = (decided.drop | replaced) - decided.keep
    kept = [c for c in candidates if c.id not in dropped]
    model: list[Card] = []
    duplicates: list[tuple[Card, str]] = []
    for card, _ in decided.cards:
        twin = next((c for c in kept if c.id in decided.keep and same_fact(card, c)), None)
        if twin is not None:
            duplicates.append((card, f"asks the same as a candidate the model kept ({twin.id})"))
        elif any(card.id == m.id or same_fact(card, m) for m in model):
            duplicates.append((card, "asks the same as another model card"))
        else:
            model.append(card)
    silent = {c.id for c in kept if c.id not in decided.keep and any(same_fact(m, c) for m in model)}
    return Combined(model + [c for c in kept if c.id not in silent], dropped | silent, duplicates)
