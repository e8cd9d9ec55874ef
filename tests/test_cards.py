"""What the student sees in Anki: the back adds context instead of repeating, the paper label never answers."""

from __future__ import annotations

import re
from pathlib import Path

from deckgen.extract.forms import widen_to_formula
from deckgen.model import Card, Deck
from deckgen.package import write_package
from deckgen.resources import read_template


def _build(tmp_path: Path, cards: list[Card], paper: str = "XNet") -> Path:
    for card in cards:
        card.tags = ["deckgen"]
    return write_package([Deck(paper=paper, cards=cards)], tmp_path / "x.apkg")


def test_the_back_shows_the_source_only_when_it_adds_something(tmp_path, anki):
    sentence = "在 ImageNet 上,XNet 的准确率达到 81.2%。"
    whole = Card(id="figure-1", type="cloze", kind="figure", text="在 ImageNet 上,XNet 的准确率达到 {{c1::81.2%}}。",
                 source=sentence)
    trimmed = Card(id="figure-2", type="cloze", kind="figure", text="XNet 的延迟降低了 {{c1::40%}}。",
                   source="在移动端的一系列长时间测试之后,XNet 的延迟降低了 40%,而精度几乎不变。")
    question = Card(id="how-1", type="qa", kind="claim", front="XNet 如何减少计算量？", back="通过分组卷积",
                    source="XNet 通过分组卷积来减少计算量。")
    anki.import_package(_build(tmp_path, [whole, trimmed, question]))
    answers = {n.guid: n.cards()[0].answer() for n in anki.notes()}
    assert 'class="source"' not in answers["figure-1"]  # a verbatim repeat of what was just revealed
    assert "而精度几乎不变" in answers["figure-2"] and 'class="source"' in answers["figure-2"]
    assert "通过分组卷积来减少计算量" in answers["how-1"]


def test_the_paper_label_is_hidden_when_it_is_the_answer(tmp_path, anki):
    names_it = Card(id="claim-1", type="cloze", kind="claim", text="{{c1::XNet}} 首次把分组卷积用于检测。", source="s1")
    term = Card(id="term-1", type="term", kind="term", front="XNet", back="交叉网络", source="s2")
    other = Card(id="claim-2", type="cloze", kind="claim", text="XNet 使用了 {{c1::分组卷积}}。", source="s3")
    anki.import_package(_build(tmp_path, [names_it, term, other]))
    questions = {n.guid: [c.question() for c in n.cards()] for n in anki.notes()}
    assert all('class="paper"' not in q for q in questions["claim-1"] + questions["term-1"])
    assert 'class="paper"' in questions["claim-2"][0] and "XNet" in questions["claim-2"][0]


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_text_colour_has_enough_contrast_in_day_and_night_mode():
    css = read_template("style.css")
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", css)
    night_bg = next(re.search(r"background:\s*(#[0-9a-f]{6})", body).group(1) for sel, body in rules if "nightMode.card" in sel)
    for selector, body in rules:
        color = re.search(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", body)
        if not color:
            continue
        background = night_bg if "night" in selector.lower() else "#ffffff"
        assert _contrast(color.group(1), background) >= 4.5, f"{selector.strip()}: {color.group(1)} on {background}"
    for cls in ("paper", "source", "answer", "cloze"):  # each has its own night colour
        assert any("night" in sel.lower() and f".{cls}" in sel for sel, _ in rules), cls


def test_a_blank_inside_a_formula_becomes_the_whole_formula():
    sentence = r"复杂度降到 \(O(N \log N)\) 以内。"
    start = sentence.index("N \\log")
    assert sentence[slice(*widen_to_formula(sentence, start, start + 1))] == r"\(O(N \log N)\)"
