"""The command line: a thin layer over deckgen.build."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckgen import __version__
from deckgen.errors import DeckgenError
from deckgen.merge import STALE_TAG
from deckgen.package import DEFAULT_ROOT_DECK

DEFAULT_OUTPUT = "decks.apkg"
DEFAULT_DECKS_DIR = "decks"
SUMMARY_DECKS = 20  # decks listed one by one in the summary; a big run lists the rest as a count


def _progress(items, label):
    if len(items) < 5:
        return items
    return _ProgressIter(items, label)


class _ProgressIter:
    """A click progress bar that shows up only on long runs and on a terminal."""

    def __init__(self, items, label):
        self.items, self.label = items, label

    def __iter__(self):
        with click.progressbar(self.items, label=self.label, file=sys.stderr) as bar:
            yield from bar


def output_options(f):
    f = click.option(
        "--root-deck",
        default=DEFAULT_ROOT_DECK,
        show_default=True,
        help="Parent deck in Anki; each paper gets a deck under it.",
    )(f)
    f = click.option(
        "--decks-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DECKS_DIR,
        show_default=True,
        help="Folder of the editable YAML deck files, one per paper.",
    )(f)
    f = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_OUTPUT,
        show_default=True,
        help="The Anki package to write.",
    )(f)
    return f


def _short(card, width: int = 40) -> str:
    text = " ".join(card.prompt.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def change_lines(change) -> list[str]:
    """One deck's changes, worded the same for --dry-run and the real run."""
    if change.new_file:
        return [f"  {change.paper}: new deck, {len(change.added)} cards"]
    parts = [
        f"{len(change.added)} added" if change.added else "",
        f"{len(change.updated)} updated" if change.updated else "",
        f"{len(change.removed)} removed" if change.removed else "",
        f"{len(change.deleted_by_user)} deleted by you (remembered)" if change.deleted_by_user else "",
    ]
    line = f"  {change.paper}: " + (", ".join(p for p in parts if p) or "unchanged")
    if change.kept_edited:
        line += f"; {len(change.kept_edited)} edited by you, kept as you wrote them"
    lines = [line]
    for card in change.removed:
        lines.append(f"    removed {card.id} ({_short(card)}): its sentence is gone from the article")
    return lines


def _summary(result) -> None:
    kinds = result.cards_by_kind()
    total = sum(kinds.values())
    if result.dry_run:
        click.echo("Dry run: nothing written. A real run would do this:", err=True)
    click.echo(f"{len(result.decks)} papers, {total} cards", err=True)
    if result.changes:
        lines = [line for change in result.changes for line in change_lines(change)]
        for line in lines[:SUMMARY_DECKS]:
            click.echo(line, err=True)
        if len(lines) > SUMMARY_DECKS:
            click.echo(f"  … and {len(lines) - SUMMARY_DECKS} more lines (see the deck files)", err=True)
    else:
        for deck in result.decks[:SUMMARY_DECKS]:
            click.echo(f"  {deck.paper}: {len(deck.cards)} cards", err=True)
        if len(result.decks) > SUMMARY_DECKS:
            click.echo(f"  … and {len(result.decks) - SUMMARY_DECKS} more (see the deck files)", err=True)
    for deck in result.kept_without_article:
        click.echo(f"  {deck.paper}: kept, no article for it in this build (deck file left as it is)", err=True)
    if kinds:
        click.echo("  by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())), err=True)
    if result.duplicates:
        click.echo(f"  {result.duplicates} duplicate article(s) merged", err=True)
    for item in result.skipped:
        click.echo(f"  skipped {item.path}: {item.reason}", err=True)
    removed = sum(len(c.removed) for c in result.changes)
    if removed:
        verb = "would be" if result.dry_run else "are"
        click.echo(
            f"{removed} card(s) {verb} gone from the deck files. A package cannot delete notes: in Anki, search "
            f"tag:{STALE_TAG} and delete them.",
            err=True,
        )
    click.echo(f"Would write {result.output}" if result.dry_run else f"Wrote {result.output}", err=True)


@click.group()
@click.version_option(__version__, prog_name="deckgen")
def cli() -> None:
    """Turn Chinese articles about AI papers into Anki decks."""


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@output_options
@click.option(
    "--terms",
    "terms",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Extra dictionary of AI terms (TERM<TAB>中文<TAB>English), added to the shipped one. Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added, updated, kept and removed; write nothing.")
def build(inputs, output, decks_dir, root_deck, terms, dry_run) -> None:
    """Build deck files and an Anki package from article files.

    INPUTS are files, folders (searched for .txt and .md) or - for standard input.
    Existing deck files are merged into, never overwritten: your edits, deletions
    and hand-added cards survive a rebuild.

    \b
    Examples:
        deckgen build examples/ -o papers.apkg
        deckgen build articles/ --dry-run     # what would change, writes nothing
    """
    from deckgen.build import build as run_build

    try:
        result = run_build(inputs, output, decks_dir, root_deck, tuple(terms), progress=_progress, dry_run=dry_run)
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    _summary(result)


@cli.command()
@output_options
def package(output, decks_dir, root_deck) -> None:
    """Rebuild the Anki package from the deck files alone.

    Run it after editing decks/*.yaml by hand; importing the package updates the
    same notes in Anki.

    \b
    Example:
        deckgen package --decks-dir decks -o papers.apkg
    """
    from deckgen.build import package as run_package

    try:
        result = run_package(decks_dir, output, root_deck)
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    _summary(result)
