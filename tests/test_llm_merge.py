"""The model's cards are the user's once written, and the model's choices are followed: merge rules,
re-rolls, empty and failed replies, keep/drop by id — through the loopback server and the CLI."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from fake_llm import FakeLLM, candidates_of, user_message

from deckgen.cli import cli
from deckgen.extract import RULES_VERSION
from deckgen.merge import State, merge
from deckgen.model import Card, Deck

ARTICLE = (
    "TinyDiff 扩散模型蒸馏\n\n"
    "研究者提出了 TinyDiff,一种把扩散模型蒸馏成少步采样器的方法。"
    "TinyDiff 只需要 4 步采样就能生成高质量图像。"
    "在 ImageNet 上,TinyDiff 的 FID 为 2.9,比教师模型只差 0.3。\n"
    "蒸馏过程在 8 张 A100 上训练了 36 小时。"
    "研究者发现,渐进式蒸馏比一次性蒸馏更稳定。"
    "作者表明,这种蒸馏方式同样适用于视频扩散模型。\n"
)
SENTENCES = ["TinyDiff 只需要 4 步采样就能生成高质量图像。", "在 ImageNet 上,TinyDiff 的 FID 为 2.9,比教师模型只差 0.3。",
             "蒸馏过程在 8 张 A100 上训练了 36 小时。"]
MODEL_CARDS = [
    {"type": "qa", "front": "TinyDiff 需要几步采样?", "back": "4 步", "source": SENTENCES[0]},
    {"type": "cloze", "text": "TinyDiff 在 ImageNet 上的 FID 为 {{c1::2.9}}。", "source": SENTENCES[1]},
    {"type": "qa", "front": "TinyDiff 的蒸馏在多少张 A100 上训练?", "back": "8 张", "source": SENTENCES[2]},
    {"type": "qa", "front": "TinyDiff 蒸馏训练了多久?", "back": "36 小时", "source": SENTENCES[2]},
]


@pytest.fixture
def server():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


def write_article(tmp_path, text: str = ARTICLE):
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "tinydiff.txt").write_text(text, encoding="utf-8")


def run(tmp_path, *extra: str, code: int = 0) -> str:
    args = ["build", str(tmp_path / "articles"), "-o", str(tmp_path / "out.apkg"), "--decks-dir", str(tmp_path / "decks"),
            *extra]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def refine(tmp_path, server, *extra: str, code: int = 0) -> str:
    return run(tmp_path, "--llm", "--base-url", server.url, "--cache", str(tmp_path / "cache.sqlite"), "-v", *extra,
               code=code)


def cards(tmp_path) -> list[dict]:
    return yaml.safe_load((tmp_path / "decks" / "TinyDiff.yaml").read_text(encoding="utf-8"))["cards"]


def model_ids(tmp_path) -> dict[str, dict]:
    return {c["id"]: c for c in cards(tmp_path) if c["kind"] == "llm"}


def first_run(tmp_path, server) -> dict[str, dict]:
    write_article(tmp_path)
    # the model drops every candidate: a later reply that says nothing must not bring one back
    server.respond = lambda body: {"cards": MODEL_CARDS, "drop": [c.id for c in candidates_of(user_message(body))]}
    refine(tmp_path, server)
    written = model_ids(tmp_path)
    assert len(written) == 4
    return written


def test_an_empty_reply_after_a_cache_miss_loses_no_model_card(tmp_path, server, anki):
    written = first_run(tmp_path, server)
    before = cards(tmp_path)
    server.respond = lambda body: {"cards": []}
    output = refine(tmp_path, server, "--model", "another-model")  # a new model: the cache misses
    assert len(server.requests) == 2
    assert cards(tmp_path) == before and "removed" not in output and "TinyDiff:" not in output and "0 new · 0 updated" in output
    anki.import_package(tmp_path / "out.apkg")
    assert not anki.notes("tag:deckgen::stale") and {n.guid for n in anki.notes("tag:llm")} == set(written)


def test_a_failed_reply_changes_nothing(tmp_path, server):
    first_run(tmp_path, server)
    before = cards(tmp_path)
    (tmp_path / "work" / "deckgen.yaml").write_text("llm:\n  max_retries: 0\n", encoding="utf-8")
    server.script.append(("status", 500, {}))
    output = refine(tmp_path, server, "--model", "another-model", code=1)
    assert "TinyDiff keeps its rule-based cards" in output and cards(tmp_path) == before


def test_a_reroll_that_omits_and_rewords_keeps_every_card_and_id(tmp_path, server):
    written = first_run(tmp_path, server)
    reworded = [
        {"type": "qa", "front": "TinyDiff 只需要多少步采样?", "back": "4 步", "source": SENTENCES[0]},  # same fact
        {"type": "cloze", "text": "在 ImageNet 上 TinyDiff 达到了 {{c1::2.9}} 的 FID。", "source": SENTENCES[1]},
    ]  # the two A100 cards are left out
    server.respond = lambda body: {"cards": reworded}
    output = refine(tmp_path, server, "--model", "another-model")
    now = model_ids(tmp_path)
    assert set(now) == set(written) and "removed" not in output
    assert {c.get("front") or c.get("text") for c in now.values()} >= {r.get("front") or r.get("text") for r in reworded}


def test_a_model_card_leaves_only_when_its_sentence_does(tmp_path, server):
    written = first_run(tmp_path, server)
    write_article(tmp_path, ARTICLE.replace(SENTENCES[2], ""))
    output = run(tmp_path)  # no --llm: the model is not asked at all
    now = model_ids(tmp_path)
    gone = {i for i, c in written.items() if c["source"] == SENTENCES[2]}
    assert len(gone) == 2 and set(now) == set(written) - gone
    assert "its sentence is gone from the article" in output


def test_keep_and_drop_by_id(tmp_path, server, anki):
    write_article(tmp_path)
    run(tmp_path)
    rule_cards = cards(tmp_path)
    anki.import_package(tmp_path / "out.apkg")
    seen = {}

    def decide(body):
        shown = candidates_of(user_message(body))
        seen["candidates"] = shown
        return {"keep": [c.id for c in shown[1:]], "drop": [shown[0].id], "cards": []}

    server.respond = decide
    output = refine(tmp_path, server)
    shown = seen["candidates"]
    assert len(shown) == len(rule_cards)  # every candidate was shown, numbered
    # each sentence once: the candidates point at numbered sentences instead of repeating them
    user = user_message(server.requests[0])
    assert all(user.count(c.sentence) == 2 for c in shown)  # in the article and once in the sentence list
    after = {c["id"] for c in cards(tmp_path)}
    dropped = rule_cards[0]["id"]
    assert dropped not in after and {c["id"] for c in rule_cards[1:]} <= after
    assert f"removed {dropped}" in output and "dropped by the model" in output
    anki.import_package(tmp_path / "out.apkg")
    assert [n.guid for n in anki.notes("tag:deckgen::stale")] == [dropped]


LONGER = (
    "PixelMix 图像生成新方法\n\n"
    "研究者提出了 PixelMix,一种把像素空间扩散与潜空间扩散结合起来的图像生成方法(Hybrid Diffusion)。\n"
    "PixelMix 的核心思想是先在低分辨率潜空间中生成全局结构,再在像素空间中补充细节。\n"
    "在 ImageNet 256×256 上,PixelMix 的 FID 达到 1.8,比 DiT-XL 低 0.5。\n"
    "PixelMix 的参数量为 675M,训练只用了 400K 步。\n"
    "研究者发现,两阶段采样让高频纹理更加清晰,同时减少了 40% 的采样时间。\n"
    "与 Stable Diffusion 相比,PixelMix 在文本渲染上的准确率提升了 12 个百分点。\n"
    "作者认为,这种混合设计的关键在于两个空间之间的对齐损失。\n"
    "消融实验表明,去掉对齐损失后 FID 会上升到 3.1。\n"
)


def test_deleting_one_sentence_keeps_the_cards_of_the_others(tmp_path):
    write_article(tmp_path, LONGER)
    run(tmp_path)
    deck = tmp_path / "decks" / "PixelMix.yaml"
    before = yaml.safe_load(deck.read_text(encoding="utf-8"))["cards"]
    gone = "PixelMix 的参数量为 675M,训练只用了 400K 步。"
    others = [c for c in before if gone not in c.get("source", "")]
    assert len(others) >= 3 and len(others) < len(before)
    write_article(tmp_path, LONGER.replace(gone, ""))  # a shorter article: the rules may choose other cards
    output = run(tmp_path)
    after = {c["id"] for c in yaml.safe_load(deck.read_text(encoding="utf-8"))["cards"]}
    assert {c["id"] for c in others} <= after
    assert all(c["id"] not in after for c in before if gone in c.get("source", ""))
    assert "its sentence is gone from the article" in output


# ---------------------------------------------------------------- merge() rules, one by one


def rule(n: int, source: str, kind: str = "claim") -> Card:
    return Card(f"{kind}-{n}", "cloze", kind, text=source.replace("蒸馏", "{{c1::蒸馏}}", 1), source=source)


def llm_card(n: int, source: str) -> Card:
    return Card(f"llm-{n}", "qa", "llm", front=f"问题 {n}?", back="蒸馏", source=source)


def first_merge(cards: list[Card]) -> tuple[Deck, State]:
    state = State()
    deck, _, _ = merge(Deck("P", cards), None, state, lambda c: True)
    return deck, state


S1, S2, S3 = "研究者提出了一种新的蒸馏方法。", "渐进式蒸馏比一次性蒸馏更稳定。", "这种蒸馏方式同样适用于视频。"


def test_merge_llm_card_not_reproposed_stays_while_its_source_is_present():
    deck, state = first_merge([llm_card(1, S1), llm_card(2, S2)])
    merged, changes, stale = merge(Deck("P", []), deck, state, lambda c: c.source != S2, model_dropped=set())
    assert [c.id for c in merged.cards] == ["llm-1"] and [c.id for c in stale] == ["llm-2"]
    assert changes.removed_why == {"llm-2": "its sentence is gone from the article"}


def test_merge_rule_card_dropped_by_the_model_leaves_even_with_its_source():
    deck, state = first_merge([rule(1, S1), rule(2, S2)])
    merged, changes, stale = merge(Deck("P", []), deck, state, lambda c: True, model_dropped={"claim-2"})
    assert [c.id for c in merged.cards] == ["claim-1"] and [c.id for c in stale] == ["claim-2"]
    assert changes.removed_why["claim-2"] == "dropped by the model"


def test_merge_rule_card_of_older_rules_leaves():
    deck, state = first_merge([rule(1, S1), rule(2, S2)])
    assert state.cards["claim-1"]["rules"] == RULES_VERSION
    state.cards["claim-2"]["rules"] = RULES_VERSION - 1  # generated before an upgrade of the rules
    merged, changes, stale = merge(Deck("P", [rule(1, S1)]), deck, state, lambda c: True)
    assert [c.id for c in merged.cards] == ["claim-1"] and [c.id for c in stale] == ["claim-2"]
    assert "extraction rules" in changes.removed_why["claim-2"]


def test_merge_rule_card_not_reproposed_stays_while_its_source_is_present():
    deck, state = first_merge([rule(1, S1), rule(2, S2)])
    merged, _, stale = merge(Deck("P", [rule(1, S1)]), deck, state, lambda c: c.source != S3)
    assert [c.id for c in merged.cards] == ["claim-1", "claim-2"] and not stale


def test_merge_an_edited_card_whose_source_is_gone_stays_tagged():
    deck, state = first_merge([rule(1, S1)])
    deck.cards[0].text += "（我的笔记）"
    merged, changes, stale = merge(Deck("P", []), deck, state, lambda c: False)
    assert merged.cards[0].text.endswith("（我的笔记）") and "deckgen::stale" in merged.cards[0].tags and not stale


def test_merge_new_rule_cards_fill_only_the_room_the_budget_leaves():
    deck, state = first_merge([rule(1, S1)])
    fresh = Deck("P", [rule(1, S1), rule(2, S2), rule(3, S3), llm_card(4, S3), llm_card(5, S2)], budget=2)
    merged, changes, _ = merge(fresh, deck, state, lambda c: True)
    assert [c.id for c in merged.cards] == ["claim-1", "claim-2", "llm-4", "llm-5"]  # claim-3: no room
    new_deck, _, _ = merge(Deck("Q", [rule(1, S1), rule(2, S2), rule(3, S3)], budget=1), None, State(), lambda c: True)
    assert [c.id for c in new_deck.cards] == ["claim-1"]


def test_merge_a_rule_card_a_model_card_already_asks_is_not_added():
    deck, state = first_merge([Card("llm-9", "qa", "llm", front="什么方法?", back="蒸馏", source=S1)])
    merged, _, _ = merge(Deck("P", [Card("claim-1", "qa", "claim", front="提出了什么?", back="蒸馏", source=S1)]),
                         deck, state, lambda c: True)
    assert [c.id for c in merged.cards] == ["llm-9"]


def test_merge_a_candidate_the_model_dropped_comes_back_only_when_it_keeps_it():
    from deckgen.merge import mark_model_dropped

    deck, state = first_merge([rule(1, S1)])
    mark_model_dropped(state, "P", ["claim-2"])
    fresh = Deck("P", [rule(1, S1), rule(2, S2)])
    merged, _, _ = merge(fresh, deck, state, lambda c: True, model_dropped=set())
    assert [c.id for c in merged.cards] == ["claim-1"]
    merged, _, _ = merge(fresh, deck, state, lambda c: True, model_dropped=set(), model_kept={"claim-2"})
    assert [c.id for c in merged.cards] == ["claim-1", "claim-2"] and "model_dropped" not in state.cards["claim-2"]
