"""The command line: a thin layer over deckgen.build."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckgen import __version__
from deckgen.config import DEFAULT_JOBS, DEFAULT_MODEL
from deckgen.errors import DeckgenError
from deckgen.model import DEFAULT_ROOT_DECK, STALE_TAG

DEFAULT_OUTPUT = "decks.apkg"
DEFAULT_DECKS_DIR = "decks"
SUMMARY_DECKS = 20  # decks listed one by one in the summary; a big run lists the rest as a count


def _message(exc: Exception) -> str:
    """One line for the user; an OSError nobody turned into a DeckgenError still names the file, never a traceback."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return str(exc)


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
        why = change.removed_why.get(card.id, "no longer produced from the article")
        lines.append(f"    removed {card.id} ({_short(card)}): {why}")
    return lines


def _llm_summary(report, verbose: bool) -> None:
    if report.dry_run:
        line = (
            f"LLM (dry run, nothing sent): a real run would send {report.would_send} requests, about "
            f"{report.estimated_in:,} tokens in / {report.estimated_out:,} out"
            + (f", about ${report.estimated_cost:.4f}" if report.estimated_cost is not None else "")
            + f"; {report.cache_hits} replies from the cache"
        )
    else:
        line = (
            f"LLM: {report.requests} requests, {report.cache_hits} from the cache, "
            f"tokens in {report.tokens_in:,} / out {report.tokens_out:,}"
        )
        if report.cost is not None:
            line += f", cost ${report.cost:.4f}"
    click.echo(line, err=True)
    click.echo(
        f"  {report.kept} model cards in the deck files ({report.grounded} grounded), {len(report.dropped)} dropped"
        + ("" if verbose or not report.dropped else " (-v lists them with the reason)"),
        err=True,
    )
    if verbose:
        for dropped in report.dropped:
            click.echo(f"    dropped {dropped.describe()}", err=True)
    for paper, why in report.fallbacks:
        click.echo(f"  warning: {paper} keeps its rule-based cards: {why}", err=True)
    if report.stopped:
        click.echo(f"  stopped early: {report.stopped}; the rest keep their rule-based cards", err=True)


def _summary(result, verbose: bool = False) -> None:
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
    if result.refine is not None:
        _llm_summary(result.refine, verbose)
    removed = sum(len(c.removed) for c in result.changes)
    if removed:
        verb = "would be" if result.dry_run else "are"
        click.echo(
            f"{removed} card(s) {verb} gone from the deck files. A package cannot delete notes: in Anki, search "
            f"tag:{STALE_TAG} and delete them.",
            err=True,
        )
    click.echo(f"Would write {result.output}" if result.dry_run else f"Wrote {result.output}", err=True)


def llm_options(f):
    """Settings for --llm / refine; each falls back to the environment, then deckgen.yaml, then a default."""
    options = [
        click.option("--model", help=f"Chat model name [env DECKGEN_MODEL; default {DEFAULT_MODEL}]."),
        click.option("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 [env OPENAI_BASE_URL]."),
        click.option("--api-key", help="API key [env OPENAI_API_KEY]; never written anywhere."),
        click.option("--jobs", type=click.IntRange(1, 64), help=f"Requests in flight at once [default {DEFAULT_JOBS}]."),
        click.option("--timeout", type=float, help="Seconds to wait for one reply [default 60]."),
        click.option("--cache", type=click.Path(dir_okay=False, path_type=Path),
                     help="SQLite cache of requests and replies [default: the user cache directory]."),
        click.option("--prompt", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Your own prompt file (format: templates/refine_prompt.md)."),
        click.option("--max-requests", type=click.IntRange(0), help="Send at most this many requests."),
        click.option("--max-cost", type=float, help="Stop before the estimated cost (USD) would exceed this."),
        click.option("--price-in", type=float, help="USD per million input tokens, to report cost."),
        click.option("--price-out", type=float, help="USD per million output tokens, to report cost."),
        click.option("-v", "--verbose", is_flag=True, help="List every dropped LLM card with the reason."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


LLM_SETTINGS = ("model", "base_url", "api_key", "jobs", "timeout", "cache", "prompt", "max_requests", "max_cost",
                "price_in", "price_out")


def _llm_config(settings: dict):
    from deckgen.config import resolve

    return resolve({name: settings.get(name) for name in LLM_SETTINGS})


DEFAULT_MAX_CARDS = 20  # deckgen.extract.DEFAULT_MAX_CARDS; not imported here to keep --help fast


def max_cards_option(f):
    return click.option(
        "--max-cards",
        type=click.IntRange(1, 200),
        default=DEFAULT_MAX_CARDS,
        show_default=True,
        help="Most rule-based cards per paper; a short article gets fewer.",
    )(f)


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
@max_cards_option
@click.option("--llm", is_flag=True, help="Let a chat model rewrite the cards (needs an API key or --base-url).")
@llm_options
def build(inputs, output, decks_dir, root_deck, terms, dry_run, max_cards, llm, verbose, **settings) -> None:
    """Build deck files and an Anki package from article files.

    INPUTS are files, folders (searched for .txt and .md) or - for standard input.
    Existing deck files are merged into, never overwritten: your edits, deletions
    and hand-added cards survive a rebuild.

    \b
    Examples:
        deckgen build examples/ -o papers.apkg
        deckgen build articles/ --dry-run     # what would change, writes nothing
        deckgen build articles/ --llm --model deepseek-chat --base-url https://api.deepseek.com/v1
    """
    from deckgen.build import build as run_build

    try:
        config = _llm_config(settings) if llm else None
        result = run_build(
            inputs, output, decks_dir, root_deck, tuple(terms), progress=_progress, dry_run=dry_run, llm=config,
            max_cards=max_cards,
        )
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result, verbose)
    _fail_if_every_request_failed(result)


def _fail_if_every_request_failed(result) -> None:
    if result.refine is not None and result.refine.all_failed:
        raise click.ClickException(
            "every LLM request failed (see the warnings above); the decks keep their rule-based cards"
        )


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
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result)


@cli.command()
@output_options
@llm_options
def refine(output, decks_dir, root_deck, verbose, **settings) -> None:
    """Let a chat model rewrite the cards of existing deck files.

    Re-reads the articles each deck file lists under `sources:` and merges the
    grounded LLM cards in, with the same edit-safety as `build`.

    \b
    Example:
        OPENAI_API_KEY=... deckgen refine --decks-dir decks -o papers.apkg
    """
    from deckgen.build import build as run_build
    from deckgen.build import deck_sources

    try:
        found, missing, refused = deck_sources(decks_dir)
        for path in missing:
            click.echo(f"warning: {path} (listed in a deck file) is gone; its deck keeps its cards", err=True)
        for path in refused:
            click.echo(f"warning: {path} (listed in a deck file) not read: only .txt/.md/.html article files under "
                       "this folder or the decks folder's parent are", err=True)
        if not found:
            raise click.ClickException(
                f"no article files to refine: the deck files in {decks_dir} list none that exist. "
                "Run `deckgen build ARTICLES... --llm` instead."
            )
        config = _llm_config(settings)
        result = run_build(found, output, decks_dir, root_deck, progress=_progress, llm=config)
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result, verbose)
    _fail_if_every_request_failed(result)


@cli.group()
def cache() -> None:
    """The SQLite cache of LLM requests and replies."""


@cache.command("stats")
@click.option("--cache", "path", type=click.Path(dir_okay=False, path_type=Path), help="Cache file [default: user cache dir].")
def cache_stats(path) -> None:
    """How many replies are cached, their tokens, and where the file is."""
    from deckgen.cache import ResponseCache, default_cache_path

    try:
        store = ResponseCache(path or default_cache_path())
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    stats = store.stats()
    store.close()
    click.echo(f"{stats.path}")
    click.echo(f"{stats.responses} cached replies, {stats.size_bytes / 1024:.0f} KiB, "
               f"tokens in {stats.tokens_in:,} / out {stats.tokens_out:,}")
    for model, count in sorted(stats.by_model.items()):
        click.echo(f"  {model}: {count}")


@cache.command("clear")
@click.option("--cache", "path", type=click.Path(dir_okay=False, path_type=Path), help="Cache file [default: user cache dir].")
@click.confirmation_option(prompt="Delete every cached LLM reply?")
def cache_clear(path) -> None:
    """Delete every cached reply (the next --llm run asks the model again)."""
    from deckgen.cache import ResponseCache, default_cache_path

    try:
        store = ResponseCache(path or default_cache_path())
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    count = store.clear()
    store.close()
    click.echo(f"Deleted {count} cached replies from {store.path}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--paper", help="Only the paper whose deck name contains this.")
@click.option("--terms", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Extra dictionary of AI terms.")
@max_cards_option
@click.option("--all", "show_all", is_flag=True, help="Also list sentences that offered no card, with the rule that said so.")
def explain(inputs, paper, terms, max_cards, show_all) -> None:
    """Show which cards the rules would make from articles, and why others were left out.

    Reads the articles and writes nothing: use it to check the rules on your own articles.

    \b
    Example:
        deckgen explain articles/lora.md --all
    """
    from deckgen.build import explain_inputs

    try:
        reports = explain_inputs(inputs, tuple(terms), max_cards, paper)
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    for report in reports:
        click.echo(f"{report.paper}: {len(report.kept)} cards (budget {report.budget})")
        for cand in report.kept:
            click.echo(f"  + {_one_line(cand.card)}    [{cand.rule}; score {cand.score:.1f}]")
        for cand, why in report.dropped:
            click.echo(f"  - {_one_line(cand.card)}    [left out: {why}]")
        if show_all:
            for sentence, why in report.silent:
                click.echo(f"  . {sentence.text[:70]}    [no card: {why}]")


def _one_line(card, width: int = 70) -> str:
    text = card.prompt if card.type == "cloze" else f"{card.front} → {card.back}"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
