"""Page furniture, by general shape: what is never article text, and turning raw lines into an Article."""

from __future__ import annotations

import re

from deckgen.ingest.raw import INFERRED, RawArticle
from deckgen.model import Article

# Scraped pages glue paragraphs together with a space; between two CJK characters a
# space never occurs in running Chinese prose, so it marks a paragraph break.
_CJK_BREAK = re.compile(
    r"(?<=[\u3400-\u9fff\u3000-\u303f\uff01-\uff60“”‘’」』》）!?:,。])\s+(?=[\u3400-\u9fff“「『《（(\[【])"
)
URL = re.compile(r"https?://[^\s，。；、“”（）()<>「」]+|www\.[A-Za-z0-9.-]+\.[a-z]{2,}[^\s，。]*")
# Anchored at the start of a run (the lookbehind) and bounded, so a long run without '@' costs linear time.
EMAIL = re.compile(
    r"(?:(?:邮箱|电子邮件|e-?mail|联系邮箱)\s*[:：]?\s*)?(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}",
    re.I,
)
_READ_MORE = re.compile(r"(?:…+|\.{3,}|⋯+)?\s*(?:Read more|阅读更多|阅读全文|展开全文|查看全文|查看更多)\s*[.。»>]*\s*$", re.I)
# Back matter: nothing under these headings is article text.
_REFERENCES = re.compile(
    r"^(?:参考|参考文献|参考资料|参考链接|参考文章|参考阅读|引用文献|相关链接|引用|references?|bibliography|citations?)\s*[:：]?$",
    re.I,
)
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.、)]?|[一二三四五六七八九十]+[、.]|0x[0-9a-fA-F]+\.?)\s*")
# The end mark of a post: what follows is the site's, not the article's.
_THE_END = re.compile(r"^[-—–=~·*\s]*(?:END|THE END|完|全文完|本文完)[-—–=~·*\s]*$", re.I)
_THANKS = re.compile(r"^(?:致谢|鸣谢|感谢|acknowledge?ments?)\s*[:：]?$", re.I)
# A line announcing a list of other articles: the list after it goes too.
_RELATED = re.compile(
    r"^(?:推荐阅读|相关阅读|延伸阅读|扩展阅读|更多阅读|往期(?:回顾|推荐|精选|文章|阅读)|精选文章|热门文章|猜你喜欢|"
    r"相关文章|相关推荐|历史文章|近期文章|相关的.{0,20}文章|更多.{0,10}文章|recommended reading|"
    r"related (?:posts|articles)|目录|本文目录|文章目录|table of contents|contents)\s*[:：]?$",
    re.I,
)
SENTENCE_END = re.compile(r"[。！？!?；;]")
_SENTENCE = re.compile(r"[^。！？!?；;]*(?:[。！？!?；;]+|$)")

# Whole lines that are furniture, written as shapes rather than sentences.
_BOILERPLATE = [
    re.compile(p, re.I)
    for p in (
        r"微信.{0,20}(限制|跳转|打开)",
        r"点击.{0,6}(右上角|左上角|下方|上方|底部|阅读原文|关注|蓝字)",
        r"(在|用)浏览器中?打开",
        r"请使用以下方法",
        r"^(文章|原文|图片|题图|封面|视频|内容)?(转载|转自)?(来源|出处)\s*[:：]",
        r"^(作者|编辑|责编|责任编辑|发布人|排版|审校|校对|撰文|编译|译者|编者|出品|来自|原创|整理|文|图|作者单位)\s*[|｜:：]",
        # metadata lines of a paper write-up: its title, authors, links (the title is read before they go)
        r"^[■●•◆▶►\-*\s]*(?:论文|文章)?(?:标题|题目|名称|地址|链接|作者|单位|机构|代码|项目主页|主页|论文)\s*[:：|｜]",
        r"^(免责|版权)?声明\s*[:：]",
        r"侵权|仅代表作者|不代表.{0,12}(立场|观点)|信息存储空间|版权归.{0,12}所有|未经.{0,8}(授权|许可).{0,8}(转载|使用)",
        r"扫码|二维码|长按识别|关注(我们|公众号)|欢迎(转发|分享|关注)|点赞|点个在看|星标|置顶公众号",
        r"阅读原文|原文链接",
        r"^(本文|文章)(来源|转载|首发)于?",
        r"转载请(注明|联系)|首发于",
        # image placeholders and captions
        r"插入图片描述|^\s*(?:图片|image|img|photo)\s*$",
        r"^(?:图|表|Figure|Fig\.?|Table)\s*\d+(?:[.\-]\d+)?(?:\s|[:：.、]|$)(?!.*[。！？].+)",
        # author, date and read-count lines
        r"阅读数|阅读量|浏览量|浏览次数|\d\s*(?:次阅读|人阅读|次浏览)",
        r"^\s*(?:发布于|发表于|更新于|编辑于|最后修改|posted|published|updated)\b",
        r"^\s*\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?(?:\s|\d|:|$)",
        r"^(?!.*[。！？；，,])(?=.{0,60}$).*\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}",  # a byline with a date
        r"发表于|^原创(?:\s|$)",
        r"^(?:关于作者|作者简介|作者介绍|about the author)",
        # group, QR and follow lines
        r"QQ\s*群|微信群|交流群|技术群|读者群|讨论群|加群|进群|群号|公众号|微信号|添加.{0,8}微信|加.{0,4}微信|私信",
        # letter-spaced banner text ("榜 单 公 布")
        r"(?:[\u4e00-\u9fff] ){3,}[\u4e00-\u9fff]",
    )
]
# Sentences inside prose that are furniture: contact numbers, @handles, invitations to join or follow.
_NOISE_SENTENCE = re.compile(
    r"QQ|微信|公众号|交流群|二维码|扫码|欢迎(讨论|交流|关注|加入)|(?:^|[\s（(，,：:])@\w|关于作者|本文(首发|转载)|"
    r"转载请|原文链接|阅读原文",
    re.I,
)
_CITATION = re.compile(r"\[\d+(?:\s*[,，\-–]\s*\d+)*\]")
_REFERENCE_ENTRY = re.compile(r"^\s*\[\d+\]\s*\S")
_CODE_START = re.compile(
    r"^\s*(?:import \w|from [\w.]+ import |def \w+\(|class \w+[(:]|return\b|if __name__|for \w+(?:, ?\w+)* in |"
    r"while .*:$|print\(|pip3? install|conda |python3? |git clone|cd \S|\$ |>>> |#include|@\w+\(|\w+(?:\.\w+)+\(.*\)$|"
    r"\w+(?:\[[^\]]*\])?\s*[+\-*/]?=\s*[\w\[({'\"])"
)
_CODE_CHARS = re.compile(r"[()\[\]{}=_;<>]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_RESULT_NUMBER = re.compile(r"\d\s*(?:%|倍|x\b|×)|(?<=\S)\s*\d+\.\d+")
_PAPER_TITLE = re.compile(r"《([^《》]{4,200})》")
# "论文 | Title", "标题：Title", "题目：Title", "论文全名为Title": the paper's English title.
_NAMED_TITLE = re.compile(
    r"(?:(?:论文(?:标题|题目|名称|全名|名)?|标题|题目|paper|title)\s*[|｜:：]|论文全名为|解读)\s*[「“\"]?"
    r"([A-Z][A-Za-z0-9\-:：,' &]{10,200})",
    re.I,
)
# "EasyQuant: Post-training Quantization via Scale Optimization": a name, a colon, an English title.
_NAME_COLON_TITLE = re.compile(
    r"(?<![\w-])([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?: [A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)*\s*:\s*[A-Z][\w-]*(?: [\w-]+){2,})"
)
_PAPER_LINK_LABEL = re.compile(r"论文|paper|arxiv|代码|code|项目|project|github", re.I)
_PAPER_HOSTS = re.compile(r"arxiv\.org|openreview\.net|doi\.org|aclanthology|github\.com|huggingface\.co/papers", re.I)
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


def is_boilerplate(line: str) -> bool:
    """A short line that is page furniture (credits, notices, captions, dates, group invitations)."""
    return len(line) <= 220 and any(p.search(line) for p in _BOILERPLATE)


def looks_like_heading(line: str) -> bool:
    """A short standalone line without sentence punctuation and without results: a section heading."""
    line = line.strip()
    if not 2 <= len(line) <= 30 or re.search(r"[。！？!?；;，,]", line.rstrip("：:")) or "|" in line:
        return False
    if not re.search(r"[\u3400-\u9fffA-Za-z]", line):
        return False
    return not _RESULT_NUMBER.search(re.sub(r"^\s*\d+(?:\.\d+)*[.、]?\s*", "", line))


def looks_like_code(piece: str) -> bool:
    """Program text (Python, shell) pasted into the article, also inline in a paragraph."""
    cjk = len(_CJK.findall(piece))
    if cjk > 0.3 * len(piece):
        return False
    code = re.sub(r"\s*#.*$", "", piece) if cjk else piece  # a Chinese comment after a statement
    if _CODE_START.match(code):
        return True
    return len(code) >= 12 and len(_CODE_CHARS.findall(code)) >= 0.12 * len(code) and cjk < 0.1 * len(piece)


def neutralise_cloze(text: str) -> str:
    """Article text never becomes Anki syntax: '{{c1::x}}' written in an article stays literal text."""
    return text.replace("{{", "{ {").replace("}}", "} }")


def to_mathjax(text: str) -> str:
    """$$…$$ and $…$ become Anki's MathJax delimiters \\[…\\] and \\(…\\)."""
    text = re.sub(r"\$\$(.+?)\$\$", lambda m: r"\[" + m.group(1).strip() + r"\]", text, flags=re.S)
    return re.sub(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)", lambda m: r"\(" + m.group(1) + r"\)", text)


def split_glued_heading(para: str) -> list[str]:
    """'标题 Name 的句子…' -> ['标题', 'Name 的句子…'] when the first part is a heading, else [para]."""
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
        or not SENTENCE_END.search(rest)
    ):
        return [para]
    return [heading, rest]


def _strip_read_more(paragraph: str) -> str:
    """Drop a truncated last sentence ('… Read more')."""
    if not _READ_MORE.search(paragraph):
        return paragraph
    head = _READ_MORE.sub("", paragraph)
    ends = list(SENTENCE_END.finditer(head))
    return head[: ends[-1].end()] if ends else ""


def _drop_noisy_sentences(para: str) -> str:
    if not _NOISE_SENTENCE.search(para):
        return para
    return "".join(s for s in _SENTENCE.findall(para) if not _NOISE_SENTENCE.search(s)).strip()


def paper_link(paragraph: str, url: str) -> bool:
    """A link to the paper or its code, judged by its host or its label."""
    return bool(_PAPER_HOSTS.search(url) or _PAPER_LINK_LABEL.search(paragraph.replace(url, "")))


def _harvest_links(line: str, links: list[str]) -> None:
    for url in URL.findall(line):
        if paper_link(line, url):
            links.append(url.rstrip(".,"))


def _prose(piece: str) -> str:
    """One paragraph with URLs, e-mails, citations, contact sentences and truncation removed ('' if none left)."""
    urls = URL.findall(piece)
    if urls and len(URL.sub("", piece)) <= 30:
        return ""  # a label and a link: metadata, not prose
    if urls or "@" in piece:
        piece = EMAIL.sub("", URL.sub("", piece))
    piece = _CITATION.sub("", piece)
    piece = _drop_noisy_sentences(piece)
    piece = _strip_read_more(piece).strip()
    piece = re.sub(r"[（(]\s*[)）]", "", piece).strip()  # brackets a removed URL or citation left empty
    if not piece or not re.search(r"[\u3400-\u9fffA-Za-z0-9]", piece) or looks_like_code(piece):
        return ""
    return piece


_ENUMERATOR = re.compile(r"^[（(]?(?:\d{1,2}|[一二三四五六七八九十])[)）.、]$")


def _pieces(line: str) -> list[str]:
    """A scraped line cut at the spaces that glued its paragraphs; '（1） 每一步…' stays one piece."""
    pieces: list[str] = []
    for piece in _CJK_BREAK.split(line.strip()):
        if pieces and _ENUMERATOR.match(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece.strip()}"
        else:
            pieces.append(piece.strip())
    return pieces


def clean(raw: RawArticle, source: str) -> Article:
    """Raw lines to paragraphs: furniture, back matter and code out; section headings marked."""
    paragraphs: list[str] = []
    headings: set[int] = set()
    links: list[str] = []
    skip_below: int | None = None  # inside a back-matter section of this heading level
    in_list = False  # after a related-articles line: its list
    for index, line in enumerate(raw.lines):
        level = raw.headings.get(index)
        if skip_below is not None:
            if level is None or level > skip_below:
                continue
            skip_below = None
        _harvest_links(line, links)  # "论文链接：…" lines go below, their link stays with the article
        if level is None and is_boilerplate(line.strip()):
            continue  # a byline or notice as a whole, before it is cut into pieces
        pieces = [line.strip()] if level is not None else _pieces(line)
        for piece in pieces:
            if not piece:
                continue
            bare = _NUMBERING.sub("", piece).strip("*_#:： ")
            if _THE_END.match(piece):
                return _article(raw, source, paragraphs, headings, links)
            heading = level is not None or looks_like_heading(piece)
            if _REFERENCES.match(bare) or _THANKS.match(bare) or _REFERENCE_ENTRY.match(piece):
                if level is not None and level < INFERRED:
                    skip_below = level  # until the next section of the same or a higher level
                    break
                if _THANKS.match(bare):
                    skip_below = INFERRED
                    break
                return _article(raw, source, paragraphs, headings, links)  # references: the rest is back matter
            if _RELATED.match(bare):
                in_list = True
                continue
            if in_list:
                if (level is None or level == INFERRED) and len(piece) <= 80 and not SENTENCE_END.search(piece) \
                        and not re.match(r"^\d+(?:\.\d+)*[.、]?\s", piece):
                    continue
                in_list = False
            if is_boilerplate(piece):
                continue
            text = _prose(piece)
            if not text:
                continue
            parts = [text] if heading else split_glued_heading(text)
            for k, part in enumerate(parts):
                if heading or (len(parts) == 2 and k == 0):
                    headings.add(len(paragraphs))
                paragraphs.append(neutralise_cloze(to_mathjax(part)))
    return _article(raw, source, paragraphs, headings, links)


def _article(raw: RawArticle, source: str, paragraphs: list[str], headings: set[int], links: list[str]) -> Article:
    # trailing headings head nothing
    while paragraphs and len(paragraphs) - 1 in headings:
        headings.discard(len(paragraphs) - 1)
        paragraphs.pop()
    paper_title = raw.paper_title
    for para in [*paragraphs, *raw.lines[:60]]:  # metadata lines ("标题：…") may be gone from the paragraphs
        if paper_title:
            break
        if (m := _PAPER_TITLE.search(para)) and re.search(r"[A-Za-z]{3}", m.group(1)):
            paper_title = m.group(1).strip()
        elif (m := _NAMED_TITLE.search(para)) and len(m.group(1).split()) >= 3:
            paper_title = m.group(1).strip(" :：,")
    for para in [*paragraphs[:12], *raw.lines[:12]]:
        if paper_title:
            break
        # a mere mention of another work ("see Agent-e: …") is not the article's paper: its name must recur
        if (m := _NAME_COLON_TITLE.search(para)) and sum(
            p.count(m.group(1).split(":")[0].strip()) for p in paragraphs
        ) >= 3:
            paper_title = m.group(1).strip()
    title = neutralise_cloze(to_mathjax(raw.title)) if raw.title else None
    return Article(
        source=source,
        title=title,
        paragraphs=paragraphs,
        links=list(dict.fromkeys(links + raw.links)),
        paper_title=paper_title,
        headings=headings,
    )
