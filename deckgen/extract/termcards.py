"""Term cards: an abbreviation with its Chinese and full name, for terms the article defines, repeats
or names in its title (CARDS.md pattern 6)."""

from __future__ import annotations

from deckgen.extract.context import Candidate, Context
from deckgen.extract.glossary import initials_spell, is_name_like
from deckgen.extract.ids import card_id
from deckgen.ingest import LATIN_NAME
from deckgen.model import Card
from deckgen.terms import is_generic_name, name_key


def term_candidates(ctx: Context) -> list[Candidate]:
    out = []
    title_keys = {name_key(n) for n in LATIN_NAME.findall(ctx.title or "")}
    for term in ctx.terms:
        key = name_key(term.latin)
        if not is_name_like(term.latin):
            continue  # 重计算(recomputation): a glossed idea, tested in its sentence, not as a term card
        repeated = ctx.mentions[key] >= 2
        if not (repeated or key in title_keys or ctx.is_paper(term.latin)):
            continue
        if is_generic_name(term.latin, ctx.vocab) and key not in title_keys and not ctx.is_paper(term.latin):
            continue  # LLM -> 大型语言模型: every reader of AI papers knows it
        short = len(term.latin) <= 3 and term.latin.isupper()
        if short and ctx.mentions[key] < 5 and key not in title_keys and not ctx.is_paper(term.latin):
            continue  # KD, CR: a short abbreviation of a general idea or a dataset, not this paper's vocabulary
        chinese, full = term.chinese, term.full
        if full and initials_spell(term.latin, full) or (not chinese and full):
            # the reverse (full name -> abbreviation) would spell its own answer: one direction only
            back = "；".join(p for p in (chinese, full) if p)
            card = Card(id=card_id(ctx.paper, "termqa", key), type="qa", kind="term", front=term.latin, back=back,
                        source=term.source)
        elif chinese:
            back = "；".join(p for p in (chinese, full) if p)
            card = Card(id=card_id(ctx.paper, "term", key), type="term", kind="term", front=term.latin, back=back,
                        source=term.source)
        else:
            continue
        score = 6.0 + min(ctx.mentions[key], 6) / 2 - (2.5 if is_generic_name(term.latin, ctx.vocab) else 0.0)
        out.append(Candidate(card, score, f"term the article defines and uses {ctx.mentions[key]}x", -1, key))
    return out

