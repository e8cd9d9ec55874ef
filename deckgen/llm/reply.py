"""Replies as data: the HTTP body of a chat completion, and the cards and decisions in its text.

Everything here distrusts the server: HTML instead of JSON, fields of the wrong type, deeply nested
documents all become a ValueError (a bad reply), never a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Completion:
    content: str
    tokens_in: int
    tokens_out: int
    finish: str | None


@dataclass
class Reply:
    """What the model decided: new cards, and which numbered candidates to keep or drop."""

    cards: list[dict[str, Any]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)
    drop: set[str] = field(default_factory=set)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deeply") from exc


def _count(value: Any) -> int:
    """Token counts some servers send as strings ("1000") or floats; anything else counts 0."""
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError, OverflowError):
        return 0


def parse_completion(body: str) -> Completion:
    """The assistant's text and token counts from a chat-completions response body."""
    try:
        doc = _loads(body)
    except ValueError as exc:
        start = " ".join(body.strip()[:40].split())
        raise ValueError(f"the server's response is not JSON (it starts {start!r})") from exc
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("the server's response has no list of choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if content is not None and not isinstance(content, str):
        raise ValueError("the reply's content is not text")
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else {}
    finish = choices[0].get("finish_reason")
    return Completion(content or "", _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")),
                      finish if isinstance(finish, str) else None)


def _ids(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value.strip()}
    if isinstance(value, list):
        return {v.strip() for v in value if isinstance(v, str)}
    return set()


def parse_reply(text: str) -> Reply:
    """The cards and decisions in a reply: tolerates a code fence, prose around the JSON, a trailing comma."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    body = body[start : end + 1]
    try:
        doc = _loads(body)
    except json.JSONDecodeError:
        try:
            doc = _loads(re.sub(r",\s*([}\]])", r"\1", body))
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(doc, dict) or not any(k in doc for k in ("cards", "keep", "drop")):
        raise ValueError('the JSON has no "cards" list')
    cards = doc.get("cards", [])
    if not isinstance(cards, list):
        raise ValueError('"cards" is not a list')
    return Reply([c for c in cards if isinstance(c, dict)], _ids(doc.get("keep")), _ids(doc.get("drop")))
