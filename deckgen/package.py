"""Stage 5: deck files in, one .apkg out (genanki)."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import re
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from deckgen.deckfile import replace_with
from deckgen.model import CLOZE_DELETION, DEFAULT_ROOT_DECK, Card, Deck
from deckgen.resources import read_template

# Fixed model ids: Anki matches note types by id, so these must never change.
# Fields may only ever be appended (never renamed or reordered), or re-imports stop updating notes.
QA_MODEL_ID = 1607392319
TERM_MODEL_ID = 1607392320
CLOZE_MODEL_ID = 1607392321

QA_FIELDS = ["Front", "Back", "Source", "Paper"]
CLOZE_FIELDS = ["Text", "Extra", "Source", "Paper"]



def _fields(names: list[str]) -> list[dict]:
    return [{"name": n} for n in names]


def build_models() -> dict[str, genanki.Model]:
    css = read_template("style.css")
    qa_card = {"name": "Card 1", "qfmt": read_template("qa_front.html"), "afmt": read_template("qa_back.html")}
    reverse = {
        "name": "Card 2",
        "qfmt": read_template("term_reverse_front.html"),
        "afmt": read_template("term_reverse_back.html"),
    }
    cloze = {"name": "Cloze", "qfmt": read_template("cloze_front.html"), "afmt": read_template("cloze_back.html")}
    return {
        "qa": genanki.Model(QA_MODEL_ID, "deckgen Q&A", fields=_fields(QA_FIELDS), templates=[qa_card], css=css),
        "term": genanki.Model(
            TERM_MODEL_ID,
            "deckgen Q&A (and reversed)",
            fields=_fields(QA_FIELDS),
            templates=[qa_card, reverse],
            css=css,
        ),
        "cloze": genanki.Model(
            CLOZE_MODEL_ID,
            "deckgen Cloze",
            fields=_fields(CLOZE_FIELDS),
            templates=[cloze],
            css=css,
            model_type=genanki.Model.CLOZE,
        ),
    }


def deck_id(full_name: str) -> int:
    """Derived from the deck's name, so every build on every machine gives the same id."""
    return (1 << 30) + int(hashlib.sha1(full_name.encode()).hexdigest()[:12], 16) % (1 << 30)


def to_html(text: str) -> str:
    """Article text is data, never markup: escape it, keep line breaks."""
    return html.escape(text, quote=False).replace("\n", "<br>")


class _Note(genanki.Note):
    """A note whose modification time is when its content last changed, not when it was exported."""

    def __init__(self, *args, modified: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.modified = modified

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):
        super().write_to_db(cursor, self.modified or timestamp, deck_id, id_gen)


class _Deck(genanki.Deck):
    pass


def model_fingerprints(models: dict[str, genanki.Model] | None = None) -> dict[str, str]:
    """A hash per note type of what Anki stores for it, to tell when a new version changed its templates."""
    models = models or build_models()
    return {
        str(m.model_id): hashlib.sha1(
            json.dumps([m.name, m.fields, m.templates, m.css, m.model_type], sort_keys=True).encode()
        ).hexdigest()
        for m in models.values()
    }


def _compact(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


def shown_source(card: Card) -> str:
    """The source line only when it adds something: never a verbatim repeat of the sentence just revealed."""
    visible = CLOZE_DELETION.sub(r"\1", card.text) if card.type == "cloze" else card.front
    return "" if _compact(card.source) in _compact(visible) else card.source


def paper_label(card: Card, paper: str) -> str:
    """The deck's paper on the card, unless it is the answer (a term card's reverse asks for its front)."""
    answers = [m.group(1) for m in CLOZE_DELETION.finditer(card.text)] if card.type == "cloze" else [card.back]
    if card.type == "term":
        answers.append(card.front)
    key = _compact(paper)
    return "" if key and any(key in _compact(a) for a in answers) else paper


def paper_link(links: list[str]) -> str | None:
    """The paper's first web link (http/https only: a link on a card must never run anything)."""
    return next((link for link in links if link.startswith(("https://", "http://"))), None)


def paper_field(paper: str, link: str | None = None) -> str:
    """The Paper field: the name, linked to the paper when the deck file has a link (the back shows it)."""
    if not link or not paper:
        return to_html(paper)
    return f'<a href="{html.escape(link, quote=True)}">{to_html(paper)}</a>'


def deck_description(deck: Deck) -> str:
    """What Anki shows above a deck: the paper's title and links."""
    parts = [f"<b>{to_html(deck.title or deck.paper)}</b>"]
    for link in deck.links:
        if link.startswith(("https://", "http://")):
            safe = html.escape(link, quote=True)
            parts.append(f'<a href="{safe}">{safe}</a>')
    return "<br>".join(parts)


def note_for(
    card: Card, paper: str, models: dict[str, genanki.Model], modified: float | None = None, link: str | None = None
) -> _Note:
    main = [card.text, card.extra] if card.type == "cloze" else [card.front, card.back]
    fields = [*main, shown_source(card)]
    tags = [t.replace(" ", "_") for t in card.tags]
    return _Note(
        model=models[card.type],
        fields=[*(to_html(f) for f in fields), paper_field(paper_label(card, paper), link)],
        guid=card.id,
        tags=tags,
        modified=modified,
    )


@dataclass
class KeptDatabase:
    """The package's collection database kept between runs (deckgen.incremental), so a rebuild rewrites only
    the decks that changed.

    `generation` is what the caller's records say the database holds; the database stores it too
    (SQLite's user_version), in the same transaction as the notes. When they differ (a run stopped between
    the two writes, a deleted cache), everything is written again. `unchanged` names the papers whose notes
    are exactly as the caller's records say they were written.
    """

    path: Path
    generation: int
    unchanged: frozenset[str]

    def holds_generation(self) -> bool:
        if not self.path.exists():
            return False
        try:
            conn = sqlite3.connect(self.path)
            try:
                return conn.execute("PRAGMA user_version").fetchone()[0] == self.generation
            finally:
                conn.close()
        except sqlite3.Error:
            return False


def deck_name(paper: str, root_deck: str = DEFAULT_ROOT_DECK) -> str:
    return f"{root_deck}::{paper.replace('::', ':')}" if root_deck else paper


def write_package(
    decks: list[Deck],
    output: Path,
    root_deck: str = DEFAULT_ROOT_DECK,
    model_updated: dict[str, int] | None = None,
    keep: KeptDatabase | None = None,
) -> Path:
    """Write one .apkg with a deck per paper under `root_deck`; atomic: a crash leaves no half file.

    With `keep`, the collection database stays between runs (see KeptDatabase) and only the decks not
    known to be unchanged are written again. Notes are written one deck at a time, never all held at once.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    unchanged: frozenset[str] = frozenset()
    if keep is None:
        fd, db = tempfile.mkstemp(prefix=".deckgen-", suffix=".anki2", dir=output.parent)
        os.close(fd)
        os.unlink(db)
    else:
        db = str(keep.path)
        if keep.holds_generation():
            unchanged = keep.unchanged
        elif os.path.exists(db):
            os.unlink(db)  # unknown contents: start from an empty collection, as a full build does
    try:
        _write_collection(db, decks, root_deck, model_updated or {}, unchanged, keep.generation + 1 if keep else 0)
        fd, tmp = tempfile.mkstemp(prefix=".deckgen-", suffix=".apkg", dir=output.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as out:  # stored, like genanki: the database barely compresses fast
                out.write(db, "collection.anki2")
                out.writestr("media", "{}")
            replace_with(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    finally:
        if keep is None and os.path.exists(db):
            os.unlink(db)
    return output


def _write_collection(
    db: str, decks: list[Deck], root_deck: str, model_updated: dict[str, int], unchanged: frozenset[str], generation: int
) -> None:
    """Bring the collection database at `db` (new or kept) to exactly the notes of `decks`."""
    models = build_models()
    timestamp = time.time()
    fresh = not os.path.exists(db)
    conn = sqlite3.connect(db)
    try:
        cursor = conn.cursor()
        if fresh:
            cursor.executescript(APKG_SCHEMA)
        cursor.execute("DELETE FROM col")
        cursor.executescript(APKG_COL)
        wanted = {deck_id(deck_name(d.paper, root_deck)) for d in decks}
        keep_ids = {deck_id(deck_name(p, root_deck)) for p in unchanged} & wanted
        present = {row[0] for row in cursor.execute("SELECT DISTINCT did FROM cards")}
        for did in present - keep_ids:
            cursor.execute("DELETE FROM notes WHERE id IN (SELECT nid FROM cards WHERE did = ?)", (did,))
            cursor.execute("DELETE FROM cards WHERE did = ?", (did,))
        start = max(int(timestamp * 1000), *(cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {t}").fetchone()[0]
                                             for t in ("notes", "cards")))
        id_gen = itertools.count(start)
        decks_json, models_json = cursor.execute("SELECT decks, models FROM col").fetchone()
        decks_col, models_col = json.loads(decks_json), json.loads(models_json)
        for deck in decks:
            name = deck_name(deck.paper, root_deck)
            anki_deck = _Deck(deck_id(name), name, description=deck_description(deck))
            decks_col[str(anki_deck.deck_id)] = anki_deck.to_json()
            for kind in {card.type for card in deck.cards}:
                model = models[kind]
                model_id = str(model.model_id)
                models_col[model_id] = model.to_json(model_updated.get(model_id, timestamp), anki_deck.deck_id)
            if anki_deck.deck_id in keep_ids:
                continue
            link = paper_link(deck.links)
            for card in deck.cards:
                note_for(card, deck.paper, models, modified=card.updated, link=link).write_to_db(
                    cursor, timestamp, anki_deck.deck_id, id_gen
                )
        cursor.execute("UPDATE col SET decks = ?, models = ?", (json.dumps(decks_col), json.dumps(models_col)))
        cursor.execute(f"PRAGMA user_version = {int(generation)}")  # in the same transaction as the notes
        conn.commit()
    finally:
        conn.close()
