"""A real HTTP server on 127.0.0.1 that speaks POST /v1/chat/completions, for tests and benchmarks.

By default it answers like a careful model: for every sentence of the article that holds a number, one
cloze card on that number and one Q&A card, with the sentence as source. `script` queues one-off
behaviours (an HTTP error, a stall, a raw reply) for the next requests; `extra_cards` are added to
every reply (hallucinated or ungrounded ones, say).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARTICLE = re.compile(r"<article>\s*(.*?)\s*</article>", re.S)
SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]")
NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?:\.\d+)?%?")


def grounded_cards(article: str, limit: int = 6) -> list[dict[str, str]]:
    cards = []
    for sentence in SENTENCE.findall(article):
        sentence = sentence.strip()
        number = NUMBER.search(sentence)
        if not number or len(cards) >= limit:
            continue
        cards.append({"type": "cloze", "text": sentence.replace(number.group(), "{{c1::" + number.group() + "}}", 1),
                      "source": sentence})
        cards.append({"type": "qa", "front": "这句话给出的数字是多少?" + sentence[:10], "back": number.group(),
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
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        match = ARTICLE.search(user)
        return {"cards": grounded_cards(match.group(1) if match else "") + self.extra_cards}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
                reply = {
                    "id": f"chatcmpl-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": finish}],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
                }
                self._send(200, json.dumps(reply, ensure_ascii=False).encode())

        return Handler
