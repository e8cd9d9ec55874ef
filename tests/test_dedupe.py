"""De-duplication: the sketch only picks candidates, so it must find exactly what comparing every pair finds."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from deckgen.dedupe import _shingles, dedupe
from deckgen.model import Article

WORDS = ["模型", "训练", "数据", "注意力", "参数", "推理", "显存", "梯度", "损失", "结果", "实验", "方法", "提出", "使用", "提升", "降低", "我们", "论文", "任务", "性能"]


def corpus(seed: int = 11, originals: int = 120) -> list[Article]:
    """Random articles plus planted copies with a few, many or very many characters changed."""
    rng = random.Random(seed)
    arts = []
    for i in range(originals):
        body = "".join(rng.choice(WORDS) + ("。" if rng.random() < 0.1 else "") for _ in range(rng.randint(40, 400)))
        arts.append(Article(source=f"a{i}.txt", title=f"标题{i}", paragraphs=[body]))
    for original in rng.sample(arts, 50):
        text = original.text
        for _ in range(rng.choice([0, 2, 10, 40, 120])):
            pos = rng.randrange(len(text))
            text = text[:pos] + rng.choice("的了在是") + text[pos + 2 :]
        if rng.random() < 0.5:
            text += "转载请注明出处。"
        arts.append(Article(source="copy.txt", title=original.title, paragraphs=[text]))
    rng.shuffle(arts)
    return arts


def reference(articles: list[Article], threshold: float = 0.8) -> list[Article]:
    """The same rule comparing every pair: the first kept twin wins and keeps the longer text."""
    kept: list[Article] = []
    for art in articles:
        mine = _shingles(art.text)
        for i, other in enumerate(kept):
            theirs = _shingles(other.text)
            if len(mine & theirs) / len(mine | theirs) >= threshold:
                if len(art.text) > len(other.text):
                    kept[i] = art
                break
        else:
            kept.append(art)
    return kept


def test_finds_exactly_the_pairs_an_all_pairs_comparison_finds():
    arts = corpus()
    kept, dropped = dedupe(arts)
    expected = reference(arts)
    assert [a.text for a in kept] == [a.text for a in expected]
    assert dropped == len(arts) - len(expected)
    assert 20 < dropped < 50  # planted copies with few edits are twins, heavily edited ones are not


def test_short_near_duplicates_are_found():
    a = Article("a", None, ["低秩适应把权重更新写成两个小矩阵的乘积，训练参数减少一万倍。"])
    b = Article("b", None, ["低秩适应把权重更新写成两个小矩阵的乘积，训练参数减少一万倍！"])
    c = Article("c", None, ["扩散模型逐步加噪再学习去噪，生成质量超过了对抗网络。"])
    kept, dropped = dedupe([a, b, c])
    assert dropped == 1 and [k.source for k in kept] == ["a", "c"]


SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_dedupe import corpus
from deckgen.dedupe import dedupe
kept, dropped = dedupe(corpus(seed=5))
print(json.dumps([k.source + k.text[:20] for k in kept]))
"""


def test_same_result_in_every_process():
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = SCRIPT.format(tests=os.path.dirname(__file__))
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) < 170
