"""Plain data passed between the pipeline stages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CARD_TYPES = ("qa", "term", "cloze")
DEFAULT_ROOT_DECK = "AI Papers"
STALE_TAG = "deckgen::stale"  # on notes whose fact left the article: the user deletes them in Anki
# A cloze deletion {{c1::answer}} or {{c1::answer::hint}}; group 1 is the answer.
CLOZE_DELETION = re.compile(r"\{\{c\d+::(.+?)(?:::[^}]*)?\}\}", re.S)
LLM_KIND = "llm"  # the kind (and tag) of cards written by the refine stage; rule-based kinds are the others


@dataclass
class Article:
    """One cleaned article; `paragraphs` hold the body text without boilerplate."""

    source: str
    title: str | None
    paragraphs: list[str]
    links: list[str] = field(default_factory=list)
    paper_title: str | None = None
    # Indices into `paragraphs` of section headings: context for the cards below them, never card text.
    headings: set[int] = field(default_factory=set)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Skipped:
    """An input that produced nothing, and why."""

    path: str
    reason: str


@dataclass
class Paper:
    """All articles about one paper: they become one deck."""

    name: str
    articles: list[Article]

    @property
    def title(self) -> str | None:
        return next((a.paper_title for a in self.articles if a.paper_title), None) or next(
            (a.title for a in self.articles if a.title), None
        )

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(link for a in self.articles for link in a.links))


@dataclass
class Card:
    """One note. `id` is the Anki GUID: it must never depend on order or time."""

    id: str
    type: str  # one of CARD_TYPES
    kind: str  # term | definition | figure | claim | name | count | custom | llm
    front: str = ""
    back: str = ""
    text: str = ""
    extra: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)
    updated: int | None = None  # unix time the content last changed; the Anki note's modification time

    @property
    def prompt(self) -> str:
        return self.text if self.type == "cloze" else self.front


@dataclass
class Deck:
    """One paper's cards plus metadata, as stored in decks/<slug>.yaml."""

    paper: str
    cards: list[Card]
    title: str | None = None
    links: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # ids the user deleted: never re-added by a rebuild
    # Fresh extraction only, never stored: how many rule-based cards the paper deserves. A rebuild adds new
    # candidates (best first) only into the room the cards already in the deck file leave. None: no limit.
    budget: int | None = None
