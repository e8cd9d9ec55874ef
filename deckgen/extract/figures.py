"""Numbers in a sentence, and which of them is a result worth hiding (CARDS.md pattern 4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIGURE = re.compile(
    "|".join(
        [
            r"(?P<math>\\\([^()]*?O\(.*?\)\s*\\\))",  # a complexity in MathJax
            r"(?P<bigo>(?<![A-Za-z])O\([^()]*(?:\([^()]*\))?[^()]*\))",
            r"(?P<size>(?<![A-Za-z0-9_.])[A-Za-z][A-Za-z0-9_.\-]*?-?\d+(?:\.\d+)?[BMK](?:/\d+(?:\.\d+)?[BMK])?(?![A-Za-z0-9_]))",
            r"(?P<sizelist>(?<![A-Za-z0-9_.])[A-Za-z][A-Za-z]+\d+(?:/\d+)+[BMK](?![A-Za-z0-9_]))",
            r"(?P<dims>(?<![A-Za-z0-9_.])\d+\s*[×x]\s*\d+(?![A-Za-z0-9_]))",
            r"(?P<frac>(?:[一二两三四五六七八九十百]+)分之[一二三四五六七八九十]+)",
            r"(?P<num>(?<![A-Za-z0-9_.\-/^])\d+(?:,\d{3})*(?:\.\d+)?"
            r"(?:\s*(?:%|％|倍)?\s*(?:-|~|～|到|至)\s*\d+(?:\.\d+)?)?"  # a range: 5-6 倍, 20%~30%
            r"(?:\s*(?:%|％|倍|×|个百分点|EM|万亿|亿|万|[BMK](?![A-Za-z])))?"
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
        found.append(Figure(start, end, text))
    return found



# A result word shortly before a number: the number is what the method achieved.
_RESULT_BEFORE = re.compile(
    r"(?:达到|达|提升|提高|降低|降到|降至|减少|缩短|加快|快了?|慢了?|超过|超越|优于|领先|取得|获得|增加|下降|上升|节省|压缩|"
    r"减小|仅需|只需|仅用|只用|提速|加速|高出|低于|高于|增长|缩小|降低到|提升到|提高到|减少到|少于|不到|至多|最多|"
    r"平均|多达|高达)[^，。；\d]{0,8}$"
)
_METRICS = (
    r"(?:准确率|正确率|精度|精确率|召回率|F1|BLEU|ROUGE(?:-\w+)?|FID|IS|Inception Score|mAP|AP\w*|Top-?[15]|困惑度|PPL|EM|"
    r"PSNR|SSIM|吞吐量?|延迟|速度|显存|内存|错误率|胜率|得分|分数|成功率|损失|参数量?|计算量|FLOPs|时间|开销|WER|CER)"
)
_METRIC_BEFORE = re.compile(_METRICS + r"[^，。；\d]{0,8}$", re.I)
_METRIC_AFTER = re.compile(r"^\s*(?:的|分|点|的平均)?\s*" + _METRICS, re.I)
_WEAK_BEFORE = re.compile(r"(?:为|是|约|近|超|仅|只有|高达|多达)\s*$")
_RESULT_UNIT = re.compile(r"%|％|倍|×|个百分点|x$")
# A count of what the experiment was set up with (100 局, 3 次, 8 张 GPU, 训练了 300 个 epoch), not a result.
_SETUP_AFTER = re.compile(
    r"^\s*(?:局|次|轮|步|epochs?|个\s*epoch|张|块|卡|台|个?(?:样本|样例|示例|例子|图片|token|词)|层|头|维|组)", re.I
)
_SETUP_BEFORE = re.compile(
    r"(?:训练了?|迭代|batch\s*size|批大小|批量|学习率|learning rate|随机种子|评估|重复|共|总共|每|使用了?|用了?|输入|分辨率|"
    r"长度|维度|步长|大小为|设置为|设为|取(?!得)|从)[^，。；\d]{0,6}$",
    re.I,
)
_MODEL_NAME_BEFORE = re.compile(r"[A-Za-z][\w.\-]*\s?$")
_RATIO = re.compile(r"分之|倍|一半|折")


def _in_parentheses(sentence: str, fig: Figure) -> bool:
    """'Gopher(280B)', '(序列长度 512)': a number glossing a name. A parenthesised result ('(…提高了 77%)') is not."""
    before, after = sentence[: fig.start], sentence[fig.end :]
    opening = max(before.rfind("("), before.rfind("（"))
    if opening <= max(before.rfind(")"), before.rfind("）")):
        return False
    closing = re.match(r"^[^（()）]{0,12}[)）]", after)
    return bool(closing) and not _RESULT_BEFORE.search(before[opening:])


def result_score(sentence: str, fig: Figure) -> tuple[float, str]:
    """How surely a number is a result the student should remember, and why."""
    before, after = sentence[: fig.start], sentence[fig.end :]
    if _in_parentheses(sentence, fig):
        return -5.0, "a number in parentheses after a name"
    if re.search(r"[BMK]$", fig.text) and _MODEL_NAME_BEFORE.search(before):
        return -5.0, "a size that is part of a model's name"
    if re.fullmatch(r"\d+", fig.text.strip()) and _SETUP_AFTER.match(after):
        return -3.0, "a setup count"
    if _SETUP_BEFORE.search(before) and not _RESULT_UNIT.search(fig.text):
        return -3.0, "a setup value"
    sized = re.search(r"[BMK]$|亿|万", fig.text) or re.match(r"^\s*(?:[BMK]|亿|万)", after)
    if sized and re.match(r"^\s*(?:[BMK]|亿|万)?\s*(?:个?参数量?)?\s*的\s*[A-Za-z]", after) and not _METRIC_AFTER.match(after):
        return -3.0, "a size describing a model ('335M 的 XNet')"
    if re.search(r"(?:不能|不超过|最多|至多|上限)[^，。；\d]{0,6}$", before):
        return -3.0, "a limit of the setup"
    score = 0.0
    why = []
    if _RESULT_BEFORE.search(before):
        score += 3
        why.append("after a result word")
    elif _WEAK_BEFORE.search(before):
        score += 1
    if _METRIC_BEFORE.search(before) or _METRIC_AFTER.match(after):
        score += 2
        why.append("after a metric")
    if _RESULT_UNIT.search(fig.text) or re.match(r"^\s*(?:%|倍|个百分点)", after):
        score += 2
        why.append("a ratio or percentage")
        if re.search(r"[小大高低少多快慢省]了?\s*$", before):
            score += 1  # 小 8.4 倍, 快了 15%: a comparison's size
    if "O(" in fig.text:
        score += 3
        why.append("a complexity")
    return score, ", ".join(why) or "no result word near it"
