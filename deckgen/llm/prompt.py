"""What deckgen sends: the prompt file, the article (or a chunk of it) and its numbered candidates.

The system part carries no paper name or article, so it is byte-identical across requests and a
provider's prefix cache can reuse it. Each candidate sentence is shown once; candidates point at it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from deckgen.errors import ConfigError
from deckgen.llm.grounding import answer_of, article_index, norm, strip_cloze
from deckgen.model import Card
from deckgen.resources import templates_dir

USER_MARKER = "=== user ==="


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
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the prompt {path}: {getattr(exc, 'strerror', None) or exc}") from exc
        if USER_MARKER not in text:
            raise ConfigError(f"{path}: a prompt needs a line `{USER_MARKER}` between the system and the user part")
        system, user = (part.strip() for part in text.split(USER_MARKER, 1))
        if "$article" not in user:
            raise ConfigError(f"{path}: the user part must contain $article (and may use $paper, $candidates)")
        return cls(system, user, hashlib.sha1(text.encode()).hexdigest()[:12])

    def messages(self, paper: str, article: str, candidates: str) -> list[dict[str, str]]:
        values = {"paper": paper, "article": article, "candidates": candidates}
        return [
            {"role": "system", "content": Template(self.system).safe_substitute(values)},
            {"role": "user", "content": Template(self.user).safe_substitute(values)},
        ]


def repair_message(problem: str) -> dict[str, str]:
    text = (templates_dir() / "refine_repair.md").read_text(encoding="utf-8")
    return {"role": "user", "content": Template(text).safe_substitute(problem=problem)}


def render_candidates(cards: list[Card]) -> tuple[str, dict[str, str]]:
    """Candidates as compact numbered lines, each sentence once: the text and {local id: card id}."""
    if not cards:
        return "(无)", {}
    sentences: dict[str, int] = {}
    lines, ids = [], {}
    for n, card in enumerate(cards, 1):
        local = f"c{n}"
        ids[local] = card.id
        sentence = sentences.setdefault(card.source.strip(), len(sentences) + 1)
        if card.type == "cloze":
            same = norm(strip_cloze(card.text)) == norm(card.source)
            body = f"挖空「{answer_of(card)}」" if same else card.text
        else:
            body = f"{card.front} → {card.back}"
        lines.append(f"{local} | S{sentence} | {card.type} | {' '.join(body.split())}")
    shown = [f"[S{n}] {' '.join(s.split())}" for s, n in sentences.items()]
    return "句子:\n" + "\n".join(shown) + "\n\n候选卡片 (编号 | 句子 | 类型 | 内容):\n" + "\n".join(lines), ids


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


def assign_candidates(chunks: list[str], cards: list[Card]) -> list[list[Card]]:
    """Each candidate goes with the chunk that holds its sentence; none is left out (unplaced: the first)."""
    placed: list[list[Card]] = [[] for _ in chunks]
    for card in cards:
        home = next((i for i, chunk in enumerate(chunks) if article_index(chunk).contains(card.source)), 0)
        placed[home].append(card)
    return placed
