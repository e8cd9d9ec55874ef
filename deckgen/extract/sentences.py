"""Sentences with their context: the section heading above them and the sentence before.

Headings are boundaries and context, never card text. A sentence never breaks inside a Latin word
(`TL;DR`), a formula or a decimal number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deckgen.ingest import MATH
from deckgen.model import Paper

# Text planted in an article to steer a language model: never a card, whether rules or a model wrote it.
PLANTED_INSTRUCTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?|rules)|"
    r"disregard (?:the )?(?:previous|above|system)|system prompt|you are now|"
    r"忽略(?:之前|以上|上述|前面|先前|所有)|无视(?:之前|以上|上述|前面)|系统提示|提示词注入|现在你是",
    re.I,
)

# A sentence ends at Chinese end punctuation, or at ASCII ; ! ? that is not inside a Latin word (TL;DR).
_END = re.compile(r"[。！？；]+[”」』）)]?|(?<![A-Za-z0-9])[;!?]+|[;!?]+(?![A-Za-z0-9])")
_TERMINAL = re.compile(r"[。！？!?；;…：:]$")
# Numbered or named section headings: "3.", "3.2", "第二步:", "一、", "（1）", 结语, 总结.
_HEADING_MARK = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s|第[一二三四五六七八九十\d]+[步章节部分]|[一二三四五六七八九十]+[、.．]|[（(]\d+[）)]|"
    r"(?:结语|总结|小结|前言|引言|摘要|背景|方法|实验|结论|讨论|致谢|附录)\s*[:：]?$)"
)
# Discourse markers that open a sentence without adding to its fact.
_OPENER = re.compile(
    r"^(?:(?:令人意外的是|有趣的是|值得注意的是|值得一提的是|需要注意的是|事实上|实际上|具体来说|具体而言|简单来说)[，,]\s*|"
    r"(?:如|从)?(?:图|表|Table|Figure|Fig\.)\s*\d+[^，,。]{0,8}(?:所示|可见|可以看出|中可以看到)[，,]\s*|"
    r"(?:通过这种方式|这样一来|这样|因此|所以|此外|另外|同时|总的来说|总之)[，,]\s*|[问答][:：]\s*|【[^】]{1,20}】\s*)"
)
# A piece of a sentence: it opens with a connective, or it stops without sentence punctuation.
_FRAGMENT = re.compile(
    r"^(?:以便|以及|以获得|的|并且?|而且?|从而|即|或|且|则|等|时[，,])|[^。！？!?；;”」』）)…]$|^在[^，,。]{1,30}[上中下]。$"
)
_LABEL = re.compile(r"^([^，,。：:；;\s]{2,12})[：:]\s*(?=\S.{9})")
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.．、)）]\s*|[（(]\d{1,2}[）)]\s*|[①-⑳]\s*|[-*•·]\s+)")


@dataclass
class Sentence:
    text: str
    position: int
    previous: str = ""  # the sentence before, in the same paragraph
    heading: str = ""  # the section it stands in
    first_in_paragraph: bool = False

    @property
    def prose(self) -> str:
        """The sentence with formulas blanked, for matching words."""
        return MATH.sub(" ", self.text)


def is_heading(paragraph: str) -> bool:
    """A short line without sentence punctuation, or one with a section number or name."""
    text = paragraph.strip()
    if len(text) <= 40 and not _TERMINAL.search(text) and "，" not in text:
        return True
    return len(text) <= 40 and bool(_HEADING_MARK.match(text)) and not re.search(r"[。！？]", text)


def _split(paragraph: str) -> list[str]:
    """Split at sentence ends, never inside a formula."""
    masked = MATH.sub(lambda m: "\x00" * len(m.group()), paragraph)
    out, last = [], 0
    for m in _END.finditer(masked):
        out.append(paragraph[last : m.end()])
        last = m.end()
    if last < len(paragraph):
        out.append(paragraph[last:])
    return [s.strip() for s in out if s.strip()]


def split_sentences(paper: Paper) -> list[Sentence]:
    out: list[Sentence] = []
    for article in paper.articles:
        heading = ""
        for index, paragraph in enumerate(article.paragraphs):
            if index in article.headings or is_heading(paragraph):
                heading = _LIST_MARK.sub("", paragraph.strip()).strip(" ：:")
                continue
            previous = ""
            for n, raw in enumerate(_split(paragraph)):
                text = _OPENER.sub("", _LIST_MARK.sub("", raw).strip())
                if (label := _LABEL.match(text)) and n == 0:
                    heading, text = label.group(1), text[label.end() :]  # '训练效果更好：ControlNet 可以…': a list label
                if _FRAGMENT.search(text):
                    continue  # cut at a line break or a clause without its sentence: never card text
                if len(text) >= 8 and not PLANTED_INSTRUCTION.search(text):
                    out.append(Sentence(text, len(out), previous, heading, first_in_paragraph=n == 0))
                    previous = text
    return out
