from __future__ import annotations

import codecs

import pytest

from deckgen.dedupe import dedupe
from deckgen.errors import InputError
from deckgen.ingest import decode, identify_paper, ingest, parse_text, split_glued_heading, to_mathjax
from deckgen.model import Article

CHINESE = "研究者提出了一种新的注意力机制,把计算复杂度从平方降低到线性。"


@pytest.mark.parametrize(
    "data",
    [
        CHINESE.encode("utf-8"),
        codecs.BOM_UTF8 + CHINESE.encode("utf-8"),
        CHINESE.encode("gbk"),
        CHINESE.encode("gb18030"),
        CHINESE.encode("utf-16"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16"],
)
def test_decode_detects_encodings(data):
    assert decode(data, "x.txt") == CHINESE


def test_decode_rejects_binary():
    with pytest.raises(InputError, match="x.bin: not a text file"):
        decode(bytes(range(256)) * 4 + b"\x00\x00\x89PNG", "x.bin")


def test_multi_article_file_splits_on_titles(data_dir):
    articles = parse_text((data_dir / "digest.txt").read_text(encoding="utf-8"), "digest.txt")
    assert [a.title for a in articles] == [
        "稀疏专家:Switch Transformer 如何把参数做到万亿",
        "会思考的提示:思维链为何能提升推理",
    ]
    assert all(a.paragraphs for a in articles)


def test_boilerplate_references_and_read_more_are_removed(data_dir):
    text = "\n".join(
        a.text for a in parse_text((data_dir / "digest.txt").read_text(encoding="utf-8"), "digest.txt")
    )
    assert "参考文献" not in text and "Fedus" not in text
    assert "Read more" not in text and "涌现" not in text  # the truncated sentence goes with its marker
    assert "57%" in text


def test_wechat_repost_is_cleaned_and_linked(data_dir):
    [article] = parse_text((data_dir / "wechat.txt").read_text(encoding="utf-8"), "wechat.txt")
    text = article.text
    for junk in ("微信", "右上角", "浏览器", "来源", "发布人", "声明", "侵权", "@example.com", "小编"):
        assert junk not in text, junk
    assert article.links == ["https://arxiv.org/abs/2304.02643"]
    assert article.paper_title == "Segment Anything"
    assert "SA-1B" in text


def test_markdown_splits_only_on_top_headings():
    md = "# 第一篇:ALiBi\n\nALiBi 用线性偏置代替位置编码,让模型外推到更长序列。\n\n## 实验\n\n在 1K 上训练,在 2K 上测试。\n"
    [article] = parse_text(md + "\n", "one.md")
    assert article.title == "第一篇:ALiBi"
    two = parse_text(md + "\n# 第二篇:RoPE\n\nRoPE 用旋转矩阵编码相对位置,是很多开源大模型的默认选择,外推时常配合插值使用。\n", "two.md")
    assert [a.title for a in two] == ["第一篇:ALiBi", "第二篇:RoPE"]


def test_mathjax_conversion():
    assert to_mathjax("复杂度为 $O(L^2)$,公式 $$a+b$$") == r"复杂度为 \(O(L^2)\),公式 \[a+b\]"
    assert to_mathjax("价格 $5 和 $10") == "价格 $5 和 $10"


def _article(text: str, title: str | None = None, paper_title: str | None = None) -> Article:
    return Article(source="t", title=title, paragraphs=[text], paper_title=paper_title)


def test_identify_paper_prefers_the_dominant_specific_name():
    text = "Punica 是一个服务系统。" * 3 + "它同时服务很多 LoRA 模型,LoRA 模型很小,LoRA 很流行。" * 2
    assert identify_paper(_article(text, title="LoRA 大混战:看 Punica 如何服务")) == "Punica"


def test_identify_paper_uses_the_named_paper_and_falls_back_to_title():
    text = "MidReal 是一个应用,MidReal 很好玩,MidReal 会写小说。它基于 FireAct,FireAct 微调了智能体。"
    assert identify_paper(_article(text, paper_title="FireAct:Toward Language Agent Fine-tuning")) == "FireAct"
    plain = "生成模型在合成数据上迭代训练,可能会逐渐崩溃。"
    assert identify_paper(_article(plain, title="合成数据的循环游戏")) == "合成数据的循环游戏"


def test_identify_paper_accepts_a_general_method_named_in_the_title():
    text = "DDPM 是扩散模型。DDPM 逐步去噪。DDPM 的 FID 很低。GAN 曾经领先。"
    assert identify_paper(_article(text, title="从噪声到图像:DDPM 的故事")) == "DDPM"


def test_near_duplicates_collapse_but_different_articles_stay():
    a = _article("扩散模型通过逐步去噪生成图像,在 CIFAR10 上取得了 3.17 的 FID。" * 5)
    b = _article(a.text + "(转载)")
    c = _article("思维链提示让大模型写出中间步骤,在 GSM8K 上准确率达到 57%。" * 5)
    kept, dropped = dedupe([a, b, c])
    assert dropped == 1 and len(kept) == 2


def test_ingest_skips_bad_inputs_and_keeps_going(tmp_path, data_dir):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    result = ingest([str(tmp_path / "empty.txt"), str(tmp_path / "binary.txt"), str(tmp_path / "missing.txt"),
                     str(data_dir / "wechat.txt")])
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in result.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "missing.txt"}
    assert "no such file" in reasons["missing.txt"]
    assert [p.name for p in result.papers] == ["SAM"] or len(result.papers) == 1


def test_two_articles_about_one_paper_share_a_deck(data_dir):
    one = "LoRA 冻结预训练权重。LoRA 只训练低秩矩阵。LoRA 不增加推理延迟。LoRA 很省显存。"
    two = "很多人用 LoRA 微调大模型。LoRA 的秩可以很小。LoRA 能合并回原权重。LoRA 省钱。"
    articles = parse_text(f"LoRA 入门\n\n{one}\n\nLoRA 再谈\n\n{two}\n", "x.txt")
    from deckgen.ingest import group_by_paper

    papers = group_by_paper(articles)
    assert len(papers) == 1 and len(papers[0].articles) == 2


@pytest.mark.parametrize(
    "paragraph, heading",
    [
        ("扩散过程的两个阶段 DDPM 的前向过程逐步向图像加入高斯噪声。", "扩散过程的两个阶段"),
        ("3.1 低秩分解 LoRA 只训练两个小矩阵，参数量大幅下降。", "3.1 低秩分解"),
        ("研究者采用 LoRA 对模型进行微调，显存占用大幅下降。", None),  # a verb waiting for its object
        ("作者比较了四个 GPT 系列的模型，结论一致。", None),  # running prose: 了, a count
        ("本文介绍《LoRA: Low-Rank Adaptation》这篇论文的主要贡献。", None),
    ],
)
def test_a_heading_glued_to_a_sentence_is_split_off(paragraph, heading):
    parts = split_glued_heading(paragraph)
    assert parts == ([heading, paragraph[len(heading) :].strip()] if heading else [paragraph])
