"""What every candidate generator shares: the Candidate, the article's Context (its names, terms and
parts) and small text helpers for answers and questions."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from deckgen.extract.forms import clauses
from deckgen.extract.glossary import Term
from deckgen.extract.rules import ROLE_RULES
from deckgen.extract.sentences import Sentence
from deckgen.model import Card
from deckgen.nlp import cjk_words, is_common_word, is_noun_phrase, specificity
from deckgen.terms import Vocabulary, is_generic_name, name_key

ROLE_BY_NAME = {r.name: r for r in ROLE_RULES}


@dataclass
class Candidate:
    card: Card
    score: float
    rule: str  # the rule that made it, for --explain
    sentence: int = -1  # position of its sentence; -1 for cards not tied to one sentence
    answer_key: str = ""  # two cards with the same answer ask the same fact


@dataclass
class Context:
    paper: str
    vocab: Vocabulary
    sentences: list[Sentence]
    title: str = ""
    terms: list[Term] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # Latin names and term names, longest first
    mentions: Counter[str] = field(default_factory=Counter)  # name_key -> occurrences in the article

    def is_paper(self, text: str) -> bool:
        """The paper under any spelling of its name: EfficientNets, AdAutoMix for AdAutoMixup."""
        a, b = name_key(text), name_key(self.paper)
        if a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)) and abs(len(a) - len(b)) <= 2):
            return True
        return len(a) >= 6 and len(a) >= len(b) / 2 and _subsequence(a, b)  # AdAutoMixup in Adversarial AutoMixup

    def weight(self, subject: str) -> float:
        """How much a card about `subject` is about this paper: its own parts first, related work last."""
        if self.is_paper(subject):
            return 1.0
        if self.is_component(subject) or subject in self.paper:
            return 0.0
        return -5.0  # a baseline or related work named in passing (HyperNetwork in a ControlNet article)

    components: set[str] = field(default_factory=set)  # terms the article defines, repeats or names as parts

    def is_component(self, name: str) -> bool:
        return name in self.components

    def names_something(self, text: str) -> bool:
        """A clause with a name of the article (or a dataset/setting) in it stands on its own."""
        return any(n in text for n in self.names) or bool(re.search(r"[A-Za-z]{2,}", text))

    def subject_at_start(self, text: str, sent: Sentence | None = None) -> str | None:
        """The known name a clause opens with (after 而/但/同时 …); 该技术/它 resolved to the name before it."""
        body = re.sub(r"^(?:而|但|同时|此外|另外|因此|所以|其中|具体来说|具体而言|最终|然后|接着)[，,]?\s*", "", text.strip())
        if _THIS_PAPER.match(body) and SHORT_NAME.fullmatch(self.paper):
            return self.paper
        not_a_pair = r"(?!\s*(?:和|与|、|及|跟|之间|,|，))"  # 'A 和 B' opens with two subjects, not one
        known = next((n for n in self.names if body.startswith(n) and re.match(word_pattern(n) + not_a_pair, body)), None)
        if known or sent is None or not PRONOUN.match(body):
            return known
        return self.referent(sent)

    def referent(self, sent: Sentence) -> str | None:
        """What '该机制/这种设计/它' points back to: a component named just before, or the section's name."""
        for text in (sent.previous, sent.heading):
            if self.paper in text:
                return self.paper  # 它 after a sentence about the paper: the paper
            named = [n for n in self.names if n in text and not is_generic_name(n, self.vocab)]
            if named:
                return min(named, key=lambda n: (text.find(n), -len(n)))  # the earlier name is the subject
        return None


SHORT_NAME = re.compile(r"[A-Za-z0-9][\w\-.+ ]{0,29}")  # a method's name, not a title: only it can stand for 本文
_THIS_PAPER = re.compile(
    r"^(?:这篇(?:论文|文章|工作)?|本文|该论文|该工作|论文|作者|研究者们?|研究人员|研究团队)(?![\u3400-\u9fff]{0,2}的)"
)
PRONOUN = re.compile(
    r"^(?:该|这种|这一|此|这个|这项)(?:技术|机制|方法|模块|设计|模型|框架|策略|操作|过程|结构|网络|算法|思路)|^(?:它|其)"
)
_GENERIC_SECTION = re.compile(
    r"^(?:前言|引言|导语|总结|结语|小结|实验|实验结果|结果|方法|背景|介绍|简介|概述|参考|附录|致谢|讨论|结论|摘要|相关工作|源码|代码|"
    r"环境|安装|使用|应用|展望|未来|问题|动机|贡献|局限|评估|分析|细节|原理|模型|架构|数据|数据集|训练|推理|部署|目录)"
)
DESCRIPTOR = re.compile(r"^(?:的|新的?|简单|有效|高效|一种|一个|这个|这种|该|其|全新|新颖)")
_INTRODUCED = re.compile(
    r"(?:采用|引入|提出|设计|使用|利用|称为|名为|叫做)了?(?:一种|一个|一套|新的)?[“「『]?"
    r"(?P<name>[\u3400-\u9fffA-Za-z][^，。、；“”「」『』()（）\s]{1,11}?)[”」』]?"
    r"(?P<kind>技术|机制|方法|策略|模块|设计|架构|框架|损失|网络|算法|结构|操作)"
)


def repeated_terms(sentences: list[Sentence], vocab: Vocabulary, least: int = 3) -> set[str]:
    """Specific Chinese words the article keeps using (有用性, 成本模型): its own vocabulary, not the field's."""
    counts: Counter[str] = Counter()
    for sent in sentences:
        counts.update(w for w in cjk_words(sent.text, vocab) if len(w) >= 3 or (len(w) == 2 and w in vocab.forms))
    return {
        w for w, n in counts.items()
        if n >= least and len(w) >= 3 and w not in NOT_AN_ANSWER and w not in vocab.forms and specificity(w) >= 16.0
        and not is_common_word(w)
        and not DESCRIPTOR.match(w) and is_noun_phrase(w, vocab)
    }


def component_names(sentences: list[Sentence], vocab: Vocabulary) -> set[str]:
    """Parts of the method the article names: its section headings and what it says it introduces."""
    body = "\n".join(s.text for s in sentences)
    found: set[str] = set()
    for heading in {s.heading for s in sentences if s.heading}:
        name = re.sub(r"^[\d.、\s]+", "", heading).strip()
        if is_common_word(name) or name in vocab.forms:
            continue  # 分类, 流水线: an everyday or general word as a section title
        if 2 <= len(name) <= 16 and not _GENERIC_SECTION.match(name) and body.count(name) >= 1 and (
            re.search(r"[A-Za-z]", name) or is_noun_phrase(name, vocab)
        ):
            found.add(name)
    for m in _INTRODUCED.finditer(body):
        name = m.group("name").removesuffix("的")
        if DESCRIPTOR.match(name) or re.search(r"[的和与及、]", name) or not is_noun_phrase(name + m.group("kind"), vocab):
            continue  # 新的缩放方法, 小型的神经网络, A和B技术: a description, not a name
        bare_repeats = body.count(name) >= 2 and len(name) >= 3
        found.add(name if bare_repeats else name + m.group("kind"))
    return {n for n in found if not re.fullmatch(r"[A-Za-z]{1,2}", n)}


def word_pattern(name: str) -> str:
    """A regex for a name as a whole word: a Latin name never matches inside a longer one (Claude-3-Haiku)."""
    left = r"(?<![A-Za-z0-9\-])" if name[:1].isascii() else ""
    right = r"(?![A-Za-z0-9]|-[A-Za-z0-9])" if name[-1:].isascii() else ""
    return left + re.escape(name) + right


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def spaced(subject: str) -> str:
    """A question's subject: a Latin name keeps a space before the Chinese that follows, a Chinese one does not."""
    return f"{subject} " if subject[-1:].isascii() else subject


def unbalanced(text: str) -> bool:
    return text.count("(") + text.count("（") != text.count(")") + text.count("）")


def strip_end(text: str) -> str:
    return text.strip().rstrip("。；;，,：:").strip()


def short_answer(text: str, limit: int = 50) -> str:
    """An answer cut at a clause boundary, never inside a word."""
    text = strip_end(text)
    if len(text) <= limit:
        return text
    out = ""
    for a, b in clauses(text):
        piece = text[a:b]
        if out and len(out) + len(piece) + 1 > limit:
            break
        out = f"{out}，{piece}" if out else piece
    return out if 4 <= len(out) <= limit + 10 else ""


NOT_AN_ANSWER = frozenset(
    {
        "研究者", "研究人员", "研究团队", "作者", "论文", "文章", "本文", "实验", "结果", "方法", "模型", "问题", "任务",
        "能力", "性能", "效果", "数据", "我们", "他们", "研究", "领域", "过程", "方面", "情况", "方式", "工作", "技术",
        "系统", "用户", "目标", "挑战", "影响", "优势", "时候", "部分", "作用", "基础", "原因", "特点", "不同", "一样",
        "准确率", "准确性", "精度", "效率", "表现", "结构", "网络", "架构", "框架", "思路", "策略", "算法", "操作",
    }
)

