"""Deck names: the method the article is about; never a venue, metric, dataset, organisation or a cut word."""

from __future__ import annotations

import pytest

from deckgen.ingest import identify_paper
from deckgen.ingest.naming import shorten
from deckgen.ingest.noise import is_boilerplate, looks_like_code, looks_like_heading
from deckgen.model import Article


def _article(text: str, title: str | None = None, paper_title: str | None = None) -> Article:
    return Article(source="t", title=title, paragraphs=[text], paper_title=paper_title)


@pytest.mark.parametrize(
    "title, text, paper_title, name",
    [
        # the name that opens the title, before a colon
        ("GateNet：给注意力装上门控", "GateNet 加了门控单元。它在长文本上更稳。", None, "GateNet"),
        # a name inside the title that the text keeps using, even when a metric is more frequent
        ("目标检测新标杆之 SwiftDet 解析",
         "SwiftDet 的 AP 达到 56.8。AP 比基线高 2 个点,AP 在小目标上也更高,AP 提升明显。SwiftDet 很快。", None, "SwiftDet"),
        # a venue in the title is not the paper
        ("CVPR 2024 如何理解门控注意力中的温度",
         "温度控制了门控的软硬程度。温度越低,门控越接近二值。", None, "CVPR 2024 如何理解门控注意力中的温度"),
        # a paper named in its title metadata: the name before its colon, generic or not
        (None, "LoRA 冻结原权重。LoRA 只训练两个小矩阵。", "LoRA: Low-Rank Adaptation of Large Language Models", "LoRA"),
        # the paper's acronym when the text uses it
        ("扩散模型必读论文(一)", "DDPM 逐步去噪。DDPM 的训练目标很简单。",
         "Denoising Diffusion Probabilistic Models", "DDPM"),
        # a generic abbreviation is not a paper: an article about RLHF in general is named by its title
        ("一文看懂基于人类反馈的强化学习",
         "RLHF 先训练 RM,再用 PPO 优化策略。RM 给回答打分,RM 的好坏决定了 RLHF 的上限。RM 很关键。", None,
         "一文看懂基于人类反馈的强化学习"),
        # a general method's name before the title's colon, even after a column tag; never an English phrase
        ("【论文精读】BERT：Pre-training of Deep Bidirectional Transformers",
         "BERT-Base 约 11 billion FLOPs,BERT-Large 约 35 billion FLOPs,"
         "蒸馏后只要 2 billion FLOPs,剪枝后 1 billion FLOPs。", None, "BERT"),
        # a two-word name before the paper title's colon, though its variants are named more often
        (None, "Mosaic Former 用移位窗口。Mosaic-T 很小,Mosaic-T 很快,Mosaic-T 精度高,Mosaic-T 省显存,"
         "Mosaic-T 易部署,Mosaic-T 好训练。Mosaic Former 的复杂度是线性的。",
         "Mosaic Former: Hierarchical Backbone using Shifted Tiles", "Mosaic Former"),
        # a paper title without a colon is a description: its capitalised words are not the method's name
        ("ICML 如何理解对比损失中的温度", "对比损失对困难负样本敏感。温度越低越敏感。"
         "Understanding 温度的作用很重要。", "Understanding the Role of Temperature in Contrastive Loss",
         "Understanding the Role of Temperature in Contrastive Loss"),
        # an organisation before the name is not part of it
        ("OpenAI Superfilter 的一种思路", "Superfilter 会先过滤数据。Superfilter 再训练模型。", None, "Superfilter"),
    ],
)
def test_the_deck_is_named_after_the_method(title, text, paper_title, name):
    assert identify_paper(_article(text, title=title, paper_title=paper_title)) == name


@pytest.mark.parametrize(
    "text, limit, short",
    [
        ("卷积神经网络学习路线(二十二) Google Brain EfficientNet", 40, "卷积神经网络学习路线(二十二) Google Brain"),
        ("一篇很长很长的标题,讲的是注意力机制在长序列上的各种改进方法与实验", 20, "一篇很长很长的标题"),
        ("【某某导语】Vision Transformer 把图片切块", 40, "Vision Transformer 把图片切块"),
    ],
)
def test_a_title_is_shortened_at_a_word_boundary(text, limit, short):
    assert shorten(text, limit) == short


@pytest.mark.parametrize(
    "line, noise",
    [
        ("在这里插入图片描述", True),
        ("图3：GateNet 的整体结构", True),
        ("Figure 2. Overview of the gating unit", True),
        ("2024年03月05日 08:00 阅读数：2381", True),
        ("示例作者 2024-03-05 发表于北京", True),
        ("欢迎加入我们的技术交流群", True),
        ("QQ群：123456789", True),
        ("扫描下方二维码关注公众号", True),
        ("如图3所示,门控值在训练后期趋于稳定。", False),
        ("GateNet 在 2024 年的基准上取得了 81.5% 的准确率。", False),
    ],
)
def test_furniture_lines(line, noise):
    assert is_boilerplate(line) is noise


@pytest.mark.parametrize(
    "line, heading",
    [
        ("方法概述", True),
        ("3.1 问题定义", True),
        ("**前言：**".strip("*"), True),
        ("准确率 84.4%", False),  # a result, not a section
        ("GateNet 提高了准确率。", False),
        ("| GateNet | 81.5 |", False),
    ],
)
def test_section_headings(line, heading):
    assert looks_like_heading(line) is heading


@pytest.mark.parametrize(
    "piece, code",
    [
        ("import torch.nn as nn", True),
        ("x = torch.randn(8, 196, 768)", True),
        ("y = mixer(x) # 输出形状不变", True),
        ("pip install gatenet-toolkit", True),
        ("GateNet 的门控单元只有一个线性层和一个 sigmoid。", False),
        ("公式为 y = Wx + b,其中 W 是权重矩阵。", False),
    ],
)
def test_code_pasted_into_prose(piece, code):
    assert looks_like_code(piece) is code
