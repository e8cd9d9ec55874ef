"""--max-requests and --max-cost, and what a --dry-run would spend."""

from __future__ import annotations

import threading

from deckgen.config import LLMConfig

REPLY_TOKENS = 1500  # a typical reply, for estimates before it is written


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """About one token per 1.5 characters of mixed Chinese and English."""
    return sum(len(m["content"]) for m in messages) * 2 // 3


class Budget:
    """A request that would go over a limit is not sent."""

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
                estimate = self.priced(estimate_tokens(messages), REPLY_TOKENS) or 0.0
                if self.cost + estimate > self.config.max_cost:
                    self.stopped = f"--max-cost {self.config.max_cost:g} would be exceeded"
                    return False
            self.requests += 1
            return True

    def spend(self, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self.cost += self.priced(tokens_in, tokens_out) or 0.0
