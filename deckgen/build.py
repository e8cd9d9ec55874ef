"""The whole pipeline as functions the CLI and the tests both call."""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout

from deckgen.config import LLMConfig
from deckgen.deckfile import deck_files, digest, dump_deck, file_digest, load_deck_file, slug, write_atomic
from deckgen.errors import DeckFileError, DeckgenError, WriteError
from deckgen.extract import DEFAULT_MAX_CARDS, Explanation, explain, extract
from deckgen.incremental import Incremental, IngestMemo
from deckgen.ingest import ingest
from deckgen.llm import Refiner, RefineReport, article_index, paper_text
from deckgen.merge import DeckChanges, State, content_hash, ensure_ids, mark_model_dropped, merge
from deckgen.model import DEFAULT_ROOT_DECK, Card, Deck, Skipped
from deckgen.package import KeptDatabase, model_fingerprints, write_package
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
    try:
        Path(decks_dir).mkdir(parents=True, exist_ok=True)
        lock = FileLock(Path(decks_dir) / LOCK_FILE)
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
    except OSError as exc:
        raise WriteError(f"{decks_dir}: cannot write there ({exc.strerror}); check the folder's permissions") from exc
    try:
        yield
    finally:
        lock.release()


@dataclass
class DeckFiles:
    """The deck files as read at the start of a run, by paper, and the digest of each (to notice edits saved meanwhile)."""

    by_paper: dict[str, tuple[Path, Deck]]
    digests: dict[Path, str]


def read_deck_files(
    decks_dir: Path, load: Callable[[Path], tuple[Deck, str]] = load_deck_file
) -> DeckFiles:
    """Every deck file; all problems (broken files, two files of one paper or sharing an id) reported at once,
    before anything is written."""
    decks_dir = Path(decks_dir)
    problems = [
        f"{p}: deck files end in .yaml; rename it to {p.stem}.yaml (or move it out of {decks_dir})"
        for p in sorted(decks_dir.glob("*.yml"))
        if not p.name.startswith(".")
    ]
    by_paper: dict[str, tuple[Path, Deck]] = {}
    digests: dict[Path, str] = {}
    owner: dict[str, Path] = {}
    for path in deck_files(decks_dir):
        try:
            deck, digests[path] = load(path)
        except DeckFileError as exc:
            problems.append(str(exc))
            continue
        if deck.paper in by_paper:
            problems.append(
                f"{by_paper[deck.paper][0]} and {path}: both are deck files of paper {deck.paper!r} (a backup copy?); "
                f"move one out of {decks_dir}, or give it a paper: of its own"
            )
            continue
        by_paper[deck.paper] = (path, deck)
        shared = [c.id for c in deck.cards if c.id in owner]
        for other in dict.fromkeys(owner[i] for i in shared):
            ids = [i for i in shared if owner[i] == other]
            problems.append(
                f"{other} and {path}: both hold card id {ids[0]!r}"
                + (f" and {len(ids) - 1} more" if len(ids) > 1 else "")
                + "; a note lives in one deck: delete the card from one file, or remove its id: line there to make it a new card"
            )
        owner.update((c.id, path) for c in deck.cards if c.id and c.id not in owner)
    if problems:
        raise DeckFileError("\n".join(problems) + "\nNothing was written: fix the deck file(s) above and run again.")
    return DeckFiles(by_paper, digests)


def existing_decks(decks_dir: Path) -> dict[str, tuple[Path, Deck]]:
    """Every deck file by its paper."""
    return read_deck_files(decks_dir).by_paper


def _new_path(paper: str, decks_dir: Path, taken: set[str]) -> Path:
    """A file name no other paper has: the slug, or the slug and a hash of the exact name when the slug is taken
    (names that differ only in punctuation, after the 60th character, or have no letters). Stable, because the
    file's own `paper:` finds it on the next run. Compared case-blind, for macOS and Windows."""
    base = slug(paper)
    name = f"{base}.yaml"
    short = hashlib.sha1(paper.encode()).hexdigest()[:8]
    n = 1
    while name.casefold() in taken:
        n += 1
        name = f"{base}-{short}.yaml" if n == 2 else f"{base}-{short}-{n}.yaml"
    taken.add(name.casefold())
    return Path(decks_dir) / name


def _renamed(fresh: Deck, owner: dict[str, str], unclaimed: dict[str, tuple[Path, Deck]]) -> str | None:
    """The deck file whose `paper:` the user renamed: the unclaimed one holding (or having deleted) this paper's ids."""
    votes = Counter(owner[c.id] for c in fresh.cards if owner.get(c.id) in unclaimed)
    return votes.most_common(1)[0][0] if votes else None


def check_output(output: Path, decks_dir: Path, inputs: Iterable[str] = ()) -> None:
    """Refuse a package path that would replace something of the user's: a deck file (or anything in the decks
    folder), an input article, a symlink, a device or folder, or a file that is not an Anki package."""
    out = Path(output)
    if out.is_symlink():
        raise WriteError(f"-o {output}: is a symbolic link; give the path of the package itself")
    if out.exists() and not out.is_file():
        raise WriteError(f"-o {output}: not a regular file (a folder or a device); choose a file name ending in .apkg")
    where = out.resolve()
    decks = Path(decks_dir).resolve()
    if where == decks or decks in where.parents:
        raise WriteError(f"-o {output}: inside the decks folder {decks_dir}; write the package somewhere else")
    for name in inputs:
        if name != "-" and Path(name).resolve() == where:
            raise WriteError(f"-o {output}: is one of the input articles; choose another name for the package")
    if out.exists():
        try:
            with out.open("rb") as fh:
                magic = fh.read(4)
        except OSError as exc:
            raise WriteError(f"-o {output}: cannot open ({exc.strerror})") from exc
        if magic != b"PK\x03\x04" and out.stat().st_size:
            raise WriteError(f"-o {output}: exists and is not an Anki package; choose another name (or delete it first)")
    parent = where.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise WriteError(f"-o {output}: cannot write to {parent} (permission denied); choose another folder")


def _oserror(what: Path, exc: OSError, after: str) -> WriteError:
    return WriteError(f"cannot write {what} ({exc.strerror or exc}); {after}")


def commit(
    decks_dir: Path, state: State, writes: list[tuple[Path, Deck]], digests: dict[Path, str], write_output: Callable[[], object]
) -> None:
    """Write deck files, the package and the state so that an interruption anywhere leaves a state the next run
    converges from: the new state goes to a pending file first (State.recover settles it against the files).

    A deck file that changed since it was read (an edit saved while this run worked) is never overwritten.
    """
    texts = [(path, dump_deck(deck)) for path, deck in writes]
    texts = [(path, text) for path, text in texts if digest(text.encode()) != digests.get(path)]
    edited = [path for path, _ in texts if file_digest(path) != digests.get(path)]
    if edited:
        raise WriteError(_edited_message(edited, written=False))
    try:
        state.save_pending(decks_dir)
    except OSError as exc:
        raise _oserror(Path(decks_dir), exc, "nothing was written; free some space or fix the permissions and run again") from exc
    try:
        for path, text in texts:
            if file_digest(path) != digests.get(path):  # saved in the last moments: still never overwrite it
                raise WriteError(_edited_message([path], written=True))
            try:
                write_atomic(path, text)
            except OSError as exc:
                raise _oserror(path, exc, "it is unchanged; free some space or fix the permissions and run again") from exc
        write_output()
    except BaseException:
        with suppress(Exception):  # if even this fails, the pending file stays and the next run settles it
            State.recover(decks_dir).save(decks_dir)
        raise
    try:
        state.save(decks_dir)
    except OSError as exc:
        raise _oserror(Path(decks_dir), exc, "the next run settles the state from the deck files") from exc


def _edited_message(paths: list[Path], written: bool) -> str:
    names = ", ".join(str(p) for p in paths)
    return (
        f"{names} changed while this run was working (saved by you or another program); left exactly as saved"
        + ("; other deck files may already be updated" if written else ", nothing was written")
        + ". Run the same command again to merge the change."
    )


def write_output_package(
    decks: list[Deck], output: Path, root_deck: str, model_updated: dict[str, int], keep: KeptDatabase | None = None
) -> None:
    try:
        write_package(decks, output, root_deck, model_updated, keep)
    except OSError as exc:
        after = "the deck files are up to date: run `deckgen package -o FILE` when it can be written"
        raise _oserror(Path(output), exc, after) from exc


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
    inputs = list(inputs)
    vocab = load_vocabulary(tuple(terms))
    memo = IngestMemo(decks_dir)  # incremental builds: unchanged input files are not parsed again
    ingested = ingest(inputs, memo)
    if not ingested.papers:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in ingested.skipped) or "no input files found"
        raise NothingToBuild(f"no articles found, nothing built ({reasons})")
    if not dry_run:
        check_output(output, decks_dir, [*inputs, *(a.source for p in ingested.papers for a in p.articles)])
    with nullcontext() if dry_run else decks_lock(decks_dir, lock_timeout, on_wait):
        # incremental builds (deckgen.incremental): unchanged papers come from the cache, not re-extracted
        inc = Incremental.open(
            decks_dir, tuple(terms), root_deck, llm is None and not dry_run, f"max_cards={max_cards}", not dry_run
        )
        files = read_deck_files(decks_dir, inc.load_deck)
        existing = dict(files.by_paper)
        state = State.load(decks_dir)
        papers = [p for p in ingested.papers if not inc.unchanged(p, existing)]
        fresh = [
            inc.extract(paper, lambda p: extract(p, vocab, max_cards)) for paper in progress(papers, "Extracting cards")
        ]
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
        owner = {i: paper for paper, (_, d) in existing.items() for i in [*(c.id for c in d.cards), *d.deleted]}
        taken = {p.name.casefold() for p in Path(decks_dir).glob("*")} if Path(decks_dir).is_dir() else set()
        for paper, deck in zip(papers, fresh, strict=True):
            if deck.paper in existing:
                path, previous = existing.pop(deck.paper)
            elif (renamed := _renamed(deck, owner, existing)) is not None:
                path, previous = existing.pop(renamed)  # the user renamed `paper:`: the file keeps its name and cards
                state.rename_paper(deck.paper, previous.paper)
            else:
                path, previous = _new_path(deck.paper, decks_dir, taken), state.deck_file_gone(deck.paper)
            home = previous.paper if previous is not None else deck.paper
            # a fact whose id another deck already holds stays there: one note never sits in two decks
            deck = replace(deck, cards=[c for c in deck.cards if owner.setdefault(c.id, home) == home])
            if previous is not None and state.rebuilt:
                state.adopt(previous, deck)
            refined = report is not None and deck.paper in report.refined
            dropped = report.model_dropped.get(deck.paper, set()) if refined else None
            kept = report.model_kept.get(deck.paper, set()) if refined else set()
            deck, change, gone = merge(deck, previous, state, _still_in(paper), dropped, kept)
            if report is not None:
                report.kept += change.llm_landed
            # "edited by you, kept" is news once: not for edits already in the last package
            change.kept_edited = [c for c in change.kept_edited if state.cards.get(c.id, {}).get("hash") != content_hash(c)]
            ensure_ids(deck)
            built.append((path, _without_secret(deck, llm)))
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
        _check_unique_ids(everything)
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
            inc.close()
            return result
        now = int(time.time())
        reused_ids = {id(deck) for _, deck, _ in reused}
        for deck in result.decks + stale:
            if id(deck) not in reused_ids:
                state.stamp(deck, now)
        for deck in result.decks:
            state.remember_deleted(deck)
        # Cards whose fact is gone go out once more, tagged, so the user can find and delete them in Anki.
        gone_by_paper = {d.paper: d.cards for d in stale if d.cards}
        packaged = [replace(d, cards=d.cards + gone_by_paper.get(d.paper, [])) for d in result.decks]
        models = state.stamp_models(model_fingerprints(), now)
        state.forget(c.id for d in stale for c in d.cards)
        for paper_name, dropped_ids in (report.model_dropped if report else {}).items():
            mark_model_dropped(state, paper_name, dropped_ids)
        kept = inc.kept_package(models)
        writes = [(path, deck) for path, deck in everything if not inc.on_disk(path, deck)]
        commit(
            decks_dir, state, writes, files.digests, lambda: write_output_package(packaged, output, root_deck, models, kept)
        )
        inputs = {p.name: inc.key(p) for p in ingested.papers}
        inc.save(decks_dir, everything, changes, inputs, set(gone_by_paper), kept, models)
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


def _still_in(paper) -> Callable[[Card], bool]:
    """Is a card's source sentence still in the paper's articles? (indexed on the first question only)"""

    def present(card: Card) -> bool:
        return article_index(paper_text(paper)).contains(card.source)

    return present


def _check_unique_ids(decks: list[tuple[Path, Deck]]) -> None:
    """The package must never hold two notes with one id (Anki would merge them into one deck)."""
    seen: dict[str, Path] = {}
    for path, deck in decks:
        for card in deck.cards:
            if seen.setdefault(card.id, path) != path:
                raise DeckFileError(
                    f"{seen[card.id]} and {path}: both would hold card id {card.id!r}; nothing was written. "
                    "Delete the card from one deck file (or its id: line, to make it a new card) and run again."
                )


def _without_secret(deck: Deck, llm: LLMConfig | None) -> Deck:
    """An API key never lands in a deck file, whatever an article (or a server) put in its links."""
    secret = llm.api_key if llm is not None else None
    if not secret or len(secret) < 8:
        return deck
    return replace(deck, links=[link for link in deck.links if secret not in link])


ARTICLE_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}


def deck_sources(decks_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """The article files the deck files were built from: (found, missing, refused).

    A deck file is the user's to edit, or someone else's to hand over: its `sources:` may name any path. Only
    regular text, Markdown and HTML files under the current folder or the folder holding the decks folder are read
    (never ~/.ssh/id_rsa or /proc/self/environ); the rest are refused and reported.
    """
    roots = {Path.cwd().resolve(), Path(decks_dir).resolve().parent}
    found, missing, refused = [], [], []
    for _, deck in existing_decks(decks_dir).values():
        for source in deck.sources:
            path = Path(source).expanduser()
            try:
                where = path.resolve()
            except (OSError, RuntimeError):
                refused.append(source)
                continue
            if not (path.exists() or path.is_symlink()):
                missing.append(source)
            elif (
                where.suffix.lower() not in ARTICLE_SUFFIXES
                or not where.is_file()
                or not any(root == where or root in where.parents for root in roots)
            ):
                refused.append(source)
            else:
                found.append(source)
    return list(dict.fromkeys(found)), list(dict.fromkeys(missing)), list(dict.fromkeys(refused))


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
    check_output(output, decks_dir)
    with decks_lock(decks_dir, lock_timeout, on_wait):
        files = read_deck_files(decks_dir)
        found = list(files.by_paper.values())
        state = State.load(decks_dir)
        now = int(time.time())
        for _, deck in found:
            ensure_ids(deck)  # written back below, so new ids stay stable
            state.stamp(deck, now)
            state.remember_deleted(deck)
        decks = [d for _, d in found]
        models = state.stamp_models(model_fingerprints(), now)
        commit(decks_dir, state, found, files.digests, lambda: write_output_package(decks, output, root_deck, models))
    return BuildResult(decks, Path(output), [p for p, _ in found])
