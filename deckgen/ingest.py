"""Stage 1: article files in, cleaned and de-duplicated articles grouped by paper out."""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.dedupe import dedupe
from deckgen.errors import InputError
from deckgen.model import Article, Paper, Skipped
from deckgen.terms import is_generic_name, name_key

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
STDIN = "-"

# Scraped pages glue paragraphs together with a space; between two CJK characters a
# space never occurs in running Chinese prose, so it marks a paragraph break.
_CJK_BREAK = re.compile(
    r"(?<=[\u3400-\u9fff\u3000-\u303f\uff01-\uff60“”‘’」』》）!?:,。])\s+(?=[\u3400-\u9fff“「『《（(\[【])"
)
_URL = re.compile(r"https?://[^\s，。；、“”（）()<>「」]+|www\.[A-Za-z0-9.-]+\.[a-z]{2,}[^\s，。]*")
_EMAIL = re.compile(r"(?:(?:邮箱|电子邮件|e-?mail|email|联系邮箱)\s*[:：]?\s*)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)
_READ_MORE = re.compile(r"(?:…+|\.{3,}|⋯+)?\s*(?:Read more|阅读更多|阅读全文|展开全文|查看全文|查看更多)\s*[.。»>]*\s*$", re.I)
_REFERENCES = re.compile(r"^(?:参考文献|参考资料|参考链接|相关链接|引用|references?|bibliography)\s*[:：]?$", re.I)
_SENTENCE_END = re.compile(r"[。！？!?；;]")
# A section heading glued to the first sentence after it, the sentence opening with a Latin name:
# "前向过程与反向过程 DDPM 的前向过程…". The heading has no punctuation and does not end in a word
# that needs an object (在, 提出, 名为 …), which is what tells it apart from "研究者采用 LoRA 微调…".
_GLUED_HEADING = re.compile(
    r"^((?:\d+(?:\.\d+)*\.?\s*)?[^\s，。、,；;！？!?（(“\"《》]*[\u3400-\u9fff])\s+(?=[A-Za-z])"
)
_NEEDS_OBJECT = re.compile(
    r"(?:的|了|是|在|与|和|及|对|将|把|于|为|被|由|从|向|用|以|如|即|并|或|这|该|此|其|让|使|称|名为|提出|采用|使用|"
    r"利用|通过|基于|包括|作为|引入|推出|发布|介绍|比较|结合|借助|改进|训练|微调)$"
)
# Marks of running prose, never of a heading: the particle 了, a count before a noun ("三个 LM 系列").
_IN_A_SENTENCE = re.compile(r"了|[一二三四五六七八九十两几多\d][个种项类款位名层次套组条篇]$")
_PAPER_TITLE = re.compile(r"《([^《》]{4,200})》")
_PAPER_LINK_LABEL = re.compile(r"论文|paper|arxiv|代码|code|项目|project|github", re.I)
_PAPER_HOSTS = re.compile(r"arxiv\.org|openreview\.net|doi\.org|aclanthology|github\.com|huggingface\.co/papers", re.I)

# Boilerplate found on Chinese repost sites, written as shapes rather than sentences.
_BOILERPLATE = [
    re.compile(p, re.I)
    for p in (
        r"微信.{0,20}(限制|跳转|打开)",
        r"点击.{0,6}(右上角|左上角|下方|上方|阅读原文|关注|蓝字)",
        r"(在|用)浏览器中?打开",
        r"请使用以下方法",
        r"^(文章|原文|图片|题图|封面|视频|内容)?(转载|转自)?(来源|出处)\s*[:：]",
        r"^(作者|编辑|责编|责任编辑|发布人|排版|审校|校对|撰文|编译|译者|编者|出品)\s*[|｜:：]",
        r"^(免责|版权)?声明\s*[:：]",
        r"侵权|仅代表作者|不代表.{0,12}(立场|观点)|信息存储空间|版权归.{0,12}所有|未经.{0,8}(授权|许可).{0,8}(转载|使用)",
        r"扫码|二维码|长按识别|关注(我们|公众号)|欢迎(转发|分享)|点赞|点个在看",
        r"阅读原文|原文链接",
        r"^(本文|文章)(来源|转载|首发)于?",
        r"转载请(注明|联系)|首发于",
    )
]


@dataclass
class IngestResult:
    papers: list[Paper]
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0


# ---------------------------------------------------------------- reading


def iter_input_files(paths: Iterable[str]) -> Iterator[tuple[str, Path | None]]:
    """Yield (display name, path); directories are walked for text files, '-' means stdin."""
    for raw in paths:
        if raw == STDIN:
            yield "<stdin>", None
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
            yield from ((str(p), p) for p in found)
        else:
            yield str(path), path


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (BOM or not), UTF-16 and GB18030/GBK; reject binary files."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: not valid {encoding} despite its byte-order mark") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    # Without a BOM, NUL bytes mean a binary file unless the detector is sure it is UTF-16.
    if best is None or (b"\x00" in data and not best.encoding.startswith("utf_16")):
        raise InputError(f"{name}: not a text file (binary or unknown encoding); skipped")
    text = str(best)
    if best.encoding in {"big5", "cp950", "gb2312", "gbk", "hz"}:
        # GB18030 is a superset of GBK/GB2312 and decodes Simplified text the detector may call Big5.
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("gb18030")
    return text


def read_text(name: str, path: Path | None) -> str:
    if path is None:
        return decode(sys.stdin.buffer.read(), name)
    try:
        return decode(path.read_bytes(), name)
    except FileNotFoundError as exc:
        raise InputError(f"{name}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{name}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from exc


# ---------------------------------------------------------------- splitting


@dataclass
class RawArticle:
    title: str | None
    lines: list[str]


def _is_title(block: list[str], next_block: list[str] | None) -> bool:
    if len(block) != 1 or next_block is None:
        return False
    line = block[0].strip()
    if not line or len(line) > 100 or line.endswith(("。", "；", ";", "，", ",")):
        return False
    if _is_boilerplate(line) or _URL.search(line):
        return False
    return sum(len(x) for x in next_block) > 2 * len(line)


def split_plain(text: str) -> list[RawArticle]:
    """Split on title blocks: a lone short line followed by a longer body."""
    blocks = [[ln for ln in b.split("\n") if ln.strip()] for b in re.split(r"\n\s*\n", text)]
    blocks = [b for b in blocks if b]
    articles: list[RawArticle] = []
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if _is_title(block, nxt):
            articles.append(RawArticle(block[0].strip(), []))
        elif articles:
            articles[-1].lines.extend(block)
        else:
            articles.append(RawArticle(None, list(block)))
    return articles


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def split_markdown(text: str) -> list[RawArticle]:
    """Split on the highest heading level that occurs more than once; lower headings stay inside."""
    lines = text.split("\n")
    levels = [len(m.group(1)) for ln in lines if (m := _MD_HEADING.match(ln))]
    if not levels:
        return split_plain(text)
    split_level = min(levels)  # one top heading: one article with sections; several: one article each
    articles: list[RawArticle] = []
    for ln in lines:
        m = _MD_HEADING.match(ln)
        if m and len(m.group(1)) <= split_level:
            if len(m.group(1)) < split_level and not articles or len(m.group(1)) == split_level:
                articles.append(RawArticle(m.group(2).strip(), []))
            continue
        if not ln.strip():
            continue
        if not articles:
            articles.append(RawArticle(None, []))
        # headings stay as short lines; quote and list markers go
        articles[-1].lines.append(m.group(2).strip() if m else re.sub(r"^\s*(?:>\s*|[-*+]\s+|\d+\.\s+)", "", ln))
    return [a for a in articles if a.lines]


# ---------------------------------------------------------------- cleaning


def _is_boilerplate(paragraph: str) -> bool:
    return len(paragraph) <= 220 and any(p.search(paragraph) for p in _BOILERPLATE)


def _strip_read_more(paragraph: str) -> str:
    """Drop a truncated last sentence ('… Read more')."""
    if not _READ_MORE.search(paragraph):
        return paragraph
    head = _READ_MORE.sub("", paragraph)
    ends = list(_SENTENCE_END.finditer(head))
    return head[: ends[-1].end()] if ends else ""


def to_mathjax(text: str) -> str:
    """$$…$$ and $…$ become Anki's MathJax delimiters \\[…\\] and \\(…\\)."""
    text = re.sub(r"\$\$(.+?)\$\$", lambda m: r"\[" + m.group(1).strip() + r"\]", text, flags=re.S)
    return re.sub(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)", lambda m: r"\(" + m.group(1) + r"\)", text)


def _paper_link(paragraph: str, url: str) -> bool:
    return bool(_PAPER_HOSTS.search(url) or _PAPER_LINK_LABEL.search(paragraph.replace(url, "")))


def split_glued_heading(para: str) -> list[str]:
    m = _GLUED_HEADING.match(para)
    if not m:
        return [para]
    heading, rest = m.group(1), para[m.end() :]
    cjk = sum(1 for ch in heading if "\u3400" <= ch <= "\u9fff")
    if (
        cjk < 4
        or len(heading) > 30
        or _NEEDS_OBJECT.search(heading)
        or _IN_A_SENTENCE.search(heading)
        or len(rest) < 20
        or not _SENTENCE_END.search(rest)
    ):
        return [para]
    return [heading, rest]


def clean(raw: RawArticle, source: str) -> Article:
    paragraphs: list[str] = []
    links: list[str] = []
    paper_title = None
    for line in raw.lines:
        for para in _CJK_BREAK.split(line.strip()):
            para = para.strip()
            if not para:
                continue
            if _REFERENCES.match(para):
                break  # back matter: nothing after a references heading is article text
            if _is_boilerplate(para):
                continue
            urls = _URL.findall(para)
            for url in urls:
                if _paper_link(para, url):
                    links.append(url.rstrip(".,"))
            if urls and len(_URL.sub("", para)) <= 30:
                continue  # a label and a link: metadata, not prose
            para = _EMAIL.sub("", _URL.sub("", para)) if urls or "@" in para else para
            para = _strip_read_more(para).strip()
            if para:
                paragraphs.extend(to_mathjax(p) for p in split_glued_heading(para))
        else:
            continue
        break
    for para in paragraphs:
        if paper_title is None and (m := _PAPER_TITLE.search(para)) and re.search(r"[A-Za-z]{3}", m.group(1)):
            paper_title = m.group(1).strip()
    title = to_mathjax(raw.title) if raw.title else None
    return Article(source=source, title=title, paragraphs=paragraphs, links=links, paper_title=paper_title)


# ---------------------------------------------------------------- which paper

# A Latin-script name: ProbSparse, GPT-4o, Llama-2-13B, CodeLlama7/13B, "Safe RLHF", "Stable Diffusion".
LATIN_TOKEN = r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9]*(?:[-_./+][A-Za-zÀ-ÿ0-9]+)*"
LATIN_NAME = re.compile(rf"(?<![A-Za-zÀ-ÿ0-9_-]){LATIN_TOKEN}(?: [A-Z][A-Za-zÀ-ÿ0-9]*(?:[-_./+][A-Za-zÀ-ÿ0-9]+)*)*")


MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)


def _looks_like_name(name: str) -> bool:
    if len(name) < 3 and not name.isupper():
        return False
    if is_generic_name(name):
        return False
    # a plain lower-case word ("start", "cp") is English prose, not a method name
    return not name.islower()


def identify_paper(article: Article) -> str:
    """The method/model/benchmark name that dominates the article, else its title."""
    scores: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    prose = MATH.sub(" ", article.text)
    if article.paper_title:
        # an article that names its paper in 《…》 is about the name that leads that title
        lead = LATIN_NAME.match(article.paper_title.strip())
        if lead and len(lead.group()) >= 3 and not lead.group().islower() and prose.count(lead.group()) >= 2:
            return lead.group()
    for name in LATIN_NAME.findall(prose):
        if _looks_like_name(name):
            scores[name_key(name)] += 1
            spelling.setdefault(name_key(name), Counter())[name] += 1
    for text, bonus in ((article.title, 4), (article.paper_title, 6)):
        if not text:
            continue
        lead = re.split(r"[:：]", text)[0] if text is article.paper_title else text
        for name in LATIN_NAME.findall(lead):
            if _looks_like_name(name):
                scores[name_key(name)] += bonus
                spelling.setdefault(name_key(name), Counter())[name] += 1
    if scores:
        (key, best), *rest = scores.most_common(2)
        runner_up = rest[0][1] if rest else 0
        in_title = bool(article.title) and any(name_key(n) == key for n in LATIN_NAME.findall(article.title))
        if best >= 4 and (best >= 1.5 * runner_up or (in_title and best > runner_up)):
            return spelling[key].most_common(1)[0][0]
    if article.title:
        # an article about a general method itself (DDPM, LoRA) names it in its title
        general = [n for n in LATIN_NAME.findall(article.title) if is_generic_name(n) and len(n) >= 3]
        counted = sorted(general, key=lambda n: -prose.count(n))
        if counted and prose.count(counted[0]) >= 3:
            return counted[0]
    if article.title:
        return article.title
    if article.paper_title:
        return article.paper_title
    first = article.paragraphs[0] if article.paragraphs else article.source
    return _SENTENCE_END.split(first)[0][:40]


def group_by_paper(articles: list[Article]) -> list[Paper]:
    papers: dict[str, Paper] = {}
    for art in articles:
        name = identify_paper(art)
        papers.setdefault(name_key(name), Paper(name=name, articles=[])).articles.append(art)
    return list(papers.values())


# ---------------------------------------------------------------- the stage


def parse_text(text: str, source: str) -> list[Article]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "").replace("\ufeff", "")
    raws = split_markdown(text) if source.lower().endswith((".md", ".markdown")) else split_plain(text)
    articles = [clean(raw, source) for raw in raws]
    return [a for a in articles if sum(len(p) for p in a.paragraphs) >= 40]


def ingest(paths: Iterable[str]) -> IngestResult:
    """Read, split, clean, de-duplicate and group every input; bad inputs are skipped, not fatal."""
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for name, path in iter_input_files(paths):
        try:
            text = read_text(name, path)
        except InputError as exc:
            skipped.append(Skipped(name, str(exc).split(": ", 1)[-1]))
            continue
        found = parse_text(text, name)
        if not found:
            skipped.append(Skipped(name, "no article found (empty, or nothing but boilerplate)"))
        articles.extend(found)
    unique, duplicates = dedupe(articles)
    return IngestResult(papers=group_by_paper(unique), skipped=skipped, duplicates=duplicates)
