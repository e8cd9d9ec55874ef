"""Every LLM request and its reply, in SQLite: a rerun over unchanged articles makes no requests.

Keyed by a hash of the canonical JSON of endpoint, model, prompt version and messages (which carry
the article text). The API key is never part of what is stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import DeckgenError

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("deckgen")) / "llm-cache.sqlite"


def request_key(endpoint: str, model: str, prompt_version: str, messages: list[dict]) -> str:
    canonical = json.dumps([endpoint, model, prompt_version, messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class CacheStats:
    path: Path
    responses: int
    tokens_in: int
    tokens_out: int
    by_model: dict[str, int]
    size_bytes: int


class CacheError(DeckgenError):
    """A cache file deckgen cannot use."""


class ResponseCache:
    """Thread-safe: the refine stage writes from its worker threads, each reply as soon as it arrives."""

    def __init__(self, path: Path, read_only: bool = False):
        """`read_only` (for --dry-run): nothing is created or written; a missing file is an empty cache."""
        self.path = Path(path)
        self._lock = threading.Lock()
        if read_only:
            self.path = self.path if self.path.exists() else Path(":memory:")
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "responses" not in tables:  # someone else's database: do not write into it
                raise CacheError(f"{self.path}: an SQLite file, but not a deckgen cache; pass --cache with another path")
            if read_only:
                self._db.execute("PRAGMA query_only = ON")
                if "responses" not in tables:
                    self._db.close()
                    self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                    self._db.execute(SCHEMA)
            else:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"{self.path}: cannot use it as the LLM cache ({exc}); is it another file? Pass --cache with a new "
                "path, or delete this one if it is an old cache"
            ) from exc

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row and isinstance(row[0], str) else None

    def put(self, key: str, endpoint: str, model: str, prompt_version: str, messages: list[dict], response: str,
            tokens_in: int | None, tokens_out: int | None) -> None:
        request = json.dumps({"model": model, "messages": messages}, ensure_ascii=False)
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, endpoint, model, prompt_version, request, response, tokens_in, tokens_out, time.time()),
                )
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot save a reply in the cache ({exc})") from exc

    def stats(self) -> CacheStats:
        with self._lock:
            count, t_in, t_out = self._db.execute(
                "SELECT count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0) FROM responses"
            ).fetchone()
            by_model = dict(self._db.execute("SELECT model, count(*) FROM responses GROUP BY model").fetchall())
        return CacheStats(self.path, count, t_in, t_out, by_model, self.path.stat().st_size)

    def clear(self) -> int:
        with self._lock:
            count = self._db.execute("SELECT count(*) FROM responses").fetchone()[0]
            self._db.execute("DELETE FROM responses")
            self._db.execute("VACUUM")
        return count

    def close(self) -> None:
        self._db.close()
