"""The command line: a thin layer over deckgen.build."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckgen import __version__
from deckgen.config import DEFAULT_ANKI_URL, DEFAULT_JOBS, DEFAULT_MODEL
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
        envvar="DECKGEN_ROOT_DECK",
        default=DEFAULT_ROOT_DECK,
        show_default=True,
        help="Parent deck in Anki; each paper gets a deck under it.",
    )(f)
    f = click.option(
        "--decks-dir",
        envvar="DECKGEN_DECKS_DIR",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DECKS_DIR,
        show_default=True,
        help="Folder of the editable YAML deck files, one per paper.",
    )(f)
    f = click.option(
        "-o",
        "--output",
        envvar="DECKGEN_OUTPUT",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_OUTPUT,
        show_default=True,
        help="The Anki package to write.",
    )(f)
    return f


def _short(card, width: int = 40) -> str:
    text = " ".join(card.prompt.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 paper`, `2 papers`."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def change_lines(change) -> list[str]:
    """One deck's changes, worded the same for --dry-run and the real run; [] for a deck that did not change."""
    if change.new_file:
        return [f"  {change.paper}: new deck, {plural(len(change.added), 'card')}"]
    parts = [
        f"{len(change.added)} new" if change.added else "",
        f"{len(change.updated)} updated" if change.updated else "",
        f"{len(change.removed)} removed" if change.removed else "",
        f"{len(change.deleted_by_user)} deleted by you (remembered)" if change.deleted_by_user else "",
        f"{len(change.kept_edited)} edited by you, kept as you wrote them" if change.kept_edited else "",
    ]
    if not any(parts):
        return []
    lines = [f"  {change.paper}: " + " · ".join(p for p in parts if p)]
    for card in change.removed:
        why = change.removed_why.get(card.id, "no longer produced from the article")
        lines.append(f"    removed {card.id} ({_short(card)}): {why}")
    return lines


def _llm_summary(report, verbose: bool) -> None:
    if report.dry_run:
        line = (
            f"LLM (dry run, nothing sent): a real run would send {plural(report.would_send, 'request')}, about "
            f"{report.estimated_in:,} tokens in / {report.estimated_out:,} out"
            + (f", about ${report.estimated_cost:.4f}" if report.estimated_cost is not None else "")
            + f"; {report.cache_hits} replies from the cache"
        )
    else:
        line = (
            f"LLM: {plural(report.requests, 'request')}, {report.cache_hits} from the cache, "
            f"tokens in {report.tokens_in:,} / out {report.tokens_out:,}"
        )
        if report.cost is not None:
            line += f", cost ${report.cost:.4f}"
    click.echo(line, err=True)
    click.echo(
        f"  {plural(report.kept, 'model card')} in the deck files ({report.grounded} grounded), {len(report.dropped)} dropped"
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


def _counts(result) -> str:
    """`3 new · 2 updated · 295 unchanged · 1 removed` over every deck of the build."""
    total = sum(len(d.cards) for d in result.decks)
    new = sum(len(c.added) for c in result.changes)
    updated = sum(len(c.updated) for c in result.changes)
    removed = sum(len(c.removed) for c in result.changes)
    line = f"{new} new · {updated} updated · {max(total - new - updated, 0)} unchanged"
    return line + (f" · {removed} removed" if removed else "")


def _summary(result, verbose: bool = False) -> None:
    kinds = result.cards_by_kind()
    total = sum(kinds.values())
    if result.dry_run:
        click.echo("Dry run: nothing written. A real run would do this:", err=True)
    head = f"{plural(len(result.decks), 'paper')} · {plural(total, 'card')}"
    click.echo(head + (f": {_counts(result)}" if result.changes else ""), err=True)
    lines = [line for change in result.changes for line in change_lines(change)]
    for line in lines[:SUMMARY_DECKS]:
        click.echo(line, err=True)
    if len(lines) > SUMMARY_DECKS:
        click.echo(f"  … and {plural(len(lines) - SUMMARY_DECKS, 'more line')} (see the deck files)", err=True)
    for deck in result.kept_without_article[:SUMMARY_DECKS]:
        click.echo(f"  {deck.paper}: kept, no article for it in this build (deck file left as it is)", err=True)
    if len(result.kept_without_article) > SUMMARY_DECKS:
        click.echo(f"  … and {len(result.kept_without_article) - SUMMARY_DECKS} more kept without an article", err=True)
    if kinds:
        click.echo("  by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())), err=True)
    if result.duplicates:
        names = result.duplicate_names[:5] + ([f"{result.duplicates - 5} more"] if result.duplicates > 5 else [])
        click.echo(
            f"  merged {plural(result.duplicates, 'duplicate article')}" + (": " + "; ".join(names) if names else ""),
            err=True,
        )
    for item in result.skipped:
        click.echo(f"  skipped {item.path}: {item.reason}", err=True)
    for item in result.warnings:
        click.echo(f"  warning: {item.path}: {item.reason}", err=True)
    if result.refine is not None:
        _llm_summary(result.refine, verbose)
    removed = sum(len(c.removed) for c in result.changes)
    if removed:
        verb = "would be" if result.dry_run else ("is" if removed == 1 else "are")
        them = "it" if removed == 1 else "them"
        click.echo(
            f"{plural(removed, 'card')} {verb} gone from the deck files. A package cannot delete notes: "
            f"`deckgen push` deletes {them} from Anki (after asking), or search tag:{STALE_TAG} in Anki.",
            err=True,
        )
    click.echo(f"Would write {result.output}" if result.dry_run else f"Wrote {result.output}", err=True)


def _next_steps(result, decks_dir: Path) -> None:
    """What to do after a build: where the deck files are, how to look at the cards and get them into Anki."""
    defaults = _settings().values  # what `push` and `preview` use when named nothing
    push_default = defaults.get("output", DEFAULT_OUTPUT)
    push = "deckgen push" + ("" if str(result.output) == str(push_default) else f" {result.output}")
    same_dir = str(decks_dir) == str(defaults.get("decks_dir", DEFAULT_DECKS_DIR))
    preview = "deckgen preview" + ("" if same_dir else f" --decks-dir {decks_dir}")
    click.echo(f"Deck files: {decks_dir}/ (edit them, then `deckgen package`)", err=True)
    click.echo("Next:", err=True)
    click.echo(f"  look at the cards:  {preview}", err=True)
    click.echo(f"  send them to Anki:  {push}   (Anki open, with AnkiConnect; or File → Import the .apkg in Anki)", err=True)


def _waiting(decks_dir: Path):
    def say() -> None:
        click.echo(f"waiting for another deckgen run to finish with {decks_dir}/ (up to a minute)…", err=True)

    return say


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

    return resolve({name: settings.get(name) for name in LLM_SETTINGS}, settings=_settings())


DEFAULT_MAX_CARDS = 20  # deckgen.extract.DEFAULT_MAX_CARDS; not imported here to keep --help fast


def max_cards_option(f):
    return click.option(
        "--max-cards",
        type=click.IntRange(1, 200),
        default=DEFAULT_MAX_CARDS,
        show_default=True,
        help="Most rule-based cards per paper; a short article gets fewer.",
    )(f)


def _settings():
    """The merged deckgen.yaml files, read once per run by the group."""
    ctx = click.get_current_context()
    obj = ctx.find_object(dict) or {}
    if "settings" not in obj:
        from deckgen.config import load_settings

        obj["settings"] = load_settings()
    return obj["settings"]


def push_options(f):
    f = click.option("-y", "--yes", is_flag=True, help="Delete the notes tagged deckgen::stale without asking.")(f)
    f = click.option(
        "--anki-url",
        envvar="DECKGEN_ANKI_URL",
        default=DEFAULT_ANKI_URL,
        show_default=True,
        help="Where AnkiConnect listens [env DECKGEN_ANKI_URL].",
    )(f)
    return f


def _push(package_path: Path, anki_url: str, yes: bool) -> None:
    """Import, say so, then list the stale notes and delete them if the user agrees (or said --yes)."""
    from deckgen.push import connect, delete_notes, import_package, stale_notes

    if not Path(package_path).is_file():
        raise click.ClickException(f"{package_path}: no such package; run `deckgen build` or `deckgen package` first")
    anki = connect(anki_url)
    path = import_package(anki, package_path)
    click.echo(f"Imported {path} into Anki ({anki.url}): notes already there are updated in place, "
               "their review history kept.", err=True)
    notes = stale_notes(anki)
    if not notes:
        return
    one = len(notes) == 1
    click.echo(f"{plural(len(notes), 'note')} in Anki tagged {STALE_TAG} "
               f"({'its' if one else 'their'} sentence left the article):", err=True)
    for note in notes[:10]:
        click.echo(f"  {note.deck}: {note.text[:60]}", err=True)
    if len(notes) > 10:
        click.echo(f"  … and {len(notes) - 10} more (search tag:{STALE_TAG} in Anki)", err=True)
    try:
        agreed = yes or click.confirm(f"Delete {'it' if one else 'them'} from Anki?", default=False, err=True)
    except click.Abort:  # no terminal to ask on
        agreed = False
    if agreed:
        click.echo(f"Deleted {plural(delete_notes(anki, notes), 'stale note')} from Anki.", err=True)
    else:
        click.echo(f"Kept {plural(len(notes), 'stale note')}; `deckgen push --yes` deletes them.", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
@click.pass_context
def cli(ctx) -> None:
    """Turn Chinese articles about AI papers into Anki decks.

    \b
    The weekly loop:
        deckgen build articles/      # deck files in decks/, package decks.apkg
        deckgen preview --open       # look at every card in the browser
        deckgen push                 # into a running Anki (AnkiConnect)

    Settings for every option can live in deckgen.yaml (`deckgen init`).
    """
    ctx.ensure_object(dict)
    if ctx.invoked_subcommand == "init":
        return
    from deckgen.config import load_settings

    try:
        settings = load_settings()
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.obj["settings"] = settings
    ctx.default_map = settings.default_map()


@cli.command()
@click.argument("inputs", nargs=-1)
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
@click.option("--llm/--no-llm", default=False, help="Let a chat model rewrite the cards (needs an API key or --base-url).")
@click.option("--push", "then_push", is_flag=True, help="Then send the package to a running Anki (see `deckgen push`).")
@push_options
@llm_options
def build(
    inputs, output, decks_dir, root_deck, terms, dry_run, max_cards, llm, then_push, anki_url, yes, verbose, **settings
) -> None:
    """Build deck files and an Anki package from article files.

    INPUTS are files, folders (searched for .txt and .md) or - for standard input
    (default: `inputs:` in deckgen.yaml). Existing deck files are merged into,
    never overwritten: your edits, deletions and hand-added cards survive a rebuild.

    \b
    Examples:
        deckgen build examples/ -o papers.apkg
        deckgen build articles/ --dry-run     # what would change, writes nothing
        deckgen build articles/ --push        # and send it to Anki
        deckgen build articles/ --llm --model deepseek-chat --base-url https://api.deepseek.com/v1
    """
    from deckgen.build import build as run_build

    inputs = inputs or tuple(_settings().values.get("inputs") or ())
    if not inputs:
        raise click.UsageError("name the article files or folders to read (or set `inputs:` in deckgen.yaml)")
    try:
        config = _llm_config(settings) if llm else None
        result = run_build(
            inputs, output, decks_dir, root_deck, tuple(terms), progress=_progress, dry_run=dry_run, llm=config,
            max_cards=max_cards, on_wait=_waiting(decks_dir),
        )
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result, verbose)
    _fail_if_every_request_failed(result)
    if dry_run:
        return
    if then_push:
        _push_or_explain(result.output, anki_url, yes)
    else:
        _next_steps(result, decks_dir)


def _fail_if_every_request_failed(result) -> None:
    if result.refine is not None and result.refine.all_failed:
        raise click.ClickException(
            "every LLM request failed (see the warnings above); the decks keep their rule-based cards"
        )


def _push_or_explain(package_path: Path, anki_url: str, yes: bool) -> None:
    try:
        _push(package_path, anki_url, yes)
    except DeckgenError as exc:
        raise click.ClickException(f"{exc}\nThe package is written all the same: {package_path}") from exc


@cli.command()
@output_options
@click.option("--push", "then_push", is_flag=True, help="Then send the package to a running Anki (see `deckgen push`).")
@push_options
def package(output, decks_dir, root_deck, then_push, anki_url, yes) -> None:
    """Rebuild the Anki package from the deck files alone.

    Run it after editing decks/*.yaml by hand; importing the package updates the
    same notes in Anki.

    \b
    Example:
        deckgen package --decks-dir decks -o papers.apkg
    """
    from deckgen.build import package as run_package

    try:
        result = run_package(decks_dir, output, root_deck, on_wait=_waiting(decks_dir))
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result)
    if then_push:
        _push_or_explain(result.output, anki_url, yes)


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
        result = run_build(
            found, output, decks_dir, root_deck, progress=_progress, llm=config, on_wait=_waiting(decks_dir)
        )
    except (DeckgenError, OSError) as exc:
        raise click.ClickException(_message(exc)) from exc
    _summary(result, verbose)
    _fail_if_every_request_failed(result)
    _next_steps(result, decks_dir)


@cli.command()
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUTPUT)
@push_options
def push(package, anki_url, yes) -> None:
    """Send a package to a running Anki through AnkiConnect.

    Imports PACKAGE (default: the build's output) as File → Import would: notes
    are matched by id and updated in place, review history stays. Notes tagged
    deckgen::stale (their fact left the article) are listed and deleted after you
    confirm (or with --yes). Needs Anki open with the AnkiConnect add-on
    (code 2055492159) on the same machine.

    \b
    Examples:
        deckgen push
        deckgen push papers.apkg --yes
        deckgen push --anki-url http://127.0.0.1:8765
    """
    try:
        _push(package, anki_url, yes)
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--paper", "papers", multiple=True, help="Only this paper's deck (name or file name). Repeatable.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="preview.html",
              show_default=True, help="The HTML page to write.")
@click.option("--decks-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DECKS_DIR,
              show_default=True, help="Folder of the deck files.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the browser.")
def preview(papers, output, decks_dir, open_page) -> None:
    """Write one HTML page with every card as Anki shows it, front and back.

    Rendered from the same templates and style as the package, with each card's
    id, kind and source sentence, and a light/dark switch. Works offline.

    \b
    Examples:
        deckgen preview --open
        deckgen preview --paper LoRA -o lora.html
    """
    from deckgen.preview import write_preview

    try:
        page = write_preview(decks_dir, output, list(papers))
    except DeckgenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {page.path}: {plural(page.cards, 'card')} of {plural(page.papers, 'paper')}", err=True)
    if open_page:
        import webbrowser

        webbrowser.open(page.path.resolve().as_uri())


@cli.command()
@click.option("--user", "user_file", is_flag=True, help="Write your own config file (user config dir) instead of ./deckgen.yaml.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init(user_file, force) -> None:
    """Write a commented deckgen.yaml with every setting, to edit once.

    \b
    Examples:
        deckgen init            # ./deckgen.yaml, for this folder
        deckgen init --user     # for every folder (also where the LLM endpoint and key variable go)
    """
    from deckgen.config import CONFIG_FILE, init_text, user_config_path

    path = user_config_path() if user_file else Path(CONFIG_FILE)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; edit it, or pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(init_text(), encoding="utf-8")
    click.echo(f"Wrote {path}: uncomment and edit the settings you need.", err=True)


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
