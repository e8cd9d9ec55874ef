"""Page scrapes and digests (.txt): where one article ends and the next begins."""

from __future__ import annotations

import re

from deckgen.ingest.noise import is_boilerplate, looks_like_heading
from deckgen.ingest.raw import INFERRED, RawArticle

_URL = re.compile(r"https?://|www\.")
# A title of a whole article is longer than a section name and not numbered like a section.
_NUMBERED = re.compile(r"^(?:\d+(?:\.\d+)*[.、)．]?\s*|[（(]?[一二三四五六七八九十]+[、.)）]|0x[0-9a-fA-F]+\.?)")
_MIN_BODY = 80  # a body shorter than this is a section, not an article
_MIN_TITLE = 10  # section names are short ("方法简介"); titles of whole articles are not


def _is_title(line: str, short_ok: bool = False) -> bool:
    line = line.strip()
    return (
        (2 if short_ok else _MIN_TITLE) <= len(line) <= 100
        and not line.endswith(("。", "；", ";", "，", ",", "：", ":"))
        and not is_boilerplate(line)
        and not _URL.search(line)
        and not _NUMBERED.match(line)
    )


def split_plain(text: str) -> list[RawArticle]:
    """Articles start at clear boundaries only: a title block between blank lines before a long body,
    or a site header repeated at the top of each article; other short lines are section headings."""
    blocks = [[ln.strip() for ln in b.split("\n") if ln.strip()] for b in re.split(r"\n\s*\n", text)]
    blocks = [b for b in blocks if b]
    starts: list[int] = []
    for i, block in enumerate(blocks):
        body = blocks[i + 1] if i + 1 < len(blocks) else None
        if len(block) == 1 and body is not None and _is_title(block[0]):
            length = sum(len(x) for x in body)
            if length > 2 * len(block[0]) and length >= _MIN_BODY:
                starts.append(i)
    # A title block counts only if the article it opens, up to the next one, is long enough to stand alone
    # and the one before it too: otherwise it is a section heading between paragraphs.
    alternating = len(blocks) >= 4 and len(blocks) % 2 == 0 and all(
        len(blocks[i]) == 1 and _is_title(blocks[i][0], short_ok=True)
        and sum(len(x) for x in blocks[i + 1]) > 2 * len(blocks[i][0])
        for i in range(0, len(blocks), 2)
    )
    if alternating:  # the digest layout: title, blank line, body, blank line, next title, …
        starts = list(range(0, len(blocks), 2))
    edges = [*starts, len(blocks)]
    kept = [
        s for k, s in enumerate(starts)
        if alternating or sum(len(x) for b in blocks[s + 1 : edges[k + 1]] for x in b) >= _MIN_BODY
    ]
    if kept and not all(is_boilerplate(x) for b in blocks[: kept[0]] for x in b):
        kept = []  # the file does not open with a title: its title-like blocks are section headings
    lines_per_block = [list(b) for b in blocks]
    articles: list[RawArticle] = []
    if not kept or kept[0] > 0:
        lead = [ln for b in lines_per_block[: kept[0] if kept else len(blocks)] for ln in b]
        articles.extend(_split_repeated_header(lead))
    for k, s in enumerate(kept):
        end = kept[k + 1] if k + 1 < len(kept) else len(blocks)
        art = RawArticle(blocks[s][0])
        for b in lines_per_block[s + 1 : end]:
            for ln in b:
                art.add(ln, INFERRED if looks_like_heading(ln) else None)
        articles.append(art)
    return articles


def _split_repeated_header(lines: list[str]) -> list[RawArticle]:
    """Lines of one or more articles: split where the file's first line, a site header, repeats.
    A first line that reads as a title (no sentence punctuation inside) titles its article."""
    header = lines[0] if lines and is_boilerplate(lines[0]) and lines.count(lines[0]) >= 2 else None
    parts: list[list[str]] = []
    for ln in lines:
        if ln == header or not parts:
            parts.append([])
        parts[-1].append(ln)
    articles = []
    for part in parts:
        first = part[0]
        title = first if len(part) >= 2 and _is_title(first) and not re.search(r"[。！？!?；;]", first) else None
        art = RawArticle(title)
        for ln in part[1:] if title is not None else part:
            art.add(ln, INFERRED if looks_like_heading(ln) else None)
        if art.lines:
            articles.append(art)
    return articles
