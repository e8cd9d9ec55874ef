"""Regeneration that never loses the user's work: merge fresh extraction into existing deck files.

The deck file is the user's; extraction only proposes. What tells a user's edit from an article change
is the state file (decks/.deckgen-state.json): for every card deckgen wrote, the hash of what it
generated and of what it last packaged, and when that content last changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen.deckfile import deck_files, read_deck, write_json
from deckgen.errors import DeckFileError, StateError
from deckgen.extract import RULES_VERSION, anchor_text, card_id
from deckgen.llm.grounding import same_fact
from deckgen.model import LLM_KIND, STALE_TAG, Card, Deck

STATE_FILE = ".deckgen-state.json"
# The state a build is about to commit, written before any deck file: if the build dies half-way, the next
# run reconciles it with the old state card by card, by what the deck files actually hold (State.recover).
PENDING_FILE = ".deckgen-state.pending.json"
STATE_VERSION = 2
# Modification time of a card whose state was rebuilt from deck files: older than anything in Anki, so
# an import never overwrites a note the user edited there; the card's next change moves it to "now".
REBUILT_TIME = 1
# How alike two supporting sentences must be (character bigrams, numbers masked) for a card whose
# sentence was reworded to keep its id. Below it, the fact counts as gone and a new one as added.
SAME_FACT = 0.6
MODEL_DROPPED = "model_dropped"  # a state entry's mark: the model dropped this candidate (see mark_model_dropped)


def content_hash(card: Card) -> str:
    fields = (card.type, card.front, card.back, card.text, card.extra, card.source, tuple(card.tags))
    return hashlib.sha1(repr(fields).encode()).hexdigest()


@dataclass
class State:
    """What deckgen knows about every card it has written: {id: {paper, generated, hash, updated, source}}."""

    cards: dict[str, dict] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)  # note type id: {hash, updated}, like cards

    deleted: dict[str, list[str]] = field(default_factory=dict)  # paper: its deck file's `deleted:` list
    rebuilt: bool = field(default=False, compare=False)  # rebuilt from deck files: nothing known as generated
    _by_paper: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, decks_dir: Path) -> State:
        """The state file; rebuilt from the deck files when missing; an unusable one stops the run."""
        decks_dir = Path(decks_dir)
        if (decks_dir / PENDING_FILE).exists():
            return cls.recover(decks_dir)
        state = _read_state(decks_dir / STATE_FILE)
        if state is None:
            return cls.rebuild(decks_dir)
        return state

    @classmethod
    def rebuild(cls, decks_dir: Path) -> State:
        """A state from the deck files alone (the state file was lost or never committed).

        Every card keeps its content and gets an old modification time (REBUILT_TIME); none counts as
        generated until a build finds the article still gives it word for word (`adopt`), so a card the
        user edited is never mistaken for deckgen's. `deleted:` lists come from the files.
        """
        state = cls(rebuilt=True)
        for deck in _readable_decks(decks_dir):
            for card in deck.cards:
                if card.id:
                    state.cards[card.id] = {"paper": deck.paper, "hash": content_hash(card), "updated": REBUILT_TIME}
            if deck.deleted:
                state.deleted[deck.paper] = list(deck.deleted)
        return state

    @classmethod
    def recover(cls, decks_dir: Path) -> State:
        """Finish an interrupted commit: per card, the new entry if its deck file holds what was about to be
        written, else the old one. The next commit saves it (a --dry-run writes nothing)."""
        decks_dir = Path(decks_dir)
        new = _read_state(decks_dir / PENDING_FILE)
        old = _read_state(decks_dir / STATE_FILE) or (cls.rebuild(decks_dir) if new is None else cls())
        if new is None:
            return old
        on_disk = {card.id: content_hash(card) for deck in _readable_decks(decks_dir) for card in deck.cards if card.id}
        cards = {}
        for known in set(old.cards) | set(new.cards):
            before, after = old.cards.get(known), new.cards.get(known)
            if known not in on_disk:
                entry = after  # written without it (stale, or deleted by the user): the new state knows
            elif after is not None and after.get("hash") == on_disk[known]:
                entry = after
            else:
                entry = before or after  # the deck file still holds the old card
            if entry is not None:
                cards[known] = entry
        return cls(cards, new.models, {**old.deleted, **new.deleted})

    def save_pending(self, decks_dir: Path) -> None:
        """Step one of a commit: what is about to be written, before any deck file is."""
        self._write(Path(decks_dir) / PENDING_FILE)

    def save(self, decks_dir: Path) -> None:
        self._write(Path(decks_dir) / STATE_FILE)
        (Path(decks_dir) / PENDING_FILE).unlink(missing_ok=True)

    def _write(self, path: Path) -> None:
        """One card a line, streamed through json's C encoder (deckfile.write_json). Atomic."""
        header = {"version": STATE_VERSION, "models": self.models, "deleted": self.deleted}
        write_json(path, header, "cards", ((key, self.cards[key]) for key in sorted(self.cards)), sort_keys=True)

    def adopt(self, existing: Deck, fresh: Deck) -> None:
        """After a rebuild: a card the article still gives word for word is deckgen's again (it follows the
        article from now on); any other card stays as the user has it."""
        now = {c.id: content_hash(c) for c in fresh.cards}
        for card in existing.cards:
            entry = self.cards.get(card.id)
            if entry is not None and not entry.get("generated") and now.get(card.id) == content_hash(card):
                entry.update(generated=now[card.id], kind=card.kind, type=card.type, source=card.source)
        self._by_paper = None

    def rename_paper(self, old: str, new: str) -> None:
        """The user renamed `paper:` in a deck file: its cards are the renamed deck's."""
        for entry in self.cards.values():
            if entry.get("paper") == old:
                entry["paper"] = new
        if old in self.deleted:
            self.deleted[new] = self.deleted.pop(old)
        self._by_paper = None

    def remember_deleted(self, deck: Deck) -> None:
        """Kept in the state too, so deleting a whole deck file does not bring its deleted cards back."""
        if deck.deleted:
            self.deleted[deck.paper] = list(deck.deleted)
        else:
            self.deleted.pop(deck.paper, None)

    def deck_file_gone(self, paper: str) -> Deck | None:
        """A paper whose deck file was deleted but whose `deleted:` list the state remembers: an empty deck
        carrying that list (the rest of its cards come back as new)."""
        if paper not in self.deleted:
            return None
        remembered = self.deleted[paper]
        self.forget(i for i in self.written_for(paper) if i not in remembered)
        self._by_paper = None
        return Deck(paper=paper, cards=[], deleted=list(remembered))

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
            if model_id not in self.models and self.rebuilt and self.cards:  # lost with the state: as old as the notes
                self.models[model_id] = {"hash": digest, "updated": REBUILT_TIME}
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


def _readable_decks(decks_dir: Path) -> list[Deck]:
    """Deck files that parse; a broken one is reported by the build that reads them all."""
    decks = []
    for path in deck_files(decks_dir):
        try:
            decks.append(read_deck(path))
        except DeckFileError:
            continue
    return decks


def _recovery(path: Path) -> str:
    return (
        f"move it away (mv {path} {path}.broken) and run again: deckgen rebuilds it from the deck files, "
        "keeping every card and `deleted:` list"
    )


_ENTRY_TYPES = {"paper": str, "generated": str, "hash": str, "updated": int, "kind": str, "type": str, "source": str}


def _read_state(path: Path) -> State | None:
    """The state file at `path`, checked; None when there is none."""
    if not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        raise StateError(f"{path}: not a regular file (a folder or something else is in its place); {_recovery(path)}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StateError(f"{path}: cannot read ({exc.strerror})") from exc
    except (ValueError, RecursionError) as exc:
        raise StateError(f"{path}: not valid JSON, the file is damaged; {_recovery(path)}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("version"), int) or isinstance(data["version"], bool):
        raise StateError(f"{path}: not a deckgen state file (no version); {_recovery(path)}")
    if data["version"] > STATE_VERSION:
        raise StateError(
            f"{path}: written by a newer deckgen (state version {data['version']}, this one reads {STATE_VERSION}); "
            f"upgrade deckgen, or {_recovery(path)}"
        )
    if data["version"] != STATE_VERSION:
        raise StateError(f"{path}: state version {data['version']} is not one this deckgen reads; {_recovery(path)}")
    cards, models, deleted = data.get("cards", {}), data.get("models", {}), data.get("deleted", {})
    problem = _shape_problem(cards, models, deleted)
    if problem:
        raise StateError(f"{path}: {problem}; {_recovery(path)}")
    return State(cards, models, deleted)


def _shape_problem(cards, models, deleted) -> str | None:
    for name, table in (("cards", cards), ("models", models), ("deleted", deleted)):
        if not isinstance(table, dict):
            return f"{name}: must be a mapping"
    for known, entry in [*cards.items(), *models.items()]:
        if not isinstance(entry, dict):
            return f"entry {known!r}: must be a mapping"
        for key, kind in _ENTRY_TYPES.items():
            value = entry.get(key)
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                return f"entry {known!r}: {key} must be {'a number' if kind is int else 'text'}"
    for paper, ids in deleted.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return f"deleted[{paper!r}]: must be a list of card ids"
    return None


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
    removed_why: dict[str, str] = field(default_factory=dict)  # id of a removed card: why it left
    llm_landed: int = 0  # model cards of this run now in the deck file (new, updated or unchanged)


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


def _remember(state: State, paper: str, card: Card) -> None:
    """Record a generated card, and for a rule card the extraction rules that made it."""
    state.remember_generated(paper, card)
    entry = state.cards[card.id]
    entry.pop(MODEL_DROPPED, None)
    if card.kind != LLM_KIND:
        entry["rules"] = RULES_VERSION


def _older_rules(state: State, known: str) -> bool:
    """Made by an older version of the extraction rules (no record: version 1, the first)."""
    rules = state.cards.get(known, {}).get("rules", 1)
    return isinstance(rules, int) and rules < RULES_VERSION


def mark_model_dropped(state: State, paper: str, card_ids: Iterable[str]) -> None:
    """Remember the candidates the model dropped, so a later build without --llm does not bring them back.

    Call after `State.forget` of the stale cards: the mark is a small entry of its own, not a card.
    """
    for dropped in card_ids:
        entry = state.cards.setdefault(dropped, {"paper": paper})
        if not entry.get("generated"):
            entry[MODEL_DROPPED] = True


def merge(
    fresh: Deck,
    existing: Deck | None,
    state: State,
    present: Callable[[Card], bool] | None = None,
    model_dropped: Collection[str] | None = None,
    model_kept: Collection[str] = (),
) -> tuple[Deck, DeckChanges, list[Card]]:
    """Fresh cards into the user's deck file. Returns the new deck, what changed, and stale cards.

    - a card the user edited keeps the user's text; one they added by hand is kept as is;
    - a card the user deleted stays deleted (its id goes into the deck file's `deleted:` list);
    - an unedited card takes the article's current wording, keeping its id even if the sentence changed;
    - `present(card)`: is the card's source sentence still in the paper's articles? An unedited
      generated card that this run did not propose again:
        an LLM card stays while its source is present (a later reply that omits it changes nothing);
        a rule card leaves if the model dropped it this run (`model_dropped`: the candidate ids it
        dropped, None when the paper was not refined), or if older extraction rules made it, and
        otherwise stays while its source is present.
      A card that leaves is returned as stale (tagged in Anki, reported); an edited one stays, tagged
      deckgen::stale when its source is gone. Without `present`, every such rule card leaves;
    - a candidate the model dropped in an earlier run comes back only when the model keeps it
      (`model_kept`: the ids it explicitly kept this run);
    - new rule cards fill only the room `fresh.budget` leaves (best first); LLM cards are not limited.
    """
    changes = DeckChanges(fresh.paper, new_file=existing is None)
    dropped_now = set(model_dropped or ())

    def is_present(card: Card) -> bool:
        return present(card) if present is not None else card.kind == LLM_KIND

    existing = existing or Deck(fresh.paper, [], fresh.title)
    in_file = {c.id for c in existing.cards}
    deleted = [i for i in existing.deleted if i not in in_file]  # pasting a card back undeletes it
    for known in [] if changes.new_file else state.written_for(existing.paper):
        if known not in in_file and known not in deleted:
            deleted.append(known)  # deckgen wrote it and it is gone from the file: the user deleted it
            changes.deleted_by_user.append(known)

    fresh_by_id = {c.id: c for c in fresh.cards}
    taken = in_file | set(deleted)
    unclaimed = [c for c in fresh.cards if c.id not in taken]
    ours_missing = [c for c in existing.cards if state.generated(c.id) and c.id not in fresh_by_id]
    reworded = pair_reworded(ours_missing, unclaimed)
    claimed = {c.id for c in reworded.values()}
    # a reworded version of a card the user deleted stays deleted too
    forgotten = [state.forgotten_card(i) for i in deleted if i in state.cards]
    claimed |= {c.id for c in pair_reworded(forgotten, [c for c in unclaimed if c.id not in claimed]).values()}

    cards: list[Card] = []
    stale: list[Card] = []
    for card in existing.cards:
        if not state.generated(card.id):
            cards.append(card)  # the user's own card, or one deckgen has no record of
            continue
        edited = content_hash(card) != state.generated(card.id)
        now_extracted = fresh_by_id.get(card.id) or reworded.get(card.id)
        if now_extracted is not None:
            now_extracted = replace(now_extracted, id=card.id)
            _remember(state, existing.paper, now_extracted)
            if edited:
                if STALE_TAG in card.tags:  # the fact is back in the article
                    card = replace(card, tags=[t for t in card.tags if t != STALE_TAG])
                cards.append(card)
                changes.kept_edited.append(card)
            else:
                cards.append(now_extracted)
                if content_hash(now_extracted) != content_hash(card):
                    changes.updated.append(now_extracted)
            continue
        there = is_present(card)
        if edited:
            if not there and STALE_TAG not in card.tags:
                card = replace(card, tags=[*card.tags, STALE_TAG])
            cards.append(card)
            changes.kept_edited.append(card)
            continue
        why = "its sentence is gone from the article" if not there else None
        if card.kind != LLM_KIND and why is None:
            if card.id in dropped_now:
                why = "dropped by the model"
            elif _older_rules(state, card.id):
                why = "the updated extraction rules no longer make it"
        if why:
            stale.append(replace(card, tags=[*card.tags, STALE_TAG]))
            changes.removed.append(card)
            changes.removed_why[card.id] = why
        else:
            cards.append(card)

    rule_cards = sum(1 for c in cards if c.kind not in (LLM_KIND, "custom"))
    model_cards = [c for c in cards if c.kind == LLM_KIND]
    for card in fresh.cards:
        if card.id in taken or card.id in claimed:
            continue
        if card.kind != LLM_KIND:
            if card.id not in model_kept and state.cards.get(card.id, {}).get(MODEL_DROPPED):
                continue  # the model dropped it in an earlier run and has not kept it since
            if any(same_fact(card, m) for m in model_cards):
                continue  # a model card already asks it
            if fresh.budget is not None and rule_cards >= fresh.budget:
                continue  # no room left: the deck has as many rule cards as the paper deserves
            rule_cards += 1
        cards.append(card)
        changes.added.append(card)
        _remember(state, existing.paper, card)

    ids = {c.id for c in cards}
    changes.llm_landed = sum(1 for c in fresh.cards if c.kind == LLM_KIND and (c.id in ids or c.id in claimed))
    merged = Deck(
        paper=existing.paper,
        title=existing.title or fresh.title,
        links=list(dict.fromkeys(existing.links + fresh.links)),
        sources=list(dict.fromkeys(existing.sources + fresh.sources)),
        cards=cards,
        deleted=deleted,
    )
    return merged, changes, stale
