"""The one seam to the server: messages in, a Completion out — within a deadline, retried, key-safe.

deckgen does its own retries (the SDK's are off) so that Ctrl-C and the total deadline per request
are honoured between attempts, and every text that comes back has the API key scrubbed from it
before it reaches the cache, the deck files or the terminal (a server may echo it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from deckgen.config import LLMConfig
from deckgen.errors import DeckgenError, LLMError
from deckgen.llm.reply import Completion, parse_completion

T = TypeVar("T")
MAX_BACKOFF = 30.0  # seconds; a longer Retry-After is capped


class FatalLLMError(LLMError):
    """The endpoint is unusable (no connection, bad key): stop sending requests."""


class Interrupted(DeckgenError):
    """Ctrl-C: no new requests; what arrived is in the cache."""


class _Deadline(Exception):
    pass


def with_deadline(call: Callable[[], T], seconds: float, stop: threading.Event) -> T:
    """Run `call` in a daemon thread; give up after `seconds` in all (a server dripping bytes resets
    every per-read timeout) or as soon as `stop` is set. An abandoned call never blocks the exit."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    end = time.monotonic() + seconds
    while not done.wait(min(0.05, max(0.0, end - time.monotonic()))):
        if stop.is_set():
            raise Interrupted("interrupted")
        if time.monotonic() >= end:
            raise _Deadline
    if "error" in box:
        raise box["error"]
    return box["value"]


class ChatModel:
    def __init__(self, config: LLMConfig, stop: threading.Event | None = None):
        import openai

        self._openai = openai
        self.config = config
        self.stop = stop or threading.Event()
        self.client = openai.OpenAI(
            base_url=config.endpoint,
            api_key=config.api_key or "not-needed",  # local servers (Ollama, vLLM) accept any key
            timeout=config.timeout,
            max_retries=0,  # ours: see complete()
        )
        self.json_mode = True

    def redact(self, text: str) -> str:
        key = self.config.api_key
        return text.replace(key, "[API key]") if key and len(key) >= 4 else text

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """One reply; 429, 5xx, timeouts and dropped connections are retried `max_retries` times."""
        retries = self.config.max_retries
        for attempt in range(retries + 1):
            try:
                return self._once(messages)
            except _Retry as retry:
                if attempt == retries:
                    raise retry.final from None
                if self.stop.wait(retry.delay if retry.delay is not None else min(MAX_BACKOFF, 0.5 * 2**attempt)):
                    raise Interrupted("interrupted") from None
        raise AssertionError("unreachable")

    def _once(self, messages: list[dict[str, str]]) -> Completion:
        openai = self._openai
        kwargs: dict[str, Any] = {"model": self.config.model, "messages": messages, "temperature": 0.2}
        if self.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        timeout = self.config.timeout
        try:
            raw = with_deadline(lambda: self.client.chat.completions.with_raw_response.create(**kwargs).text,
                                timeout, self.stop)
        except (_Deadline, openai.APITimeoutError) as exc:
            raise _Retry(LLMError(f"no reply within {timeout:g} s (raise --timeout?)")) from exc
        except openai.BadRequestError as exc:
            if self.json_mode and "response_format" in str(exc):
                self.json_mode = False  # a server without JSON mode: ask in plain text and parse leniently
                return self._once(messages)
            raise LLMError(f"the server refused the request: {self._message(exc)}") from exc
        except openai.AuthenticationError as exc:
            raise FatalLLMError(f"the server rejected the API key ({self._message(exc)}); check OPENAI_API_KEY") from exc
        except openai.APIConnectionError as exc:
            raise _Retry(FatalLLMError(
                f"cannot connect to {self.config.endpoint}: {self.redact(str(exc.__cause__ or exc))}; check --base-url"
            )) from exc
        except openai.RateLimitError as exc:
            raise _Retry(LLMError(f"still rate-limited after {self.config.max_retries} retries"),
                         _retry_after(exc)) from exc
        except openai.APIStatusError as exc:
            error = LLMError(f"the server answered {exc.status_code}: {self._message(exc)}")
            if exc.status_code >= 500 or exc.status_code == 408:
                raise _Retry(error, _retry_after(exc)) from exc
            raise error from exc
        try:
            return parse_completion(self.redact(raw))
        except ValueError as exc:
            raise LLMError(str(exc)) from exc

    def _message(self, exc: Exception) -> str:
        body = getattr(exc, "body", None)
        text = str(exc)
        if isinstance(body, dict):
            error = body.get("error")
            text = str(body.get("message") or (error.get("message") if isinstance(error, dict) else error) or exc)
        return self.redact(" ".join(text.split())[:200])


class _Retry(Exception):
    def __init__(self, final: LLMError, delay: float | None = None):
        super().__init__(str(final))
        self.final, self.delay = final, delay


def _retry_after(exc: Any) -> float | None:
    try:
        return min(MAX_BACKOFF, max(0.0, float(exc.response.headers.get("retry-after"))))
    except (AttributeError, TypeError, ValueError):
        return None
