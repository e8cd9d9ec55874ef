"""The refine stage: one request per article chunk, concurrently, cached; the model's decisions applied.

An article whose request fails keeps its rule-based cards. --dry-run sends nothing: it reads the
cache and counts what a real run would send.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

from deckgen.cache import ResponseCache, default_cache_path, request_key
from deckgen.config import LLMConfig
from deckgen.errors import LLMError
from deckgen.llm.budget import REPLY_TOKENS, Budget, estimate_tokens
from deckgen.llm.client import ChatModel, FatalLLMError, Interrupted
from deckgen.llm.combine import Decided, combine
from deckgen.llm.grounding import ground
from deckgen.llm.prompt import Prompt, assign_candidates, chunk_article, render_candidates, repair_message
from deckgen.llm.reply import Reply, parse_reply
from deckgen.model import Card, Deck, Paper

T = TypeVar("T")
Progress = Callable[[list[T], str], Iterable[T]]
Answer = tuple[Reply, list[Card | str]]  # a reply and each of its cards grounded, or the reason it is not


@dataclass
class Dropped:
    paper: str
    card: dict[str, Any]
    reason: str

    def describe(self) -> str:
        shown = self.card.get("front") or self.card.get("text") or json.dumps(self.card, ensure_ascii=False)
        return f"{self.paper}: {' '.join(str(shown).split())[:60]} — {self.reason}"


@dataclass
class RefineReport:
    requests: int = 0  # sent and answered (a retry of the same request is not counted again)
    answered: int = 0  # requests whose reply was usable
    failed: int = 0  # requests that ended in an error
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    grounded: int = 0  # model cards that passed grounding
    kept: int = 0  # model cards that landed in the deck files (set by the build, after merging)
    dropped: list[Dropped] = field(default_factory=list)
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # (paper, why it kept its rule-based cards)
    stopped: str | None = None  # a budget that ended the run early
    cost: float | None = None  # USD, when prices are configured
    refined: set[str] = field(default_factory=set)  # papers whose every request succeeded
    model_dropped: dict[str, set[str]] = field(default_factory=dict)  # paper: candidate ids the model dropped
    model_kept: dict[str, set[str]] = field(default_factory=dict)  # paper: candidate ids it explicitly kept
    dry_run: bool = False
    would_send: int = 0  # --dry-run: requests a real run would send
    estimated_in: int = 0
    estimated_out: int = 0
    estimated_cost: float | None = None

    @property
    def all_failed(self) -> bool:
        """Every request this run tried ended in an error (and nothing came from the cache)."""
        return self.failed > 0 and self.answered == 0 and self.cache_hits == 0


@dataclass
class _Job:
    paper: str
    messages: list[dict[str, str]]
    ids: dict[str, str]  # the prompt's candidate numbers: {"c1": card id}
    article: str  # the paper's whole text, which the cards are grounded in


class _NotSent(LLMError):
    """--dry-run: this request would be sent by a real run."""


class Refiner:
    def __init__(self, config: LLMConfig, model: ChatModel | None = None, dry_run: bool = False):
        self.config = config
        self.prompt = Prompt.load(config.prompt)
        self.stop = threading.Event()
        self.model = model or ChatModel(config, self.stop)
        self.cache = ResponseCache(config.cache or default_cache_path(), read_only=dry_run)
        self.budget = Budget(config)
        self.report = RefineReport(dry_run=dry_run)
        self.dry_run = dry_run
        self.broken: str | None = None
        self._lock = threading.Lock()

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.report, name, getattr(self.report, name) + delta)

    def _ask(self, job: _Job) -> Reply:
        """The reply to one request: from the cache, or from the server with one repair attempt."""
        key = request_key(self.config.endpoint, self.config.model, self.prompt.version, job.messages)
        cached = self.cache.get(key)
        if cached is not None:
            try:
                reply = parse_reply(cached)
            except ValueError:
                pass  # a reply cached by an older deckgen that this one cannot use: ask again
            else:
                self._count(cache_hits=1)
                return reply
        if self.dry_run:
            self._count(would_send=1, estimated_in=estimate_tokens(job.messages), estimated_out=REPLY_TOKENS)
            raise _NotSent("not sent: dry run")
        try:
            return self._send(key, job)
        except Interrupted:
            raise
        except LLMError:
            self._count(failed=1)
            raise

    def _send(self, key: str, job: _Job) -> Reply:
        messages = list(job.messages)
        for attempt in range(2):
            if self.stop.is_set():
                raise Interrupted("interrupted")
            if self.broken:
                raise LLMError(self.broken)
            if not self.budget.reserve(messages):
                raise _NotSent(f"not sent: {self.budget.stopped}")
            try:
                done = self.model.complete(messages)
            except FatalLLMError as exc:
                self.broken = str(exc)
                raise
            self._count(requests=1, tokens_in=done.tokens_in, tokens_out=done.tokens_out)
            self.budget.spend(done.tokens_in, done.tokens_out)
            try:
                reply = parse_reply(done.content)
            except ValueError as exc:
                problem = f"{exc}" + (" (the reply was cut off: too long)" if done.finish == "length" else "")
                if attempt == 1:
                    raise LLMError(f"unusable reply after one repair attempt: {problem}") from exc
                messages = [*messages, {"role": "assistant", "content": done.content}, repair_message(problem)]
                continue
            self.cache.put(key, self.config.endpoint, self.config.model, self.prompt.version, job.messages,
                           done.content, done.tokens_in, done.tokens_out)
            self._count(answered=1)
            return reply
        raise AssertionError("unreachable")

    def jobs(self, papers: list[tuple[Paper, Deck]]) -> list[_Job]:
        """One request per chunk of each article, with the candidates whose sentence is in that chunk."""
        jobs = []
        for paper, deck in papers:
            chunks = chunk_article([p for a in paper.articles for p in a.paragraphs], self.config.chunk_chars)
            for chunk, candidates in zip(chunks, assign_candidates(chunks, deck.cards), strict=True):
                shown, ids = render_candidates(candidates)
                jobs.append(_Job(deck.paper, self.prompt.messages(deck.paper, chunk, shown), ids, paper_text(paper)))
        return jobs

    def _work(self, job: _Job) -> tuple[Reply, list[Card | str]]:
        """A reply and its cards grounded, in the worker: grounding overlaps with waiting for other replies."""
        reply = self._ask(job)
        return reply, [ground(raw, job.paper, job.article) for raw in reply.cards]

    def _run(self, jobs: list[_Job], progress: Progress) -> tuple[dict[str, list[tuple[_Job, Answer]]], dict[str, str]]:
        replies: dict[str, list[tuple[_Job, Answer]]] = {}
        failed: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=self.config.jobs) as pool:
            futures = {pool.submit(self._work, job): job for job in jobs}
            try:
                finished = as_completed(futures)
                for _ in progress(list(futures), "Asking the model"):
                    future = next(finished)
                    job = futures[future]
                    try:
                        replies.setdefault(job.paper, []).append((job, future.result()))
                    except LLMError as exc:
                        failed.setdefault(job.paper, str(exc))
            except KeyboardInterrupt:
                self.stop.set()  # no new requests; running ones give up at once
                for future in futures:
                    future.cancel()
                raise Interrupted(
                    f"interrupted: {self.report.answered} replies saved in the cache, nothing else written; "
                    "run the same command again to continue from there"
                ) from None
        if any(isinstance(f.exception(), Interrupted) for f in futures if f.done() and not f.cancelled()):
            raise Interrupted("interrupted")
        return replies, failed

    def refine(self, papers: list[tuple[Paper, Deck]], progress: Progress = lambda items, label: items) -> list[Deck]:
        """Each paper's deck as the model decided, grounded; on failure, its rule-based cards unchanged."""
        replies, failed = self._run(self.jobs(papers), progress)
        out = []
        for _, deck in papers:
            if deck.paper in failed:
                if not self.dry_run:
                    self.report.fallbacks.append((deck.paper, failed[deck.paper]))
                out.append(deck)
                continue
            decided = Decided()
            for job, (reply, grounded) in replies.get(deck.paper, []):
                decided.keep |= {job.ids[i] for i in reply.keep if i in job.ids}
                decided.drop |= {job.ids[i] for i in reply.drop if i in job.ids}
                for raw, result in zip(reply.cards, grounded, strict=True):
                    if isinstance(result, str):
                        self.report.dropped.append(Dropped(deck.paper, raw, result))
                        continue
                    decided.cards.append((result, {job.ids[i] for i in _replaces(raw) if i in job.ids}))
            combined = combine(deck.cards, decided)
            for card, why in combined.duplicates:
                self.report.dropped.append(Dropped(deck.paper, {"front": card.prompt}, why))
            self.report.grounded += len(decided.cards) - len(combined.duplicates)
            self.report.refined.add(deck.paper)
            self.report.model_dropped[deck.paper] = combined.dropped
            self.report.model_kept[deck.paper] = decided.keep
            out.append(Deck(deck.paper, combined.cards, deck.title, deck.links, deck.sources, budget=deck.budget))
        self.report.stopped = self.budget.stopped
        self.report.cost = self.budget.priced(self.report.tokens_in, self.report.tokens_out)
        self.report.estimated_cost = self.budget.priced(self.report.estimated_in, self.report.estimated_out)
        return out

    def close(self) -> None:
        self.cache.close()


def paper_text(paper: Paper) -> str:
    return "\n".join(p for a in paper.articles for p in a.paragraphs)


def _replaces(raw: dict[str, Any]) -> set[str]:
    value = raw.get("replaces")
    if isinstance(value, str):
        return {value.strip()}
    return {v.strip() for v in value if isinstance(v, str)} if isinstance(value, list) else set()
