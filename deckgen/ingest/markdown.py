"""Markdown as people save it: front matter, code, HTML, images, link lists and tables are not prose."""

from __future__ import annotations

import html
import re

from deckgen.ingest.noise import looks_like_heading, paper_link
from deckgen.ingest.raw import RawArticle

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1>\s*$", re.I | re.S)
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
# Blocks whose text is a figure, a caption or an embedded widget, never prose.
_FIGURE_OPEN = re.compile(r"^\s*<(figure|p\s+align|div\s+align|center|picture|video|iframe|gradio-app|table)\b", re.I)
_FIGURE_CLOSE = re.compile(r"</(figure|p|div|center|picture|video|iframe|gradio-app|table)>\s*$", re.I)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)|!\[[^\]]*\]\[[^\]]*\]")
# An image that is a rendered formula (Zhihu, CodeCogs, …): its alt text is the formula, part of the sentence.
_FORMULA_IMAGE = re.compile(r"equation\?|[?&]tex=|latex|codecogs|mathjax", re.I)
_PAPER_HOST = re.compile(r"arxiv\.org/(?:abs|pdf)|openreview\.net/(?:forum|pdf)|aclanthology\.org", re.I)
_LATIN_TITLE = re.compile(r"[A-Z][\w-]*(?::)?(?: [\w:-]+){2,}")
LINKS_ONLY = -2  # the level of a line kept only for its links
_FOOTNOTE = re.compile(r"\[\^[^\]]+\]")
_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_LIST = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)([^*_].*?)(?:\*\*|__)\s*$")
_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|`+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BIBTEX = re.compile(r"^\s*@[A-Za-z]+\s*\{")
_PUNCT_ONLY = re.compile(r"^[\s\W_]*$")


def _front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter as metadata, and the text after it."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        meta = None
    return (meta if isinstance(meta, dict) else {}), text[m.end() :]


def inline(text: str) -> str:
    """Markdown/HTML inline marks off: images out, links to their label, tags, bold, code marks."""
    text = _IMAGE.sub(lambda m: m.group(1) if m.group(2) and _FORMULA_IMAGE.search(m.group(2)) else "", text)
    text = _FOOTNOTE.sub("", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    return html.unescape(text).strip()


def _only_links(line: str) -> bool:
    """A line (or list item, or table row) that is links and punctuation only: navigation, not prose."""
    body = _LIST.sub("", line)
    if not _LINK.search(body) and not re.search(r"https?://", body):
        return False
    rest = _LINK.sub("", body)
    rest = re.sub(r"https?://\S+", "", rest)
    return len(re.sub(r"[\s|:：,，、;；·•\-–—()（）]", "", rest)) <= 3


def _drop_link_tables(lines: list[str]) -> list[str]:
    """A table whose rows are all links (resources, navigation) goes with its header row."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            j += 1
        rows = [ln for ln in lines[i + 1 : j] if not _TABLE_RULE.match(ln)]
        if j - i >= 2 and rows and all(_only_links(ln) for ln in rows):
            i = j
            continue
        out.extend(lines[i : max(j, i + 1)])
        i = max(j, i + 1)
    return out


def _blocks(lines: list[str]) -> list[tuple[str, int | None, str]]:
    """(text, heading level or None, raw line) for every line that may be prose, in order."""
    lines = _drop_link_tables(lines)
    out: list[tuple[str, int | None, str]] = []
    fence: str | None = None
    figure = 0
    bibtex = 0
    prev_blank = True
    for i, line in enumerate(lines):
        if fence:
            if line.strip().startswith(fence):
                fence = None
            prev_blank = False
            continue
        if m := _FENCE.match(line):
            fence = m.group(1)[:3]
            continue
        if bibtex:
            bibtex += line.count("{") - line.count("}")
            bibtex = max(bibtex, 0)
            continue
        if _BIBTEX.match(line):
            bibtex = max(line.count("{") - line.count("}"), 0)
            continue
        if not line.strip():
            prev_blank = True
            continue
        # indented code: four spaces after a blank line, not a list item, not Chinese prose
        if (
            (line.startswith("    ") or line.startswith("\t"))
            and (prev_blank or (out and out[-1][2].startswith(("    ", "\t")) and out[-1][1] == -1))
            and not _LIST.match(line)
            and len(re.findall(r"[\u3400-\u9fff]", line)) < 0.3 * len(line.strip())
        ):
            out.append(("", -1, line))  # remembered only so the next indented line continues the block
            continue
        prev_blank = False
        if figure:
            figure += len(_FIGURE_OPEN.findall(line)) - len(_FIGURE_CLOSE.findall(line))
            figure = max(figure, 0)
            continue
        if m := _HTML_HEADING.match(line):
            out.append((inline(m.group(2)), int(m.group(1)), line))
            continue
        if _FIGURE_OPEN.match(line):
            if not _FIGURE_CLOSE.search(line):
                figure = 1
            continue
        stripped = line.strip()
        if stripped.startswith("<") and len(inline(stripped)) < 0.5 * len(stripped):
            continue  # an HTML-only line: markup, an embedded widget, an image
        if _LINK_DEF.match(line) or _TABLE_RULE.match(line) or _only_links(line):
            out.append(("", LINKS_ONLY, line))  # not text, but its paper links count
            continue
        if m := _HEADING.match(line):
            out.append((inline(m.group(2)), len(m.group(1)), line))
            continue
        if _SETEXT.match(line) and out and out[-1][1] is None and i and lines[i - 1].strip():
            text, _, raw = out.pop()
            out.append((text, 1 if line.strip().startswith("=") else 2, raw))
            continue
        if (m := _BOLD_LINE.match(_QUOTE.sub("", line))) and looks_like_heading(inline(m.group(1))):
            out.append((inline(m.group(1)), 6, line))  # a bold line is a heading; a bold sentence stays prose
            continue
        body = _LIST.sub("", _QUOTE.sub("", line))
        text = inline(body)
        if text and not _PUNCT_ONLY.match(text):
            out.append((text, None, line))
    return [b for b in out if b[1] != -1]


# Section names, numbered headings: a top heading like these is a section of one article, not its own article.
_SECTION_NAME = re.compile(
    r"^(?:\d+(?:\.\d+)*[.、)]?\s|[一二三四五六七八九十]+[、.]|0x[0-9a-f]+|第.{1,3}[章节部分])|"
    r"^(?:前言|引言|导语|简介|介绍|背景|摘要|概述|方法|模型|实验|结果|讨论|总结|结论|小结|展望|思考|附录|致谢|参考|"
    r"关于|相关工作|代码|实现|问题|分析|动机|原理|Introduction|Background|Method|Experiment|Result|Conclusion|"
    r"Summary|Discussion|Related|Appendix|Reference|Acknowledg)",
    re.I,
)


def split_markdown(text: str) -> list[RawArticle]:
    """One article per file unless several top-level titles each head a body of their own."""
    meta, text = _front_matter(text)
    meta_title = meta.get("title") if isinstance(meta.get("title"), str) else None
    text = _COMMENT.sub("", text)
    blocks = _blocks(text.split("\n"))
    top = [i for i, (_, level, _) in enumerate(blocks) if level == 1]
    several = (
        len(top) >= 2
        and not meta_title
        and all(not _SECTION_NAME.match(blocks[i][0]) and len(blocks[i][0]) >= 4 for i in top)
        and all(
            any(level is None for _, level, _ in blocks[a + 1 : b])
            for a, b in zip(top, top[1:] + [len(blocks)], strict=True)
        )
    )
    starts = [0]
    if several:
        starts = top if top[0] == 0 or all(lvl is not None for _, lvl, _ in blocks[: top[0]]) else [0, *top]
    articles: list[RawArticle] = []
    for a, b in zip(starts, starts[1:] + [len(blocks)], strict=True):
        chunk = blocks[a:b]
        title = meta_title.strip() if meta_title and not articles else None
        opens = bool(chunk) and chunk[0][1] == 1 and not _SECTION_NAME.match(chunk[0][0])
        if opens and (title is None or chunk[0][0] == title or len(top) == 1):
            title = title or chunk[0][0]
            chunk = chunk[1:]
        elif title is None and top and len(top) == 1 and not several:
            # one H1 somewhere near the top, after a lead: it titles the file
            title = blocks[top[0]][0] if top[0] <= 3 and not _SECTION_NAME.match(blocks[top[0]][0]) else None
            if title is not None:
                chunk = [c for j, c in enumerate(chunk) if a + j != top[0]]
        art = RawArticle(title or None)
        for line, level, _ in chunk:
            if level != LINKS_ONLY:
                art.add(line, level)
        found = [(label, url) for *_, raw in chunk for label, url in _LINK.findall(raw)]
        art.links = [url for label, url in found if paper_link(label, url)]
        # "[XNet: Fast Gated Attention](https://arxiv.org/abs/…)": a paper link labelled with the paper's title
        art.paper_title = next(
            (inline(label) for label, url in found if _PAPER_HOST.search(url) and _LATIN_TITLE.fullmatch(inline(label))),
            None,
        )
        if art.lines:
            articles.append(art)
    return articles
