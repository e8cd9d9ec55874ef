"""The rule-based extractor: few cards, each testing the span its sentence's role says to test."""

from __future__ import annotations

import re

import pytest

from deckgen.extract import card_id, explain, extract, find_figures, split_sentences
from deckgen.extract.forms import leak
from deckgen.extract.glossary import find_term_pairs, initials_spell
from deckgen.extract.rules import ROLE_RULES, SKIP_RULES
from deckgen.ingest import parse_text
from deckgen.model import CLOZE_DELETION, Card, Paper
from deckgen.terms import load_vocabulary

ARTICLE = """ALiBi:不用位置编码也能外推

研究者提出了带线性偏置的注意力(Attention with Linear Biases,ALiBi)。ALiBi 的核心思想是在注意力分数上加一个与距离成正比的惩罚,而不是给词嵌入加位置编码。 实验表明,在长度为 1024 的序列上训练的 1.3B 模型,可以在 2048 的长度上推理,困惑度与正弦位置编码模型相当,训练速度快了 11%。 与正弦位置编码不同,ALiBi 不需要任何可学习的参数,因此几乎不增加计算开销。 随着大模型越来越大,长上下文变得越来越重要。 我们期待未来有更加智能的位置编码出现。 ALiBi 的复杂度仍然是 $O(L^2)$。
"""


def _paper(text: str = ARTICLE, name: str = "ALiBi") -> Paper:
    return Paper(name=name, articles=parse_text(text, "alibi.txt"))


def _answers(card: Card) -> list[str]:
    return [m.group(1) for m in CLOZE_DELETION.finditer(card.text)] if card.type == "cloze" else [card.back]


@pytest.mark.parametrize("rule", SKIP_RULES + ROLE_RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_every_rule_matches_its_examples_and_misses_its_counterexamples(rule):
    assert rule.why and rule.matches
    for example in rule.matches:
        assert rule.search(example), f"{rule.code} should match {example!r}"
    for example in rule.misses:
        assert not rule.search(example), f"{rule.code} should not match {example!r}"


def test_term_pairs_and_one_directional_cards_where_the_reverse_would_leak():
    pairs = {t.latin: t for t in find_term_pairs(split_sentences(_paper()), load_vocabulary())}
    assert pairs["ALiBi"].full == "Attention with Linear Biases"
    assert pairs["ALiBi"].chinese == "带线性偏置的注意力"
    assert initials_spell("ALiBi", "Attention with Linear Biases")
    assert initials_spell("LoRA", "Low-Rank Adaptation")
    assert not initials_spell("GAN", "Denoising Diffusion Model")
    [term] = [c for c in extract(_paper()).cards if c.kind == "term"]
    assert term.type == "qa" and term.front == "ALiBi"  # never asks ALiBi from its spelled-out name


def test_the_deck_tests_the_right_spans_and_skips_rhetoric():
    deck = extract(_paper())
    by_prompt = {c.prompt: c for c in deck.cards}
    assert "ALiBi 的核心思想是什么？" in by_prompt
    assert by_prompt["ALiBi 的核心思想是什么？"].back.startswith("在注意力分数上加一个与距离成正比的惩罚")
    hidden = {a for c in deck.cards for a in _answers(c)}
    assert "11%" in hidden and r"\(O(L^2)\)" in hidden
    assert not hidden & {"1024", "2048", "1.3B"}  # setup values, not results
    assert any(c.front == "为什么 ALiBi 几乎不增加计算开销？" for c in deck.cards)
    for card in deck.cards:
        assert "期待" not in card.prompt and "越来越" not in card.prompt  # rhetoric and background
        assert leak(card) is None
        assert card.source
        if card.type == "cloze":
            assert 1 <= len(CLOZE_DELETION.findall(card.text)) <= 2
    sources = [c.source for c in deck.cards if c.kind != "term"]
    assert len(sources) == len(set(sources)), "two cards on one sentence"


def test_result_numbers_are_chosen_and_incidental_ones_never_hidden():
    text = (
        "XNet 通过分组卷积提取特征\n\n"
        "XNet 通过分组卷积来减少计算量。在 ImageNet 上, XNet 的 Top-1 准确率达到 81.2%,比 ResNet-50 高出 3.1 个百分点。"
        "研究者在 8 张 GPU 上训练了 300 个 epoch。XNet-7B 在 GSM8K 上的得分为 56.3。"
        "在长文本任务上,基线下降了 20.5%,而 XNet 仅下降了 4.2%。"
    )
    deck = extract(_paper(text, "XNet"))
    hidden = [a for c in deck.cards for a in _answers(c)]
    assert "81.2%" in hidden and "3.1" not in hidden  # one card per sentence, the method's own figure
    assert not {"8", "300", "7B", "XNet-7B"} & set(hidden)
    [contrast] = [c for c in deck.cards if "4.2%" in c.text]
    assert CLOZE_DELETION.findall(contrast.text) == ["20.5%", "4.2%"]  # an A-versus-B contrast: two blanks


def test_answers_that_can_be_read_or_computed_from_the_card_are_dropped():
    computed = Card(id="x", type="cloze", kind="figure", text="新模型参数只有 {{c1::70B}},是对手(280B)的四分之一。")
    visible = Card(id="y", type="cloze", kind="figure", text="准确率 {{c1::57.25}},比 57.25 的基线高。")
    asked = Card(id="z", type="qa", kind="claim", front="什么让 XNet 更快?", back="XNet")
    fine = Card(id="w", type="cloze", kind="figure", text="XNet 把延迟降低到原来的{{c1::三分之一}}。")
    assert leak(computed) and leak(visible) and leak(asked)
    assert leak(fine) is None


def test_headings_and_latin_words_never_break_a_sentence():
    text = "XNet 解读\n\n方法概述\nTL;DR 摘要上,XNet 把注意力的复杂度从 $O(N^2)$ 降到 $O(N)$,在长文本摘要上提升了 2.5 个 ROUGE 点。\n"
    sentences = split_sentences(_paper(text, "XNet"))
    assert [s.text for s in sentences] == [
        r"TL;DR 摘要上,XNet 把注意力的复杂度从 \(O(N^2)\) 降到 \(O(N)\),在长文本摘要上提升了 2.5 个 ROUGE 点。"
    ]
    assert sentences[0].heading == "方法概述"
    for card in extract(_paper(text, "XNet")).cards:
        assert not card.prompt.startswith("方法概述")


def test_a_budget_scaled_by_length_and_max_cards():
    facts = "".join(
        f"在第 {i} 个基准 Bench{i} 上,XNet 的准确率达到 {60 + i}.5%,比基线提高了 {i}.{i} 个百分点。" for i in range(1, 40)
    )
    long_paper = _paper(f"XNet 实验\n\n{facts}\n", "XNet")
    assert len(extract(long_paper).cards) <= 20
    assert len(extract(long_paper, max_cards=5).cards) == 5
    short = _paper("XNet 简介\n\nXNet 的核心思想是把卷积核分组共享。在 ImageNet 上, XNet 的准确率达到 80.1%。\n", "XNet")
    assert 1 <= len(extract(short).cards) <= 4


def test_explain_says_why_candidates_were_left_out():
    report = explain(_paper(), max_cards=2)
    assert len(report.kept) == 2 and report.dropped
    assert any("budget" in why for _, why in report.dropped)
    assert any("S1" in why or "S3" in why for _, why in report.silent)  # rhetoric / background named


def test_ids_are_stable_and_a_corrected_number_keeps_its_id():
    first = [c.id for c in extract(_paper()).cards]
    assert first == [c.id for c in extract(_paper()).cards] and len(set(first)) == len(first)
    assert card_id("ALiBi", "term", "alibi") == card_id("alibi", "term", "alibi")
    before = {c.id for c in extract(_paper()).cards if c.kind == "figure"}
    fixed = _paper(ARTICLE.replace("快了 11%", "快了 12%"))
    assert {c.id for c in extract(fixed).cards if c.kind == "figure"} == before


def test_find_figures_skips_references_and_years():
    found = [f.text for f in find_figures("如图 2 所示,在 2023 年的实验中,准确率提升了 57.25%,速度快 3 倍,FID 为 8.46。")]
    assert found == ["57.25%", "3 倍", "8.46"]
    assert re.search(r"O\(L", find_figures(r"复杂度从 \(O(L^2)\) 降到 \(O(L \log L)\)")[0].text)


def test_the_same_cards_in_every_process(examples_dir):
    """Card order and ids never depend on Python's per-process string hashing."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from deckgen.ingest import ingest; from deckgen.extract import extract\n"
        "for p in ingest([sys.argv[1]]).papers:\n"
        "    print(p.name, [c.id for c in extract(p).cards])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, str(examples_dir)],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and "LoRA" in outputs.pop()


def test_a_card_that_points_back_is_dropped_but_among_them_names_its_subject():
    from deckgen.extract.context import Candidate
    from deckgen.extract.select import defect

    def cloze(text: str) -> Candidate:
        return Candidate(Card(id="x", type="cloze", kind="figure", text=text), 8.0, "test")

    assert defect(cloze("其精度提升了{{c1::3.2%}}。"), "XNet")  # whose accuracy? not on the card
    assert defect(cloze("这两种方法的延迟降低了{{c1::40%}}。"), "XNet")
    assert defect(cloze("其中XNet-L在ImageNet上达到{{c1::85.1%}}的top-1准确率。"), "XNet") is None
