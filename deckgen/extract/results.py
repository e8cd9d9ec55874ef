"""Result cards: the method's own result figure, hidden after a result word (CARDS.md pattern 4)."""

from __future__ import annotations

import re

from deckgen.extract import figures as fig
from deckgen.extract.context import Candidate, Context
from deckgen.extract.forms import cloze_text, widen_to_formula, window
from deckgen.extract.ids import anchor_text, card_id
from deckgen.extract.sentences import Sentence
from deckgen.model import Card
from deckgen.terms import is_generic_name


def _unit(figure: str) -> str:
    return re.sub(r"[\d.,\s~～\-到至]+", "", figure)


_CONTRAST = re.compile(r"而|但|仅|只|相比之下|；|;|反观|相较")


def result_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    scored = [(fig.result_score(sent.text, f), i, f) for i, f in enumerate(fig.find_figures(sent.text))]
    good = sorted(((s, why, i, f) for (s, why), i, f in scored if s >= 3), key=lambda t: (-t[0], t[2]))
    out = []
    if good:
        score, why, index, best = good[0]
        spans = [widen_to_formula(sent.text, best.start, best.end)]
        rule = f"result: {why}"
        second = next(
            (g for g in good[1:] if _CONTRAST.search(sent.text[min(best.end, g[3].end) : max(best.start, g[3].start)])), None
        ) or next((g for g in good[1:] if g[0] >= 5 and _unit(g[3].text) != _unit(best.text)), None)
        if second is not None:
            spans.append(widen_to_formula(sent.text, second[3].start, second[3].end))
            rule += " (two results of one sentence: two blanks)"
        kept = window(sent.text, min(s for s, _ in spans), max(e for _, e in spans), ctx.names_something)
        if kept is None:
            return out
        text = cloze_text(sent.text, spans, kept)
        card = Card(id=card_id(ctx.paper, "figure", f"{anchor_text(sent.text, mask_numbers=True)}#{index}"),
                    type="cloze", kind="figure", text=text, source=sent.text)
        own = [n for n in ctx.names if n in sent.text and (ctx.is_paper(n) or not is_generic_name(n, ctx.vocab))]
        bonus = 1.0 if own else -4.0  # the method's own result first; a textbook figure of a baseline last
        out.append(Candidate(card, 6.0 + score / 2 + bonus, rule, sent.position, best.text))
    return out

