"""Numbers as values, so the same number written two ways counts as one: 七 = 7, 四分之一 = 1/4,
90.50 = 90.5, 160 多亿 ≈ 16B, 1.5x = 1.5 倍, １,０００ = 1000."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千"
_MULTIPLIER = {
    "万亿": 1e12, "亿": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3,
    "K": 1e3, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12,
}  # fmt: skip
_MULT = "万亿|千万|百万|亿|万|千|[KkMBT](?![A-Za-z])"
ARABIC = re.compile(rf"(?<![\d.A-Za-z])(\d+(?:\.\d+)?)(?:\s*(?:多|余|左右))?\s*({_MULT})?")
# in an article, a digit after a letter is a number too (W_0, N^2, top-5): lenient on what it may contain
_ARABIC_ANY = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)(?:\s*(?:多|余|左右))?\s*({_MULT})?")
_FRACTION = re.compile(r"(?<![\d.A-Za-z])(\d+)\s*/\s*(\d+)(?![\d.])")
_CN_FRACTION = re.compile(rf"([{_CN_NUM}]+|\d+)分之([{_CN_NUM}]+|\d+(?:\.\d+)?)")
CHINESE = re.compile(rf"[{_CN_NUM}]+(?:点[{_CN_NUM[:12]}]+)?(?:\s*(?:多|余))?\s*({_MULT})?")
# a Chinese numeral in an answer counts as a number only before a unit or measure word ("七个", not "一致")
_MEASURE = "万亿|亿|万|个|种|层|倍|项|次|步|类|名|位|篇|张|块|款|轮|维|小时|天|年|月|%|％"
_CN_MEASURE = re.compile(rf"[{_CN_NUM}]+(?:点[{_CN_NUM[:12]}]+)?(?=\s*(?:多|余)?\s*(?:{_MEASURE}))")


def plain(text: str) -> str:
    """Full-width digits to ASCII, thousands separators out: "１,０００" and "1000" are the same number."""
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", unicodedata.normalize("NFKC", text))


def cn_value(numeral: str) -> float | None:
    """一百二十 → 120, 三点五 → 3.5, 七 → 7; None when it is not a numeral."""
    whole, _, frac = numeral.partition("点")
    total = section = 0
    digit = None
    for ch in whole:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch] if digit is None else digit * 10 + _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (1 if digit is None else digit) * _CN_UNIT[ch]
            digit = None
        else:
            return None
    total = section + (digit or 0)
    if frac:
        if any(ch not in _CN_DIGIT for ch in frac):
            return None
        total += float("0." + "".join(str(_CN_DIGIT[ch]) for ch in frac))
    return float(total)


def _key(value: float) -> float:
    return float(f"{value:.6g}")


def _number(token: str) -> float | None:
    return float(token) if re.fullmatch(r"\d+(?:\.\d+)?", token) else cn_value(token)


def values(text: str, strict_chinese: bool = False) -> set[float]:
    """Every value a text states: each number as written and with its multiplier (亿, M, B…).

    `strict_chinese`: count a Chinese numeral only before a unit or measure word (for answers, where
    "一致" is not a number); an article's every numeral counts (lenient on what it may contain).
    """
    text = plain(text)
    out: set[float] = set()
    for match in (ARABIC if strict_chinese else _ARABIC_ANY).finditer(text):
        number = float(match.group(1))
        out.add(_key(number))
        if match.group(2):
            out.add(_key(number * _MULTIPLIER[match.group(2)]))
    for match in _FRACTION.finditer(text):
        if int(match.group(2)):
            out.add(_key(int(match.group(1)) / int(match.group(2))))
    for match in _CN_FRACTION.finditer(text):
        whole, part = _number(match.group(1)), _number(match.group(2))
        if whole and part is not None:
            out.add(_key(part if whole == 100 else part / whole))  # 百分之三十 is 30 (%), 四分之一 is 0.25
    chinese = _CN_MEASURE if strict_chinese else CHINESE
    if strict_chinese and re.fullmatch(rf"[{_CN_NUM}]+(?:点[{_CN_NUM[:12]}]+)?", text.strip()):
        chinese = CHINESE  # an answer that is only a numeral: "七"
    for match in chinese.finditer(_CN_FRACTION.sub(" ", text)):
        numeral = re.match(rf"[{_CN_NUM}点]+", match.group()).group()
        number = cn_value(numeral)
        if number is None:
            continue
        out.add(_key(number))
        multiplier = re.search(_MULT, match.group()[len(numeral):])
        if multiplier:
            out.add(_key(number * _MULTIPLIER[multiplier.group()]))
    return out


@lru_cache(maxsize=4096)
def occurrences(text: str, strict_chinese: bool = False) -> tuple[tuple[int, int, frozenset[float]], ...]:
    """Where each number stands in `plain(text)`: (start, end, its values); a fraction is one number."""
    text = plain(text)
    found: list[tuple[int, int, frozenset[float]]] = []

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e, _ in found)

    whole = re.fullmatch(rf"[{_CN_NUM}]+(?:点[{_CN_NUM[:12]}]+)?", text.strip())
    for pattern in (_CN_FRACTION, _FRACTION, ARABIC, _CN_MEASURE if strict_chinese and not whole else CHINESE):
        for match in pattern.finditer(text):
            if match.group().strip() and free(match.start(), match.end()):
                vals = values(match.group(), strict_chinese)
                if vals:
                    found.append((match.start(), match.end(), frozenset(vals)))
    return tuple(sorted(found, key=lambda t: t[0]))
