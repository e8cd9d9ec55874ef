from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- every shape the reader accepts survives a rewrite (issue 10, item 5)

ACCEPTED = [
    # (what a user may write, what it means)
    ("sources: a.txt\nlinks: https://x.org/1\n", {"sources": ["a.txt"], "links": ["https://x.org/1"]}),
    ("cards:\n- {type: qa, front: yes, back: 1.10, id: 010}\n", {"front": "yes", "back": "1.10", "id": "010"}),
    ("cards:\n- {type: qa, front: 2017, back: 'on'}\n", {"front": "2017", "back": "on"}),
    ("cards:\n- {type: cloze, text: '{{c1::8}} 个头', extra: ~, tags: deckgen}\n", {"tags": ["deckgen"]}),
    ("title: null\ndeleted: term-1\ncards: []\n", {"deleted": ["term-1"], "title": None}),
]


@pytest.mark.parametrize("body, meaning", ACCEPTED)
def test_every_accepted_shape_round_trips(body, meaning):
    deck = parse_deck("paper: 2023\n" + body, "d.yaml")
    assert deck.paper == "2023"
    for key, value in meaning.items():
        holder = deck if hasattr(deck, key) else deck.cards[0]
        assert getattr(holder, key) == value
    again = parse_deck(dump_deck(deck), "d.yaml")
    assert again == deck
    assert dump_deck(again) == dump_deck(deck)


@pytest.mark.parametrize(
    "body, message",
    [
        ("cards:\n- {type: qa, front: Q, back: A, extra: note}\n", "cards[0].extra: a qa card has no extra"),
        ("cards:\n- {type: term, front: Q, back: A, text: T}\n", "cards[0].text: a term card has no text"),
        ("cards:\n- {type: cloze, text: '{{c1::a}}', front: F}\n", "cards[0].front: a cloze card has no front"),
        ("cards:\n- {type: qa, front: !!float 1.10, back: A}\n", "cards[0].front: must be text"),
        ("sources: [[a.txt]]\n", "sources: must be a list of text items"),
        ("title: [a, b]\n", "title: must be text"),
        ("cards: []\npaper: Y\n", "the key 'paper' is written twice"),
        ("links: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100 levels"),
        ("title: " + "{a: " * 60000 + "b" + "}" * 60000 + "\n", "nested more than 100 levels"),  # segfaulted libyaml
        ("x0: &a [q, q, q, q, q, q, q, q, q]\nlinks: [*a, *a, *a]\n", "unknown key 'x0'"),
        ("links: [&a [q, q, q, q, q, q, q, q], &b [*a, *a, *a, *a, *a, *a, *a, *a], [*b, *b, *b, *b, *b, *b]]\n",
         "links: must be a list of text items"),
    ],
)
def test_shapes_that_would_be_lost_on_rewrite_are_refused(body, message):
    with pytest.raises(DeckFileError) as info:
        parse_deck("paper: X\n" + body, "decks/x.yaml")
    assert str(info.value).startswith("decks/x.yaml") and message in str(info.value)


text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)


@st.composite
def cards(draw):
    kind = draw(st.sampled_from(["qa", "term", "cloze"]))
    common = {
        "id": draw(st.one_of(st.just(""), text.map(str.strip))),
        "kind": draw(text),
        "source": draw(st.one_of(st.just(""), text)),
        "tags": draw(st.lists(text, max_size=3)),
    }
    if kind == "cloze":
        return Card(type="cloze", text=draw(text) + "{{c1::" + draw(text).replace("}", "") + "}}", extra=draw(st.one_of(st.just(""), text)), **common)
    return Card(type=kind, front=draw(text), back=draw(text), **common)


@given(
    paper=text.map(str.strip),
    title=st.one_of(st.none(), text),
    links=st.lists(text, max_size=2),
    deleted=st.lists(text, max_size=2),
    body=st.lists(cards(), max_size=4, unique_by=lambda c: c.id or object()),
)
@settings(max_examples=300, deadline=None)
def test_random_decks_round_trip(paper, title, links, deleted, body):
    deck = Deck(paper=paper, title=title, links=links, sources=links[::-1], cards=body, deleted=deleted)
    assert parse_deck(dump_deck(deck), "d.yaml") == deck
