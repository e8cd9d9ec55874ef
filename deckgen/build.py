"""The whole pipeline as functions the CLI and the tests both call."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from deckgen.deckfile import deck_files, dump_deck, read_deck, read_decks, slug, write_atomic
from deckgen.errors import DeckgenError
from deckgen.extract import anchor_text, card_id, extract
from deckgen.ingest import ingest
from deckgen.model import Card, Deck, Skipped
from deckgen.package import DEFAULT_ROOT_DECK, write_package
from deckgen.terms import load_vocabulary

T = TypeVar("T")
Progress = Callable[[list[T], str], Iterable[T]]


def _no_progress(items: list[T], label: str) -> Iterable[T]:
    return items


class NothingToBuild(DeckgenError):
    pass


@dataclass
class BuildResult:
    decks: list[Deck]
    output: Path | None
    deck_paths: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0

    def cards_by_kind(self) -> Counter[str]:
        return Counter(c.kind for d in self.decks for c in d.cards)


def content_of(card: Card) -> tuple:
    return (card.type, card.front, card.back, card.text, card.extra, card.source, tuple(card.tags))


def ensure_ids(deck: Deck) -> None:
    """Hand-added cards come without an id: give them one derived from what they ask."""
    for card in deck.cards:
        if not card.id:
            card.id = card_id(deck.paper, "custom", anchor_text(card.prompt))


STATE_FILE = ".deckgen-state.json"


def load_state(decks_dir: Path) -> dict[str, dict]:
    path = Path(decks_dir) / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_state(decks_dir: Path, state: dict[str, dict]) -> None:
    write_atomic(Path(decks_dir) / STATE_FILE, json.dumps(state, ensure_ascii=False, sort_keys=True, indent=0))


def stamp(deck: Deck, state: dict[str, dict], now: int) -> None:
    """A card's modification time moves only when its content changes (in a rebuild or a hand edit).

    Anki's import updates a note only when the package's copy is newer, so an unchanged card
    never overwrites what the user edited inside Anki, and a changed one always updates.
    """
    for card in deck.cards:
        digest = hashlib.sha1(repr(content_of(card)).encode()).hexdigest()
        seen = state.get(card.id)
        if seen and seen.get("hash") == digest:
            card.updated = int(seen["updated"])
        else:
            # strictly newer than the last export, even within the same second
            card.updated = max(now, int(seen["updated"]) + 1) if seen else now
            state[card.id] = {"hash": digest, "updated": card.updated}


def merge(new: Deck, existing: Deck | None) -> Deck:
    """Keep what the user wrote: cards already in the deck file win over fresh extraction."""
    if existing is None:
        return new
    cards = list(existing.cards)
    known = {c.id for c in cards}
    cards.extend(c for c in new.cards if c.id not in known)
    return Deck(
        paper=existing.paper,
        title=new.title or existing.title,
        links=list(dict.fromkeys(existing.links + new.links)),
        sources=list(dict.fromkeys(existing.sources + new.sources)),
        cards=cards,
    )


def build(
    inputs: Iterable[str],
    output: Path,
    decks_dir: Path,
    root_deck: str = DEFAULT_ROOT_DECK,
    terms: tuple[str, ...] = (),
    progress: Progress = _no_progress,
) -> BuildResult:
    """Articles in, deck files and one .apkg out."""
    vocab = load_vocabulary(tuple(terms))
    ingested = ingest(inputs)
    if not ingested.papers:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in ingested.skipped) or "no input files found"
        raise NothingToBuild(f"no articles found, nothing built ({reasons})")
    existing = {slug(d.paper): (p, d) for p in deck_files(decks_dir) for d in [read_deck(p)]}
    state = load_state(decks_dir)
    now = int(time.time())
    decks: list[Deck] = []
    paths: list[Path] = []
    for paper in progress(ingested.papers, "Extracting cards"):
        path, previous = existing.get(slug(paper.name), (Path(decks_dir) / f"{slug(paper.name)}.yaml", None))
        deck = merge(extract(paper, vocab), previous)
        ensure_ids(deck)
        stamp(deck, state, now)
        decks.append(deck)
        paths.append(path)
    for deck, path in zip(decks, paths, strict=True):
        write_atomic(path, dump_deck(deck))
    save_state(decks_dir, state)
    write_package(decks, output, root_deck)
    return BuildResult(decks, Path(output), paths, ingested.skipped, ingested.duplicates)


def package(decks_dir: Path, output: Path, root_deck: str = DEFAULT_ROOT_DECK) -> BuildResult:
    """Rebuild the .apkg from deck files alone (after hand edits)."""
    paths = deck_files(decks_dir)
    if not paths:
        raise NothingToBuild(f"no deck files (*.yaml) in {decks_dir}: run `deckgen build ARTICLES...` first")
    decks = read_decks(decks_dir)
    state = load_state(decks_dir)
    now = int(time.time())
    for deck, path in zip(decks, paths, strict=True):
        before = [c.id for c in deck.cards]
        ensure_ids(deck)
        stamp(deck, state, now)
        if before != [c.id for c in deck.cards]:
            write_atomic(path, dump_deck(deck))  # write the new ids back, so they stay stable
    save_state(decks_dir, state)
    write_package(decks, output, root_deck)
    return BuildResult(decks, Path(output), paths)
