"""Stage 5: deck files in, one .apkg out (genanki)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import tempfile
import time
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
    def write_to_db(self, cursor, timestamp, id_gen):  # deck and model JSON: written once by _Package
        for note in self.notes:
            note.write_to_db(cursor, timestamp, self.deck_id, id_gen)


def model_fingerprints(models: dict[str, genanki.Model] | None = None) -> dict[str, str]:
    """A hash per note type of what Anki stores for it, to tell when a new version changed its templates."""
    models = models or build_models()
    return {
        str(m.model_id): hashlib.sha1(
            json.dumps([m.name, m.fields, m.templates, m.css, m.model_type], sort_keys=True).encode()
        ).hexdigest()
        for m in models.values()
    }


class _Package(genanki.Package):
    """genanki rewrites the collection's deck and model JSON once per deck (quadratic in decks); write it once.

    A note type's modification time is when its templates last changed (`model_updated`), like a note's:
    Anki re-imports a note type only when it is newer, so unchanged templates leave the user's own
    tweaks to it alone and changed ones always arrive.
    """

    def __init__(self, decks, model_updated: dict[str, int] | None = None):
        super().__init__(decks)
        self.model_updated = model_updated or {}

    def write_to_db(self, cursor, timestamp, id_gen):
        cursor.executescript(APKG_SCHEMA)
        cursor.executescript(APKG_COL)
        decks_json, models_json = cursor.execute("SELECT decks, models FROM col").fetchone()
        decks, models = json.loads(decks_json), json.loads(models_json)
        for deck in self.decks:
            decks[str(deck.deck_id)] = deck.to_json()
            for note in deck.notes:
                model_id = str(note.model.model_id)
                models[model_id] = note.model.to_json(self.model_updated.get(model_id, timestamp), deck.deck_id)
        cursor.execute("UPDATE col SET decks = ?, models = ?", (json.dumps(decks), json.dumps(models)))
        for deck in self.decks:
            deck.write_to_db(cursor, timestamp, id_gen)


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


def write_package(
    decks: list[Deck], output: Path, root_deck: str = DEFAULT_ROOT_DECK, model_updated: dict[str, int] | None = None
) -> Path:
    """Write one .apkg with a deck per paper under `root_deck`; atomic: a crash leaves no half file."""
    models = build_models()
    anki_decks = []
    for deck in decks:
        name = f"{root_deck}::{deck.paper.replace('::', ':')}" if root_deck else deck.paper
        anki_deck = _Deck(deck_id(name), name, description=deck_description(deck))
        link = paper_link(deck.links)
        for card in deck.cards:
            anki_deck.add_note(note_for(card, deck.paper, models, modified=card.updated, link=link))
        anki_decks.append(anki_deck)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".deckgen-", suffix=".apkg", dir=output.parent)
    os.close(fd)
    try:
        _Package(anki_decks, model_updated).write_to_file(tmp, timestamp=time.time())
        replace_with(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output
