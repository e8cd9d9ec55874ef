"""The compact idf table answers exactly what jieba's idf.txt says, from its cache too."""

from __future__ import annotations

import random
from pathlib import Path

import jieba

from deckgen import nlp


def test_idf_matches_jiebas_table(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    table = {}
    for line in (Path(jieba.__file__).parent / "analyse" / "idf.txt").open(encoding="utf-8"):
        word, _, value = line.rstrip("\n").rpartition(" ")
        if word:
            table[word] = float(value)
    median = sorted(table.values())[len(table) // 2]
    sample = random.Random(3).sample(sorted(table), 3000)
    for attempt in ("parsed", "from the cache"):
        nlp._idf_table.cache_clear()
        assert [nlp.idf(w) for w in sample] == [table[w] for w in sample], attempt
        assert nlp.idf("不在表里的一个词语") == max(median, 10.0)
        assert list((tmp_path / "deckgen").glob("idf*.marshal"))
    nlp._idf_table.cache_clear()


def test_word_classes_match_jiebas_dictionary(tmp_path, monkeypatch):
    """What posseg tags with, from the compact table: the classes jieba's dictionary gives."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = Path(jieba.__file__).parent / "dict.txt"
    expected = nlp._parse_word_classes(source)
    sample = random.Random(5).sample(sorted(expected), 3000)
    for attempt in ("parsed", "from the cache"):
        table = nlp._cached_table("word-classes", source, nlp._parse_word_classes)
        assert [table.get(w, "x") for w in sample] == [expected[w] for w in sample], attempt
        assert table.get("不在词典里的词语", "x") == "x"
    flags = [p.flag for p in nlp._posseg().lcut("研究人员提出了一种新的注意力机制")]
    assert "n" in flags and "v" in flags
