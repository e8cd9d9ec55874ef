"""Regeneration that never loses the user's work: merge fresh extraction into existing deck files.

The deck file is the user's; extraction only proposes. What tells a user's edit from an article change
is the state file (decks/.deckgen-state.json): for every card deckgen wrote, the hash of what it
generated and of what it last packaged, and when that content last changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen.deckfile import replace_with
from deckgen.extract import anchor_text, card_id
from deckgen.model import LLM_KIND, STALE_TAG, Card, Deck

STATE_FILE = ".deckgen-state.json"
# How alike two supporting sentences must be (character bigrams, numbers masked) for a card whose
# sentence was reworded to keep its id. Below it, the fact counts as gone and a new one as added.
SAME_FACT = 0.6


def content_hash(card: Card) -> str:
    fields = (card.type, card.front, card.back, card.text, card.extra, card.source, tuple(card.tags))
    return hashlib.sha1(repr(fields).encode()).hexdigest()


@dataclass
class State:
    """What deckgen knows about every card it has written: {id: {paper, generated, hash, updated, source}}."""

    cards: dict[str, dict] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)  # note type id: {hash, updated}, like cards
    _by_paper: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, decks_dir: Path) -> State:
        try:
            data = json.loads((Path(decks_dir) / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("version") != 2:
            return cls()
        return cls(data.get("cards", {}), data.get("models", {}))

    def save(self, decks_dir: Path) -> None:
        """One card a line (readable diffs when the file is committed), each line from json's C encoder,
        streamed into the file: never one string of the whole state."""
        dumps = functools.partial(json.dumps, ensure_ascii=False, sort_keys=True)

        def lines() -> Iterator[str]:
            yield '{"version": 2,\n"models": ' + dumps(self.models) + ',\n"cards": {'
            separator = "\n"
            for key in sorted(self.cards):
                yield f"{separator}{dumps(key)}: {dumps(self.cards[key])}"
                separator = ",\n"
            yield "\n}}\n"

        path = Path(decks_dir) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(lines())
            replace_with(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def written_for(self, paper: str) -> list[str]:
        """Ids of the cards deckgen generated for `paper` (indexed once: a build asks for every paper)."""
        if self._by_paper is None:
            self._by_paper = {}
            for known, entry in self.cards.items():
                if entry.get("generated"):
                    self._by_paper.setdefault(entry.get("paper", ""), []).append(known)
        return [i for i in self._by_paper.get(paper, []) if self.cards.get(i, {}).get("generated")]

    def generated(self, known: str) -> str | None:
        return self.cards.get(known, {}).get("generated")

    def remember_generated(self, paper: str, card: Card) -> None:
        entry = self.cards.setdefault(card.id, {})
        entry.update(paper=paper, generated=content_hash(card), kind=card.kind, type=card.type, source=card.source)
        if self._by_paper is not None and card.id not in self._by_paper.setdefault(paper, []):
            self._by_paper[paper].append(card.id)

    def forgotten_card(self, known: str) -> Card:
        """Enough of a card deckgen wrote and the user deleted to recognise it when it is reworded."""
        entry = self.cards[known]
        return Card(id=known, type=entry.get("type", ""), kind=entry.get("kind", ""), source=entry.get("source", ""))

    def forget(self, card_ids: Iterable[str]) -> None:
        for gone in card_ids:
            self.cards.pop(gone, None)

    def stamp_models(self, fingerprints: dict[str, str], now: int) -> dict[str, int]:
        """Each note type's modification time: when its templates last changed."""
        for model_id, digest in fingerprints.items():
            self.models[model_id] = _restamp(self.models.get(model_id, {}), digest, now)
        return {model_id: self.models[model_id]["updated"] for model_id in fingerprints}

    def stamp(self, deck: Deck, now: int) -> None:
        """Set each card's modification time: when its content last changed, never the export time.

        Anki's import updates a note only when the package's copy is newer, so an unchanged card never
        overwrites what the user edited inside Anki, and a changed one always updates.
        """
        for card in deck.cards:
            entry = self.cards.setdefault(card.id, {"paper": deck.paper})
            entry.update(_restamp(entry, content_hash(card), now))
            card.updated = entry["updated"]


def _restamp(entry: dict, digest: str, now: int) -> dict:
    """Keep the time while the content is the same; on a change, move it strictly past the last export."""
    if entry.get("hash") == digest and "updated" in entry:
        return {"hash": digest, "updated": int(entry["updated"])}
    return {"hash": digest, "updated": max(now, int(entry.get("updated", 0)) + 1)}


@dataclass
class DeckChanges:
    """What a build does to one deck file; the same for --dry-run and the real run."""

    paper: str
    new_file: bool = False
    added: list[Card] = field(default_factory=list)
    updated: list[Card] = field(default_factory=list)
    kept_edited: list[Card] = field(default_factory=list)
    removed: list[Card] = field(default_factory=list)  # fact gone from the article: delete these in Anki
    deleted_by_user: list[str] = field(default_factory=list)  # newly noticed; remembered in the deck file


def ensure_ids(deck: Deck) -> list[Card]:
    """Hand-added cards come without an id: give them one derived from what they ask. Returns those."""
    taken = {c.id for c in deck.cards if c.id}
    given = []
    for card in deck.cards:
        if not card.id:
            base = candidate = card_id(deck.paper, "custom", anchor_text(card.prompt))
            n = 1
            while candidate in taken:  # two hand-added cards asking the same thing
                n += 1
                candidate = f"{base}-{n}"
            card.id = candidate
            taken.add(candidate)
            given.append(card)
    return given


def _bigrams(card: Card) -> set[str]:
    text = anchor_text(card.source or card.prompt, mask_numbers=True) + "|" + anchor_text(card.prompt, mask_numbers=True)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_reworded(old: list[Card], new: list[Card]) -> dict[str, Card]:
    """Match cards whose sentence changed (a typo fixed, a number corrected) to their fresh versions.

    Returns {old id: fresh card}; best matches first, each card used once, same kind only.
    """
    old_grams = {c.id: _bigrams(c) for c in old}
    new_grams = [_bigrams(c) for c in new]
    scored = sorted(
        (
            (_similarity(old_grams[o.id], new_grams[j]), o.id, j)
            for o in old
            for j, n in enumerate(new)
            if o.kind == n.kind and o.type == n.type
        ),
        key=lambda t: -t[0],
    )
    pairs: dict[str, Card] = {}
    used: set[int] = set()
    for score, old_id, j in scored:
        if score < SAME_FACT:
            break
        if old_id not in pairs and j not in used:
            pairs[old_id] = new[j]
            used.add(j)
    return pairs


def merge(
    fresh: Deck, existing: Deck | None, state: State, llm_refreshed: bool = False
) -> tuple[Deck, DeckChanges, list[Card]]:
    """Fresh extraction into the user's deck file. Returns the new deck, what changed, and stale cards.

    - a card the user edited keeps the user's text; one they added by hand is kept as is;
    - a card the user deleted stays deleted (its id goes into the deck file's `deleted:` list);
    - an unedited card takes the article's current wording, keeping its id even if the sentence changed;
    - an unedited card whose fact is gone leaves the file (returned as stale, to tag in Anki);
      an edited one stays, tagged deckgen::stale;
    - LLM cards are only re-examined when this run asked the model again (`llm_refreshed`): a build
      without --llm, or one whose request failed, keeps them as they are.
    """
    changes = DeckChanges(fresh.paper, new_file=existing is None)
    if existing is None:
        changes.added = list(fresh.cards)
        for card in fresh.cards:
            state.remember_generated(fresh.paper, card)
        return fresh, changes, []

    in_file = {c.id for c in existing.cards}
    deleted = [i for i in existing.deleted if i not in in_file]  # pasting a card back undeletes it
    for known in state.written_for(existing.paper):
        if known not in in_file and known not in deleted:
            deleted.append(known)  # deckgen wrote it and it is gone from the file: the user deleted it
            changes.deleted_by_user.append(known)

    fresh_by_id = {c.id: c for c in fresh.cards}
    taken = in_file | set(deleted)
    unclaimed = [c for c in fresh.cards if c.id not in taken]

    def refreshed(card: Card) -> bool:
        return bool(state.generated(card.id)) and (llm_refreshed or card.kind != LLM_KIND)

    ours_missing = [c for c in existing.cards if refreshed(c) and c.id not in fresh_by_id]
    reworded = pair_reworded(ours_missing, unclaimed)
    claimed = {c.id for c in reworded.values()}
    # a reworded version of a card the user deleted stays deleted too
    forgotten = [state.forgotten_card(i) for i in deleted if i in state.cards]
    claimed |= {c.id for c in pair_reworded(forgotten, [c for c in unclaimed if c.id not in claimed]).values()}

    cards: list[Card] = []
    stale: list[Card] = []
    for card in existing.cards:
        if not refreshed(card):
            cards.append(card)  # the user's own card, one deckgen has no record of, or an LLM card not re-asked
            continue
        edited = content_hash(card) != state.generated(card.id)
        now_extracted = fresh_by_id.get(card.id) or reworded.get(card.id)
        if now_extracted is not None:
            now_extracted = replace(now_extracted, id=card.id)
            state.remember_generated(existing.paper, now_extracted)
            if edited:
                if STALE_TAG in card.tags:  # the fact is back in the article
                    card = replace(card, tags=[t for t in card.tags if t != STALE_TAG])
                cards.append(card)
                changes.kept_edited.append(card)
            else:
                cards.append(now_extracted)
                if content_hash(now_extracted) != content_hash(card):
                    changes.updated.append(now_extracted)
        elif edited:
            if STALE_TAG not in card.tags:
                card = replace(card, tags=[*card.tags, STALE_TAG])
            cards.append(card)
            changes.kept_edited.append(card)
        else:
            stale.append(replace(card, tags=[*card.tags, STALE_TAG]))
            changes.removed.append(card)

    for card in fresh.cards:
        if card.id in taken or card.id in claimed:
            continue
        cards.append(card)
        changes.added.append(card)
        state.remember_generated(existing.paper, card)

    merged = Deck(
        paper=existing.paper,
        title=existing.title or fresh.title,
        links=list(dict.fromkeys(existing.links + fresh.links)),
        sources=list(dict.fromkeys(existing.sources + fresh.sources)),
        cards=cards,
        deleted=deleted,
    )
    return merged, changes, stale

