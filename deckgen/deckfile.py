"""Stage 4: one human-editable YAML file per paper in decks/."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import DeckFileError
from deckgen.model import CARD_TYPES, CLOZE_DELETION, Card, Deck

FIELDS = {"qa": ("front", "back"), "term": ("front", "back"), "cloze": ("text",)}
# Fields a card type does not have: rejected on read rather than silently dropped on the next rewrite.
OTHER_FIELDS = {"qa": ("text", "extra"), "term": ("text", "extra"), "cloze": ("front", "back")}
CARD_KEYS = {"id", "type", "kind", "front", "back", "text", "extra", "source", "tags"}
DECK_KEYS = {"paper", "title", "links", "sources", "cards", "deleted"}


def slug(name: str) -> str:
    """A file name that keeps Chinese and Latin letters and is safe on every OS."""
    text = re.sub(r"[^\w\-]+", "-", name.strip(), flags=re.UNICODE).strip("-_")
    return (text or "paper")[:60]


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter when present: ~10x faster
    pass


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when present: ~10x faster
    """Every plain scalar is text, except an empty value or null; a key written twice is an error.

    YAML 1.1 would read `back: yes` as True, `back: 1.10` as 1.1 and `back: 010` as 8: what the user typed
    would come back changed on the next rewrite. A duplicate `paper:` would silently keep the last one.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is written twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


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
    for name in ("front", "back", "text", "extra", "source", "id", "kind"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise DeckFileError(f"{where}.{name}: must be text")
    for name in FIELDS[kind_of_card]:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DeckFileError(f"{where}.{name}: missing or empty")
    for name in sorted(set(OTHER_FIELDS[kind_of_card]) & {k for k, v in raw.items() if v is not None}):
        fields = ", ".join(FIELDS[kind_of_card])
        raise DeckFileError(f"{where}.{name}: a {kind_of_card} card has no {name} (its fields: {fields})")
    if kind_of_card == "cloze" and not CLOZE_DELETION.search(raw["text"]):
        raise DeckFileError(f"{where}.text: a cloze card needs a deletion such as {{{{c1::answer}}}}")
    tags = _words(raw.get("tags"), f"{where}.tags")
    return Card(
        id=(raw.get("id") or "").strip(),
        type=kind_of_card,
        kind=raw.get("kind") or "custom",
        front=raw.get("front") or "",
        back=raw.get("back") or "",
        text=raw.get("text") or "",
        extra=raw.get("extra") or "",
        source=raw.get("source") or "",
        tags=tags,
    )


def _words(value: Any, where: str) -> list[str]:
    """A list of strings; one string alone counts as a list of one (`sources: a.txt`), never as its characters."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DeckFileError(f"{where}: must be a list of text items")
    return list(value)


MAX_DEPTH = 100  # a deck file nests 4 levels; libyaml's composer crashes the interpreter near 50,000


def _check_depth(text: str, name: str) -> None:
    """Refuse absurdly nested YAML before libyaml's recursive composer overflows the C stack (a segfault)."""
    if sum(text.count(c) for c in "[{-:?\n") < MAX_DEPTH * 50:
        return  # cannot be deep enough to matter: every level needs one of these characters
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise DeckFileError(f"{name}: values nested more than {MAX_DEPTH} levels deep; a deck file holds text and lists")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def parse_deck(text: str, name: str) -> Deck:
    try:
        _check_depth(text, name)
        doc = yaml.load(text, Loader=_Loader)
    except RecursionError as exc:
        raise DeckFileError(f"{name}: values nested too deeply; a deck file holds text, lists and mappings") from exc
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
    if doc.get("title") is not None and not isinstance(doc["title"], str):
        raise DeckFileError(f"{name}: title: must be text")
    cards_raw = doc.get("cards") or []
    if not isinstance(cards_raw, list):
        raise DeckFileError(f"{name}: cards: must be a list")
    cards = [_card_from_dict(raw, f"{name}: cards[{i}]") for i, raw in enumerate(cards_raw)]
    seen: dict[str, int] = {}
    for i, card in enumerate(cards):
        if card.id and card.id in seen:
            raise DeckFileError(f"{name}: cards[{i}].id: {card.id!r} is also the id of cards[{seen[card.id]}]")
        seen[card.id] = i
    return Deck(
        paper=doc["paper"].strip(),
        deleted=_words(doc.get("deleted"), f"{name}: deleted"),
        title=doc.get("title"),
        links=_words(doc.get("links"), f"{name}: links"),
        sources=_words(doc.get("sources"), f"{name}: sources"),
        cards=cards,
    )


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def file_digest(path: Path) -> str | None:
    """What a file holds now (None: no file), to notice an edit saved while a build ran."""
    try:
        return digest(Path(path).read_bytes())
    except FileNotFoundError:
        return None


def load_deck_file(path: Path) -> tuple[Deck, str]:
    """A deck file and the digest of the exact bytes it was parsed from."""
    if not path.is_file():
        raise DeckFileError(f"{path}: not a regular file; move it out of {path.parent}")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeckFileError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise DeckFileError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_deck(text, str(path)), digest(data)


def read_deck(path: Path) -> Deck:
    return load_deck_file(path)[0]


def deck_files(decks_dir: Path) -> list[Path]:
    return sorted(p for p in Path(decks_dir).glob("*.yaml") if not p.name.startswith("."))


def read_decks(decks_dir: Path) -> list[Deck]:
    return [read_deck(p) for p in deck_files(decks_dir)]


def write_json(
    path: Path, header: dict, name: str, entries: Iterable[tuple[str, object]], sort_keys: bool = False
) -> None:
    """`header` plus `name`: `entries` as one JSON object, one entry a line (readable diffs), each through
    json's C encoder: never the whole file as one string. Atomic, like every file deckgen writes."""
    dumps = functools.partial(json.dumps, ensure_ascii=False, sort_keys=sort_keys)

    def lines() -> Iterator[str]:
        yield dumps(header)[:-1] + (", " if header else "") + dumps(name) + ": {"
        separator = "\n"
        for key, value in entries:
            yield f"{separator}{dumps(key)}: {dumps(value)}"
            separator = ",\n"
        yield "\n}}\n"

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(lines())
        replace_with(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
