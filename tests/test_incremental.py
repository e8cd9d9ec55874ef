"""Incremental builds give exactly what a full build gives, checked in real Anki collections."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import AnkiCollection

import deckgen.build
import deckgen.incremental
from deckgen.build import build
from deckgen.incremental import CACHE_DIR

TERMS_V1 = "低秩适应\tLoRA\n"
TERMS_V2 = "低秩适应\tLoRA\n内在秩\tintrinsic rank\n"


@pytest.fixture
def clock(monkeypatch):
    """A fixed clock both builds of a comparison share (modification times come from it)."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.fixture
def extractions(monkeypatch):
    """Counts the papers extracted (a spy around the real extract)."""
    calls: list[str] = []
    real = deckgen.build.extract

    def spy(paper, *args, **kwargs):
        calls.append(paper.name)
        return real(paper, *args, **kwargs)

    monkeypatch.setattr(deckgen.build, "extract", spy)
    return calls


def run_build(base: Path, root: str = "AI Papers") -> None:
    """Inside `base` with relative paths (deck files record their sources), so copies of it compare equal."""
    here = os.getcwd()
    os.chdir(base)
    try:
        inputs = sorted(f"articles/{p.name}" for p in Path("articles").iterdir())
        build(inputs, Path("out.apkg"), Path("decks"), root_deck=root, terms=("terms.tsv",))
    finally:
        os.chdir(here)


def edit_article(base: Path) -> str:
    """Correct a number in the sentence a card of the LoRA deck (not one edit_deck_file touches) comes from."""
    article = base / "articles" / "wechat_lora.txt"
    text = article.read_text(encoding="utf-8")
    doc = yaml.safe_load((base / "decks" / "LoRA.yaml").read_text(encoding="utf-8"))
    sentence = next(c["source"] for c in doc["cards"][2:] if re.search(r"\d", c["source"]) and c["source"] in text)
    corrected = re.sub(r"\d+", lambda m: str(int(m.group()) + 7), sentence, count=1)
    article.write_text(text.replace(sentence, corrected), encoding="utf-8")
    return corrected


def edit_deck_file(base: Path) -> None:
    path = base / "decks" / "LoRA.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["cards"][0]["source"] = doc["cards"][0]["source"] + "（我的注释）"
    del doc["cards"][1]
    doc["cards"].append({"type": "qa", "front": "LoRA 训练哪些矩阵?", "back": "两个低秩矩阵", "tags": ["mine"]})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_terms(base: Path) -> None:
    (base / "terms.tsv").write_text(TERMS_V2, encoding="utf-8")


def remove_article(base: Path) -> None:
    (base / "articles" / "digest.txt").unlink()


def delete_deck_file(base: Path) -> None:
    (base / "decks" / "LoRA.yaml").unlink()


def edit_state(base: Path) -> None:
    """A restored or hand-edited state file: the cache must not trust anything it recorded."""
    path = base / "decks" / ".deckgen-state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    for entry in state["cards"].values():
        entry["updated"] = entry["updated"] - 5
    path.write_text(json.dumps(state), encoding="utf-8")


CORRECTED: list[str] = []

CHANGES = {
    "nothing": lambda base: None,
    "article": edit_article,
    "deck file": edit_deck_file,
    "article and deck file": lambda base: (edit_deck_file(base), CORRECTED.append(edit_article(base))),
    "terms": edit_terms,
    "removed article": remove_article,
    "deleted deck file": delete_deck_file,
    "state file": edit_state,
}


def package_contents(apkg: Path, folder: Path) -> dict:
    """What Anki holds after importing the package: every note's guid, fields, tags, mod time, type and decks."""
    anki = AnkiCollection(folder / "collection.anki2")
    try:
        anki.import_package(apkg)
        out = {}
        for note in anki.notes():
            decks = sorted({anki.col.decks.name(card.did) for card in note.cards()})
            out[note.guid] = (list(note.fields), sorted(note.tags), note.mod, note.note_type()["name"], decks)
        return {"notes": out, "decks": sorted(anki.deck_names())}
    finally:
        anki.close()


def deck_folder(base: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (base / "decks").iterdir() if p.is_file() and not p.name.endswith(".lock")}


@pytest.fixture
def base(tmp_path, examples_dir, clock):
    base = tmp_path / "base"
    shutil.copytree(examples_dir, base / "articles")
    (base / "terms.tsv").write_text(TERMS_V1, encoding="utf-8")
    run_build(base)
    clock[0] += 100
    run_build(base)  # a second round, as every week: the cache is now the one a rebuild leaves
    clock[0] += 100
    return base


@pytest.mark.parametrize("change", list(CHANGES))
def test_incremental_build_equals_full_build(base, tmp_path, change, clock):
    before = deck_folder(base)
    CHANGES[change](base)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    shutil.copytree(base, incremental)
    shutil.copytree(base, full)
    shutil.rmtree(full / "decks" / CACHE_DIR)
    run_build(incremental)
    run_build(full)
    assert deck_folder(incremental) == deck_folder(full)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got, want = package_contents(incremental / "out.apkg", tmp_path / "a"), package_contents(full / "out.apkg", tmp_path / "b")
    assert want["notes"] and got == want
    if change == "article and deck file":  # the change went through: the deck file and the notes moved on
        assert deck_folder(full)["LoRA.yaml"] != before["LoRA.yaml"]
        assert CORRECTED[-1] in deck_folder(full)["LoRA.yaml"].decode()  # the card took the corrected sentence
        lora = [n for n in want["notes"].values() if "AI Papers::LoRA" in n[4]]
        assert any(fields[0] == "LoRA 训练哪些矩阵?" for fields, *_ in lora)


def test_unchanged_papers_are_not_extracted_or_rewritten(base, extractions, clock):
    decks = base / "decks"
    mtimes = {p.name: p.stat().st_mtime_ns for p in decks.glob("*.yaml")}
    run_build(base)
    assert extractions == []
    assert {p.name: p.stat().st_mtime_ns for p in decks.glob("*.yaml")} == mtimes
    edit_article(base)
    run_build(base)
    assert extractions == ["LoRA"]
    assert {p.name for p in decks.glob("*.yaml") if p.stat().st_mtime_ns != mtimes[p.name]} == {"LoRA.yaml"}
    edit_deck_file(base)  # merged again with what extraction gave last time: no extraction, no jieba
    run_build(base)
    assert extractions == ["LoRA"]
    path = decks / "DDPM.yaml"  # a paper reused in the runs before: its extraction was kept too
    path.write_text(path.read_text(encoding="utf-8").replace("  tags:\n", "  tags:\n  - mine\n", 1), encoding="utf-8")
    run_build(base)
    assert extractions == ["LoRA"]
    assert "LoRA 训练哪些矩阵?" in (decks / "LoRA.yaml").read_text(encoding="utf-8")


def test_root_deck_reuses_decks_and_a_code_change_invalidates(base, extractions, clock, monkeypatch):
    run_build(base, root="Papers")
    assert extractions == []  # the deck files do not depend on the root deck ...
    (base / "x").mkdir()
    assert all(d.startswith("Papers") for d in package_contents(base / "out.apkg", base / "x")["decks"] if d != "Default")
    monkeypatch.setattr(deckgen.incremental, "code_version", lambda: "another deckgen version")
    run_build(base, root="Papers")
    assert len(extractions) == len(list((base / "decks").glob("*.yaml")))  # ... but a new deckgen re-extracts every paper


def test_cache_is_safe_to_delete(base, extractions):
    shutil.rmtree(base / "decks" / CACHE_DIR)
    run_build(base)
    assert len(extractions) == len(list((base / "decks").glob("*.yaml"))) >= 4
    assert (base / "decks" / CACHE_DIR / ".gitignore").read_text(encoding="utf-8") == "*\n"


def test_ingest_memo_gives_what_ingest_gives(tmp_path, examples_dir):
    from deckgen.incremental import IngestMemo
    from deckgen.ingest import ingest

    plain = ingest([str(examples_dir)])
    first = IngestMemo(tmp_path)
    assert ingest([str(examples_dir)], first) == plain
    first.save()
    remembered = IngestMemo(tmp_path)
    assert remembered.known  # every file's articles, names and sketches were kept
    again = ingest([str(examples_dir)], remembered)
    assert again == plain
    assert not remembered._entries or all(id(a) in remembered._names for p in again.papers for a in p.articles)


def test_an_llm_run_is_never_answered_from_the_cache(tmp_path):
    from click.testing import CliRunner
    from fake_llm import FakeLLM
    from test_llm import deck_cards, llm_build, write_articles

    from deckgen.cli import cli

    server = FakeLLM().start()
    try:
        articles = write_articles(tmp_path / "articles", 2)
        plain = ["build", str(articles), "-o", str(tmp_path / "out.apkg"), "--decks-dir", str(tmp_path / "decks")]
        for _ in range(2):
            assert CliRunner().invoke(cli, plain, catch_exceptions=False).exit_code == 0
        assert not any(c["kind"] == "llm" for c in deck_cards(tmp_path))
        llm_build(tmp_path, server.url, articles=articles)
        assert any(c["kind"] == "llm" for c in deck_cards(tmp_path))  # the model was asked, the paper merged again
        assert any(c["kind"] == "llm" for c in deck_cards(tmp_path, "TabFormer"))
    finally:
        server.stop()
    # and the next plain build, incremental or full, gives the same deck files
    full = tmp_path / "full"
    shutil.copytree(tmp_path / "decks", full)
    shutil.rmtree(full / CACHE_DIR)
    for decks in (tmp_path / "decks", full):
        args = ["build", str(articles), "-o", str(decks.parent / f"{decks.name}.apkg"), "--decks-dir", str(decks)]
        assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    same = {p.name: p.read_bytes() for p in (tmp_path / "decks").glob("*.yaml")}
    assert same and same == {p.name: p.read_bytes() for p in full.glob("*.yaml")}
