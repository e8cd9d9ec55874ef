from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from deckgen.cli import cli


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["build"], ["package"], ["explain"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_build_examples_imports_into_anki(examples_dir, anki, tmp_path):
    out = tmp_path / "examples.apkg"
    result = run("build", str(examples_dir), "-o", str(out), "--decks-dir", str(tmp_path / "decks"))
    assert result.exit_code == 0, result.output
    assert "papers" in result.output and str(out) in result.output
    anki.import_package(out)
    decks = anki.deck_names()
    for paper in ("LoRA", "DDPM", "Chinchilla", "FlashAttention"):
        assert f"AI Papers::{paper}" in decks
    assert not any("实验结果" in d for d in decks)
    yaml_cards = sum(p.read_text(encoding="utf-8").count("\n- id: ") for p in (tmp_path / "decks").glob("*.yaml"))
    notes = anki.notes()
    assert len(notes) == yaml_cards >= 12

    # a cloze on a result: the front hides it, the back shows it
    note = next(n for n in anki.notes('"deck:AI Papers::DDPM" "Text:*{{c1::*"') if "DDPM" in n["Text"])
    hidden = re.search(r"\{\{c1::(.+?)\}\}", note["Text"]).group(1)
    card = note.cards()[0]
    assert hidden not in card.question() and "[...]" in card.question()
    assert hidden in card.answer()
    assert "DDPM" in card.question()  # the paper's name is on the card when it is not the answer

    # LoRA's full name spells its abbreviation: the term card asks one way only
    [term] = anki.notes('"deck:AI Papers::LoRA" Front:LoRA')
    assert len(term.cards()) == 1 and "低秩适应" in term["Back"]

    # boilerplate never reaches a card
    everything = " ".join(" ".join(n.fields) for n in notes)
    for junk in ("微信", "浏览器", "发布人", "侵权", "@example", "Read more", "参考文献", "转载"):
        assert junk not in everything, junk


def test_rebuild_and_reimport_updates_instead_of_duplicating(examples_dir, anki, tmp_path):
    out = tmp_path / "a.apkg"
    decks = tmp_path / "decks"
    run("build", str(examples_dir), "-o", str(out), "--decks-dir", str(decks))
    anki.import_package(out)
    first = {n.guid: n.id for n in anki.notes()}

    lora = next(decks.glob("LoRA*.yaml"))
    text = lora.read_text(encoding="utf-8")
    lora.write_text(text.replace("back: 低秩适应", "back: 低秩适应（我的笔记）", 1), encoding="utf-8")
    result = run("package", "--decks-dir", str(decks), "-o", str(out))
    assert result.exit_code == 0, result.output
    anki.import_package(out)
    second = {n.guid: n.id for n in anki.notes()}
    assert second == first  # same notes, none added
    [edited] = anki.notes('"deck:AI Papers::LoRA" Front:LoRA')
    assert "我的笔记" in edited["Back"]


def test_html_in_articles_is_escaped(tmp_path, anki):
    article = tmp_path / "x.txt"
    article.write_text(
        "XSSNet 测试\n\nXSSNet 是一种新的检测模型<script>alert(1)</script>,XSSNet 在 COCO 上的 mAP 达到 55.1%。"
        "研究者发现 XSSNet 比基线快 3 倍。XSSNet 的核心思想是只看关键区域。\n",
        encoding="utf-8",
    )
    out = tmp_path / "x.apkg"
    assert run("build", str(article), "-o", str(out), "--decks-dir", str(tmp_path / "d")).exit_code == 0
    anki.import_package(out)
    fields = " ".join(" ".join(n.fields) for n in anki.notes())
    assert "<script>" not in fields and "&lt;script&gt;" in fields


def test_stdin_input(tmp_path, data_dir):
    text = (data_dir / "wechat.txt").read_text(encoding="utf-8")
    result = run("build", "-", "-o", str(tmp_path / "s.apkg"), "--decks-dir", str(tmp_path / "d"), input=text)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.apkg").exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing.txt", "no such file"),
        (lambda p: _write(p / "empty.txt", b""), "no article found"),
        (lambda p: _write(p / "bin.txt", b"\x00\xff\x10" * 50), "not a text file"),
        (lambda p: (p / "emptydir").mkdir() or p / "emptydir", "no input files found"),
    ],
    ids=["missing", "empty", "binary", "empty-dir"],
)
def test_nothing_buildable_is_a_clear_error(tmp_path, make, message):
    target = make(tmp_path)
    result = CliRunner().invoke(cli, ["build", str(target), "-o", str(tmp_path / "o.apkg")])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.apkg").exists()


def test_bad_input_beside_good_input_is_reported_not_fatal(tmp_path, data_dir):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes((data_dir / "digest.txt").read_text(encoding="utf-8").encode("gbk"))
    (tmp_path / "bin.txt").write_bytes(b"\x00\xff\x10" * 50)
    result = run("build", str(gbk), str(tmp_path / "bin.txt"), "-o", str(tmp_path / "o.apkg"),
                 "--decks-dir", str(tmp_path / "d"))
    assert result.exit_code == 0
    assert "skipped" in result.output and "bin.txt" in result.output
    assert re.search(r"2 papers", result.output)


def test_broken_deck_file_is_reported_and_nothing_written(tmp_path):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "x.yaml").write_text("paper: X\ncards:\n- id: a\n  type: qa\n  front: Q\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["package", "--decks-dir", str(decks), "-o", str(tmp_path / "o.apkg")])
    assert result.exit_code == 1 and "x.yaml: cards[0].back: missing" in result.output
    assert not (tmp_path / "o.apkg").exists()


def test_package_without_deck_files_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["package", "--decks-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "deckgen build" in result.output


def test_non_editable_install_finds_templates(tmp_path):
    """The wheel must carry templates/ (pyproject force-include) — check the built wheel's contents."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("deckgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "deckgen/templates/cloze_front.html" in names
    assert "deckgen/data/ai_terms.tsv" in names


def _many_papers(path, count: int):
    names = ["LoRA", "DDPM", "Chinchilla", "FlashAttention", "Informer", "ResNet", "BERT", "CLIP"]
    path.write_text(
        "\n".join(
            f"{name} 论文解读\n\n{name} 是一种新的方法,{name} 在基准上的准确率达到 {60 + i}.5%,比基线高 {i + 2} 个百分点。"
            f"研究者发现 {name} 的训练成本降低了 {10 + i}%。\n"
            for i, name in enumerate(names[:count])
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("count, shown", [(6, True), (2, False)])
def test_progress_bar_only_on_long_runs(tmp_path, count, shown):
    articles = _many_papers(tmp_path / "many.txt", count)
    result = run("build", str(articles), "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert f"{count} papers" in result.output
    assert ("Extracting cards" in result.output) is shown


def test_a_crash_while_writing_leaves_the_previous_files_whole(tmp_path):
    from deckgen.deckfile import write_atomic
    from deckgen.model import Card, Deck
    from deckgen.package import write_package

    deck_file = tmp_path / "x.yaml"
    write_atomic(deck_file, "paper: X\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(deck_file, "paper: X\n" * 10_000 + "\ud800")  # fails after most of it is written
    assert deck_file.read_text(encoding="utf-8") == "paper: X\n"

    apkg = tmp_path / "x.apkg"
    good = Deck(paper="X", cards=[Card(id="a", type="qa", kind="custom", front="Q", back="A")])
    write_package([good], apkg)
    before = apkg.read_bytes()
    broken = Deck(paper="X", cards=[*good.cards, Card(id="b", type="qa", kind="custom", front="Q\ud800", back="A")])
    with pytest.raises(UnicodeEncodeError):
        write_package([broken], apkg)
    assert apkg.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "work") == ["x.apkg", "x.yaml"]  # no temporary files left behind


def test_written_files_get_the_usual_permissions(tmp_path, examples_dir):
    import os
    import stat

    from deckgen.deckfile import write_atomic

    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "x.yaml", "paper: X\n")
        out = tmp_path / "o.apkg"
        result = run("build", str(examples_dir), "-o", str(out), "--decks-dir", str(tmp_path / "d"))
    finally:
        os.umask(umask)
    assert result.exit_code == 0
    for path in (tmp_path / "x.yaml", out, *(tmp_path / "d").glob("*.yaml")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_explain_shows_kept_and_left_out_candidates_with_their_rules(examples_dir):
    result = run("explain", str(examples_dir), "--paper", "LoRA", "--all", "--max-cards", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("LoRA: 3 cards (budget 3)")
    assert sum(line.startswith("  + ") for line in lines) == 3
    assert any("left out: over the budget of 3 cards" in line for line in lines)
    assert any("no card: S3 background" in line for line in lines)  # the rule is named


def test_max_cards_caps_every_deck(examples_dir, tmp_path):
    out = tmp_path / "x.apkg"
    result = run("build", str(examples_dir), "-o", str(out), "--decks-dir", str(tmp_path / "d"), "--max-cards", "2")
    assert result.exit_code == 0, result.output
    for deck in (tmp_path / "d").glob("*.yaml"):
        assert deck.read_text(encoding="utf-8").count("\n- id: ") <= 2


def test_explain_names_a_missing_paper(examples_dir):
    result = run("explain", str(examples_dir), "--paper", "NoSuchPaper")
    assert result.exit_code == 1 and "no paper named 'NoSuchPaper'" in result.output


def test_summary_names_merged_duplicates_and_gets_plurals_right(examples_dir, tmp_path, data_dir):
    result = run("build", str(examples_dir), "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(tmp_path / "d"))
    assert re.search(r"merged 1 duplicate article: .+ \(.+\.txt\)", result.output), result.output
    assert re.search(r"^\d+ papers · \d+ cards: \d+ new · 0 updated · 0 unchanged$", result.output, re.M)
    assert "deckgen preview" in result.output and "deckgen push" in result.output and "File → Import" in result.output
    one = run("build", str(data_dir / "wechat.txt"), "-o", str(tmp_path / "1.apkg"), "--decks-dir", str(tmp_path / "one"))
    assert re.search(r"^1 paper · \d+ cards", one.output, re.M), one.output


def test_a_busy_decks_dir_says_so_at_once(examples_dir, tmp_path):
    import threading
    import time

    from filelock import FileLock

    decks = tmp_path / "d"
    decks.mkdir()
    lock = FileLock(decks / ".deckgen.lock", thread_local=False)  # released by the timer thread
    lock.acquire()
    started = time.monotonic()
    threading.Timer(1.5, lock.release).start()
    result = run("build", str(examples_dir), "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(decks))
    assert result.exit_code == 0 and time.monotonic() - started >= 1.4
    assert result.output.startswith("waiting for another deckgen run"), result.output


def test_the_paper_reaches_anki(tmp_path, anki):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "SparseNet.yaml").write_text(
        "paper: SparseNet\ntitle: 'SparseNet: Sparse Attention for Images'\n"
        "links: [https://arxiv.org/abs/2401.00001, 'javascript:alert(1)']\n"
        "cards:\n- type: qa\n  front: 什么是 SparseNet？\n  back: 一种稀疏注意力模型\n"
        "- type: cloze\n  text: SparseNet 的准确率达到 {{c1::81.5%}}。\n",
        encoding="utf-8",
    )
    assert run("package", "--decks-dir", str(decks), "-o", str(tmp_path / "o.apkg")).exit_code == 0
    anki.import_package(tmp_path / "o.apkg")
    desc = anki.col.decks.by_name("AI Papers::SparseNet")["desc"]
    assert "SparseNet: Sparse Attention for Images" in desc and 'href="https://arxiv.org/abs/2401.00001"' in desc
    assert "javascript" not in desc
    for note in anki.notes():
        card = note.cards()[0]
        assert 'href="https://arxiv.org/abs/2401.00001"' in card.answer()
        assert "href" not in card.question() and "SparseNet" in card.question()


def test_a_damaged_input_is_a_warning_in_the_summary(tmp_path, data_dir):
    cut = tmp_path / "cut.txt"
    cut.write_bytes((data_dir / "wechat.txt").read_bytes() + "准".encode()[:2])
    result = run("build", str(cut), "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(tmp_path / "d"))
    assert result.exit_code == 0 and re.search(r"^  warning: .*cut\.txt: .*replaced", result.output, re.M), result.output
