"""Patterned questions: a clean Q&A where the sentence's shape says what it asks (definition, cause,
means, contrast, list, purpose, consequence, comparison, naming)."""

from __future__ import annotations

import re

from deckgen.extract.context import (
    DESCRIPTOR,
    PRONOUN,
    ROLE_BY_NAME,
    SHORT_NAME,
    Candidate,
    Context,
    short_answer,
    spaced,
    strip_end,
    unbalanced,
)
from deckgen.extract.forms import clauses, cloze_text
from deckgen.extract.ids import anchor_text, card_id
from deckgen.extract.sentences import Sentence
from deckgen.model import Card
from deckgen.nlp import is_noun_phrase
from deckgen.terms import name_key

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
    if pointer and re.search(r"(?:作者|本文|论文|研究者们?)(?:提出|设计|给出)了?", pre) and SHORT_NAME.fullmatch(ctx.paper):
        return ctx.paper  # 作者提出了一个方法，其核心思想是…: the paper's own method
    if sent is not None and PRONOUN.match(pre.strip()):
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
    answer = short_answer(re.sub(r"[，,]\s*(?:它|该方法|其)", "，", definition), 60)
    if not answer or len(re.findall(r"[\u3400-\u9fff]", re.sub(r"^一(?:种|个|类|项)", "", answer))) < 10 or _VAGUE.search(answer):
        return []  # 'ControlNet 是一种神经网络架构': too vague to be worth a review
    question = _QUESTION_FOR.get(verb, "什么是 {s}？").format(s=subject).replace(f"{subject} ", spaced(subject))
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
    before, effect = sent.text[: m.start()], strip_end(sent.text[m.end() :])
    spans = clauses(before)
    if not spans:
        return []
    last = before[spans[-1][0] : spans[-1][1]].strip()
    subject = ctx.subject_at_start(last, sent) or ctx.subject_at_start(before, sent)
    if not subject:
        return []
    cause = strip_end(last[last.find(subject) + len(subject) :] if subject in last else last)
    cause = re.sub(r"^(?:但|而|且|由于|因为|是因为)+[，,]?", "", cause).strip()
    cause = PRONOUN.sub("", cause).strip()
    cause = re.sub(r"^(?:这|这还是|这也)?(?:是因为|可以理解为|是由于)", "", cause).strip()
    if cause.startswith("的"):
        return []
    if not (4 <= len(cause) <= 60 and 3 <= len(effect) <= 30) or re.match(r"^[A-Za-z]", effect):
        return []
    if re.search(r"[，,]", effect) or any(n in effect for n in ctx.names if ctx.is_paper(n)):
        return []
    question = f"为什么 {spaced(subject)}{effect}？"
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
    goal = strip_end(_CAN.sub("", goal.strip()))
    if unbalanced(goal) or unbalanced(m.group("means")):
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
    question = f"{spaced(subject)}如何{goal}？"
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
    answer = short_answer(rest[rest.find(subject) + len(subject) :].lstrip("的"))
    if not answer or len(answer) < 6 or _VAGUE.search(answer):
        return []
    other = m.group("other").strip()
    card = Card(id=card_id(ctx.paper, "unlike", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"与{other}相比，{spaced(subject)}有何不同？", back=answer, source=sent.text)
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
                front=f"{spaced(subject)}的{what}是什么？", back="、".join(items), source=sent.text)
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
    answer = short_answer(re.sub(r"^(?:也|都|均|仍然|仍)", "", m.group("p").strip()), 40)
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
    answer = short_answer(m.group("x"), 40)
    if not answer or len(answer) < 5 or _VAGUE.search(answer):
        return []
    asks = "目标" if m.group("verb") in ("旨在", "的目标是", "的目的是") else "作用"
    card = Card(id=card_id(ctx.paper, "what", anchor_text(sent.text)), type="qa", kind="claim",
                front=f"{spaced(subject)}的{asks}是什么？", back=answer, source=sent.text)
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
        cause, effect = m.group("a").strip(), strip_end(m.group("b"))
        question = f"{cause}会导致什么？"
        rule = "a finding's effect (导致)"
    elif m := _WHEN.match(sent.text):
        out = re.sub(r"^(?:他们|研究者们?|作者)?(?:发现|观察到)[，,]?", "", m.group("out"))
        cause, effect = m.group("cond").strip(), short_answer(re.split(r"[，,]\s*这", out)[0], 40)
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
    if not m or _NOT_A_CAUSE.search(m.group("a")) or DESCRIPTOR.match(m.group("a")) or re.search(r"被|认为", m.group("a")):
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
    question = f"{setting + '，' if setting else ''}{spaced(subject)}与{m.group('b').strip()}相比如何？"
    answer = strip_end(m.group("out"))
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
    answer = strip_end(m.group("b"))
    if len(answer) < 2 or _VAGUE.search(answer) or re.search(r"\d", answer):
        return []
    card = Card(id=card_id(ctx.paper, "how", anchor_text(sent.text) + "#turns"), type="qa", kind="claim",
                front=f"{spaced(subject)}把{m.group('a').strip()}{m.group('v')}什么？", back=answer, source=sent.text)
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
                front=f"{spaced(subject)}由什么组成？", back=m.group("parts").strip(), source=sent.text)
    return [Candidate(card, 7.0, "composition (由 … 组成)", sent.position, name_key(m.group("parts")))]

