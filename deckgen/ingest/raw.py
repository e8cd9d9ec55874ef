"""An article as its file laid it out, before cleaning: a title and lines, some of them section headings."""

from __future__ import annotations

from dataclasses import dataclass, field

# Heading level of a line the layout only suggests is a heading (a short standalone line), not marks it.
INFERRED = 7


@dataclass
class RawArticle:
    title: str | None
    lines: list[str] = field(default_factory=list)
    headings: dict[int, int] = field(default_factory=dict)  # index into lines -> level (1-6, INFERRED)
    paper_title: str | None = None  # from metadata (front matter), when the file states it
    links: list[str] = field(default_factory=list)  # paper/code links the layout held outside the text

    def add(self, line: str, level: int | None = None) -> None:
        if level is not None:
            self.headings[len(self.lines)] = level
        self.lines.append(line)
