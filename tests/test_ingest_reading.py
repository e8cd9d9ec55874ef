"""Reading inputs: every encoding people save in, damaged files, odd paths — never a traceback or a garbage deck."""

from __future__ import annotations

import codecs
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from deckgen.errors import InputError
from deckgen.ingest import decode, ingest
from deckgen.ingest.noise import EMAIL
from deckgen.ingest.reading import decode_with_note

LAYOUTS = Path(__file__).parent / "data" / "ingest"
ARTICLE = (
    "门控网络 GateNet:让注意力学会取舍\n\n"
    "GateNet 在每个注意力头后面加了一个门控单元,门控值由输入决定。实验表明,GateNet 在长文本分类上的准确率达到 81.5%,"
    "比普通注意力高 2.4 个百分点,训练速度快了 1.3 倍。GateNet 的门控单元参数量不到原模型的 1%。\n"
)
TRADITIONAL = "門控網絡在長序列上訓練更穩定,準確率達到百分之八十一,參數量幾乎沒有增加。"


def test_a_gb18030_file_with_four_byte_characters_is_read():
    # U+2212 (−) has no GBK code: GBK decoding fails and encoding detectors have called such real files binary
    data = (LAYOUTS / "gb18030_pipeline.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    text = decode(data, "gb18030_pipeline.txt")
    assert text == data.decode("gb18030") and "(p − 1)" in text
    result = ingest([str(LAYOUTS / "gb18030_pipeline.txt")])
    assert [p.name for p in result.papers] == ["FlowPipe"] and not result.skipped


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-32", "gb18030"]
)
def test_every_supported_encoding_reads_the_same_text(encoding):
    boms = {"utf-16-le-bom": (codecs.BOM_UTF16_LE, "utf-16-le"), "utf-16-be-bom": (codecs.BOM_UTF16_BE, "utf-16-be")}
    bom, codec = boms.get(encoding, (b"", encoding))
    assert decode_with_note(bom + ARTICLE.encode(codec), "a.txt") == (ARTICLE, None)


def test_big5_is_read_as_traditional_chinese_not_garbage():
    assert decode(TRADITIONAL.encode("big5"), "big5.txt") == TRADITIONAL


def test_a_file_ending_in_half_a_character_is_read_with_a_warning(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_bytes(ARTICLE.encode("utf-8") + "准".encode()[:2])
    text, note = decode_with_note(path.read_bytes(), "cut.txt")
    assert text.startswith(ARTICLE) and text.endswith("\ufffd")
    assert note and "replaced" in note
    result = ingest([str(path)])
    assert [p.name for p in result.papers] == ["GateNet"]
    assert [w.path for w in result.warnings] == [str(path)] and not result.skipped


def test_a_file_mixing_utf8_and_gb18030_lines_keeps_both():
    data = ARTICLE.encode("utf-8") + "门控单元还能与稀疏注意力结合使用。\n".encode("gb18030")
    text, note = decode_with_note(data, "mixed.txt")
    assert ARTICLE in text and "门控单元还能与稀疏注意力结合使用。" in text
    assert note is None or "replaced" in note


@pytest.mark.parametrize("seed", range(5))
def test_random_binary_never_becomes_an_article(tmp_path, seed):
    path = tmp_path / f"noise{seed}.txt"
    data = random.Random(seed).randbytes(4000)
    path.write_bytes(data if seed % 2 else data.replace(b"\x00", b""))  # with and without NUL bytes
    result = ingest([str(path)])
    assert result.papers == [] and [s.path for s in result.skipped] == [str(path)]


def test_binary_with_a_bom_is_refused():
    with pytest.raises(InputError, match="not a text file"):
        decode(codecs.BOM_UTF16_LE + b"\x01\x00\x02\x00\x7f\x00" * 200, "x.txt")


def test_the_email_pattern_is_linear_on_long_runs_without_punctuation():
    # a quadratic pattern would take minutes here; this finishes at once, and still finds a real address
    assert EMAIL.search("a" * 200_000) is None
    assert EMAIL.search("x" * 200_000 + " 联系 someone@example.org").group().endswith("someone@example.org")


def test_a_fifo_named_as_input_is_skipped_not_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result = ingest([str(fifo), str(LAYOUTS / "gb18030_pipeline.txt")])
    assert [(s.path, "not a regular file" in s.reason) for s in result.skipped] == [(str(fifo), True)]
    assert len(result.papers) == 1


def test_folders_nested_deeper_than_the_recursion_limit_are_walked(tmp_path):
    deep = tmp_path
    for _ in range(sys.getrecursionlimit() + 50):
        deep = deep / "d"
        deep.mkdir()  # one at a time: os.makedirs itself recurses
    (deep / "a.txt").write_text(ARTICLE, encoding="utf-8")
    try:
        result = ingest([str(tmp_path)])
        assert [p.name for p in result.papers] == ["GateNet"]
    finally:
        # pytest removes old temp folders recursively: leave nothing deeper than it can handle
        (deep / "a.txt").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


def test_a_file_name_that_is_not_utf8_is_skipped_with_its_reason(tmp_path):
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"bad-\xff\xfe.txt"), "wb") as f:
        f.write(ARTICLE.encode("utf-8"))
    result = ingest([str(tmp_path)])
    [skipped] = result.skipped
    assert "not valid UTF-8" in skipped.reason and "\\xff" in skipped.path
    skipped.path.encode("utf-8")  # printable


def test_closed_stdin_is_a_one_line_error_not_a_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "deckgen", "build", "-", "-o", str(tmp_path / "o.apkg"), "--decks-dir", str(tmp_path)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path,
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "standard input" in proc.stderr
