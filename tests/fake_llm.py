"""A real HTTP server on 127.0.0.1 that speaks POST /v1/chat/completions, for tests and benchmarks.

By default it answers like a careful model: for every sentence of the article that holds a number, one
cloze card on that number and one Q&A card, with the sentence as source, each replacing the candidate
that asks the same number; every other candidate is kept. `respond` replaces that behaviour with a
function of the request; `script` queues one-off behaviours (an HTTP error, a stall, a raw body, a
server that drips its reply) for the next requests; `extra_cards` are added to every default reply.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARTICLE = re.compile(r"<article>\s*(.*?)\s*</article>", re.S)
SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]")
NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?:\.\d+)?%?")
SENTENCE_LINE = re.compile(r"^\[S(\d+)\] (.*)$", re.M)
CANDIDATE_LINE = re.compile(r"^(c\d+) \| S(\d+) \| (\w+) \| (.*)$", re.M)


@dataclass
class Candidate:
    """One numbered candidate as the prompt shows it."""

    id: str
    sentence: str
    type: str
    body: str


def candidates_of(user: str) -> list[Candidate]:
    sentences = dict(SENTENCE_LINE.findall(user))
    return [Candidate(cid, sentences.get(s, ""), kind, body) for cid, s, kind, body in CANDIDATE_LINE.findall(user)]


def article_of(user: str) -> str:
    match = ARTICLE.search(user)
    return match.group(1) if match else ""


def user_message(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def grounded_cards(article: str, candidates: list[Candidate], limit: int = 6) -> list[dict[str, Any]]:
    cards = []
    for sentence in SENTENCE.findall(article):
        sentence = sentence.strip()
        number = NUMBER.search(sentence)
        if not number or len(cards) >= limit:
            continue
        value = number.group()
        twin = [c.id for c in candidates if c.sentence.strip() == sentence and value in c.body]
        cards.append({"type": "cloze", "text": sentence.replace(value, "{{c1::" + value + "}}", 1),
                      "source": sentence, "replaces": twin})
        cards.append({"type": "qa", "front": "这句话给出的数字是多少?" + sentence[:10], "back": value,
                      "source": sentence})
    return cards


class FakeLLM:
    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self.request_times: list[float] = []
        self.script: deque[tuple] = deque()
        self.extra_cards: list[dict[str, Any]] = []
        self.respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reply_for(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.respond is not None:
            return self.respond(body)
        user = user_message(body)
        candidates = candidates_of(user)
        cards = grounded_cards(article_of(user), candidates) + self.extra_cards
        replaced = {cid for card in cards for cid in card.get("replaces", [])}
        return {"keep": [c.id for c in candidates if c.id not in replaced], "drop": [], "cards": cards}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None,
                      content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    fake.auth_headers.append(self.headers.get("Authorization", ""))
                    fake.request_times.append(time.monotonic())
                    step = fake.script.popleft() if fake.script else ("ok",)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    time.sleep(fake.latency)
                    self._respond(body, step)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _respond(self, body: dict[str, Any], step: tuple) -> None:
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                kind = step[0]
                if kind == "status":  # ("status", 429, {"Retry-After": "1"}[, "error message"])
                    message = step[3] if len(step) > 3 else f"fake {step[1]}"
                    self._send(step[1], json.dumps({"error": {"message": message}}).encode(), step[2])
                    return
                if kind == "body":  # ("body", raw bytes, content type): not a chat completion at all
                    self._send(200, step[1], content_type=step[2] if len(step) > 2 else "application/json")
                    return
                if kind == "stall":  # ("stall", seconds): longer than the client waits
                    time.sleep(step[1])
                content = json.dumps(fake.reply_for(body), ensure_ascii=False)
                finish = "stop"
                if kind == "text":  # ("text", raw reply content)
                    content = step[1]
                elif kind == "fenced":
                    content = "好的,以下是卡片:\n```json\n" + content + "\n```"
                elif kind == "truncated":
                    content, finish = content[: len(content) // 2], "length"
                elif kind == "echo_key":  # a server that repeats the bearer token back
                    content = content.replace("这句话", self.headers.get("Authorization", "") + " 这句话", 1)
                reply = {
                    "id": f"chatcmpl-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": finish}],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
                }
                payload = json.dumps(reply, ensure_ascii=False).encode()
                if kind == "drip":  # ("drip", seconds per byte): every read gets a byte, the whole never comes
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    for i in range(len(payload)):
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                        time.sleep(step[1])
                    return
                self._send(200, payload)

        return Handler
