"""The command line: a thin layer over deckgen.build."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckgen import __version__
from deckgen.errors import DeckgenError
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


def _summary(result, skipped_too: bool = True) -> None:
    kinds = result.cards_by_kind()
    total = sum(kinds.values())
    click.echo(f"{len(result.decks)} papers, {total} cards", err=True)
    for deck in result.decks[:SUMMARY_DECKS]:
        click.echo(f"  {deck.paper}: {len(deck.cards)} cards", err=True)
    if len(result.decks) > SUMMARY_DECKS:
        click.echo(f"  … and {len(result.decks) - SUMMARY_DECKS} more (see the deck files)", err=True)
    if kinds:
        click.echo("  by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())), err=True)
    if getattr(result, "duplicates", 0):
        click.echo(f"  {result.duplicates} duplicate article(s) merged", err=True)
    if skipped_too:
        for item in result.skipped:
            click.echo(f"  skipped {item.path}: {item.reason}", err=True)
    click.echo(f"Wrote {result.output}", err=True)


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
def build(inputs, output, decks_dir, root_deck, terms) -> None:
    """Build deck files and an Anki package from article files.

    INPUTS are files, folders (searched for .txt and .md) or - for standard input.

    \b
    Example:
        deckgen build examples/ -o papers.apkg
    """
    from deckgen.build import build as run_build

    try:
        result = run_build(inputs, output, decks_dir, root_deck, tuple(terms), progress=_progress)
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
    _summary(result, skipped_too=False)
