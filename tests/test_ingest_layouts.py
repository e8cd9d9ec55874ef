"""Every layout people save, read into the right articles, names and sections, with no page furniture left."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.ingest import ingest, parse_text
from deckgen.ingest.reading import decode

LAYOUTS = Path(__file__).parent / "data" / "ingest"


def _articles(name: str):
    path = LAYOUTS / name
    return parse_text(decode(path.read_bytes(), name), name)


def _body(article) -> list[str]:
    return [p for i, p in enumerate(article.paragraphs) if i not in article.headings]


# (fixture, deck names, strings that must not be anywhere in its paragraphs, headings expected)
CASES = [
    (
        "frontmatter.md",
        ["GateNet"],
        ["thumbnail", "proofreader", "gate_curve", "blog_metadata", "训练曲线比普通注意力", "gate_diagram_overview",
         "from_pretrained", "加载模型", "pip install", "train.py", "gradio", "@article", "**", "王小明", "example.org",
         "<", "github.com", "](", "---", "资源", "目录"],
        ["简介", "方法：", "实验"],
    ),
    (
        "wechat_clip.txt",
        ["FlexMoE"],
        ["阅读数", "2024", "小编", "发表于", "在这里插入图片描述", "图1", "推荐阅读", "一文读懂", "十个技巧", "稀疏注意力到底",
         "扫码", "交流群", "QQ", "123456789", "公众号"],
        ["方法概述", "实验结果"],
    ),
    (
        "page_scrape.txt",
        ["PatchMixer"],
        ["在这里插入图片描述", "图2", "torch.randn", "mixer(x)", "相关文章", "卷积网络学习路线", "视觉 Transformer 入门",
         "参考文献", "Someone A", "older work"],
        ["1. 前言", "2. 方法", "3. 实验", "4. 总结"],
    ),
    (
        "saved_page.html",
        ["TokenPrune"],
        ["首页", "标签", "阅读数", "示例作者", "tokenprune.png", "示意图", "逐层剪枝过程", "import torch", "topk", "推荐阅读",
         "模型压缩十讲", "扫码", "版权所有", "示例技术博客"],
        ["方法", "实验", "总结"],
    ),
]


@pytest.mark.parametrize("name, decks, noise, headings", CASES, ids=[c[0] for c in CASES])
def test_a_layout_is_one_article_named_after_its_method_without_furniture(name, decks, noise, headings):
    articles = _articles(name)
    result = ingest([str(LAYOUTS / name)])
    assert [p.name for p in result.papers] == decks
    assert len(articles) == 1
    [article] = articles
    text = "\n".join(article.paragraphs) + (article.title or "")
    for junk in noise:
        assert junk not in text, junk
    assert [article.paragraphs[i] for i in sorted(article.headings)] == headings
    assert all(len(p) > 20 or p.startswith("|") for p in _body(article))  # prose (and result tables) only


def test_markdown_front_matter_titles_the_article_and_result_tables_stay_text():
    [article] = _articles("frontmatter.md")
    assert article.title == "GateNet：给注意力装上门控的长序列模型"
    assert "| GateNet | 81.5 |" in article.paragraphs
    assert "GateNet 的门控单元只有一个线性层" in article.text


def test_the_seed_layout_splits_into_one_article_per_title_and_one_deck_per_paper():
    articles = _articles("seed_layout.txt")
    assert len(articles) == 4
    result = ingest([str(LAYOUTS / "seed_layout.txt")])
    assert result.duplicates == 1
    assert [p.name for p in result.papers] == ["QuantEdge", "RetroWeave", "大模型评测漫谈:分数背后的那些坑"]


def test_short_lines_of_a_blank_line_separated_clip_are_sections_not_articles():
    text = (LAYOUTS / "wechat_clip.txt").read_text(encoding="utf-8")
    assert "\n\n方法概述\n\n" in text  # a short line between blank lines, like a title in the seed layout
    assert len(parse_text(text, "clip.txt")) == 1


def test_a_markdown_file_with_several_titled_articles_splits():
    md = (
        "# 第一篇：GateNet 门控注意力\n\nGateNet 在注意力后面加门控单元，长序列训练更稳定，准确率提升 2 个百分点。\n\n"
        "## 方法\n\n门控值由输入决定。GateNet 的门控单元参数很少，几乎不增加计算。\n\n"
        "# 第二篇：RetroWeave 检索交织生成\n\nRetroWeave 每生成 64 个词重新检索一次，小模型也能回答开放问题，文档库还可以随时替换而不必重新训练。\n"
    )
    assert [a.title for a in parse_text(md, "two.md")] == ["第一篇：GateNet 门控注意力", "第二篇：RetroWeave 检索交织生成"]
    # top headings that are section names are sections of one article
    sections = "# 前言\n\n" + "GateNet 在注意力后面加门控单元，长序列训练更稳定。" * 3 + "\n\n# 方法\n\n" + "门控值由输入决定。" * 5
    [one] = parse_text(sections, "one.md")
    assert [one.paragraphs[i] for i in sorted(one.headings)] == ["前言", "方法"]


def test_code_comments_and_bold_lines_never_start_an_article():
    md = (
        "# FlexMoE 解读\n\nFlexMoE 把每个词路由到两个专家，计算量几乎不随专家数量增长。\n\n"
        "```python\n# 初始化路由器\nrouter = Router(num_experts=8)\n```\n\n"
        "**实验：**\n\nFlexMoE 的困惑度比稠密模型低 8%，训练速度快了 2.1 倍。\n\n**总结**\n\nFlexMoE 简单有效。再多说一句，它很省钱。\n"
    )
    [article] = parse_text(md, "x.md")
    assert "初始化路由器" not in article.text and "Router" not in article.text
    assert [article.paragraphs[i] for i in sorted(article.headings)] == ["实验：", "总结"]


def test_cloze_syntax_in_an_article_never_becomes_a_deletion(tmp_path, anki):
    article = tmp_path / "cloze.txt"
    article.write_text(
        "ClozeNet 解读:模板语法也能进文章\n\n"
        "ClozeNet 是一种新的填空模型,ClozeNet 在基准上的准确率达到 77.5%,比基线高 3 个百分点。"
        "作者在附录里写道,Anki 的填空语法写作 {{c1::秘密答案}},ClozeNet 会把它当作普通文本。"
        "研究者发现 ClozeNet 的训练成本降低了 40%。\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.apkg"
    result = CliRunner().invoke(cli, ["build", str(article), "-o", str(out), "--decks-dir", str(tmp_path / "d")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    anki.import_package(out)
    notes = anki.notes()
    assert notes
    for note in notes:
        for value in note.fields:
            assert "{{c1::秘密答案" not in value and "秘密答案}}" not in value
    # a cloze note has one card per deletion deckgen made: the planted syntax adds none
    import re

    for note in notes:
        if note.note_type()["type"] == 1:
            assert len(note.cards()) == len(set(re.findall(r"\{\{c(\d+)::", note.fields[0])))


def test_markdown_keeps_paper_links_formula_images_and_drops_footnote_marks():
    md = (
        "# GateNet 解读\n\n- [论文](https://arxiv.org/abs/2401.00001)\n- [代码](https://github.com/example/gatenet)\n"
        "- [作者主页](https://example.org/someone)\n\n"
        "GateNet 在注意力后面加门控单元，长序列训练更稳定，准确率提升 2 个百分点。\n\n"
        "引入![cos](https://www.zhihu.com/equation?tex=cos)相似性作为门控的目标函数，效果更稳定。[^1]\n"
    )
    [article] = parse_text(md, "x.md")
    assert article.links == ["https://arxiv.org/abs/2401.00001", "https://github.com/example/gatenet"]
    assert "引入cos相似性作为门控的目标函数，效果更稳定。" in article.paragraphs
    assert "作者主页" not in article.text and "[^1]" not in article.text


def test_page_furniture_after_the_end_mark_and_metadata_lines_go():
    text = (
        "论文解读 | SwiftDet：又快又准的检测器\n"
        "■ 论文 | SwiftDet: Fast and Accurate Object Detection\n"
        "■ 链接 | https://arxiv.org/abs/2401.00002\n"
        "文 | 示例作者\n"
        "SwiftDet 用一个轻量的检测头代替了两阶段结构，在 COCO 上的 AP 达到 52.1，推理速度快了 1.8 倍。\n"
        "5. 参考文献\n"
        "Someone. An earlier detector. 2020.\n"
    )
    [article] = parse_text(text, "x.txt")
    assert article.paper_title == "SwiftDet: Fast and Accurate Object Detection"
    assert article.links == ["https://arxiv.org/abs/2401.00002"]
    assert article.paragraphs == ["SwiftDet 用一个轻量的检测头代替了两阶段结构，在 COCO 上的 AP 达到 52.1，推理速度快了 1.8 倍。"]
    result = ingest_text(text + "\n", "swift.txt")
    assert result == ["SwiftDet"]
    ended = parse_text(text.replace("5. 参考文献\n", "— END —\n往期推荐\n"), "y.txt")
    assert "往期推荐" not in ended[0].text and "earlier detector" not in ended[0].text


def ingest_text(text: str, name: str) -> list[str]:
    from deckgen.ingest import group_by_paper

    return [p.name for p in group_by_paper(parse_text(text, name))]


def test_a_bold_sentence_is_prose_and_a_bold_short_line_a_heading():
    md = "# GateNet\n\n**方法：**\n\n**GateNet 在每个注意力头后面加了门控单元，准确率提升了 2.4 个百分点。**\n"
    [article] = parse_text(md, "x.md")
    assert article.paragraphs == ["方法：", "GateNet 在每个注意力头后面加了门控单元，准确率提升了 2.4 个百分点。"]
    assert article.headings == {0}


def test_an_enumerator_is_not_cut_from_its_sentence():
    text = "门控网络 GateNet 的三个部分详解\n（1） 每一步的门控值都由当前输入决定，（2）门控单元很轻量。\n1. 门控单元只有一个线性层，参数量不到原模型的 1%。\n"
    [article] = parse_text(text, "x.txt")
    assert article.paragraphs[0].startswith("（1） 每一步的门控值")


def test_an_arxiv_link_labelled_with_its_title_names_the_paper():
    md = (
        "# 一种让注意力更省显存的方法\n\n论文：[SlimAttn: Memory-Light Attention for Long Inputs](https://arxiv.org/abs/2401.00003)\n\n"
        "SlimAttn 把注意力矩阵分块计算，显存占用随序列长度线性增长。SlimAttn 在 16K 长度上比普通注意力省 70% 显存。\n"
    )
    [article] = parse_text(md, "x.md")
    assert article.paper_title == "SlimAttn: Memory-Light Attention for Long Inputs"
    assert ingest_text(md, "x.md") == ["SlimAttn"]
