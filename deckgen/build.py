"""The whole pipeline as functions the CLI and the tests both call."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout

from deckgen.config import LLMConfig
from deckgen.deckfile import deck_files, dump_deck, read_deck, slug, write_atomic
from deckgen.errors import DeckFileError, DeckgenError
from deckgen.extract import DEFAULT_MAX_CARDS, Explanation, explain, extract
from deckgen.ingest import ingest
from deckgen.llm import Refiner, RefineReport, article_index, paper_text
from deckgen.merge import DeckChanges, State, content_hash, ensure_ids, mark_model_dropped, merge
from deckgen.model import DEFAULT_ROOT_DECK, Card, Deck, Skipped
from deckgen.package import model_fingerprints, write_package
from deckgen.terms import load_vocabulary

T = TypeVar("T")
Progress = Callable[[list[T], str], Iterable[T]]

LOCK_FILE = ".deckgen.lock"
LOCK_TIMEOUT = 60.0  # seconds a second run waits for the first before giving up


def _no_progress(items: list[T], label: str) -> Iterable[T]:
    return items


class NothingToBuild(DeckgenError):
    pass


class DecksBusy(DeckgenError):
    pass


@dataclass
class BuildResult:
    decks: list[Deck]
    output: Path | None
    deck_paths: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)  # inputs read with damage replaced
    duplicates: int = 0
    duplicate_names: list[str] = field(default_factory=list)
    changes: list[DeckChanges] = field(default_factory=list)
    kept_without_article: list[Deck] = field(default_factory=list)  # deck files no input article fed
    dry_run: bool = False
    refine: RefineReport | None = None  # with --llm

    def cards_by_kind(self) -> Counter[str]:
        return Counter(c.kind for d in self.decks for c in d.cards)


@contextmanager
def decks_lock(
    decks_dir: Path, timeout: float = LOCK_TIMEOUT, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """One writer at a time per decks dir: a second run says it waits (`on_wait`), waits, then gives up clearly."""
    Path(decks_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(Path(decks_dir) / LOCK_FILE)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait()
            lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise DecksBusy(
            f"another deckgen run is writing to {decks_dir} (lock {lock.lock_file}); wait for it to finish and try again"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def existing_decks(decks_dir: Path) -> dict[str, tuple[Path, Deck]]:
    """Every deck file by slug; all broken files are reported at once, before anything is written."""
    decks, problems = {}, []
    for path in deck_files(decks_dir):
        try:
            deck = read_deck(path)
        except DeckFileError as exc:
            problems.append(str(exc))
            continue
        decks[slug(deck.paper)] = (path, deck)
    if problems:
        raise DeckFileError("\n".join(problems) + "\nNothing was written: fix the deck file(s) above and run again.")
    return decks


def _write_deck(path: Path, deck: Deck) -> None:
    text = dump_deck(deck)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    write_atomic(path, text)


def build(
    inputs: Iterable[str],
    output: Path,
    decks_dir: Path,
    root_deck: str = DEFAULT_ROOT_DECK,
    terms: tuple[str, ...] = (),
    progress: Progress = _no_progress,
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
    llm: LLMConfig | None = None,
    max_cards: int = DEFAULT_MAX_CARDS,
    on_wait: Callable[[], None] | None = None,
) -> BuildResult:
    """Articles in, deck files and one .apkg out; existing deck files are merged into, never overwritten.

    The package holds every deck file in `decks_dir`, also those whose article is not among `inputs`.
    With `llm`, a chat model decides on each paper's cards (deckgen.llm); with `dry_run` it is sent
    nothing: cached replies are used and the rest is counted as what a real run would send.
    """
    vocab = load_vocabulary(tuple(terms))
    ingested = ingest(inputs)
    if not ingested.papers:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in ingested.skipped) or "no input files found"
        raise NothingToBuild(f"no articles found, nothing built ({reasons})")
    with nullcontext() if dry_run else decks_lock(decks_dir, lock_timeout, on_wait):
        existing = existing_decks(decks_dir)
        state = State.load(decks_dir)
        papers = list(ingested.papers)
        fresh = [extract(paper, vocab, max_cards) for paper in progress(papers, "Extracting cards")]
        report = None
        if llm is not None:
            refiner = Refiner(llm, dry_run=dry_run)
            try:
                fresh = refiner.refine(list(zip(papers, fresh, strict=True)), progress)
            finally:
                refiner.close()
            report = refiner.report
        built: list[tuple[Path, Deck]] = []
        changes: list[DeckChanges] = []
        stale: list[Deck] = []
        for paper, deck in zip(papers, fresh, strict=True):
            key = slug(deck.paper)
            path, previous = existing.pop(key, (Path(decks_dir) / f"{key}.yaml", None))
            refined = report is not None and deck.paper in report.refined
            dropped = report.model_dropped.get(deck.paper, set()) if refined else None
            kept = report.model_kept.get(deck.paper, set()) if refined else set()
            deck, change, gone = merge(deck, previous, state, _still_in(paper), dropped, kept)
            if report is not None:
                report.kept += change.llm_landed
            # "edited by you, kept" is news once: not for edits already in the last package
            change.kept_edited = [c for c in change.kept_edited if state.cards.get(c.id, {}).get("hash") != content_hash(c)]
            ensure_ids(deck)
            built.append((path, deck))
            changes.append(change)
            stale.append(Deck(deck.paper, gone))
        untouched = list(existing.values())
        for _, deck in untouched:
            ensure_ids(deck)
        everything = built + untouched
        result = BuildResult(
            decks=[d for _, d in everything],
            output=Path(output),
            deck_paths=[p for p, _ in everything],
            skipped=ingested.skipped,
            warnings=ingested.warnings,
            duplicates=ingested.duplicates,
            duplicate_names=ingested.duplicate_names,
            changes=changes,
            kept_without_article=[d for _, d in untouched],
            dry_run=dry_run,
            refine=report,
        )
        if dry_run:
            return result
        now = int(time.time())
        for deck in result.decks + stale:
            state.stamp(deck, now)
        # Cards whose fact is gone go out once more, tagged, so the user can find and delete them in Anki.
        gone_by_paper = {d.paper: d.cards for d in stale}
        packaged = [replace(d, cards=d.cards + gone_by_paper.get(d.paper, [])) for d in result.decks]
        write_package(packaged, output, root_deck, state.stamp_models(model_fingerprints(), now))
        for path, deck in everything:
            _write_deck(path, deck)
        state.forget(c.id for d in stale for c in d.cards)
        for paper_name, dropped_ids in (report.model_dropped if report else {}).items():
            mark_model_dropped(state, paper_name, dropped_ids)
        state.save(decks_dir)
    return result


def explain_inputs(inputs: Iterable[str], terms: tuple[str, ...] = (), max_cards: int = DEFAULT_MAX_CARDS,
                   paper: str | None = None) -> list[Explanation]:
    """Why each paper's candidates were kept or left out; reads the articles, writes nothing."""
    vocab = load_vocabulary(tuple(terms))
    ingested = ingest(inputs)
    papers = [p for p in ingested.papers if paper is None or paper.lower() in p.name.lower()]
    if not papers:
        raise NothingToBuild(f"no paper{' named ' + repr(paper) if paper else ''} in these inputs")
    return [explain(p, vocab, max_cards) for p in papers]


def _still_in(paper) -> Callable[[Card], bool]:
    """Is a card's source sentence still in the paper's articles? (indexed on the first question only)"""

    def present(card: Card) -> bool:
        return article_index(paper_text(paper)).contains(card.source)

    return present


def deck_sources(decks_dir: Path) -> tuple[list[str], list[str]]:
    """The article files the deck files were built from: (found, missing)."""
    found, missing = [], []
    for _, deck in existing_decks(decks_dir).values():
        for source in deck.sources:
            (found if Path(source).is_file() else missing).append(source)
    return list(dict.fromkeys(found)), list(dict.fromkeys(missing))


def package(
    decks_dir: Path,
    output: Path,
    root_deck: str = DEFAULT_ROOT_DECK,
    lock_timeout: float = LOCK_TIMEOUT,
    on_wait: Callable[[], None] | None = None,
) -> BuildResult:
    """Rebuild the .apkg from deck files alone (after hand edits)."""
    if not deck_files(decks_dir):
        raise NothingToBuild(f"no deck files (*.yaml) in {decks_dir}: run `deckgen build ARTICLES...` first")
    with decks_lock(decks_dir, lock_timeout, on_wait):
        found = list(existing_decks(decks_dir).values())
        state = State.load(decks_dir)
        now = int(time.time())
        for path, deck in found:
            if ensure_ids(deck):
                _write_deck(path, deck)  # write the new ids back, so they stay stable
            state.stamp(deck, now)
        decks = [d for _, d in found]
        write_package(decks, output, root_deck, state.stamp_models(model_fingerprints(), now))
        state.save(decks_dir)
    return BuildResult(decks, Path(output), [p for p, _ in found])
