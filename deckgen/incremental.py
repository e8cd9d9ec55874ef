"""Incremental builds: a paper whose inputs did not change since the last build is not extracted again.

A paper's inputs are its articles, its deck file, the vocabulary (--terms), and deckgen itself (a hash
of its source files, templates and data, so a development change counts too). When all are as they
were, the build takes the paper's deck from the cache instead of extracting, merging and writing it,
and a deck file whose bytes are as deckgen last wrote them is not parsed again. An --llm run never
reuses a paper (the model is asked again); a changed state file (another `deckgen package`, a restore)
drops the whole cache. Everything lives in decks/.deckgen-cache/: safe to delete at any time, the
next build is then a full one.

The package's collection database is kept there too (deckgen.package.KeptDatabase): only decks whose
notes changed are written again, and the .apkg still holds every deck.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from deckgen.deckfile import load_deck_file, write_json
from deckgen.dedupe import sketch_of
from deckgen.merge import STATE_FILE, DeckChanges, State
from deckgen.model import Article, Card, Deck, Paper
from deckgen.package import KeptDatabase
from deckgen.resources import templates_dir

CACHE_DIR = ".deckgen-cache"
INDEX = "index.json"
EXTRACTED = "extracted.sqlite"
MEMO = "ingest.json"
PACKAGE_DB = "package.anki2"
FORMAT = 1
_CARD_FIELDS = ("id", "type", "kind", "front", "back", "text", "extra", "source", "tags")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of deckgen's own files: any change to the code, templates or data invalidates the cache."""
    digest = hashlib.sha1(str(FORMAT).encode())
    package_dir = Path(__file__).resolve().parent
    files = sorted(p for p in package_dir.rglob("*") if p.is_file() and p.suffix != ".pyc")
    files += sorted(p for p in templates_dir().rglob("*") if p.is_file())
    for path in dict.fromkeys(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def paper_key(paper: Paper, vocabulary: str) -> str:
    """Everything extraction reads of a paper, with the vocabulary's hash."""
    articles = [
        [a.source, a.title, a.paper_title, a.links, sorted(a.headings), a.paragraphs] for a in paper.articles
    ]
    return _sha1(json.dumps([paper.name, vocabulary, articles], ensure_ascii=False).encode())


def _fresh_to_json(deck: Deck) -> dict:
    """A fresh extraction, every field (Deck.budget too), for merging again later."""
    out = {f.name: getattr(deck, f.name) for f in fields(Deck) if f.name != "cards"}
    out["cards"] = [{f.name: getattr(c, f.name) for f in fields(Card)} for c in deck.cards]
    return out


def _fresh_from_json(raw: dict) -> Deck:
    cards = [Card(**c) for c in raw.pop("cards")]
    return Deck(cards=cards, **raw)


def _deck_to_json(deck: Deck) -> list:
    cards = [[getattr(c, f) for f in _CARD_FIELDS] for c in deck.cards]
    return [deck.paper, deck.title, deck.links, deck.sources, deck.deleted, cards]


def _deck_from_json(raw: list) -> Deck:
    paper, title, links, sources, deleted, cards = raw
    return Deck(
        paper=paper,
        title=title,
        links=links,
        sources=sources,
        deleted=deleted,
        cards=[Card(*c) for c in cards],  # _CARD_FIELDS are Card's first fields, in order
    )


@dataclass
class Incremental:
    """The cache of one decks folder during one build."""

    folder: Path  # decks/.deckgen-cache
    reuse: bool  # False for --llm runs: they recompute every paper, but still record the results
    vocabulary: str  # the hash of the --terms files and `options`
    root_deck: str
    index: dict = field(default_factory=dict)
    _hits: dict[str, str] = field(default_factory=dict)  # deck file name -> its bytes' hash, when it matched
    _reused: dict[str, tuple[Path, Deck]] = field(default_factory=dict)  # paper -> the unchanged paper's deck
    _loaded: dict[str, Deck] = field(default_factory=dict)  # deck file name -> the deck taken from the cache
    _keys: dict[str, str] = field(default_factory=dict)  # paper name -> paper_key, computed once
    record: bool = True  # False for --dry-run: nothing is written, not even the cache
    _db: sqlite3.Connection | None = None  # extraction results by paper (EXTRACTED), opened when needed
    _extracted_keys: set[str] = field(default_factory=set)

    def key(self, paper: Paper) -> str:
        if paper.name not in self._keys:
            self._keys[paper.name] = paper_key(paper, self.vocabulary)
        return self._keys[paper.name]

    @classmethod
    def open(
        cls,
        decks_dir: Path,
        terms: tuple[str, ...],
        root_deck: str,
        reuse: bool = True,
        options: str = "",
        record: bool = True,
    ) -> Incremental:
        """`options`: every other setting extraction depends on (e.g. --max-cards), as text."""
        vocabulary = hashlib.sha1(options.encode() + b"\0")
        for name in terms:
            try:
                vocabulary.update(Path(name).read_bytes() + b"\0")
            except OSError:
                vocabulary.update(b"missing\0")
        inc = cls(Path(decks_dir) / CACHE_DIR, reuse, vocabulary.hexdigest(), root_deck, record=record)
        try:
            index = json.loads((inc.folder / INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            index = {}
        if (
            isinstance(index, dict)
            and index.get("code") == code_version()
            and index.get("state") == _state_hash(decks_dir)
        ):
            inc.index = index
        return inc

    # ---------------------------------------------------------------- reading

    def load_deck(self, path: Path) -> tuple[Deck, str]:
        """A deck file and its digest, from the cache when its bytes are those deckgen last wrote (or read)."""
        entry = self.index.get("files", {}).get(path.name)
        if entry is not None and path.is_file():
            try:
                digest = _sha1(path.read_bytes())
            except OSError:
                digest = None
            if digest == entry["hash"]:
                self._hits[path.name] = digest
                deck = _deck_from_json(entry["deck"])
                self._loaded[path.name] = deck
                return deck, digest
        return load_deck_file(path)

    def unchanged(self, paper: Paper, existing: dict[str, tuple[Path, Deck]]) -> bool:
        """True (and the deck put aside for `reused`) when nothing the paper's deck depends on changed."""
        if self.reuse and paper.name in existing:
            path, deck = existing[paper.name]
            entry = self.index.get("files", {}).get(path.name)
            if self._loaded.get(path.name) is deck and entry.get("input") == self.key(paper):
                self._reused[paper.name] = existing.pop(paper.name)
                return True
        return False

    def extract(self, paper: Paper, run: Callable[[Paper], Deck]) -> Deck:
        """`run(paper)` (the extraction), or what it gave last time for the same paper, vocabulary and code:
        a paper whose deck file alone was edited is merged again without extracting (or loading jieba)."""
        if not self.record:
            return run(paper)
        key = _sha1(f"{code_version()}|{self.key(paper)}".encode())
        db = self._extracted()
        row = db.execute("SELECT deck FROM extracted WHERE key = ?", (key,)).fetchone()
        if row is not None:
            try:
                deck = _fresh_from_json(json.loads(row[0]))
            except (TypeError, ValueError, KeyError):
                deck = None
            if deck is not None:
                self._extracted_keys.add(key)
                return deck
        deck = run(paper)
        db.execute("INSERT OR REPLACE INTO extracted VALUES (?, ?)", (key, json.dumps(_fresh_to_json(deck), ensure_ascii=False)))
        self._extracted_keys.add(key)
        return deck

    def _extracted(self) -> sqlite3.Connection:
        if self._db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / EXTRACTED)
            self._db.execute("CREATE TABLE IF NOT EXISTS extracted (key TEXT PRIMARY KEY, deck TEXT)")
        return self._db

    def on_disk(self, path: Path, deck: Deck) -> bool:
        """True when the deck file already holds `deck`: the very deck read from the cache, not merged again
        (a merge gives a new Deck) and complete (a file deckgen wrote has every id, so ensure_ids left it be)."""
        return self._loaded.get(path.name) is deck and all(c.id for c in deck.cards)

    def reused(self, state: State) -> list[tuple[Path, Deck, DeckChanges]]:
        """The unchanged papers' decks as the last build left them, their cards' times from the state."""
        if self._db is not None:
            self._db.commit()  # extraction is over: hold no lock on the cache while the rest may fail
        out = []
        for path, deck in self._reused.values():
            for card in deck.cards:
                card.updated = state.cards.get(card.id, {}).get("updated")
            # like a full build: edits already in the last package are not news again
            out.append((path, deck, DeckChanges(deck.paper)))
        return out

    @staticmethod
    def in_paper_order(
        papers: list[Paper], built: list[tuple[Path, Deck]], changes: list[DeckChanges]
    ) -> tuple[list[tuple[Path, Deck]], list[DeckChanges]]:
        """Reused and rebuilt decks back in the order of the papers, as a full build lists them."""
        rank = {p.name: i for i, p in enumerate(papers)}
        pairs = sorted(zip(built, changes, strict=True), key=lambda pair: rank.get(pair[0][1].paper, len(rank)))
        return [b for b, _ in pairs], [c for _, c in pairs]

    def kept_package(self, model_updated: dict[str, int]) -> KeptDatabase:
        """The kept collection database, with the papers whose notes it already holds exactly."""
        self.folder.mkdir(parents=True, exist_ok=True)
        package = self.index.get("package", {})
        same = package.get("root") == self.root_deck and package.get("models") == model_updated
        unchanged = frozenset(
            deck.paper
            for path, deck in self._reused.values()
            if same and self.index["files"][path.name].get("packaged") == "clean"
        )
        return KeptDatabase(self.folder / PACKAGE_DB, int(package.get("generation", 0)), unchanged)

    # ---------------------------------------------------------------- writing

    def save(
        self,
        decks_dir: Path,
        everything: list[tuple[Path, Deck]],
        changes: list[DeckChanges],
        inputs: dict[str, str],
        stale: set[str],
        package: KeptDatabase,
        model_updated: dict[str, int],
    ) -> None:
        """Record what this build wrote; call after the deck files and the state are written.

        `inputs`: paper name -> paper_key of the papers built from articles this run (reused ones included);
        `stale`: papers whose package carried stale notes this once (their notes change next time).
        """
        kept_edited = {c.paper: [card.id for card in c.kept_edited] for c in changes}
        previous = self.index.get("files", {})

        def files() -> Iterator[tuple[str, dict]]:  # one deck at a time: never a second copy of every card
            for path, deck in everything:
                if self.on_disk(path, deck):
                    digest = self._hits[path.name]
                    entry = dict(previous[path.name])
                else:
                    try:
                        digest = _sha1(path.read_bytes())
                    except OSError:
                        continue
                    entry = {"deck": _deck_to_json(deck)}
                entry.update(
                    hash=digest,
                    input=inputs.get(deck.paper),
                    kept_edited=kept_edited.get(deck.paper, []),
                    packaged="stale" if deck.paper in stale else "clean",
                )
                yield path.name, entry

        header = {
            "code": code_version(),
            "state": _state_hash(decks_dir),
            "package": {"root": self.root_deck, "models": model_updated, "generation": package.generation + 1},
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".gitignore", "w", encoding="utf-8") as fh:
            fh.write("*\n")
        write_json(self.folder / INDEX, header, "files", files())
        # every paper of this build keeps its extraction, also those reused without asking for it
        self._extracted_keys.update(_sha1(f"{code_version()}|{key}".encode()) for key in inputs.values() if key)
        self.close(keep_only_used=True)

    def close(self, keep_only_used: bool = False) -> None:
        """Commit the extraction results (forgetting papers not seen this run, after a real build) and close."""
        if self._db is None:
            return
        if keep_only_used:
            self._db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
            self._db.executemany("INSERT INTO used VALUES (?)", ((k,) for k in self._extracted_keys))
            self._db.execute("DELETE FROM extracted WHERE key NOT IN (SELECT key FROM used)")
        self._db.commit()
        self._db.close()
        self._db = None


class IngestMemo:
    """What ingest learned about each input file, kept between builds (decks/.deckgen-cache/ingest.json):
    the articles a file's text gives, their paper names and their de-duplication sketches. Keyed by the
    file's name and text; the whole memo is dropped when deckgen's files change."""

    def __init__(self, decks_dir: Path):
        self.path = Path(decks_dir) / CACHE_DIR / MEMO
        self.known: dict[str, list] = {}
        self.used: dict[str, list] = {}
        self._names: dict[int, str] = {}
        self._sketches: dict[int, array] = {}
        self._entries: dict[int, tuple[Article, list]] = {}  # keeps the articles alive, so id() stays unique
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("code") == code_version():
                self.known = doc["files"]
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            pass

    def parse(self, text: str, source: str) -> list[Article]:
        from deckgen.ingest import parse_text

        key = _sha1(f"{source}\0{text}".encode())
        entry = self.known.get(key)
        if entry is not None:
            try:
                articles = [_article_from_json(raw) for raw, _, _ in entry]
            except (TypeError, ValueError):
                entry = None
            else:
                for art, (_, name, sketch) in zip(articles, entry, strict=True):
                    if name is not None:  # None: a duplicate, never named
                        self._names[id(art)] = name
                    self._sketches[id(art)] = _array(sketch)
        if entry is None:
            articles = parse_text(text, source)
            entry = [[_article_to_json(a), None, None] for a in articles]
        self.used[key] = entry
        for art, row in zip(articles, entry, strict=True):
            self._entries[id(art)] = (art, row)
        return articles

    def identify(self, article: Article) -> str:
        from deckgen.ingest import identify_paper

        name = self._names.get(id(article))
        if name is None:
            name = identify_paper(article)
            self._record(article, 1, name)
        return name

    def sketch(self, article: Article) -> array:
        sketch = self._sketches.get(id(article))
        if sketch is None:
            sketch = sketch_of(article.text)
            self._record(article, 2, base64.b64encode(sketch.tobytes()).decode())
        return sketch

    def _record(self, article: Article, column: int, value: str) -> None:
        found = self._entries.get(id(article))
        if found is not None and found[0] is article:
            found[1][column] = value

    def save(self) -> None:
        """Keep what this build used (files no longer given are forgotten); call inside the decks lock."""
        complete = {k: rows for k, rows in self.used.items() if all(r[2] for r in rows)}
        write_json(self.path, {"code": code_version()}, "files", complete.items())


def _array(encoded: str) -> array:
    out = array("I")
    out.frombytes(base64.b64decode(encoded))
    return out


def _article_to_json(article: Article) -> dict:
    out = {}
    for f in fields(Article):
        value = getattr(article, f.name)
        out[f.name] = {"set": sorted(value)} if isinstance(value, set) else value
    return out


def _article_from_json(raw: dict) -> Article:
    return Article(**{k: set(v["set"]) if isinstance(v, dict) else v for k, v in raw.items()})


def _state_hash(decks_dir: Path) -> str | None:
    try:
        return _sha1((Path(decks_dir) / STATE_FILE).read_bytes())
    except OSError:
        return None
