"""Stage 3 (optional): a chat model behind any OpenAI-compatible endpoint rewrites the candidate cards.

The model only proposes. A card is kept when its source sentence is in the article and every number and
English term it asks for is too (`ground`); everything else is dropped and reported. An article whose
request fails keeps its rule-based cards.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any, TypeVar

from deckgen.cache import ResponseCache, default_cache_path, request_key
from deckgen.config import LLMConfig
from deckgen.errors import ConfigError, LLMError
from deckgen.extract import PLANTED_INSTRUCTION, anchor_text, card_id, tag_for
from deckgen.model import CLOZE_DELETION, LLM_KIND, Card, Deck, Paper
from deckgen.resources import templates_dir

T = TypeVar("T")
Progress = Callable[[list[T], str], Iterable[T]]

USER_MARKER = "=== user ==="
MAX_ANSWER = 80  # characters: "answers short" — one fact, not a paragraph
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-+.][A-Za-z0-9]+)*")
def _norm(text: str) -> str:
    """For "is this in the article": width, case, spacing and punctuation do not count."""
    return anchor_text(unicodedata.normalize("NFKC", text))


# ---------------------------------------------------------------- prompt


@dataclass
class Prompt:
    system: str
    user: str
    version: str  # changes whenever the prompt file does, so cached replies to an old prompt are not reused

    @classmethod
    def load(cls, path: Path | None = None) -> Prompt:
        path = path or templates_dir() / "refine_prompt.md"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the prompt {path}: {exc.strerror}") from exc
        if USER_MARKER not in text:
            raise ConfigError(f"{path}: a prompt needs a line `{USER_MARKER}` between the system and the user part")
        system, user = (part.strip() for part in text.split(USER_MARKER, 1))
        if "$article" not in user:
            raise ConfigError(f"{path}: the user part must contain $article (and may use $paper, $candidates)")
        return cls(system, user, hashlib.sha1(text.encode()).hexdigest()[:12])

    def messages(self, paper: str, article: str, candidates: list[Card]) -> list[dict[str, str]]:
        shown = [
            {"type": c.type, **({"text": c.text} if c.type == "cloze" else {"front": c.front, "back": c.back})}
            for c in candidates
        ]
        values = {"paper": paper, "article": article, "candidates": json.dumps(shown, ensure_ascii=False, indent=1)}
        return [
            {"role": "system", "content": Template(self.system).safe_substitute(values)},
            {"role": "user", "content": Template(self.user).safe_substitute(values)},
        ]


def repair_message(problem: str) -> dict[str, str]:
    text = (templates_dir() / "refine_repair.md").read_text(encoding="utf-8")
    return {"role": "user", "content": Template(text).safe_substitute(problem=problem)}


def chunk_article(paragraphs: list[str], limit: int) -> list[str]:
    """Split at paragraph boundaries (a paragraph longer than the limit goes alone), so nothing is cut off."""
    chunks: list[list[str]] = [[]]
    size = 0
    for para in paragraphs:
        if chunks[-1] and size + len(para) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(para)
        size += len(para)
    return ["\n".join(c) for c in chunks if c]


# ---------------------------------------------------------------- replies


def parse_reply(text: str) -> list[dict[str, Any]]:
    """The cards in a reply: tolerates a code fence, prose around the JSON, a trailing comma."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    body = body[start : end + 1]
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        try:
            doc = json.loads(re.sub(r",\s*([}\]])", r"\1", body))
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON ({exc.msg} at character {exc.pos})") from exc
    cards = doc.get("cards") if isinstance(doc, dict) else None
    if not isinstance(cards, list):
        raise ValueError('the JSON has no "cards" list')
    return [c for c in cards if isinstance(c, dict)]


def answer_of(card: Card) -> str:
    return " ".join(CLOZE_DELETION.findall(card.text)) if card.type == "cloze" else card.back


def ground(raw: dict[str, Any], paper: str, article: str) -> Card | str:
    """A card from the model if it is grounded in the article, else the reason it is not."""
    kind = raw.get("type")
    if kind not in ("qa", "cloze", "term"):
        return f"unknown card type {kind!r}"
    fields = {k: raw.get(k) for k in ("front", "back", "text", "source")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return "a field is not text"
    front, back, text, source = ((fields[k] or "").strip() for k in ("front", "back", "text", "source"))
    if kind == "cloze" and not CLOZE_DELETION.search(text):
        return "a cloze card without a {{c1::…}} deletion"
    if kind != "cloze" and not (front and back):
        return "a question or answer is missing"
    card = Card(id="", type=kind, kind=LLM_KIND, front=front if kind != "cloze" else "",
                back=back if kind != "cloze" else "", text=text if kind == "cloze" else "", source=source)
    answer = answer_of(card)
    if len(answer) > MAX_ANSWER:
        return f"the answer is longer than {MAX_ANSWER} characters"
    if PLANTED_INSTRUCTION.search(" ".join((card.front, card.back, card.text, source))):
        return "it repeats an instruction planted in the article"
    article_norm, article_numbers = _article_index(article)
    if len(_norm(source)) < 6:
        return "no source sentence"
    if _norm(source) not in article_norm:
        return "its source sentence is not in the article"
    for number in _NUMBER.findall(_plain_numbers(" ".join((card.front, card.back, CLOZE_DELETION.sub(r"\1", card.text))))):
        if number not in article_numbers:
            return f"the number {number} is not in the article"
    for term in _LATIN.findall(_strip_markup(answer)):
        if len(term) > 1 and _norm(term) not in article_norm:
            return f"the term {term} is not in the article"
    card.id = card_id(paper, LLM_KIND, anchor_text(source) + "|" + anchor_text(answer))
    card.tags = ["deckgen", tag_for(paper), LLM_KIND]
    return card


@lru_cache(maxsize=4)
def _article_index(article: str) -> tuple[str, frozenset[str]]:
    """What grounding looks cards up in, computed once per article rather than once per card."""
    return _norm(article), frozenset(_NUMBER.findall(_plain_numbers(article)))


def _plain_numbers(text: str) -> str:
    """Full-width digits to ASCII, thousands separators out: "１,０００" and "1000" are the same number."""
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", unicodedata.normalize("NFKC", text))


def _strip_markup(text: str) -> str:
    return re.sub(r"\\[A-Za-z]+|\\[()\[\]]", " ", text)  # MathJax commands and delimiters are not terms


def combine(rule_cards: list[Card], llm_cards: list[Card], established: frozenset[str] = frozenset()) -> list[Card]:
    """LLM cards first; of a rule-based card and an LLM card asking the same thing, only one stays.

    The LLM card wins, unless the rule-based card is `established` (already in the deck file, so
    perhaps already studied in Anki): its review history is worth more than a better wording.
    """
    settled = [c for c in rule_cards if c.id in established]
    llm_cards = [c for c in llm_cards if not any(same_fact(c, r) for r in settled)]
    return llm_cards + [c for c in rule_cards if c.id in established or not any(same_fact(c, m) for m in llm_cards)]


def same_fact(a: Card, b: Card) -> bool:
    """The same answer; or, on the same sentence, the same numbers ("3" and "3 倍") or a rewritten claim."""
    if _norm(answer_of(a)) == _norm(answer_of(b)):
        return True
    if _norm(a.source) != _norm(b.source):
        return False
    numbers = _numbers(answer_of(a))
    return (bool(numbers) and numbers == _numbers(answer_of(b))) or bool({a.kind, b.kind} & {"claim", "name"})


def _numbers(text: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(_plain_numbers(text)))


# ---------------------------------------------------------------- requests


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
    requests: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    kept: int = 0
    dropped: list[Dropped] = field(default_factory=list)
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # (paper, why it kept its rule-based cards)
    stopped: str | None = None  # a budget that ended the run early
    cost: float | None = None  # USD, when prices are configured
    refined: set[str] = field(default_factory=set)  # papers whose every request succeeded


class ChatModel:
    """The one seam to the server: messages in, reply text and token counts out."""

    def __init__(self, config: LLMConfig):
        import openai

        self._openai = openai
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.endpoint,
            api_key=config.api_key or "not-needed",  # local servers (Ollama, vLLM) accept any key
            timeout=config.timeout,
            max_retries=config.max_retries,  # the SDK backs off on 429/5xx and honours Retry-After
        )
        self.json_mode = True

    def complete(self, messages: list[dict[str, str]]) -> tuple[str, int, int, str | None]:
        openai = self._openai
        kwargs: dict[str, Any] = {"model": self.config.model, "messages": messages, "temperature": 0.2}
        if self.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError as exc:
            if self.json_mode and "response_format" in str(exc):
                self.json_mode = False  # a server without JSON mode: ask in plain text and parse leniently
                return self.complete(messages)
            raise LLMError(f"the server refused the request: {_message(exc)}") from exc
        except openai.AuthenticationError as exc:
            raise FatalLLMError(f"the server rejected the API key ({_message(exc)}); check OPENAI_API_KEY") from exc
        except openai.APITimeoutError as exc:
            raise LLMError(f"no reply within {self.config.timeout:g} s (raise --timeout?)") from exc
        except openai.APIConnectionError as exc:
            raise FatalLLMError(f"cannot connect to {self.config.endpoint}: {exc.__cause__ or exc}; check --base-url") from exc
        except openai.RateLimitError as exc:
            raise LLMError(f"still rate-limited after {self.config.max_retries} retries") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the server answered {exc.status_code} after {self.config.max_retries} retries") from exc
        if not response.choices:
            raise LLMError("the reply has no choices")
        choice = response.choices[0]
        usage = response.usage
        return (
            choice.message.content or "",
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            choice.finish_reason,
        )


class FatalLLMError(LLMError):
    """The endpoint is unusable (no connection, bad key): stop sending requests."""


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error", {}).get("message") or exc)
    return str(exc)


class Budget:
    """--max-requests and --max-cost: a request that would go over is not sent."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self.requests = 0
        self.cost = 0.0
        self.stopped: str | None = None
        self._lock = threading.Lock()

    def priced(self, tokens_in: int, tokens_out: int) -> float | None:
        if self.config.price_in is None and self.config.price_out is None:
            return None
        return (tokens_in * (self.config.price_in or 0) + tokens_out * (self.config.price_out or 0)) / 1e6

    def reserve(self, messages: list[dict[str, str]]) -> bool:
        with self._lock:
            if self.stopped:
                return False
            if self.config.max_requests is not None and self.requests >= self.config.max_requests:
                self.stopped = f"--max-requests {self.config.max_requests} reached"
                return False
            if self.config.max_cost is not None:
                # estimate: ~1 token per 1.5 characters in, and as many out as a typical reply
                estimate = self.priced(sum(len(m["content"]) for m in messages) * 2 // 3, 1500) or 0.0
                if self.cost + estimate > self.config.max_cost:
                    self.stopped = f"--max-cost {self.config.max_cost:g} would be exceeded"
                    return False
            self.requests += 1
            return True

    def spend(self, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self.cost += self.priced(tokens_in, tokens_out) or 0.0


@dataclass
class _Job:
    paper: str
    messages: list[dict[str, str]]


class Refiner:
    def __init__(self, config: LLMConfig, model: ChatModel | None = None):
        self.config = config
        self.prompt = Prompt.load(config.prompt)
        self.model = model or ChatModel(config)
        self.cache = ResponseCache(config.cache or default_cache_path())
        self.budget = Budget(config)
        self.report = RefineReport()
        self.broken: str | None = None
        self._lock = threading.Lock()

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.report, name, getattr(self.report, name) + delta)

    def _ask(self, job: _Job) -> list[dict[str, Any]]:
        """The cards of one request: from the cache, or from the server with one repair attempt."""
        key = request_key(self.config.endpoint, self.config.model, self.prompt.version, job.messages)
        cached = self.cache.get(key)
        if cached is not None:
            self._count(cache_hits=1)
            return parse_reply(cached)
        messages = list(job.messages)
        for attempt in range(2):
            if self.broken:
                raise LLMError(self.broken)
            if not self.budget.reserve(messages):
                raise LLMError(f"not sent: {self.budget.stopped}")
            try:
                text, t_in, t_out, finish = self.model.complete(messages)
            except FatalLLMError as exc:
                self.broken = str(exc)
                raise
            self._count(requests=1, tokens_in=t_in, tokens_out=t_out)
            self.budget.spend(t_in, t_out)
            try:
                cards = parse_reply(text)
            except ValueError as exc:
                problem = f"{exc}" + (" (the reply was cut off: too long)" if finish == "length" else "")
                if attempt == 1:
                    raise LLMError(f"unusable reply after one repair attempt: {problem}") from exc
                messages = [*messages, {"role": "assistant", "content": text}, repair_message(problem)]
                continue
            self.cache.put(key, self.config.endpoint, self.config.model, self.prompt.version, job.messages, text,
                           t_in, t_out)
            return cards
        raise AssertionError("unreachable")

    def refine(
        self,
        papers: list[tuple[Paper, Deck]],
        progress: Progress = lambda items, label: items,
        established: frozenset[str] = frozenset(),
    ) -> list[Deck]:
        """Each paper's deck with grounded LLM cards in front; on failure, its rule-based cards unchanged.

        `established`: ids already in deck files, kept over an LLM card asking the same thing.
        """
        paragraphs = {deck.paper: [p for a in paper.articles for p in a.paragraphs] for paper, deck in papers}
        jobs: list[_Job] = []
        for _, deck in papers:
            for chunk in chunk_article(paragraphs[deck.paper], self.config.chunk_chars):
                chunk_norm = _norm(chunk)
                candidates = [c for c in deck.cards if _norm(c.source) and _norm(c.source) in chunk_norm]
                jobs.append(_Job(deck.paper, self.prompt.messages(deck.paper, chunk, candidates[:40])))
        replies: dict[str, list[dict[str, Any]]] = {deck.paper: [] for _, deck in papers}
        failed: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=self.config.jobs) as pool:
            futures = {pool.submit(self._ask, job): job for job in jobs}
            finished = as_completed(futures)
            for _ in progress(list(futures), "Asking the model"):
                future = next(finished)
                job = futures[future]
                try:
                    replies[job.paper].extend(future.result())
                except LLMError as exc:
                    failed.setdefault(job.paper, str(exc))
        out = []
        for _, deck in papers:
            if deck.paper in failed:
                self.report.fallbacks.append((deck.paper, failed[deck.paper]))
                out.append(deck)
                continue
            article = "\n".join(paragraphs[deck.paper])
            grounded: dict[str, Card] = {}
            for raw in replies[deck.paper]:
                result = ground(raw, deck.paper, article)
                if isinstance(result, str):
                    self.report.dropped.append(Dropped(deck.paper, raw, result))
                elif result.id not in grounded:
                    grounded[result.id] = result
            self.report.kept += len(grounded)
            self.report.refined.add(deck.paper)
            cards = combine(deck.cards, list(grounded.values()), established)
            out.append(Deck(deck.paper, cards, deck.title, deck.links, deck.sources))
        self.report.stopped = self.budget.stopped
        self.report.cost = self.budget.priced(self.report.tokens_in, self.report.tokens_out)
        return out

    def close(self) -> None:
        self.cache.close()
