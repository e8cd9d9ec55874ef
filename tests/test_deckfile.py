from __future__ import annotations

import pytest

from deckgen.deckfile import dump_deck, parse_deck
from deckgen.errors import DeckFileError
from deckgen.model import Card, Deck


def _deck() -> Deck:
    return Deck(
        paper="Informer",
        title="长序列预测",
        links=["https://arxiv.org/abs/2012.07436"],
        sources=["a.txt"],
        cards=[
            Card(id="term-1", type="term", kind="term", front="ProbSparse", back="概率稀疏自注意力", source="句子。"),
            Card(id="figure-1", type="cloze", kind="figure", text="复杂度为 {{c1::\\(O(L \\log L)\\)}}。" * 3,
                 source="复杂度为 \\(O(L \\log L)\\)。", tags=["deckgen", "figure"]),
        ],
    )


def test_round_trip_keeps_everything_and_chinese_is_readable():
    text = dump_deck(_deck())
    assert "概率稀疏自注意力" in text and "\\u" not in text
    assert "text: |-" in text  # long text as a block scalar
    assert parse_deck(text, "d.yaml") == _deck()


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("paper: X\ncards:\n- id: a\n  type: qa\n  front: Q\n", "cards[0].back: missing"),
        ("paper: X\ncards:\n- id: a\n  type: cloze\n  text: no deletion here\n", "cards[0].text: a cloze card needs"),
        ("paper: X\ncards:\n- id: a\n  type: qa\n  front: Q\n  back: A\n  colour: red\n", "unknown key 'colour'"),
        ("paper: X\ncards:\n- {id: a, type: qa, front: Q, back: A}\n- {id: a, type: qa, front: R, back: B}\n",
         "cards[1].id: 'a' is also the id of cards[0]"),
        ("paper: X\ncards:\n- id: a\n  type: essay\n", "cards[0].type: 'essay'"),
        ("cards: []\n", "paper: missing"),
        ("paper: [unclosed\n", "line 2: not valid YAML"),
        ("", "expected a mapping"),
    ],
)
def test_schema_errors_name_the_file_and_the_card(yaml_text, message):
    with pytest.raises(DeckFileError) as info:
        parse_deck(yaml_text, "decks/x.yaml")
    assert str(info.value).startswith("decks/x.yaml")
    assert message in str(info.value)
