"""Grounding, lenient on format and strict on substance: each rule as a card served by the loopback
server through the real openai client, and checked where it lands (the deck file)."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from fake_llm import FakeLLM

from deckgen.cli import cli
from deckgen.llm import ground, same_fact
from deckgen.llm.numbers import values
from deckgen.model import Card

ARTICLE = (
    "FlowNet 稀疏注意力新方法\n\n"
    "研究团队提出了 FlowNet,一种面向长文本的稀疏注意力(Sparse Attention)机制。"
    "FlowNet 把注意力的复杂度从 \\(N \\times N\\) 降到了线性,其中温度系数 \\(\\lambda\\) 设为 0.5。\n"
    "模型一共包含七个专家模块,每次只激活其中四分之一的参数。"
    "在 LongBench 上,FlowNet 的准确率达到 90.50%,比基线 Longformer 高 3.2 个百分点。\n"
    "训练数据约有 160 多亿个 token,推理速度提升了 1.5 倍。"
    "在 ZINC 上误差降低了 18.2%,在 QM9 上误差降低了 23.5%。"
    "作者认为,这种设计在更大的模型上同样有效。\n"
)
LONGBENCH = "在 LongBench 上,FlowNet 的准确率达到 90.50%,比基线 Longformer 高 3.2 个百分点。"

# (name, card): each must land although its format differs from the article's
GOOD = [
    ("latex-as-unicode", {"type": "cloze", "text": "FlowNet 把注意力的复杂度从 {{c1::N×N}} 降到了线性。",
                          "source": "FlowNet 把注意力的复杂度从 N×N 降到了线性"}),
    ("greek-letter", {"type": "qa", "front": "FlowNet 的温度系数 λ 设为多少?", "back": "0.5",
                      "source": "其中温度系数 λ 设为 0.5。"}),
    ("chinese-numeral", {"type": "qa", "front": "FlowNet 一共包含几个专家模块?", "back": "7 个",
                         "source": "模型一共包含七个专家模块,每次只激活其中四分之一的参数。"}),
    ("fraction", {"type": "cloze", "text": "FlowNet 每次只激活 {{c1::1/4}} 的参数。",
                  "source": "模型一共包含七个专家模块,每次只激活其中四分之一的参数。"}),
    ("trailing-zero", {"type": "qa", "front": "FlowNet 在 LongBench 上的准确率是多少?", "back": "90.5%",
                       "source": LONGBENCH}),
    ("approximate-scale", {"type": "qa", "front": "FlowNet 的训练数据约有多少 token?", "back": "16B",
                           "source": "训练数据约有 160 多亿个 token,推理速度提升了 1.5 倍。"}),
    ("times-as-x", {"type": "cloze", "text": "FlowNet 的推理速度提升了 {{c1::1.5x}}。",
                    "source": "训练数据约有 160 多亿个 token,推理速度提升了 1.5 倍。"}),
    ("elision", {"type": "qa", "front": "FlowNet 在 LongBench 上和哪个基线比较?", "back": "Longformer",
                 "source": "在 LongBench 上……比基线 Longformer 高 3.2 个百分点"}),
    ("cloze-in-source", {"type": "cloze", "text": "FlowNet 在 LongBench 上准确率达到 {{c1::90.50%}}。",
                         "source": "在 LongBench 上,FlowNet 的准确率达到 {{c1::90.50%}},比基线 Longformer 高 3.2 个百分点。"}),
    ("full-width", {"type": "qa", "front": "FlowNet 在 LongBench 上的准确率?", "back": "９０．５０％",
                    "source": "在ＬｏｎｇＢｅｎｃｈ上，ＦｌｏｗＮｅｔ的准确率达到９０．５０％，比基线Ｌｏｎｇｆｏｒｍｅｒ高３．２个百分点。"}),
    ("digit-in-question", {"type": "qa", "front": "FlowNet 比 Longformer 高 3.2 个百分点,它在 LongBench 上的准确率是多少?",
                           "back": "90.50%", "source": LONGBENCH}),
    ("short-clause-of-names", {"type": "qa", "front": "FlowNet 在 ZINC 上误差降低了多少?", "back": "18.2%",
                               "source": "在 ZINC 上误差降低了 18.2%"}),
    ("slip-in-source", {"type": "qa", "front": "FlowNet 一共包含几个专家模块?", "back": "七个",
                        "source": "模型共包含七个专家模块,每次只激活其中四分之一参数。"}),
    ("term-card", {"type": "term", "front": "Sparse Attention", "back": "稀疏注意力",
                   "source": "研究团队提出了 FlowNet,一种面向长文本的稀疏注意力(Sparse Attention)机制。"}),
]

# (name, card, reason): each must be dropped, with this reason
BAD = [
    ("swapped-number", {"type": "qa", "front": "FlowNet 在 QM9 上误差降低了多少?", "back": "18.2%",
                        "source": "在 ZINC 上误差降低了 18.2%,在 QM9 上误差降低了 23.5%。"}, "swapped number"),
    ("number-from-another-sentence", {"type": "qa", "front": "FlowNet 的推理速度提升了多少?", "back": "0.5 倍",
                                      "source": "训练数据约有 160 多亿个 token,推理速度提升了 1.5 倍。"},
     "stands in another sentence"),
    ("term-from-another-sentence", {"type": "qa", "front": "FlowNet 的误差在哪个数据集上降低了 23.5%?",
                                    "back": "LongBench", "source": "在 ZINC 上误差降低了 18.2%,在 QM9 上误差降低了 23.5%。"},
     "stands in another sentence"),
    ("bare-name-source", {"type": "term", "front": "FlowNet", "back": "稀疏注意力机制", "source": "FlowNet"},
     "bare name"),
    ("bare-term-source", {"type": "term", "front": "Sparse Attention", "back": "稀疏注意力",
                          "source": "稀疏注意力(Sparse Attention)"}, "bare name"),
    ("invented-number", {"type": "cloze", "text": "FlowNet 在 LongBench 上准确率达到 {{c1::91.3%}}。", "source": LONGBENCH},
     "the number 91.3 is not in the article"),
    ("slipped-source-with-a-swapped-number", {"type": "qa", "front": "FlowNet 在 QM9 上误差降低了多少?", "back": "18.2%",
                                              "source": "在 ZINC 上误差降低 18.2%,在 QM9 上误差降低了 23.5%"},
     "swapped number"),
    ("invented-source", {"type": "qa", "front": "FlowNet 用在哪个任务上?", "back": "机器翻译",
                         "source": "FlowNet 在机器翻译任务上取得了最好成绩。"}, "not in the article"),
]


@pytest.fixture(scope="module")
def server():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


def refine_one(tmp_path, server, card: dict) -> tuple[list[dict], str]:
    """Build the article with a model that writes exactly `card` (and says nothing about the candidates)."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "flownet.txt").write_text(ARTICLE, encoding="utf-8")
    server.respond = lambda body: {"cards": [card]}
    try:
        result = CliRunner().invoke(cli, [
            "build", str(tmp_path / "articles"), "-o", str(tmp_path / "out.apkg"), "--decks-dir", str(tmp_path / "decks"),
            "--llm", "--base-url", server.url, "--cache", str(tmp_path / "cache.sqlite"), "-v"], catch_exceptions=False)
    finally:
        server.respond = None
    assert result.exit_code == 0, result.output
    [deck] = (tmp_path / "decks").glob("*.yaml")
    return yaml.safe_load(deck.read_text(encoding="utf-8"))["cards"], result.output


@pytest.mark.parametrize("card", [c for _, c in GOOD], ids=[n for n, _ in GOOD])
def test_a_card_formatted_differently_from_the_article_lands(tmp_path, server, card):
    cards, output = refine_one(tmp_path, server, card)
    [landed] = [c for c in cards if c["kind"] == "llm"]
    assert landed.get("text") == card.get("text") and landed.get("back") == card.get("back")
    assert landed["source"] in ARTICLE  # the article's own sentence, whatever the model copied
    assert "1 model card in the deck files" in output


@pytest.mark.parametrize(("card", "reason"), [(c, r) for _, c, r in BAD], ids=[n for n, _, _ in BAD])
def test_a_card_wrong_in_substance_is_dropped(tmp_path, server, card, reason):
    cards, output = refine_one(tmp_path, server, card)
    assert not any(c["kind"] == "llm" for c in cards)
    assert reason in output and "0 model cards in the deck files" in output


@pytest.mark.parametrize(
    ("a", "b"),
    [("七", "7"), ("四分之一", "1/4"), ("90.50%", "90.5%"), ("160 多亿", "16B"), ("1.5x", "1.5 倍"),
     ("１,０００", "1000"), ("1200 万", "12M"), ("百分之三十", "30%")],
)
def test_the_same_number_written_two_ways(a, b):
    assert values(a, strict_chinese=True) & values(b, strict_chinese=True)


def test_chinese_words_with_numerals_are_not_numbers_in_an_answer():
    assert values("一致性", strict_chinese=True) == set() and values("统一", strict_chinese=True) == set()


def test_duplicates_need_the_same_sentence_not_only_the_same_answer():
    def cloze(answer: str, source: str) -> Card:
        return Card("x", "cloze", "figure", text=source.replace(answer, "{{c1::" + answer + "}}"), source=source)

    a = "在 ZINC 上误差降低了 3%。"
    b = "推理速度提升了 3%,显存占用也更低。"
    assert not same_fact(cloze("3%", a), cloze("3%", b))  # the same number on two sentences: two facts
    qa = Card("y", "qa", "llm", front="ZINC 上误差降低了多少?", back="3%", source="在ZINC上误差降低了3%")
    assert same_fact(cloze("3%", a), qa)  # one source inside the other, the same answer


def test_ids_do_not_depend_on_how_the_source_was_copied():
    first = ground(GOOD[4][1], "FlowNet", ARTICLE)
    second = ground({**GOOD[4][1], "source": "FlowNet 的准确率达到 90.50%"}, "FlowNet", ARTICLE)
    assert not isinstance(first, str) and not isinstance(second, str) and first.id == second.id
