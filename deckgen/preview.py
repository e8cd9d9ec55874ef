"""One self-contained HTML page showing every card as Anki would: fronts and backs rendered from the
note types that go into the package (templates/*.html and style.css), cloze deletions hidden on the
front and revealed on the back. MathJax stays as Anki's \\( \\) delimiters (Anki renders them)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from deckgen.deckfile import slug
from deckgen.errors import DeckgenError
from deckgen.model import Card, Deck
from deckgen.resources import read_template

CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)
# {{#Field}}…{{/Field}} and {{^Field}}…{{/Field}}: shown when the field is (not) empty
SECTION = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.S)
TAG = re.compile(r"\{\{([^#^/}][^}]*)\}\}")


class PreviewError(DeckgenError):
    pass


@dataclass
class PreviewPage:
    path: Path
    cards: int
    papers: int


def _strip(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def render_cloze(text: str, ordinal: int, answer: bool) -> str:
    """Anki's {{cloze:…}}: this card's deletion hidden ([...] or [hint]) on the front, shown on the back."""

    def one(m: re.Match) -> str:
        if int(m.group(1)) != ordinal:
            return m.group(2)
        shown = m.group(2) if answer else f"[{m.group(3) or '...'}]"
        return f'<span class="cloze" data-ordinal="{ordinal}">{shown}</span>'

    return CLOZE.sub(one, text)


def render(template: str, fields: dict[str, str], ordinal: int = 1, answer: bool = False, front_side: str = "") -> str:
    """The part of Anki's template language deckgen's templates use: fields, sections, text:, cloze:, FrontSide."""

    def section(m: re.Match) -> str:
        filled = bool(_strip(fields.get(m.group(2).strip(), "")).strip())
        return m.group(3) if filled == (m.group(1) == "#") else ""

    previous = None
    while previous != template:  # sections may nest
        previous, template = template, SECTION.sub(section, template)

    def tag(m: re.Match) -> str:
        *filters, name = [part.strip() for part in m.group(1).split(":")]
        if name == "FrontSide":
            return front_side
        value = fields.get(name, "")
        for f in reversed(filters):
            value = render_cloze(value, ordinal, answer) if f == "cloze" else _strip(value) if f == "text" else value
        return value

    return TAG.sub(tag, template)


@dataclass
class RenderedCard:
    card: Card
    template: str  # the Anki card template's name ("Card 1", "Card 2", "Cloze")
    front: str
    back: str


def render_card(card: Card, paper: str, link: str | None = None) -> list[RenderedCard]:
    """Every Anki card one note makes (a term makes two, a cloze one per deletion number)."""
    from deckgen.package import build_models, note_for

    models = build_models()
    model = models[card.type]
    note = note_for(card, paper, models, link=link)
    fields = {f["name"]: value for f, value in zip(model.fields, note.fields, strict=True)}
    if card.type == "cloze":
        ordinals = sorted({int(n) for n, *_ in CLOZE.findall(fields["Text"])}) or [1]
        jobs = [(model.templates[0], n) for n in ordinals]
    else:
        jobs = [(t, 1) for t in model.templates]
    out = []
    for template, ordinal in jobs:
        front = render(template["qfmt"], fields, ordinal)
        if not _strip(front).strip() or front == render(template["qfmt"], {}, ordinal):
            continue  # Anki makes no card whose front is empty
        back = render(template["afmt"], fields, ordinal, answer=True, front_side=front)
        name = template["name"] + (f" (c{ordinal})" if card.type == "cloze" else "")
        out.append(RenderedCard(card, name, front, back))
    return out


def _pick(decks: list[Deck], wanted: list[str]) -> list[Deck]:
    if not wanted:
        return decks
    chosen = []
    for name in wanted:
        hits = [d for d in decks if name.casefold() in (d.paper.casefold(), slug(d.paper).casefold())]
        if not hits:
            known = ", ".join(d.paper for d in decks) or "none"
            raise PreviewError(f"--paper {name}: no such deck (the deck files hold: {known})")
        chosen += [d for d in hits if d not in chosen]
    return chosen


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def page_html(decks: list[Deck], title: str = "deckgen preview") -> tuple[str, int]:
    """The whole page and how many cards it shows."""
    from deckgen.package import build_models, deck_description, paper_link, shown_source

    css = build_models()["qa"].css
    body, nav, count = [], [], 0
    for number, deck in enumerate(decks):
        before = count
        link = paper_link(deck.links)
        entries = []
        for card in deck.cards:
            for shown in render_card(card, deck.paper, link):
                count += 1
                meta = [
                    f'<span class="id">{_e(card.id)}</span>',
                    f"<span>{_e(card.type)} · {_e(card.kind)} · {_e(shown.template)}</span>",
                    f'<span class="tags">{_e(" ".join(card.tags))}</span>' if card.tags else "",
                ]
                # the card's sentence, when the card itself does not show it (it would repeat what the card says)
                origin = f'<div class="origin">source: {_e(card.source)}</div>' if card.source and not shown_source(card) else ""
                entries.append(
                    f'<article class="entry" id="{_e(card.id)}-{count}" data-type="{_e(card.type)}">'
                    f'<div class="meta">{"".join(meta)}</div><div class="sides">'
                    f'<section class="side front"><div class="label">Front</div><div class="card">{shown.front}</div></section>'
                    f'<section class="side back"><div class="label">Back</div><div class="card">{shown.back}</div></section>'
                    f"</div>{origin}</article>"
                )
        sources = "".join(f"<li>{_e(s)}</li>" for s in deck.sources)
        nav.append(f'<a href="#deck-{number}">{_e(deck.paper)} · {count - before}</a>')
        body.append(
            f'<section class="deck" id="deck-{number}"><h2>{_e(deck.paper)}</h2><p class="desc">{deck_description(deck)}</p>'
            + (f'<ul class="sources">{sources}</ul>' if sources else "")
            + "".join(entries)
            + "</section>"
        )
    summary = f"{len(decks)} paper{'s' if len(decks) != 1 else ''} · {count} card{'s' if count != 1 else ''}"
    page = Template(read_template("preview.html")).substitute(
        title=_e(title), summary=_e(summary), card_css=css, nav="".join(nav), body="\n".join(body)
    )
    return page, count


def write_preview(decks_dir: Path, output: Path, papers: list[str] | None = None) -> PreviewPage:
    """Render the chosen decks of `decks_dir` into one HTML file."""
    from deckgen.build import existing_decks
    from deckgen.deckfile import deck_files, write_atomic

    if not deck_files(decks_dir):
        raise PreviewError(f"no deck files (*.yaml) in {decks_dir}: run `deckgen build ARTICLES...` first")
    decks = sorted((d for _, d in existing_decks(decks_dir).values()), key=lambda d: d.paper.casefold())
    chosen = _pick(decks, papers or [])
    text, count = page_html(chosen)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, text)
    return PreviewPage(output, count, len(chosen))
