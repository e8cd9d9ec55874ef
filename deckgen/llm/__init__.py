"""Stage 3 (optional): a chat model behind any OpenAI-compatible endpoint decides on the cards.

The model decides, deckgen checks. It sees each article with its rule-based candidates numbered, says
which to keep or drop, and writes new cards; a card of its own is kept only when it is grounded in the
article (grounding.py). An article whose request fails keeps its rule-based cards.

    prompt.py     what is sent: the prompt file, the chunk, its numbered candidates
    client.py     the HTTP seam: deadline, retries, the key scrubbed from what comes back
    reply.py      the response body and the reply's JSON, distrusted
    grounding.py  is a card in the article? (numbers.py: the same number written two ways)
    combine.py    the model's decisions applied to the candidates
    refine.py     the stage: jobs, concurrency, cache, report
"""

from deckgen.llm.grounding import ArticleIndex, article_index, ground, same_fact
from deckgen.llm.refine import Refiner, RefineReport, paper_text
from deckgen.llm.reply import parse_reply

__all__ = ["ArticleIndex", "RefineReport", "Refiner", "article_index", "ground", "paper_text", "parse_reply", "same_fact"]
