"""Stage 1: article files in, cleaned and de-duplicated articles grouped by paper out.

reading (files, encodings) -> markdown / pagetext / html (layout: where articles and sections are)
-> noise (furniture out, headings marked) -> naming (which paper).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deckgen.dedupe import dedupe
from deckgen.errors import InputError
from deckgen.ingest.html import split_html
from deckgen.ingest.markdown import split_markdown
from deckgen.ingest.naming import LATIN_NAME, MATH, group_by_paper, identify_paper
from deckgen.ingest.noise import clean, split_glued_heading, to_mathjax
from deckgen.ingest.pagetext import split_plain
from deckgen.ingest.reading import HTML_SUFFIXES, decode, iter_inputs, read_input
from deckgen.model import Article, Paper, Skipped

if TYPE_CHECKING:
    from deckgen.incremental import IngestMemo

__all__ = [
    "LATIN_NAME", "MATH", "IngestResult", "decode", "group_by_paper", "identify_paper", "ingest", "parse_text",
    "split_glued_heading", "to_mathjax",
]
_MIN_TEXT = 40  # characters of prose below which a piece is no article


@dataclass
class IngestResult:
    papers: list[Paper]
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    warnings: list[Skipped] = field(default_factory=list)  # inputs read, but with damage replaced
    duplicate_names: list[str] = field(default_factory=list)  # the copies merged away, to name in the summary


def parse_text(text: str, source: str) -> list[Article]:
    """The articles in one decoded file; the layout is chosen by the file's suffix."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "").replace("\ufeff", "")
    suffix = source.lower().rsplit(".", 1)[-1] if "." in source else ""
    if f".{suffix}" in HTML_SUFFIXES:
        raws = split_html(text)
    elif suffix in ("md", "markdown"):
        raws = split_markdown(text)
    else:
        raws = split_plain(text)
    articles = [clean(raw, source) for raw in raws]
    return [a for a in articles if sum(len(p) for i, p in enumerate(a.paragraphs) if i not in a.headings) >= _MIN_TEXT]


def ingest(paths: Iterable[str], memo: IngestMemo | None = None) -> IngestResult:
    """Read, split, clean, de-duplicate and group every input; bad inputs are skipped, not fatal.

    `memo` (deckgen.incremental) remembers, between builds, each file's articles, their paper names and
    de-duplication sketches, so an unchanged file costs a lookup.
    """
    articles: list[Article] = []
    skipped: list[Skipped] = []
    warnings: list[Skipped] = []
    for item in iter_inputs(paths):
        try:
            text, note = read_input(item)
        except InputError as exc:
            skipped.append(Skipped(item.name, str(exc).split(": ", 1)[-1]))
            continue
        if note:
            warnings.append(Skipped(item.name, note))
        found = memo.parse(text, item.name) if memo else parse_text(text, item.name)
        if not found:
            skipped.append(Skipped(item.name, "no article found (empty, or nothing but boilerplate)"))
        articles.extend(found)
    unique, duplicates = dedupe(articles, sketch=memo.sketch if memo else None)
    kept = {id(a) for a in unique}
    names = [f"{a.title} ({a.source})" if a.title else a.source for a in articles if id(a) not in kept]
    papers = group_by_paper(unique, memo.identify if memo else identify_paper)
    return IngestResult(
        papers=papers, skipped=skipped, duplicates=duplicates, warnings=warnings, duplicate_names=names
    )
