"""Stage 4: one human-editable YAML file per paper in decks/."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import DeckFileError
from deckgen.model import CARD_TYPES, CLOZE_DELETION, Card, Deck

FIELDS = {"qa": ("front", "back"), "term": ("front", "back"), "cloze": ("text",)}
CARD_KEYS = {"id", "type", "kind", "front", "back", "text", "extra", "source", "tags"}
DECK_KEYS = {"paper", "title", "links", "sources", "cards", "deleted"}


def slug(name: str) -> str:
    """A file name that keeps Chinese and Latin letters and is safe on every OS."""
    text = re.sub(r"[^\w\-]+", "-", name.strip(), flags=re.UNICODE).strip("-_")
    return (text or "paper")[:60]


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter when present: ~10x faster
    pass


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: ~10x faster


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value or len(value) > 60 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def card_to_dict(card: Card) -> dict[str, Any]:
    out: dict[str, Any] = {"id": card.id, "type": card.type, "kind": card.kind}
    if card.type == "cloze":
        out["text"] = card.text
        if card.extra:
            out["extra"] = card.extra
    else:
        out["front"] = card.front
        out["back"] = card.back
    out["source"] = card.source
    out["tags"] = list(card.tags)
    return out


def dump_deck(deck: Deck) -> str:
    doc = {
        "paper": deck.paper,
        "title": deck.title,
        "links": deck.links,
        "sources": deck.sources,
        "cards": [card_to_dict(c) for c in deck.cards],
    }
    if deck.deleted:
        doc["deleted"] = list(deck.deleted)
    header = (
        "# deckgen deck file: edit, delete or add cards, then run `deckgen package`.\n"
        "# A card without an id is new: deckgen gives it one. Keep ids as they are: they are the Anki notes' ids.\n"
        "# Deleted cards are listed under `deleted:` at the end so a rebuild never brings them back.\n"
    )
    return header + yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def replace_with(tmp: str, path: Path) -> None:
    """Move a finished temporary file into place, with the mode a plain open() would have given it.

    mkstemp creates files readable by their owner only; a deck file or package is the user's document.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        replace_with(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _card_from_dict(raw: Any, where: str) -> Card:
    if not isinstance(raw, dict):
        raise DeckFileError(f"{where}: expected a mapping with id, type and fields")
    unknown = set(raw) - CARD_KEYS
    if unknown:
        raise DeckFileError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(CARD_KEYS))})")
    kind_of_card = raw.get("type", "qa")
    if kind_of_card not in CARD_TYPES:
        raise DeckFileError(f"{where}.type: {kind_of_card!r} is not one of {', '.join(CARD_TYPES)}")
    for name in FIELDS[kind_of_card]:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DeckFileError(f"{where}.{name}: missing or empty")
    for name in ("front", "back", "text", "extra", "source", "id", "kind"):
        if raw.get(name) is not None and not isinstance(raw[name], (str, int, float)):
            raise DeckFileError(f"{where}.{name}: must be text")
    if kind_of_card == "cloze" and not CLOZE_DELETION.search(raw["text"]):
        raise DeckFileError(f"{where}.text: a cloze card needs a deletion such as {{{{c1::answer}}}}")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DeckFileError(f"{where}.tags: must be a list of words")
    return Card(
        id=str(raw["id"]) if raw.get("id") is not None else "",
        type=kind_of_card,
        kind=str(raw.get("kind") or "custom"),
        front=str(raw.get("front") or ""),
        back=str(raw.get("back") or ""),
        text=str(raw.get("text") or ""),
        extra=str(raw.get("extra") or ""),
        source=str(raw.get("source") or ""),
        tags=list(tags),
    )


def parse_deck(text: str, name: str) -> Deck:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DeckFileError(f"{name}:{line} not valid YAML ({problem}); fix it or delete the file") from exc
    if not isinstance(doc, dict):
        raise DeckFileError(f"{name}: expected a mapping with 'paper' and 'cards'")
    unknown = set(doc) - DECK_KEYS
    if unknown:
        raise DeckFileError(f"{name}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(DECK_KEYS))})")
    if not isinstance(doc.get("paper"), str) or not doc["paper"].strip():
        raise DeckFileError(f"{name}: paper: missing (the deck's name)")
    cards_raw = doc.get("cards") or []
    if not isinstance(cards_raw, list):
        raise DeckFileError(f"{name}: cards: must be a list")
    cards = [_card_from_dict(raw, f"{name}: cards[{i}]") for i, raw in enumerate(cards_raw)]
    seen: dict[str, int] = {}
    for i, card in enumerate(cards):
        if card.id and card.id in seen:
            raise DeckFileError(f"{name}: cards[{i}].id: {card.id!r} is also the id of cards[{seen[card.id]}]")
        seen[card.id] = i
    deleted = doc.get("deleted") or []
    if not isinstance(deleted, list) or not all(isinstance(i, str) for i in deleted):
        raise DeckFileError(f"{name}: deleted: must be a list of card ids")
    return Deck(
        paper=doc["paper"].strip(),
        deleted=list(deleted),
        title=doc.get("title"),
        links=list(doc.get("links") or []),
        sources=list(doc.get("sources") or []),
        cards=cards,
    )


def read_deck(path: Path) -> Deck:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DeckFileError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise DeckFileError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_deck(text, str(path))


def deck_files(decks_dir: Path) -> list[Path]:
    return sorted(p for p in Path(decks_dir).glob("*.yaml") if not p.name.startswith("."))


def read_decks(decks_dir: Path) -> list[Deck]:
    return [read_deck(p) for p in deck_files(decks_dir)]
