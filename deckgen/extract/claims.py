"""Claim clozes: hide the key term of a sentence about the paper's mechanism or finding, never a gloss,
an example or one item of a list."""

from __future__ import annotations

import re

from deckgen.extract.context import NOT_AN_ANSWER, Candidate, Context, word_pattern
from deckgen.extract.forms import clauses, cloze_text, widen_to_formula, window
from deckgen.extract.glossary import is_name_like
from deckgen.extract.ids import anchor_text, card_id
from deckgen.extract.sentences import Sentence
from deckgen.model import Card
from deckgen.nlp import cjk_words, specificity
from deckgen.terms import is_generic_name, name_key

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
        for m in re.finditer(word_pattern(name), text):
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
        if len(word) < 2 or word in NOT_AN_ANSWER or word.startswith(("新的", "一种", "一个")) or not allowed(pos, end, word):
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

