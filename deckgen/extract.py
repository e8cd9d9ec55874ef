"""Stage 2: rule-based cards (terms, figures, claims) from one paper's articles."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from deckgen.ingest import LATIN_NAME, MATH
from deckgen.model import Card, Deck, Paper
from deckgen.nlp import cjk_words, specificity
from deckgen.terms import Vocabulary, is_generic_name, load_vocabulary, name_key

# Bump when the extraction rules change what they make: on the first rebuild after an upgrade, rule cards
# the new rules no longer make leave through the stale path (reported) instead of staying for good.
RULES_VERSION = 1

# ---------------------------------------------------------------- ids


def card_id(paper: str, kind: str, anchor: str) -> str:
    """Stable note GUID. Changing this changes every id in every user's collection."""
    digest = hashlib.sha1(f"{name_key(paper)}\x1f{kind}\x1f{anchor}".encode()).hexdigest()
    return f"{kind}-{digest[:12]}"


def anchor_text(sentence: str, mask_numbers: bool = False) -> str:
    """What identifies a sentence's fact: its characters without spacing or punctuation."""
    text = re.sub(r"\d+(?:\.\d+)?", "#", sentence) if mask_numbers else sentence
    return re.sub(r"[\s\W_]+", "", text).lower()


def tag_for(paper: str) -> str:
    return re.sub(r"[\s:：]+", "_", paper.strip())[:60]


# ---------------------------------------------------------------- sentences

_SENTENCE = re.compile(r"[^。！？!?；;]+(?:[。！？!?；;]+[”」』]?|$)")
_TERMINAL = re.compile(r"[。！？!?；;…]$")
# Narration aimed at the reader, not a fact about the paper.
_CHATTY = re.compile(
    r"想象一下|试想|假设你|你是|你会|你该|我们今天|让我们|各位|俗话说|还等什么|别担心|快来|不是我|我就|你想|你可以"
)
# Text planted in an article to steer a language model: never a card, whether rules or a model wrote it.
PLANTED_INSTRUCTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?|rules)|"
    r"disregard (?:the )?(?:previous|above|system)|system prompt|you are now|"
    r"忽略(?:之前|以上|上述|前面|先前|所有)|无视(?:之前|以上|上述|前面)|系统提示|提示词注入|现在你是",
    re.I,
)
_CLAIM_MARKERS = re.compile(
    r"表明|发现|证明|证实|显示|揭示|优于|超越|超过|提出|核心|关键|旨在|引入|采用|利用|解决|导致|取决于|使得|"
    r"提升|提高|降低|减少|缩短|实现|避免|保持|依赖|瓶颈|局限|不足|优势|相比|区分|平衡|约束|权衡|一次性|"
    r"无法|难以|不佳|稳定|崩溃|有效|显著|首次|通过|基于|分解|集成"
)


@dataclass
class Sentence:
    text: str
    position: int
    previous: str = ""

    @property
    def prose(self) -> str:
        return MATH.sub(" ", self.text)


def is_heading(paragraph: str) -> bool:
    return len(paragraph) <= 40 and not _TERMINAL.search(paragraph) and "，" not in paragraph


def split_sentences(paper: Paper) -> list[Sentence]:
    out: list[Sentence] = []
    for article in paper.articles:
        previous = ""
        for paragraph in article.paragraphs:
            if is_heading(paragraph):
                previous = ""
                continue
            for raw in _SENTENCE.findall(paragraph):
                text = raw.strip()
                if len(text) >= 8 and not PLANTED_INSTRUCTION.search(text):
                    out.append(Sentence(text, len(out), previous))
                    previous = text
    return out


# ---------------------------------------------------------------- terms

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
                if chinese and re.search(r"[\u3400-\u9fff]", chinese):
                    term = Term(latin=latin, chinese=chinese, full=full, source=sent.text)
                elif (lat := _LATIN_TAIL.search(before)) and len(lat.group(1)) > len(latin):
                    term = Term(latin=latin, full=lat.group(1).strip(), source=sent.text)
            elif re.fullmatch(r"[\u3400-\u9fff][\u3400-\u9fff\-·]{1,14}", inner) and (
                lat := _LATIN_TAIL.search(before)
            ):
                term = Term(latin=lat.group(1).strip(), chinese=inner, source=sent.text)
            if term and len(term.latin) <= 60 and not re.fullmatch(r"[\d.]+|[A-Za-z]", term.latin):
                terms.setdefault(term.key, term)
    return list(terms.values())


def _is_key_name(name: str) -> bool:
    first = name.split(" ")[0]
    if len(name) < 2 or re.fullmatch(r"[A-Z][a-z]?", name) or not re.search(r"[A-Z0-9_]", first):
        return False
    return bool(re.search(r"[A-Z].*[A-Z0-9]|[0-9]", name) or len(name) >= 4)


def find_latin_names(sentences: list[Sentence]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for sent in sentences:
        for name in LATIN_NAME.findall(sent.prose):
            if _is_key_name(name):
                counts[name] += 1
    return counts


# ---------------------------------------------------------------- figures

_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_NUMBER = r"(?:[二三四五六七八九]?十[一二三四五六七八九]?|[两二三四五六七八九])"
_CLASSIFIER = r"(?:个|种|类|项|轮|阶段|层|步|条|篇|部分|方面|模块|大|点|组|维|次|位|名|套|行|张|份|件|款)"
_FIGURE = re.compile(
    "|".join(
        [
            r"(?P<math>\\\([^()]*?O\(.*?\)\s*\\\))",  # a complexity in MathJax
            r"(?P<bigo>(?<![A-Za-z])O\([^()]*(?:\([^()]*\))?[^()]*\))",
            r"(?P<size>(?<![A-Za-z0-9_.])[A-Za-z][A-Za-z0-9_.\-]*?-?\d+(?:\.\d+)?[BMK](?:/\d+(?:\.\d+)?[BMK])?(?![A-Za-z0-9_]))",
            r"(?P<sizelist>(?<![A-Za-z0-9_.])[A-Za-z][A-Za-z]+\d+(?:/\d+)+[BMK](?![A-Za-z0-9_]))",
            r"(?P<dims>(?<![A-Za-z0-9_.])\d+\s*[×x]\s*\d+(?![A-Za-z0-9_]))",
            r"(?P<frac>(?:[一二两三四五六七八九十百]+)分之[一二三四五六七八九十]+)",
            rf"(?P<cn>(?<![一二两三四五六七八九十百千万第几])({_CN_NUMBER})\s*(?={_CLASSIFIER}))",
            r"(?P<num>(?<![A-Za-z0-9_.\-/^])\d+(?:,\d{3})*(?:\.\d+)?(?:\s*(?:%|％|倍|×|个百分点|EM|万亿|亿|万|[BMK](?![A-Za-z])))?"
            r"(?![A-Za-z0-9_.]*[A-Za-z])(?!\d))",
        ]
    )
)
_NOT_A_RESULT_BEFORE = re.compile(r"(?:图|表|Figure|Fig\.|Table|第|公式|式|章|节|步骤|阶段|G|arXiv:?)\s*$", re.I)
_NOT_A_RESULT_AFTER = re.compile(r"^\s*(?:年|月|日|号|世纪|\]|：|:\s)")


@dataclass
class Figure:
    start: int
    end: int
    text: str
    chinese_count: int | None = None  # value of a Chinese numeral (两阶段 -> 2)


def find_figures(sentence: str) -> list[Figure]:
    found: list[Figure] = []
    for m in _FIGURE.finditer(sentence):
        kind = m.lastgroup
        start, end = m.span(kind)
        text = sentence[start:end]
        before, after = sentence[:start], sentence[end:]
        if kind == "num":
            bare = re.match(r"[\d.,]+", text).group()
            if _NOT_A_RESULT_BEFORE.search(before) or _NOT_A_RESULT_AFTER.match(after):
                continue
            if re.fullmatch(r"\d", bare) and not re.match(r"\s*(?:%|％|倍|×|个|种|类|项|轮|层|次|[BMK])", text[1:] + after):
                continue  # a lone digit is a list marker or a name, unless it counts something
            if re.fullmatch(r"(19|20)\d\d", bare):
                continue
            if re.match(r"^\s*(?:\d+(?:\.\d+)*)\s+\S", sentence) and start == len(before) - len(before.lstrip()):
                continue  # a section number at the start of a sentence
        if kind == "cn":
            m_cls = re.match(rf"\s*({_CLASSIFIER}[^的，,。；;、\s和与及对在上中]{{0,8}})", after)
            end += len(m_cls.group(1)) if m_cls else 0
            text = sentence[start:end]
            value = _CN_DIGIT.get(m.group(kind)[-1], 0) if len(m.group(kind)) == 1 else _cn_value(m.group(kind))
            found.append(Figure(start, end, text, chinese_count=value))
            continue
        found.append(Figure(start, end, text))
    return found


def _cn_value(numeral: str) -> int:
    if "十" not in numeral:
        return _CN_DIGIT.get(numeral, 0)
    tens, _, ones = numeral.partition("十")
    return (_CN_DIGIT.get(tens, 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)


# ---------------------------------------------------------------- the extractor


@dataclass
class _Builder:
    paper: str
    vocab: Vocabulary
    cards: list[Card] = field(default_factory=list)
    used_sentences: set[int] = field(default_factory=set)
    tested: Counter[str] = field(default_factory=Counter)

    def add(self, card: Card) -> None:
        if any(c.id == card.id or c.prompt == card.prompt for c in self.cards):
            return
        card.tags = ["deckgen", tag_for(self.paper), card.kind]
        self.cards.append(card)


def _cloze(sentence: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for number, (start, end) in enumerate(sorted(spans), 1):
        out.append(sentence[last:start])
        out.append(f"{{{{c{number}::{sentence[start:end]}}}}}")
        last = end
    out.append(sentence[last:])
    return "".join(out)


def _context(sent: Sentence) -> str:
    """A sentence that opens with 'it/this' carries the sentence before it along."""
    if sent.previous and re.match(r"^(该|这|此|其|它|他们|前者|后者)", sent.text):
        return sent.previous + sent.text
    return sent.text


def _short(text: str, limit: int = 40) -> str:
    text = text.strip().rstrip("。；;，,")
    if len(text) <= limit:
        return text
    first = re.split(r"[，,；;：:]", text)[0]
    return first if len(first) >= 4 else text[:limit]


def _term_cards(b: _Builder, pairs: list[Term]) -> None:
    for term in pairs:
        front = term.latin
        back_parts = [p for p in (term.chinese, term.full) if p and p != front]
        if not back_parts:
            continue
        b.add(
            Card(
                id=card_id(b.paper, "term", term.key),
                type="term",
                kind="term",
                front=front,
                back="；".join(back_parts),
                source=term.source,
            )
        )
        b.tested.update([name_key(term.latin), name_key(term.chinese), name_key(term.full)])


_DEFINITION = re.compile(r"^(?P<pre>.{0,40}?)(?P<verb>的核心思想是|是指|指的是|就是|是一种|是一个|是一项|是一类)(?P<def>.+)$")


def _definition_cards(b: _Builder, sentences: list[Sentence], names: list[str]) -> None:
    for sent in sentences:
        m = _DEFINITION.match(sent.text)
        if not m:
            continue
        pre = re.sub(r"^(所谓的?|简单来说[，,]?|其中[，,]?)", "", m.group("pre")).strip(" “”\"「」，,")
        subject = next((n for n in names if pre.endswith(n) and len(pre) - len(n) <= 6), None)
        if not subject:
            continue
        definition = _short(m.group("def"))
        if m.group("verb").startswith("是一"):
            definition = m.group("verb")[1:] + definition
        if len(definition) < 4:
            continue
        question = f"{subject} 的核心思想是什么？" if "核心思想" in m.group("verb") else f"什么是 {subject}？"
        b.add(
            Card(
                id=card_id(b.paper, "definition", name_key(subject)),
                type="qa",
                kind="definition",
                front=question,
                back=definition,
                source=sent.text,
            )
        )
        b.used_sentences.add(sent.position)


def _figure_cards(b: _Builder, sentences: list[Sentence]) -> None:
    for sent in sentences:
        figures = find_figures(sent.text)
        if not figures:
            continue
        arabic = [f for f in figures if f.chinese_count is None]
        context = _context(sent)
        offset = len(context) - len(sent.text)
        # One note per figure: each asks one fact, and its id survives a corrected number.
        for index, fig in enumerate(arabic):
            b.add(
                Card(
                    id=card_id(b.paper, "figure", f"{anchor_text(sent.text, mask_numbers=True)}#{index}"),
                    type="cloze",
                    kind="figure",
                    text=_cloze(context, [(fig.start + offset, fig.end + offset)]),
                    source=sent.text,
                )
            )
            b.used_sentences.add(sent.position)
        for fig in figures:
            if fig.chinese_count is None:
                continue
            blank = context[: fig.start + offset] + "____" + context[fig.end + offset :]
            b.add(
                Card(
                    id=card_id(b.paper, "count", anchor_text(fig.text) + anchor_text(sent.text)),
                    type="qa",
                    kind="figure",
                    front=blank,
                    back=f"{fig.text}（{fig.chinese_count}）",
                    source=sent.text,
                )
            )
            b.used_sentences.add(sent.position)


def _candidates(sent: Sentence, b: _Builder, names: list[str]) -> list[tuple[float, int, int]]:
    """Spans worth hiding in a claim: known terms and names first, then rare Chinese words."""
    found: list[tuple[float, int, int]] = []
    for name in names:
        for m in re.finditer(re.escape(name), sent.text):
            penalty = 3.0 if name_key(name) == name_key(b.paper) else 0.0
            found.append((20.0 + len(name) - penalty - 4 * b.tested[name_key(name)], m.start(), m.end()))
    offset = 0
    for word in cjk_words(sent.text, b.vocab):
        pos = sent.text.find(word, offset)
        if pos < 0:
            continue
        offset = pos + len(word)
        if len(word) < 2 or word in _STOP or word in _NOT_AN_ANSWER:
            continue
        score = specificity(word) + (8.0 if word in b.vocab.forms else 0.0) - 4 * b.tested[name_key(word)]
        found.append((score, pos, pos + len(word)))
    return sorted(found, reverse=True)


def _claim_score(sent: Sentence, names: list[str]) -> float:
    text = sent.text
    if _CHATTY.search(text) or text.endswith(("?", "？", ":", "：")) or len(text) < 15 or len(text) > 220:
        return 0.0
    score = 2.0 * len(_CLAIM_MARKERS.findall(text)) + sum(1.5 for n in names if n in text)
    return score / (1 + len(text) / 150)


def _claim_cards(b: _Builder, sentences: list[Sentence], names: list[str], limit: int) -> None:
    ranked = sorted(sentences, key=lambda s: -_claim_score(s, names))
    added = 0
    for sent in ranked:
        if added >= limit or _claim_score(sent, names) < 2.0:
            break
        if sent.position in b.used_sentences:
            continue
        spans = _candidates(sent, b, names)
        if not spans:
            continue
        _, start, end = spans[0]
        answer = sent.text[start:end]
        before = len(b.cards)
        b.add(
            Card(
                id=card_id(b.paper, "claim", anchor_text(sent.text)),
                type="cloze",
                kind="claim",
                text=_cloze(sent.text, [(start, end)]),
                source=sent.text,
            )
        )
        if len(b.cards) > before:
            added += 1
            b.used_sentences.add(sent.position)
            b.tested[name_key(answer)] += 1


def _name_cards(b: _Builder, sentences: list[Sentence], names: Counter[str], limit: int) -> None:
    """Key English names that no term card covers: a cloze on the name in its best sentence."""
    added = 0
    for name, _count in names.most_common():
        if added >= limit:
            break
        key = name_key(name)
        if b.tested[key] or key == name_key(b.paper):
            continue
        options = [s for s in sentences if name in s.text and s.position not in b.used_sentences]
        options = [s for s in options if not _CHATTY.search(s.text) and 10 <= len(s.text) <= 220]
        if not options:
            continue
        best = max(options, key=lambda s: (_claim_score(s, [name]), -s.position))
        start = best.text.find(name)
        b.add(
            Card(
                id=card_id(b.paper, "name", key),
                type="cloze",
                kind="term",
                text=_cloze(best.text, [(start, start + len(name))]),
                source=best.text,
            )
        )
        b.used_sentences.add(best.position)
        b.tested[key] += 1
        added += 1


def extract(paper: Paper, vocab: Vocabulary | None = None) -> Deck:
    """All cards for one paper, each carrying the sentence that supports it."""
    vocab = vocab or load_vocabulary()
    sentences = split_sentences(paper)
    b = _Builder(paper=paper.name, vocab=vocab)
    pairs = find_term_pairs(sentences, vocab)
    latin_counts = find_latin_names(sentences)
    names = sorted(
        {n for n in latin_counts} | {t.latin for t in pairs} | {t.chinese for t in pairs if t.chinese},
        key=len,
        reverse=True,
    )
    size = sum(len(s.text) for s in sentences)
    _term_cards(b, pairs)
    _definition_cards(b, sentences, names)
    _figure_cards(b, sentences)
    # names special to this article first, then general ones (GPT-4o, Stable Diffusion) it mentions
    ranked = Counter({n: c + (100 if not is_generic_name(n, vocab) else 0) for n, c in latin_counts.items()})
    _name_cards(b, sentences, ranked, limit=12)
    _claim_cards(b, sentences, names, limit=max(4, min(20, size // 120)))
    return Deck(
        paper=paper.name,
        title=paper.title,
        links=paper.links,
        sources=sorted({a.source for a in paper.articles}),
        cards=b.cards,
    )
