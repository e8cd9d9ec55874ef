"""Candidate facts: each sentence's role decides the span a card tests and the card's form (CARDS.md).

Every generator returns Candidates with a score and the rule that made them; `select` chooses among them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from deckgen.extract import figures as fig
from deckgen.extract.forms import MAX_CLOZE, clauses, cloze_text, widen_to_formula, window
from deckgen.extract.glossary import Term, initials_spell, is_name_like
from deckgen.extract.ids import anchor_text, card_id
from deckgen.extract.rules import ROLE_RULES, SKIP_RULES, roles, skip_rule
from deckgen.extract.sentences import Sentence
from deckgen.ingest import LATIN_NAME
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
        if _THIS_PAPER.match(body) and _SHORT_NAME.fullmatch(self.paper):
            return self.paper
        known = next(
            (n for n in self.names if body.startswith(n) and re.match(_word(n) + r"(?!\s*(?:和|与|、|及|跟|之间|,|，))", body)),
            None,
        )
        if known or sent is None or not _PRONOUN.match(body):
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


_SHORT_NAME = re.compile(r"[A-Za-z0-9][\w\-.+ ]{0,29}")  # a method's name, not a title: only it can stand for 本文
_THIS_PAPER = re.compile(
    r"^(?:这篇(?:论文|文章|工作)?|本文|该论文|该工作|论文|作者|研究者们?|研究人员|研究团队)(?![\u3400-\u9fff]{0,2}的)"
)
_PRONOUN = re.compile(
    r"^(?:该|这种|这一|此|这个|这项)(?:技术|机制|方法|模块|设计|模型|框架|策略|操作|过程|结构|网络|算法|思路)|^(?:它|其)"
)
_GENERIC_SECTION = re.compile(
    r"^(?:前言|引言|导语|总结|结语|小结|实验|实验结果|结果|方法|背景|介绍|简介|概述|参考|附录|致谢|讨论|结论|摘要|相关工作|源码|代码|"
    r"环境|安装|使用|应用|展望|未来|问题|动机|贡献|局限|评估|分析|细节|原理|模型|架构|数据|数据集|训练|推理|部署|目录)"
)
_DESCRIPTOR = re.compile(r"^(?:的|新的?|简单|有效|高效|一种|一个|这个|这种|该|其|全新|新颖)")
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
        if n >= least and len(w) >= 3 and w not in _NOT_AN_ANSWER and w not in vocab.forms and specificity(w) >= 16.0
        and not is_common_word(w)
        and not _DESCRIPTOR.match(w) and is_noun_phrase(w, vocab)
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
        if _DESCRIPTOR.match(name) or re.search(r"[的和与及、]", name) or not is_noun_phrase(name + m.group("kind"), vocab):
            continue  # 新的缩放方法, 小型的神经网络, A和B技术: a description, not a name
        bare_repeats = body.count(name) >= 2 and len(name) >= 3
        found.add(name if bare_repeats else name + m.group("kind"))
    return {n for n in found if not re.fullmatch(r"[A-Za-z]{1,2}", n)}


def _word(name: str) -> str:
    """A regex for a name as a whole word: a Latin name never matches inside a longer one (Claude-3-Haiku)."""
    left = r"(?<![A-Za-z0-9\-])" if name[:1].isascii() else ""
    right = r"(?![A-Za-z0-9]|-[A-Za-z0-9])" if name[-1:].isascii() else ""
    return left + re.escape(name) + right


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def _q(subject: str) -> str:
    """A question's subject: a Latin name keeps a space before the Chinese that follows, a Chinese one does not."""
    return f"{subject} " if subject[-1:].isascii() else subject


def _unbalanced(text: str) -> bool:
    return text.count("(") + text.count("（") != text.count(")") + text.count("）")


def _strip_end(text: str) -> str:
    return text.strip().rstrip("。；;，,：:").strip()


def _short_answer(text: str, limit: int = 50) -> str:
    """An answer cut at a clause boundary, never inside a word."""
    text = _strip_end(text)
    if len(text) <= limit:
        return text
    out = ""
    for a, b in clauses(text):
        piece = text[a:b]
        if out and len(out) + len(piece) + 1 > limit:
            break
        out = f"{out}，{piece}" if out else piece
    return out if 4 <= len(out) <= limit + 10 else ""


# ---------------------------------------------------------------- terms


def term_candidates(ctx: Context) -> list[Candidate]:
    out = []
    title_keys = {name_key(n) for n in LATIN_NAME.findall(ctx.title or "")}
    for term in ctx.terms:
        key = name_key(term.latin)
        if not is_name_like(term.latin):
            continue  # 重计算(recomputation): a glossed idea, tested in its sentence, not as a term card
        repeated = ctx.mentions[key] >= 2
        if not (repeated or key in title_keys or ctx.is_paper(term.latin)):
            continue
        if is_generic_name(term.latin, ctx.vocab) and key not in title_keys and not ctx.is_paper(term.latin):
            continue  # LLM -> 大型语言模型: every reader of AI papers knows it
        short = len(term.latin) <= 3 and term.latin.isupper()
        if short and ctx.mentions[key] < 5 and key not in title_keys and not ctx.is_paper(term.latin):
            continue  # KD, CR: a short abbreviation of a general idea or a dataset, not this paper's vocabulary
        chinese, full = term.chinese, term.full
        if full and initials_spell(term.latin, full) or (not chinese and full):
            # the reverse (full name -> abbreviation) would spell its own answer: one direction only
            back = "；".join(p for p in (chinese, full) if p)
            card = Card(id=card_id(ctx.paper, "termqa", key), type="qa", kind="term", front=term.latin, back=back,
                        source=term.source)
        elif chinese:
            back = "；".join(p for p in (chinese, full) if p)
            card = Card(id=card_id(ctx.paper, "term", key), type="term", kind="term", front=term.latin, back=back,
                        source=term.source)
        else:
            continue
        score = 6.0 + min(ctx.mentions[key], 6) / 2 - (2.5 if is_generic_name(term.latin, ctx.vocab) else 0.0)
        out.append(Candidate(card, score, f"term the article defines and uses {ctx.mentions[key]}x", -1, key))
    return out


# ---------------------------------------------------------------- definitions and patterned questions

_DEFINITION = re.compile(
    r"^(?P<pre>.{1,50}?)(?P<verb>[的其]核心思想是|[的其]核心是|的基本思想是|的主要思想是|的思路是|的关键在于|的本质是|本质上是|其实就是|"
    r"实际上就是|可以看作是?|是指|指的是|"
    r"是一种|是一个|是一类|是一项)(?P<def>.{4,})$"
)
_QUESTION_FOR = {
    "的核心思想是": "{s} 的核心思想是什么？",
    "的核心是": "{s} 的核心是什么？",
    "的基本思想是": "{s} 的基本思想是什么？",
    "的主要思想是": "{s} 的主要思想是什么？",
    "的思路是": "{s} 的思路是什么？",
    "的关键在于": "{s} 的关键在于什么？",
    "的本质是": "{s} 的本质是什么？",
    "本质上是": "{s} 本质上是什么？",
    "其实就是": "{s} 本质上是什么？",
    "实际上就是": "{s} 本质上是什么？",
    "可以看作": "{s} 可以看作什么？",
    "可以看作是": "{s} 可以看作什么？",
}


def _subject(ctx: Context, pre: str, sent: Sentence | None = None) -> str | None:
    pointer = sent is not None and re.search(r"(?:^|[，,])(?:该|这种|这个|其|它)[^，,]{0,6}$", pre)
    if pointer and re.search(r"(?:作者|本文|论文|研究者们?)(?:提出|设计|给出)了?", pre) and _SHORT_NAME.fullmatch(ctx.paper):
        return ctx.paper  # 作者提出了一个方法，其核心思想是…: the paper's own method
    if sent is not None and _PRONOUN.match(pre.strip()):
        return ctx.referent(sent)  # 该框架的核心思想是…: the framework named just before
    pre = re.sub(r"^(?:所谓的?|简单来说[，,]?|简而言之[，,]?|其中[，,]?|而|总的来说[，,]?)", "", pre).strip(" “”\"「」，,")
    if gloss := re.search(r"[（(]([^（()）]+)[)）]$", pre):
        # 低秩适应(Low-Rank Adaptation,LoRA)的核心思想是…: the subject is the short name in the gloss
        inside = [p.strip() for p in re.split(r"[,，;；]", gloss.group(1)) if p.strip()]
        pre = inside[-1] if inside and inside[-1] in ctx.names else pre[: gloss.start()].strip()
    known = next((n for n in ctx.names if pre.endswith(n) and len(pre) - len(n) <= 4), None)
    if known:
        return known
    if re.match(r"^(?:这|该|那|此|其|它)", pre) or re.search(r"的(?:特点|优点|缺点|作用|问题)$", pre):
        return None  # an unresolved pointer, or a property rather than a thing
    if 2 <= len(pre) <= 10 and re.fullmatch(r"[\u3400-\u9fff]+", pre) and is_noun_phrase(pre, ctx.vocab):
        return pre
    return None


def definition_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    m = _DEFINITION.match(sent.text)
    if not m:
        return []
    verb = m.group("verb").replace("其", "的", 1) if m.group("verb").startswith("其") else m.group("verb")
    pre = m.group("pre") + ("其" if m.group("verb").startswith("其") else "")
    if len(pre) > 30 and not re.search(r"[其该它]$", pre):
        return []
    subject = _subject(ctx, pre, sent)
    if not subject:
        return []
    core = verb in _QUESTION_FOR
    definition = (verb[1:] if verb.startswith("是一") else "") + m.group("def")
    answer = _short_answer(re.sub(r"[，,]\s*(?:它|该方法|其)", "，", definition), 60)
    if not answer or len(re.findall(r"[\u3400-\u9fff]", re.sub(r"^一(?:种|个|类|项)", "", answer))) < 10 or _VAGUE.search(answer):
        return []  # 'ControlNet 是一种神经网络架构': too vague to be worth a review
    question = _QUESTION_FOR.get(verb, "什么是 {s}？").format(s=subject).replace(f"{subject} ", _q(subject))
    card = Card(id=card_id(ctx.paper, "definition", name_key(subject)), type="qa", kind="definition",
                front=question, back=answer, source=sent.text)
    score = (10.0 if core else 8.0) + ctx.weight(subject)
    return [Candidate(card, score, f"definition ({verb})", sent.position, name_key(answer))]


_BECAUSE = re.compile(r"[，,]\s*(?:因此|所以|因而|故而)[，,]?\s*")


def because_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'S 做了 A，因此 B' -> 为什么 S B？ A (the mechanism behind a property)."""
    m = _BECAUSE.search(sent.text)
    if not m:
        return []
    before, effect = sent.text[: m.start()], _strip_end(sent.text[m.end() :])
    spans = clauses(before)
    if not spans:
        return []
    last = before[spans[-1][0] : spans[-1][1]].strip()
    subject = ctx.subject_at_start(last, sent) or ctx.subject_at_start(before, sent)
    if not subject:
        return []
    cause = _strip_end(last[last.find(subject) + len(subject) :] if subject in last else last)
    cause = re.sub(r"^(?:但|而|且|由于|因为|是因为)+[，,]?", "", cause).strip()
    cause = _PRONOUN.sub("", cause).strip()
    cause = re.sub(r"^(?:这|这还是|这也)?(?:是因为|可以理解为|是由于)", "", cause).strip()
    if cause.startswith("的"):
        return []
    if not (4 <= len(cause) <= 60 and 3 <= len(effect) <= 30) or re.match(r"^[A-Za-z]", effect):
        return []
    if re.search(r"[，,]", effect) or any(n in effect for n in ctx.names if ctx.is_paper(n)):
        return []
    question = f"为什么 {_q(subject)}{effect}？"
    card = Card(id=card_id(ctx.paper, "why", anchor_text(sent.text)), type="qa", kind="claim",
                front=question, back=cause, source=sent.text)
    return [Candidate(card, 8.0 + ctx.weight(subject), "cause and effect (因此/所以)", sent.position, name_key(cause))]


_MEANS = re.compile(
    r"(?P<verb>通过|运用|利用|借助|(?<![\u3400-\u9fff])用|(?<=[并而先再则就])用)"
    r"(?P<means>[^，。；]{3,40}?)(?P<link>来|以|从而|用以|用来|[，,])"
)
_CAN = re.compile(r"^(?:能够|可以|就能|便能|能|可|得以|才能)")


def means_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'S 通过 M 来 G' / '通过 M，S 能够 G' / 'S 通过 M，G' -> S 如何 G？ 通过 M."""
    m = _MEANS.search(sent.text)
    if not m:
        return []
    head, rest = sent.text[: m.start()], sent.text[m.end() :]
    goal_clause = rest.split("，")[0].split(",")[0]
    if head.strip(" ，,"):
        subject = ctx.subject_at_start(head.split("，")[-1], sent) or ctx.subject_at_start(head, sent)
        if not subject or len(head.split("，")[-1].strip()) > len(subject) + 10:
            return []
        goal = goal_clause
    else:  # the sentence opens with 通过: the subject follows the means
        subject = ctx.subject_at_start(goal_clause, sent) if m.group("link") in "，," else None
        if not subject:
            return []
        goal = goal_clause[goal_clause.find(subject) + len(subject) :] if subject in goal_clause else goal_clause
    goal = _strip_end(_CAN.sub("", goal.strip()))
    if _unbalanced(goal) or _unbalanced(m.group("means")):
        return []
    if re.search(r"实验|展现|表现|证明|显示|验证", goal + m.group("means")):
        return []  # an experiment is how the authors showed it, not how the method works
    goal = re.sub(r"^(实现|达到|完成)了", r"\1", goal).rstrip("了")
    goal = re.sub(r"^(?:旨在|用于|为了)", "", goal)
    if _VAGUE.search(goal):
        return []
    if not (2 <= len(goal) <= 30) or re.match(r"^(?:的|了|是|能|很|都)", goal) or re.search(r"是|都", goal):
        return []
    if re.search(r"观察到|发现|证明|表明|看到|研究人员|研究者|我们|用户|作者|判断", goal):
        return []
    question = f"{_q(subject)}如何{goal}？"
    answer = m.group("verb") + m.group("means").strip()
    if len(answer) < 8 or re.search(r"的角度|的方式|的方法$", answer):
        return []  # 通过概率的角度: the means is too thin to be worth asking
    card = Card(id=card_id(ctx.paper, "how", anchor_text(sent.text)), type="qa", kind="claim",
                front=question, back=answer, source=sent.text)
    return [Candidate(card, 7.5 + ctx.weight(subject), "means (通过 … 来)", sent.position, name_key(answer))]


_UNLIKE = re.compile(
    r"(?:^|[，,])(?:与|和|跟)(?P<other>[^，,。]{2,24}?)(?:不同|相比|相较|不一样)(?:的是)?[，,]\s*(?P<rest>[^。]{6,})"
)


def unlike_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'与 A 不同，S 做 B' -> S 与 A 有何不同？ B (the key difference from earlier work)."""
    m = _UNLIKE.search(sent.text)
    if not m:
        return []
    rest = m.group("rest")
    subject = ctx.subject_at_start(rest, sent)
    if not subject or _BECAUSE.search(rest) or re.search(r"\d", rest):  # with a number it is a result card
        return []
    answer = _short_answer(rest[rest.find(subject) + len(subject) :].lstrip("的"))
    if not answer or len(answer) < 6 or _VAGUE.search(answer):
        return []
    other = m.group("other").strip()
    card = Card(id=card_id(ctx.paper, "unlike", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"与{other}相比，{_q(subject)}有何不同？", back=answer, source=sent.text)
    return [Candidate(card, 7.5 + ctx.weight(subject), "contrast with earlier work (与 … 不同)", sent.position, name_key(answer))]


_CN_COUNT = "一二两三四五六七八九十"
_LISTED = re.compile(
    rf"(?P<count>[{_CN_COUNT}\d]{{1,2}})\s*(?P<unit>个|种|类|项|条|大|点|步)(?P<what>[^，。：:；、]{{1,10}}?)"
    r"(?:[：:]|，?(?:分别是|分别为|即|包括))\s*(?P<items>[^。；]{4,80})(?=[。；;]|$)"
)


def _items(text: str) -> list[str]:
    text = re.split(r"[。；]", text)[0]
    parts = [p.strip(" “”「」\"'") for p in re.split(r"、|，|,|以及|和|及|与", text) if p.strip()]
    return parts


def list_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'X 分为两个阶段：A、B' -> X 的两个阶段是什么？ A、B (ask for the items, never 'how many')."""
    m = _LISTED.search(sent.text)
    if not m:
        return []
    items = _items(m.group("items"))
    count = m.group("count")
    wanted = int(count) if count.isdigit() else _CN_COUNT.index(count[-1]) + 1 if len(count) == 1 else 0
    if wanted != len(items) or not all(1 <= len(i) <= 16 for i in items) or wanted < 2:
        return []
    head = sent.text[: m.start()]
    subject = ctx.subject_at_start(head, sent) or (ctx.paper if ctx.paper in head else None)
    if not subject:
        return []
    what = f"{count}{m.group('unit')}{m.group('what')}".strip()
    card = Card(id=card_id(ctx.paper, "list", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{_q(subject)}的{what}是什么？", back="、".join(items), source=sent.text)
    return [Candidate(card, 7.0, "a list the sentence spells out: ask for the items", sent.position, name_key(card.back))]


_PERFORMS = re.compile(
    r"^(?P<s>[^，,。]{2,24}?)在(?P<d>[^，,。]{2,24}?)(?:上|中)(?:的)?(?P<aspect>表现|效果|性能|结果)?(?P<p>[^。]{4,})"
)
_VAGUE = re.compile(r"更好地|更强的|展现|表现出色|优越|出色|优异|令人|非常好|很好|新颖|独有的特点|很多|不错")


def performs_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'S 在 D 上的表现 P' (no number) -> S 在 D 上表现如何？ P: the outcome as the answer, never a 50/50 word."""
    if not ROLE_BY_NAME["comparison"].search(sent.text) and not re.search(r"表现|效果", sent.text):
        return []
    m = _PERFORMS.match(re.sub(r"^(?:结果表明|实验表明|研究发现|研究者发现|实验发现|结果显示)[，,]?", "", sent.text))
    if not m or re.search(r"\d", m.group("p")):
        return []
    subject = m.group("s").strip()
    if not (ctx.subject_at_start(subject, sent) or re.search(r"模型|方法|智能体", subject)):
        return []
    answer = _short_answer(re.sub(r"^(?:也|都|均|仍然|仍)", "", m.group("p").strip()), 40)
    if not answer or len(answer) < 4 or _VAGUE.search(answer):
        return []
    aspect = m.group("aspect") or "表现"
    card = Card(id=card_id(ctx.paper, "perf", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{subject}在{m.group('d').strip()}上的{aspect}如何？", back=answer, source=sent.text)
    return [Candidate(card, 6.5, "an outcome without a number: ask for it", sent.position, name_key(answer))]


_ROLE_OF = re.compile(
    r"^(?P<pre>[^，,。]{1,24}?)(?P<verb>主要用于|用于|用来|负责|旨在|的作用是|的目的是|的目标是|的任务是)(?P<x>[^。]{4,})"
)


def purpose_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'S 负责/用于 X' -> S 的作用是什么？ X (what a part of the method is for)."""
    m = _ROLE_OF.match(sent.text)
    if not m:
        return []
    subject = _subject(ctx, re.sub(r"(?:模块|组件|层|网络|部分)$", "", m.group("pre").strip()), sent)
    if not subject or len(m.group("pre")) - len(subject) > 6:
        return []
    answer = _short_answer(m.group("x"), 40)
    if not answer or len(answer) < 5 or _VAGUE.search(answer):
        return []
    asks = "目标" if m.group("verb") in ("旨在", "的目标是", "的目的是") else "作用"
    card = Card(id=card_id(ctx.paper, "what", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{_q(subject)}的{asks}是什么？", back=answer, source=sent.text)
    return [Candidate(card, 7.0, f"what a part is for ({m.group('verb')})", sent.position, name_key(answer))]


_NOT_A_CAUSE = re.compile(
    r"^(?:这|该|此|它|其|以便|尽管|虽然|然|但|而|并|且|如果|那)|您|你|我们|本文|如何|它们|可以|能够|使用|被|认为|并$|^.{0,2}$"
)
_NOT_AN_EFFECT = re.compile(r"^(?:这|那|它|我们|请|则|那就|就|会|意味着|说明|表示)")
_LEADS_TO = re.compile(
    r"(?:^|[，,])(?:研究者们?|作者|他们)?(?:观察到|发现|表明|证明|显示)?[，,]?\s*(?P<a>[^，,。]{5,30}?)(?:会|将|可能)?"
    r"(?:导致|造成|引起|引发)(?P<b>[^，,。]{2,20})(?=[，,。；;]|$)"
)
_WHEN = re.compile(
    r"^(?:相反|此外|然而|同时)?[，,]?\s*(?:如果|当|若|只要|一旦)(?P<cond>[^，,。]{5,40}?)(?:时)?[，,]\s*(?:则|就|便)?(?P<out>[^。]{5,})"
)


def consequence_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'A 会导致 B' -> A 会导致什么？ B;  '当 A 时，B' -> A 时会怎样？ B (a finding's effect)."""
    if m := _LEADS_TO.search(sent.text):
        cause, effect = m.group("a").strip(), _strip_end(m.group("b"))
        question = f"{cause}会导致什么？"
        rule = "a finding's effect (导致)"
    elif m := _WHEN.match(sent.text):
        out = re.sub(r"^(?:他们|研究者们?|作者)?(?:发现|观察到)[，,]?", "", m.group("out"))
        cause, effect = m.group("cond").strip(), _short_answer(re.split(r"[，,]\s*这", out)[0], 40)
        question = f"{cause}时会怎样？"
        rule = "a condition and its outcome (当 … 时)"
    else:
        return []
    if not effect or len(effect) < 3 or _VAGUE.search(effect) or _NOT_A_CAUSE.search(cause) or _NOT_AN_EFFECT.match(effect):
        return []
    card = Card(id=card_id(ctx.paper, "effect", anchor_text(sent.text)), type="qa", kind="claim",
                front=question, back=effect, source=sent.text)
    return [Candidate(card, 6.5, rule, sent.position, name_key(effect))]


_IS_THE = re.compile(
    r"^(?P<a>[^，,。]{2,20}?)是(?P<b>[^，,。]{2,20}?)的(?P<n>性能瓶颈|瓶颈|关键|核心|难点|主要原因|根本原因|有效手段|基础|前提|主要来源)"
)


def is_the_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'A 是 B 的瓶颈' -> B 的瓶颈是什么？ A (the sentence names what matters most)."""
    m = _IS_THE.match(sent.text)
    if not m or _NOT_A_CAUSE.search(m.group("a")) or _DESCRIPTOR.match(m.group("a")) or re.search(r"被|认为", m.group("a")):
        return []
    card = Card(id=card_id(ctx.paper, "what", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{m.group('b')}的{m.group('n')}是什么？", back=m.group("a").strip(), source=sent.text)
    return [Candidate(card, 6.5, f"what is the {m.group('n')} (A 是 B 的 N)", sent.position, name_key(m.group("a")))]


_VERSUS = re.compile(
    r"(?P<s>[^，,。]{2,24}?)(?:的(?:效果|性能|表现|精度|结果))?(?:与|和|跟)(?P<b>[^，,。]{2,20}?)(?:相比)?[，,]?\s*"
    r"(?P<out>(?:相当|持平|接近|类似|相似|更好|更优|更高|更低|更快|更少|优于|好于|不如)[^，,。]{0,12})(?=[，,。；;]|$)"
)


_OUTCOME_WORD = re.compile(r"相当|持平|接近|类似|相似|更好|更优|更高|更低|更快|更少|优于|好于|不如")


def versus_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'在 D 上，S 的效果与 B 相当甚至更好' -> 在 D 上，S 与 B 相比如何？ 相当甚至更好 (never a cloze on 优于)."""
    if not _OUTCOME_WORD.search(sent.text):
        return []  # the pattern backtracks at every position: only try it where an outcome word stands
    m = _VERSUS.search(sent.text)
    if not m or re.search(r"\d", m.group("out")) or re.search(r"也|都|明显|更|很|还|之间|[的有是]$|[A-Za-z]\s*$", m.group("b")):
        return []
    lead = sent.text[: m.start("s")]
    subject = ctx.subject_at_start(m.group("s"), sent) or ctx.subject_at_start(re.split(r"[，,]", m.group("s"))[-1], sent)
    if not subject:
        return []
    setting = next((c for c in re.split(r"[，,]", lead) if re.match(r"^在.{2,40}(?:上|中)", c)), "")
    setting = re.sub(r"(?:的实验|实验)?(?:发现|表明|显示)$", "", setting)
    question = f"{setting + '，' if setting else ''}{_q(subject)}与{m.group('b').strip()}相比如何？"
    answer = _strip_end(m.group("out"))
    if _VAGUE.search(answer) or len(question) > 80:
        return []
    card = Card(id=card_id(ctx.paper, "versus", anchor_text(sent.text)), type="qa", kind="claim",
                front=question, back=answer, source=sent.text)
    return [Candidate(card, 6.5, "a comparison's outcome asked as Q&A", sent.position, name_key(answer + m.group("b")))]


_TURNS = re.compile(
    r"(?:把|将)(?P<a>[^，,。]{2,25}?)(?:更加形象地|直接|统一)?(?P<v>看成是?|看作|视为|建模为|建模成|转化为|转换为|映射为|映射到|"
    r"替换为|替换成|分解为|分解成|拆分为|拆分成|合并回|合并到|写成|表示为|表示成|缩小为|压缩为|扩展为)(?P<b>[^，,。]{2,30})(?=[，,。；;]|$)"
)


def turns_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'S 把 A 看成 B' -> S 把 A 看成什么？ B (how the method recasts something)."""
    m = _TURNS.search(sent.text)
    if not m or re.match(r"^(?:它|其|这|该)", m.group("a")):
        return []
    head = sent.text[: m.start()]
    subject = ctx.subject_at_start(re.split(r"[，,]", head)[-1], sent) or ctx.subject_at_start(head, sent)
    if not subject:
        return []
    answer = _strip_end(m.group("b"))
    if len(answer) < 2 or _VAGUE.search(answer) or re.search(r"\d", answer):
        return []
    card = Card(id=card_id(ctx.paper, "how", anchor_text(sent.text) + "#turns"), type="qa", kind="claim",
                front=f"{_q(subject)}把{m.group('a').strip()}{m.group('v')}什么？", back=answer, source=sent.text)
    return [Candidate(card, 7.0, f"what the method turns something into (把 A {m.group('v')} B)", sent.position,
                      name_key(answer))]


_NAMED = re.compile(
    r"(?:我们)?(?:称其为|称之为|把它称为|将其称为|被称为|称为|叫做|命名为)\s*[“「\"]?"
    r"(?P<n>[A-Za-z][\w\-]*(?: [A-Za-z][\w\-]*){0,3}|[\u3400-\u9fff]{2,10})[”」\"]?"
    r"\s*[。；;，,]?$"
)


def named_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'…压缩维度为 D，这里我们称其为 Patch Embedding。' -> a blank on the name the sentence gives what it described."""
    m = _NAMED.search(sent.text)
    if not m or ctx.is_paper(m.group("n")) or sent.text.count(m.group("n")) > 1 or m.start() < 10:
        return []
    start, end = m.span("n")
    text = cloze_text(sent.text, [(start, end)], (0, len(sent.text)))
    text = re.sub(r"[，,]\s*这里(?=我们)", "，", text)
    card = Card(id=card_id(ctx.paper, "claim", anchor_text(sent.text)), type="cloze", kind="claim", text=text,
                source=sent.text)
    return [Candidate(card, 7.0 + ctx.weight(m.group("n")) / 2, "the name the article gives a step (称为 X)", sent.position,
                      name_key(m.group("n")))]


_RELATION = re.compile(
    r"^(?P<a>[^，,。]{2,30}?)(?:与|和|跟)(?P<b>[^，,。]{2,16}?)(?:之间)?(?:成|呈|是)(?P<rel>线性|正比|反比|平方|二次|指数|对数)(?:关系|增长)?"
)


def relation_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    """'A 与 B 成线性关系' -> A 与 B 成什么关系？ 线性关系 (how one quantity grows with another)."""
    m = _RELATION.match(sent.text)
    if not m or _NOT_A_CAUSE.search(m.group("a")):
        return []
    answer = m.group("rel") + "关系"
    rest = sent.text[m.end() :]
    if contrast := re.match(r"^[，,]?\s*而不是(?P<x>[^，,。]{1,8})", rest):
        answer += f"（而不是{contrast.group('x')}）"
    card = Card(id=card_id(ctx.paper, "what", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{m.group('a').strip()}与{m.group('b').strip()}成什么关系？", back=answer, source=sent.text)
    return [Candidate(card, 7.0, "how one quantity grows with another (A 与 B 成 … 关系)", sent.position, name_key(answer))]


_PARTS = re.compile(r"^(?P<pre>[^，。]{1,20}?)(?:主要)?由(?P<parts>[^，。；]{2,40}?)(?:组成|构成)")


def parts_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    m = _PARTS.match(sent.text)
    if not m:
        return []
    subject = _subject(ctx, m.group("pre"))
    if not subject:
        return []
    card = Card(id=card_id(ctx.paper, "what", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{_q(subject)}由什么组成？", back=m.group("parts").strip(), source=sent.text)
    return [Candidate(card, 7.0, "composition (由 … 组成)", sent.position, name_key(m.group("parts")))]


# ---------------------------------------------------------------- results


def _unit(figure: str) -> str:
    return re.sub(r"[\d.,\s~～\-到至]+", "", figure)


_CONTRAST = re.compile(r"而|但|仅|只|相比之下|；|;|反观|相较")


def result_candidates(ctx: Context, sent: Sentence) -> list[Candidate]:
    scored = [(fig.result_score(sent.text, f), i, f) for i, f in enumerate(fig.find_figures(sent.text))]
    good = sorted(((s, why, i, f) for (s, why), i, f in scored if s >= 3), key=lambda t: (-t[0], t[2]))
    out = []
    if good:
        score, why, index, best = good[0]
        spans = [widen_to_formula(sent.text, best.start, best.end)]
        rule = f"result: {why}"
        second = next(
            (g for g in good[1:] if _CONTRAST.search(sent.text[min(best.end, g[3].end) : max(best.start, g[3].start)])), None
        ) or next((g for g in good[1:] if g[0] >= 5 and _unit(g[3].text) != _unit(best.text)), None)
        if second is not None:
            spans.append(widen_to_formula(sent.text, second[3].start, second[3].end))
            rule += " (two results of one sentence: two blanks)"
        kept = window(sent.text, min(s for s, _ in spans), max(e for _, e in spans), ctx.names_something)
        if kept is None:
            return out
        text = cloze_text(sent.text, spans, kept)
        card = Card(id=card_id(ctx.paper, "figure", f"{anchor_text(sent.text, mask_numbers=True)}#{index}"),
                    type="cloze", kind="figure", text=text, source=sent.text)
        own = [n for n in ctx.names if n in sent.text and (ctx.is_paper(n) or not is_generic_name(n, ctx.vocab))]
        bonus = 1.0 if own else -4.0  # the method's own result first; a textbook figure of a baseline last
        out.append(Candidate(card, 6.0 + score / 2 + bonus, rule, sent.position, best.text))
    return out


# ---------------------------------------------------------------- claims: hide the key term

_METRIC_NAME = re.compile(r"(?:top|Top|TOP)-?\d+|m?AP\w*|F1|BLEU|ROUGE\S*|FID|EM|PPL|IS|PSNR|SSIM|FLOPs?|FLOPS")
_LIST_JOINT_BEFORE = re.compile(r"(?:、|和|与|及|/|,)\s*[“「\"]?\s*$")
_LIST_JOINT_AFTER = re.compile(r"^\s*[”」\"]?\s*(?:、|和|与|及|/|,|等)")
_SETUP = re.compile(
    r"^(?:工具|微调方法|实验设置|数据集|基线|评估指标|超参数|训练细节|实现细节)[:：]|在实际操作中|实验中|使用了一些"
)
_MECHANISM_VERB = re.compile(
    r"(?:采用|通过|利用|引入|使用|借助|基于|提出了?|称为|叫做|名为|替换为|换成|分解为|映射到|作为)\s*(?:了|一种|一个)?\s*$"
)
_PARTICLES = set("的了是在和与及上中后时或并而把将被为对从向就都也")
_NOT_AN_ANSWER = frozenset(
    {
        "研究者", "研究人员", "研究团队", "作者", "论文", "文章", "本文", "实验", "结果", "方法", "模型", "问题", "任务",
        "能力", "性能", "效果", "数据", "我们", "他们", "研究", "领域", "过程", "方面", "情况", "方式", "工作", "技术",
        "系统", "用户", "目标", "挑战", "影响", "优势", "时候", "部分", "作用", "基础", "原因", "特点", "不同", "一样",
        "准确率", "准确性", "精度", "效率", "表现", "结构", "网络", "架构", "框架", "思路", "策略", "算法", "操作",
    }
)


def _key_spans(ctx: Context, sent: Sentence) -> list[tuple[float, int, int, str]]:
    """Spans worth hiding in a claim: the article's own terms first, then rare Chinese words."""
    text = sent.text
    glosses = [(m.start(), m.end()) for m in re.finditer(r"[（(][^（()）]*[)）]", text)]
    example = re.search(r"例如|比如|诸如|如\s*[A-Za-z“「]", text)
    spans = clauses(text)
    out = []

    def allowed(start: int, end: int, word: str) -> bool:
        if any(a <= start < b for a, b in glosses):
            return False  # a gloss next to its translation
        if example and start > example.start():
            return False  # an example
        if text.count(word) > 1:
            return False  # the answer would stand on the card
        clause = next((text[a:b] for a, b in spans if a <= start < b), "")
        if "、" in clause or re.match(r"^第[一二三四五六七八九十\d]+个", clause.strip()):
            return False  # inside a list, or one step of an enumeration
        if re.match(r"^\s*[（(]", text[end:]) and not re.match(r"^\s*[（(][A-Za-z][\w\s\-]{1,40}[)）]", text[end:]):
            return False  # initials or a remark right after the blank give it away (an English gloss joins the blank)
        before, after = text[max(0, start - 3) : start], text[end : end + 3]
        return not (_LIST_JOINT_BEFORE.search(before) or _LIST_JOINT_AFTER.match(after))  # one item of a list

    def after_verb(start: int) -> float:
        return 3.0 if _MECHANISM_VERB.search(text[max(0, start - 6) : start]) else 0.0

    for name in ctx.names:
        if name not in text:
            continue  # most names are not in most sentences: skip compiling their pattern
        for m in re.finditer(_word(name), text):
            if ctx.is_paper(name) or not allowed(m.start(), m.end(), name):
                continue
            if is_generic_name(name, ctx.vocab):
                continue  # a general term (AI, Transformer, ViT) is not what this sentence teaches
            if re.match(r"[._(]", text[m.end() : m.end() + 1]):
                continue  # WeightGradStore.flush, f(x): code, not a name
            if not ctx.is_component(name) and ctx.mentions[name_key(name)] < 3:
                continue  # a tool or dataset named in passing (SerpAPI, RoCE): setup trivia
            if re.search(r"[A-Za-z]\s$", text[: m.start()]) or re.match(r"^\s[A-Za-z]", text[m.end() :]):
                continue  # a word inside an English phrase, not a name on its own
            if ctx.mentions[name_key(name)] < 2 and not after_verb(m.start()):
                continue  # named once in passing
            if re.fullmatch(r"[A-Za-z][a-z]+|\w{1,2}", name) and not ctx.is_component(name):
                continue  # Figure, Stage, B7: an English word or a fragment of a name, not a name
            if name.isascii() and not is_name_like(name) and not ctx.is_component(name):
                continue  # float32, dropout: a plain word
            if _METRIC_NAME.fullmatch(name):
                continue  # top-5, AP: a metric's name is not the fact
            if ctx.weight(name) < 0:
                out.append((-6.0, m.start(), m.end(), name))  # a baseline's name: only if nothing better
                continue
            weight = 9.0 + min(ctx.mentions[name_key(name)], 5) + min(0.0, ctx.weight(name))
            out.append((weight + after_verb(m.start()), m.start(), m.end(), name))
    offset = 0
    for word in cjk_words(text, ctx.vocab):
        pos = text.find(word, offset)
        if pos < 0:
            continue
        offset = pos + len(word)
        end = pos + len(word)
        if len(word) < 2 or word in _NOT_AN_ANSWER or word.startswith(("新的", "一种", "一个")) or not allowed(pos, end, word):
            continue
        if any(pos < e and s < end for _, s, e, _ in out):
            continue
        if end < len(text) and re.match(r"[\u3400-\u9fff]", text[end]) and text[end] not in _PARTICLES:
            continue  # a modifier inside a compound (预训练|模型): hiding it tests half a word
        if word not in ctx.names:
            continue  # a word the article neither defines, repeats nor names: not a term to learn
        bonus = after_verb(pos) + 2.0
        out.append((specificity(word) / 2 + bonus, pos, end, word))
    return sorted(out, reverse=True)


def claim_candidates(ctx: Context, sent: Sentence, sentence_roles: list[str]) -> list[Candidate]:
    text = sent.text
    if not (15 <= len(text) <= 160):
        return []
    about_paper = any(n in text for n in ctx.names) or ctx.paper in text
    if not about_paper:
        return []
    if _SETUP.search(text) or re.match(r"^(?:例如|比如)", text):
        return []  # which tool or baseline the experiments used: setup trivia
    opening = re.match(r"^(?:[^，,。]{0,12}[，,])?\s*([A-Za-z][\w\-. ]{1,30}?)(?=[\u3400-\u9fff])", text)
    if opening and not ctx.is_paper(opening.group(1).strip()) and ctx.weight(opening.group(1).strip()) < 0:
        return []  # a sentence about related work (HyperNetwork 是…, DETR 会…) in this paper's deck
    spans = _key_spans(ctx, sent)
    if not spans:
        return []
    weight, start, end, word = spans[0]
    start, end = widen_to_formula(text, start, end)
    if gloss := re.match(r"^\s*[（(][A-Za-z][\w\s\-]{1,40}[)）]", text[end:]):
        end += gloss.end()  # 重计算(recomputation): the gloss is part of the answer, or it gives the answer away
    kept = window(text, start, end, ctx.names_something)
    if kept is None:
        return []
    card = Card(id=card_id(ctx.paper, "claim", anchor_text(text)), type="cloze", kind="claim",
                text=cloze_text(text, [(start, end)], kept), source=text)
    strength = {"mechanism": 1.5, "finding": 1.5, "definition": 1.0, "limitation": 1.0}
    score = 2.0 + sum(strength.get(r, 0.0) for r in sentence_roles) + weight / 6
    return [Candidate(card, score, f"{'/'.join(sentence_roles) or 'claim'}: hide '{word}'", sent.position, name_key(word))]


# ---------------------------------------------------------------- all of them


SENTENCE_GENERATORS = (
    definition_candidates, because_candidates, means_candidates, unlike_candidates, parts_candidates, list_candidates,
    performs_candidates, purpose_candidates, consequence_candidates, is_the_candidates, versus_candidates,
    turns_candidates, named_candidates, relation_candidates,
)


def sentence_candidates(ctx: Context, sent: Sentence) -> tuple[list[Candidate], str | None]:
    """Every candidate a sentence offers, or why it offers none."""
    if (rule := skip_rule(sent.text)) is not None:
        only_meta = all(r.name == "meta" for r in SKIP_RULES if r.search(sent.text))
        if only_meta and (results := result_candidates(ctx, sent)):
            return results, None  # '例如，表 3 …推理时间减少了 70%': the figure is a result all the same
        return [], f"{rule.code} {rule.name}"
    found: list[Candidate] = []
    for generate in SENTENCE_GENERATORS:
        found += generate(ctx, sent)
    sentence_roles = roles(sent.text)
    found += result_candidates(ctx, sent)
    if sentence_roles:
        found += claim_candidates(ctx, sent, sentence_roles)
    if not found:
        return [], "no role with a clear span" if not sentence_roles else f"{'/'.join(sentence_roles)}: no span worth hiding"
    return found, None


__all__ = ["Candidate", "Context", "MAX_CLOZE", "sentence_candidates", "term_candidates"]
