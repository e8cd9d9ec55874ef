"""Terms the article defines: `中文(English)`, `English(中文)`, `Full Name (ABBR)` (CARDS.md pattern 6)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from deckgen.extract.sentences import Sentence
from deckgen.ingest import LATIN_NAME
from deckgen.nlp import cjk_words, is_noun_phrase
from deckgen.terms import Vocabulary, name_key

_PAREN = re.compile(r"[（(]([^（()）\n]{1,90})[）)]")
_QUOTED_BEFORE = re.compile(r"[“\"「『]([^“”\"「」『』]{1,30})[”\"」』]\s*$")
_CJK_TAIL = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff\-·]*$")
_LATIN_TAIL = re.compile(rf"({LATIN_NAME.pattern})\s*$")
_STOP = frozenset(
    {
        "在", "的", "了", "是", "和", "与", "及", "对", "将", "把", "于", "为", "被", "由", "从", "向", "用",
        "以", "如", "即", "等", "并", "或", "这", "该", "此", "其", "一种", "一个", "一项", "一套", "名为", "称为",
        "叫做", "提出", "引入", "采用", "使用", "利用", "通过", "基于", "包括", "作为", "称", "新", "新的", "所谓",
        "这种", "一些", "这些", "那些", "它们", "着", "过", "也", "都", "就", "还", "又", "而", "但", "尤其",
        "特别", "例如", "比如", "诸如", "即便", "其中", "各种", "多种", "不同", "新型", "旨在", "来自", "使", "让",
        "用于", "对于", "关于",
    }
)


# Words too general to be the answer of a card.
_NOT_AN_ANSWER = frozenset(
    {
        "研究者", "研究人员", "研究团队", "作者", "论文", "文章", "本文", "实验", "结果", "方法", "模型", "问题", "任务",
        "能力", "性能", "效果", "数据", "我们", "他们", "研究", "领域", "过程", "方面", "情况", "方式", "工作", "技术",
        "系统", "用户", "目标", "挑战", "影响", "优势",
    }
)


@dataclass
class Term:
    latin: str  # English name or abbreviation
    chinese: str = ""  # Chinese name, when the article gives one
    full: str = ""  # English full name, when the article gives abbreviation and full name
    source: str = ""

    @property
    def key(self) -> str:
        return name_key(self.latin or self.chinese)


def _chinese_tail(run: str, vocab: Vocabulary) -> str:
    """The term a CJK run ends with: trailing words up to the first function word."""
    words = cjk_words(run, vocab)
    kept: list[str] = []
    for word in reversed(words):
        if word == "的" and kept and words[0] != "的":
            kept.insert(0, word)  # 带线性偏置的注意力: a modifier with 的 belongs to the term
            continue
        if word in _STOP or (len(word) == 1 and not kept and word in "的了是"):
            break
        if sum(len(w) for w in kept) + len(word) > 12:
            break
        kept.insert(0, word)
    term = "".join(kept).lstrip("的")
    return term if len(term) >= 2 else ""


_DESCRIPTION = re.compile(r"^(?:单一|多种|各种|一种|一个|这种|这个|该|某种|不同|新的?|多个|两个|两种|其他|其它|所有|某个)")


def _is_name(chinese: str, vocab: Vocabulary) -> bool:
    """A translated name (低秩适应), not a description (单一提示方法), a clause or one plain word (方法)."""
    if len(chinese) < 3 and chinese not in vocab.forms:
        return False
    return not _DESCRIPTION.match(chinese) and is_noun_phrase(chinese, vocab)


def find_term_pairs(sentences: list[Sentence], vocab: Vocabulary) -> list[Term]:
    """`中文(English)`, `“中文”(English)`, `English(中文)`, `Full Name (ABBR)` — with their sentence."""
    terms: dict[str, Term] = {}
    for sent in sentences:
        for m in _PAREN.finditer(sent.text):
            inner = m.group(1).strip()
            before = sent.text[: m.start()].rstrip()
            parts = [p.strip() for p in re.split(r"[,，;；、]|\s+or\s+", inner) if p.strip()]
            term: Term | None = None
            if parts and all(re.fullmatch(r"[A-Za-zÀ-ÿ][\w\s\-.'’/&+]*", p) for p in parts):
                latin = parts[-1]
                full = parts[0] if len(parts) > 1 else ""
                if quoted := _QUOTED_BEFORE.search(before):
                    chinese = quoted.group(1).strip()
                elif cjk := _CJK_TAIL.search(before):
                    chinese = _chinese_tail(cjk.group(), vocab)
                    prefix = re.search(r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9]{1,8}) ?$", before[: cjk.start()])
                    if chinese == cjk.group() and prefix and len(chinese) <= 4:
                        chinese = before[prefix.start(1) :]
                else:
                    chinese = ""
                if chinese and re.search(r"[\u3400-\u9fff]", chinese) and _is_name(chinese, vocab):
                    term = Term(latin=latin, chinese=chinese, full=full, source=sent.text)
                elif (
                    (lat := _LATIN_TAIL.search(before))
                    and len(lat.group(1)) > len(latin)
                    and initials_spell(latin, lat.group(1))  # Full Name (FN): otherwise not a gloss of it
                ):
                    term = Term(latin=latin, full=lat.group(1).strip(), source=sent.text)
            elif (
                re.fullmatch(r"[\u3400-\u9fff][\u3400-\u9fff\-·]{1,14}", inner)
                and (lat := _LATIN_TAIL.search(before))
                and _is_name(inner, vocab)
            ):
                term = Term(latin=lat.group(1).strip(), chinese=inner, source=sent.text)
            if term and len(term.latin) <= 60 and not re.fullmatch(r"[\d.]+|[A-Za-z]", term.latin):
                terms.setdefault(term.key, term)
    return list(terms.values())


def is_name_like(latin: str) -> bool:
    """ProbSparse, LoRA, GPT-4, Q-Former: a name. ground truth, dim, Width, float32: a plain word."""
    if re.fullmatch(r"[\d.]+|[A-Za-z]", latin) or latin.islower() or re.fullmatch(r"[a-z]+\d+", latin):
        return False
    capitals = sum(ch.isupper() or ch.isdigit() for ch in latin)
    return capitals >= 2 or (" " in latin and all(w[:1].isupper() for w in latin.split()))


def _is_key_name(name: str) -> bool:
    first = name.split(" ")[0]
    if len(name) < 2 or re.fullmatch(r"[A-Z][a-z]?", name) or not re.search(r"[A-Z0-9_]", first):
        return False
    return bool(re.search(r"[A-Z].*[A-Z0-9]|[0-9]", name) or len(name) >= 4)


def find_latin_names(sentences: list[Sentence]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for sent in sentences:
        for name in LATIN_NAME.findall(sent.prose):
            if _is_key_name(name) and not re.fullmatch(r"(?:Table|Figure|Fig|Tab|Eq|Section|Appendix)\d*", name, re.I):
                counts[name] += 1
    return counts




def initials_spell(abbreviation: str, full: str) -> bool:
    """'Low-Rank Adaptation' spells LoRA: asking for the abbreviation from the full name gives it away."""
    words = [w for w in re.split(r"[\s\-_/]+", full) if w]
    capitalised = [w for w in words if w[0].isupper()]
    initials = "".join(w[0] for w in (capitalised if len(capitalised) >= 2 else words)).lower()
    capitals = "".join(ch for ch in abbreviation if ch.isupper() or ch.isdigit()).lower()
    if not initials:
        return False
    return initials in (capitals, abbreviation.lower()) or bool(capitals) and initials.startswith(capitals)
