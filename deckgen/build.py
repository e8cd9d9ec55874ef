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
from deckgen.incremental import Incremental, IngestMemo
from deckgen.ingest import ingest
from deckgen.llm import Refiner, RefineReport, combine
from deckgen.merge import DeckChanges, State, ensure_ids, merge
from deckgen.model import DEFAULT_ROOT_DECK, LLM_KIND, Deck, Skipped
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
    duplicates: int = 0
    changes: list[DeckChanges] = field(default_factory=list)
    kept_without_article: list[Deck] = field(default_factory=list)  # deck files no input article fed
    dry_run: bool = False
    refine: RefineReport | None = None  # with --llm

    def cards_by_kind(self) -> Counter[str]:
        return Counter(c.kind for d in self.decks for c in d.cards)


@contextmanager
def decks_lock(decks_dir: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One writer at a time per decks dir: a second run waits, then gives up with a clear message."""
    Path(decks_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(Path(decks_dir) / LOCK_FILE)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise DecksBusy(
            f"another deckgen run is writing to {decks_dir} (lock {lock.lock_file}); wait for it to finish and try again"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def existing_decks(decks_dir: Path, read: Callable[[Path], Deck] = read_deck) -> dict[str, tuple[Path, Deck]]:
    """Every deck file by slug; all broken files are reported at once, before anything is written."""
    decks, problems = {}, []
    for path in deck_files(decks_dir):
        try:
            deck = read(path)
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
) -> BuildResult:
    """Articles in, deck files and one .apkg out; existing deck files are merged into, never overwritten.

    The package holds every deck file in `decks_dir`, also those whose article is not among `inputs`.
    With `llm`, a chat model rewrites each paper's cards (deckgen.llm); --dry-run still asks it.
    """
    vocab = load_vocabulary(tuple(terms))
    memo = IngestMemo(decks_dir)  # incremental builds: unchanged input files are not parsed again
    ingested = ingest(inputs, memo)
    if not ingested.papers:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in ingested.skipped) or "no input files found"
        raise NothingToBuild(f"no articles found, nothing built ({reasons})")
    with nullcontext() if dry_run else decks_lock(decks_dir, lock_timeout):
        # incremental builds (deckgen.incremental): unchanged papers come from the cache, not re-extracted
        inc = Incremental.open(
            decks_dir, tuple(terms), root_deck, llm is None and not dry_run, f"max_cards={max_cards}", not dry_run
        )
        existing = existing_decks(decks_dir, inc.read_deck)
        state = State.load(decks_dir)
        papers = [p for p in ingested.papers if not inc.unchanged(p, existing)]
        fresh = [
            inc.extract(paper, lambda p: extract(p, vocab, max_cards)) for paper in progress(papers, "Extracting cards")
        ]
        report = None
        if llm is not None:
            refiner = Refiner(llm)
            try:
                established = frozenset(c.id for _, d in existing.values() for c in d.cards)
                fresh = refiner.refine(list(zip(papers, fresh, strict=True)), progress, established)
            finally:
                refiner.close()
            report = refiner.report
        built: list[tuple[Path, Deck]] = []
        changes: list[DeckChanges] = []
        stale: list[Deck] = []
        for deck in fresh:
            key = slug(deck.paper)
            path, previous = existing.pop(key, (Path(decks_dir) / f"{key}.yaml", None))
            refreshed = report is not None and deck.paper in report.refined
            if previous is not None and not refreshed:
                # LLM cards from an earlier run stay; rule-based cards they replaced do not come back
                earlier = [c for c in previous.cards if c.kind == LLM_KIND]
                deck = replace(deck, cards=[c for c in combine(deck.cards, earlier) if c.kind != LLM_KIND])
            deck, change, gone = merge(deck, previous, state, llm_refreshed=refreshed)
            ensure_ids(deck)
            built.append((path, deck))
            changes.append(change)
            stale.append(Deck(deck.paper, gone))
        reused = inc.reused(state)
        built, changes = inc.in_paper_order(
            ingested.papers, built + [(p, d) for p, d, _ in reused], changes + [c for _, _, c in reused]
        )
        untouched = list(existing.values())
        for _, deck in untouched:
            ensure_ids(deck)
        everything = built + untouched
        result = BuildResult(
            decks=[d for _, d in everything],
            output=Path(output),
            deck_paths=[p for p, _ in everything],
            skipped=ingested.skipped,
            duplicates=ingested.duplicates,
            changes=changes,
            kept_without_article=[d for _, d in untouched],
            dry_run=dry_run,
            refine=report,
        )
        if dry_run:
            inc.close()
            return result
        now = int(time.time())
        reused_ids = {id(deck) for _, deck, _ in reused}
        for deck in result.decks + stale:
            if id(deck) not in reused_ids:
                state.stamp(deck, now)
        # Cards whose fact is gone go out once more, tagged, so the user can find and delete them in Anki.
        gone_by_paper = {d.paper: d.cards for d in stale if d.cards}
        packaged = [replace(d, cards=d.cards + gone_by_paper.get(d.paper, [])) for d in result.decks]
        model_updated = state.stamp_models(model_fingerprints(), now)
        kept = inc.kept_package(model_updated)
        write_package(packaged, output, root_deck, model_updated, keep=kept)
        for path, deck in everything:
            if not inc.on_disk(path, deck):
                _write_deck(path, deck)
        state.forget(c.id for d in stale for c in d.cards)
        state.save(decks_dir)
        inputs = {p.name: inc.key(p) for p in ingested.papers}
        inc.save(decks_dir, everything, changes, inputs, set(gone_by_paper), kept, model_updated)
        memo.save()
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


def deck_sources(decks_dir: Path) -> tuple[list[str], list[str]]:
    """The article files the deck files were built from: (found, missing)."""
    found, missing = [], []
    for _, deck in existing_decks(decks_dir).values():
        for source in deck.sources:
            (found if Path(source).is_file() else missing).append(source)
    return list(dict.fromkeys(found)), list(dict.fromkeys(missing))


def package(
    decks_dir: Path, output: Path, root_deck: str = DEFAULT_ROOT_DECK, lock_timeout: float = LOCK_TIMEOUT
) -> BuildResult:
    """Rebuild the .apkg from deck files alone (after hand edits)."""
    if not deck_files(decks_dir):
        raise NothingToBuild(f"no deck files (*.yaml) in {decks_dir}: run `deckgen build ARTICLES...` first")
    with decks_lock(decks_dir, lock_timeout):
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
