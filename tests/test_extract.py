from __future__ import annotations

import re

from deckgen.extract import card_id, extract, find_figures, find_term_pairs, split_sentences
from deckgen.ingest import parse_text
from deckgen.model import Paper
from deckgen.terms import load_vocabulary

ARTICLE = """ALiBi:不用位置编码也能外推

研究者提出了带线性偏置的注意力(Attention with Linear Biases,ALiBi)。ALiBi 的核心思想是在注意力分数上加一个与距离成正比的惩罚,而不是给词嵌入加位置编码。 实验表明,在长度为 1024 的序列上训练的 1.3B 模型,可以在 2048 的长度上推理,困惑度与在 2048 上训练的正弦位置编码模型相当,训练速度快了 11%,显存少用了 11%。 该方法只需要修改两行代码,并在三个基准上验证。 与此同时,ALiBi 的复杂度仍然是 $O(L^2)$。
"""


def _paper() -> Paper:
    articles = parse_text(ARTICLE, "alibi.txt")
    return Paper(name="ALiBi", articles=articles)


def test_term_pairs_with_english_and_abbreviation():
    sentences = split_sentences(_paper())
    pairs = {t.latin: t for t in find_term_pairs(sentences, load_vocabulary())}
    assert pairs["ALiBi"].full == "Attention with Linear Biases"
    assert pairs["ALiBi"].chinese == "带线性偏置的注意力"


def test_figures_find_results_not_references():
    found = [f.text for f in find_figures("如图 2 所示,在 2023 年的实验中,准确率提升了 57.25%,速度快 3 倍,FID 为 8.46。")]
    assert found == ["57.25%", "3 倍", "8.46"]
    assert [f.text for f in find_figures("对 Llama-2-13B 做了三轮微调,第 1 步")] == ["Llama-2-13B", "三轮微调"]
    assert [f.text for f in find_figures(r"复杂度从 \(O(L^2)\) 降到 \(O(L \log L)\)")] == [r"\(O(L^2)\)", r"\(O(L \log L)\)"]


def test_cards_cover_terms_figures_claims_and_stand_alone():
    deck = extract(_paper())
    kinds = {c.kind for c in deck.cards}
    assert {"term", "figure"} <= kinds and ({"claim", "definition"} & kinds)
    prompts = [c.prompt for c in deck.cards]
    assert len(prompts) == len(set(prompts)), "two cards ask the same thing"
    for card in deck.cards:
        assert card.source, card
        assert "ALiBi" in card.tags[1]
        if card.type == "cloze":
            assert re.search(r"\{\{c1::.+?\}\}", card.text)
            assert len(re.findall(r"\{\{c\d+::", card.text)) == 1  # one fact per card
    hidden = {m for c in deck.cards if c.type == "cloze" for m in re.findall(r"\{\{c1::(.+?)\}\}", c.text)}
    assert {"1.3B", "11%", r"\(O(L^2)\)"} <= hidden
    counts = {c.back for c in deck.cards if c.type == "qa" and c.kind == "figure"}
    assert {"两行代码（2）", "三个基准（3）"} <= counts


def test_ids_are_stable_and_independent_of_order():
    first = [c.id for c in extract(_paper()).cards]
    again = [c.id for c in extract(_paper()).cards]
    assert first == again and len(set(first)) == len(first)
    assert card_id("ALiBi", "term", "alibi") == card_id("alibi", "term", "alibi")
    assert card_id("ALiBi", "term", "alibi") != card_id("RoPE", "term", "alibi")


def test_a_corrected_number_keeps_the_figure_id():
    before = {c.text: c.id for c in extract(_paper()).cards if c.kind == "figure" and c.type == "cloze"}
    fixed = Paper(name="ALiBi", articles=parse_text(ARTICLE.replace("快了 11%", "快了 12%"), "alibi.txt"))
    after = {c.id for c in extract(fixed).cards if c.kind == "figure" and c.type == "cloze"}
    assert set(before.values()) == after
