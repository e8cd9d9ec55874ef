"""Issue 10: the user's work is never lost, errors are one line, files are only written where they belong.

Each test first reproduces a loss or a traceback seen before the fix, then checks what happens now.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import deckgen.build as build_module
from deckgen.build import _new_path, build, deck_sources
from deckgen.cli import cli
from deckgen.errors import WriteError
from deckgen.merge import PENDING_FILE, REBUILT_TIME, STATE_FILE

ROOT = Path(__file__).resolve().parent.parent

FIRST = "前言：\n\n研究者提出了一种新的卷积网络,在基准上的准确率达到 85.2%。该网络的参数量只有 12M,比基线少 3 倍。\n"
SECOND = "前言\n\n研究者提出了一种新的检索模型,在基准上的召回率达到 91.4%。该模型的索引大小只有 2GB,比基线小 5 倍。\n"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fail(*args: str) -> str:
    """A run that must stop with a one-line (or per-file) error, never a traceback."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def save(path: Path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def change_a_number(article: Path, deck_file: Path, skip: set[str] = frozenset()) -> tuple[str, str]:
    """Correct a number in the article sentence behind one of the deck's cards: (that card's id, the new sentence)."""
    text = article.read_text(encoding="utf-8")
    for card in load(deck_file)["cards"]:
        source = card.get("source") or ""
        number = re.search(r"\d+", source)
        if card["id"] not in skip and number and source in text:
            sentence = source[: number.start()] + str(int(number.group()) + 1) + source[number.end() :]
            article.write_text(text.replace(source, sentence), encoding="utf-8")
            return card["id"], sentence
    raise AssertionError(f"no card of {deck_file} has a number in a sentence of {article}")


def guids(anki) -> list[str]:
    return [n.guid for n in anki.notes()]


def all_ids(decks: Path) -> list[str]:
    return [c["id"] for p in sorted(decks.glob("*.yaml")) for c in load(p)["cards"]]


@pytest.fixture
def workspace(tmp_path, examples_dir):
    articles = tmp_path / "articles"
    shutil.copytree(examples_dir, articles)
    return articles, tmp_path / "decks", tmp_path / "out.apkg"


def built(workspace) -> tuple[Path, Path, Path]:
    articles, decks, out = workspace
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    return articles, decks, out


# ---- 1. two papers never share a deck file


@pytest.mark.parametrize(
    "a, b",
    [
        ("前言：", "前言"),  # punctuation only
        ("Scaling Laws for Neural Language Models Trained on Very Large Corpora (part one)",
         "Scaling Laws for Neural Language Models Trained on Very Large Corpora (part two)"),  # after the 60th char
        ("！！！", "？？？"),  # no letters: both were paper.yaml
        ("LoRA", "lora"),  # one file on macOS and Windows
    ],
)
def test_colliding_names_get_distinct_stable_files(tmp_path, a, b):
    taken: set[str] = set()
    first, second = _new_path(a, tmp_path, taken), _new_path(b, tmp_path, taken)
    assert first.name.casefold() != second.name.casefold()
    assert _new_path(b, tmp_path, {first.name.casefold()}) == second  # the same name on every run and machine


def test_two_papers_whose_names_slug_alike_keep_both_decks(tmp_path, anki):
    (tmp_path / "a.txt").write_text(FIRST, encoding="utf-8")
    (tmp_path / "b.txt").write_text(SECOND, encoding="utf-8")
    decks, out = tmp_path / "decks", tmp_path / "out.apkg"
    args = ["--decks-dir", str(decks), "-o", str(out)]
    run("build", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), *args)
    files = sorted(decks.glob("*.yaml"))
    assert sorted(load(p)["paper"] for p in files) == ["前言", "前言："]
    # the user edits both; a rebuild and a package keep both edits, in their own files
    for path in files:
        doc = load(path)
        doc["cards"][0]["back" if "back" in doc["cards"][0] else "text"] += "（我的）" if "back" in doc["cards"][0] else ""
        doc["cards"].append({"type": "qa", "front": f"我加的 {doc['paper']}", "back": "答"})
        save(path, doc)
    report = run("build", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), *args)
    assert sorted(decks.glob("*.yaml")) == files, report
    run("package", *args)
    for path in files:
        doc = load(path)
        assert [c for c in doc["cards"] if c.get("front") == f"我加的 {doc['paper']}"]
    anki.import_package(out)
    assert {"AI Papers::前言", "AI Papers::前言："} <= anki.deck_names()
    assert len(guids(anki)) == len(set(guids(anki))) == len(all_ids(decks))
    assert {n["Front"] for n in anki.notes("Front:我加的*")} == {"我加的 前言", "我加的 前言："}


def test_a_hand_made_deck_holding_the_slug_is_never_overwritten(workspace, anki):
    articles, decks, out = workspace
    decks.mkdir()
    mine = decks / "LoRA.yaml"
    mine.write_text("paper: LoRA!\ncards:\n- {type: qa, front: 我自己的卡, back: 答案}\n", encoding="utf-8")
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert load(mine)["paper"] == "LoRA!" and load(mine)["cards"][0]["front"] == "我自己的卡"
    [generated] = [p for p in decks.glob("LoRA-*.yaml")]
    assert load(generated)["paper"] == "LoRA"
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert sorted(decks.glob("LoRA*.yaml")) == sorted([mine, generated]) and "0 new · 0 updated" in report and "\n  LoRA: " not in report
    anki.import_package(out)
    assert {"AI Papers::LoRA", "AI Papers::LoRA!"} <= anki.deck_names()


def test_renaming_paper_keeps_the_file_its_cards_and_ids(workspace, anki):
    articles, decks, out = built(workspace)
    lora = decks / "LoRA.yaml"
    doc = load(lora)
    ids = [c["id"] for c in doc["cards"]]
    doc["paper"] = "LoRA 低秩适应"
    doc["cards"].pop()  # and deletes a card while at it
    save(lora, doc)
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert not [p for p in decks.glob("LoRA*.yaml") if p != lora], "a second LoRA deck appeared"
    after = load(lora)
    assert after["paper"] == "LoRA 低秩适应"
    assert [c["id"] for c in after["cards"]] == ids[:-1] and after["deleted"] == [ids[-1]]
    assert len(all_ids(decks)) == len(set(all_ids(decks)))
    anki.import_package(out)
    assert len(guids(anki)) == len(set(guids(anki))) == len(all_ids(decks))
    assert "AI Papers::LoRA 低秩适应" in anki.deck_names()
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert "unchanged" in report and load(lora) == after


# ---- 6. the same paper or id in two files, backups, files that would be ignored


def test_a_backup_copy_in_the_decks_folder_is_named_not_shadowing(workspace):
    articles, decks, out = built(workspace)
    shutil.copy(decks / "LoRA.yaml", decks / "LoRA_backup.yaml")
    before = out.read_bytes()
    for args in (["build", str(articles)], ["package"]):
        output = fail(*args, "-o", str(out), "--decks-dir", str(decks))
        assert "LoRA.yaml and " in output and "LoRA_backup.yaml: both are deck files of paper 'LoRA'" in output
    assert out.read_bytes() == before


def test_the_same_id_in_two_deck_files_names_both(workspace):
    articles, decks, out = built(workspace)
    lora, ddpm = load(decks / "LoRA.yaml"), load(decks / "DDPM.yaml")
    ddpm["cards"].append(dict(lora["cards"][0]))
    save(decks / "DDPM.yaml", ddpm)
    output = fail("package", "-o", str(out), "--decks-dir", str(decks))
    assert f"both hold card id {lora['cards'][0]['id']!r}" in output
    assert "DDPM.yaml" in output and "LoRA.yaml" in output


def test_a_yml_file_is_not_silently_ignored(workspace):
    articles, decks, out = built(workspace)
    (decks / "LoRA.yaml").rename(decks / "LoRA.yml")
    assert "LoRA.yml: deck files end in .yaml" in fail("package", "-o", str(out), "--decks-dir", str(decks))


# ---- 2. an edit saved while a build runs is never reverted


def _editing_during(path: Path, edit):
    """A progress callback: runs after the deck files were read, like an editor saving mid-build."""

    def progress(items, label):
        edit(path)
        return items

    return progress


def _append_card(path: Path) -> None:
    doc = load(path)
    doc["cards"].append({"type": "qa", "front": "写到一半保存的卡", "back": "不能丢"})
    save(path, doc)


def test_an_edit_saved_during_a_build_that_changes_the_deck_stops_it(workspace):
    articles, decks, out = built(workspace)
    lora = decks / "LoRA.yaml"
    _, sentence = change_a_number(articles / "wechat_lora.txt", lora)
    with pytest.raises(WriteError, match="LoRA.yaml changed while this run was working"):
        build([str(articles)], out, decks, progress=_editing_during(lora, _append_card))
    assert "写到一半保存的卡" in lora.read_text(encoding="utf-8")
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))  # the rerun merges both
    text = lora.read_text(encoding="utf-8")
    assert "写到一半保存的卡" in text and sentence in text, report


def test_an_edit_saved_during_a_build_that_leaves_the_deck_unchanged_is_kept(workspace):
    articles, decks, out = built(workspace)
    lora = decks / "LoRA.yaml"
    build([str(articles)], out, decks, progress=_editing_during(lora, _append_card))
    assert "写到一半保存的卡" in lora.read_text(encoding="utf-8")


# ---- 3. the state file


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"version": 2, "cards": {', "not valid JSON"),
        ("\x00\x01garbage", "not valid JSON"),
        ('{"version": 7, "cards": {}}', "written by a newer deckgen (state version 7"),
        ('{"cards": {}}', "not a deckgen state file"),
        ('{"version": 2, "cards": []}', "cards: must be a mapping"),
        ('{"version": 2, "cards": {"a": {"updated": "yesterday"}}}', "updated must be a number"),
        ('{"version": 2, "cards": {"a": 5}}', "must be a mapping"),
        ('{"version": 2, "cards": {"a": {"hash": ["x"]}}}', "hash must be text"),
        ('{"version": 2, "deleted": {"LoRA": "x"}}', "must be a list of card ids"),
        ("[" * 100000 + "]" * 100000, "not valid JSON"),
        ('{"version": 2, "cards": ' + "[" * 100000 + "]" * 100000 + "}", "not valid JSON"),
    ],
)
def test_an_unusable_state_file_stops_with_how_to_recover(workspace, content, message):
    articles, decks, out = built(workspace)
    (decks / STATE_FILE).write_text(content, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in decks.iterdir() if p.is_file()}
    output = fail("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert message in output and "move it away" in output
    assert {p.name: p.read_bytes() for p in decks.iterdir() if p.is_file()} == before


def test_a_folder_in_place_of_the_state_file(workspace):
    articles, decks, out = built(workspace)
    (decks / STATE_FILE).unlink()
    (decks / STATE_FILE).mkdir()
    assert "not a regular file" in fail("package", "-o", str(out), "--decks-dir", str(decks))


def test_a_lost_state_is_rebuilt_without_resurrecting_or_touching_anki_edits(workspace, anki):
    articles, decks, out = built(workspace)
    lora = decks / "LoRA.yaml"
    doc = load(lora)
    gone = doc["cards"].pop(1)
    edited = doc["cards"][0]
    edited["back" if "back" in edited else "extra"] = "我改的答案"
    save(lora, doc)
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    anki.import_package(out)
    [note] = anki.notes(f'"deck:AI Papers::DDPM" -tag:{"x"}')[:1]
    note.fields[1] = "在 Anki 里改的"
    anki.col.update_note(note)

    (decks / STATE_FILE).unlink()  # lost (or never committed with the deck files)
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert "0 new · 0 updated" in report and " new deck" not in report and "removed" not in report, report
    after = load(lora)
    assert gone["id"] in after["deleted"] and gone["id"] not in [c["id"] for c in after["cards"]]
    assert [c for c in after["cards"] if c["id"] == edited["id"]][0] == edited
    state = json.loads((decks / STATE_FILE).read_text(encoding="utf-8"))
    assert {e["updated"] for e in [*state["cards"].values(), *state["models"].values()]} == {REBUILT_TIME}
    anki.import_package(out)
    assert anki.col.get_note(note.id).fields[1] == "在 Anki 里改的"  # the import did not overwrite it

    # cards the article still gives word for word follow the article again
    changed, sentence = change_a_number(articles / "wechat_lora.txt", lora, skip={edited["id"]})
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert re.search(r"LoRA: \d+ updated", report), report
    assert [c["source"] for c in load(lora)["cards"] if c["id"] == changed] == [sentence]
    assert [c for c in load(lora)["cards"] if c["id"] == edited["id"]][0] == edited  # the user's edit stays


def test_a_deleted_deck_file_keeps_its_deleted_list(workspace):
    articles, decks, out = built(workspace)
    lora = decks / "LoRA.yaml"
    doc = load(lora)
    gone = doc["cards"].pop(0)
    save(lora, doc)
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    lora.unlink()
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    again = load(lora)
    assert again["deleted"] == [gone["id"]] and gone["id"] not in [c["id"] for c in again["cards"]]
    assert len(again["cards"]) == len(doc["cards"])


# ---- 4. interrupted between the deck files and the state

KILL_AFTER_DECK_FILES = """
import os, sys
import deckgen.build as b
b.write_output_package = lambda *a, **k: os._exit(137)  # killed right after the deck files were written
from deckgen.cli import cli
cli(sys.argv[1:])
"""


def test_a_kill_between_deck_files_and_state_converges(workspace):
    articles, decks, out = built(workspace)
    article, lora = articles / "wechat_lora.txt", decks / "LoRA.yaml"
    _, sentence = change_a_number(article, lora)
    new_fact = "在 GLUE 基准上,LoRA 的平均得分达到 89.7,比 Adapter 高 1.3 分。"
    article.write_text(article.read_text(encoding="utf-8").replace(sentence, sentence + new_fact), encoding="utf-8")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_DECK_FILES, "build", str(articles), "-o", str(out), "--decks-dir", str(decks)],
        cwd=ROOT, capture_output=True, timeout=120,
    )
    assert killed.returncode == 137, killed.stderr
    text = lora.read_text(encoding="utf-8")
    assert sentence in text and "89.7" in text and (decks / PENDING_FILE).exists()
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert "0 new · 0 updated" in report and "\n  LoRA: " not in report, report  # not "edited by you": the killed run's cards are deckgen's
    assert not (decks / PENDING_FILE).exists()
    # the card the killed run added still follows the article
    article.write_text(article.read_text(encoding="utf-8").replace("89.7", "90.7"), encoding="utf-8")
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    text = lora.read_text(encoding="utf-8")
    assert "90.7" in text and "89.7" not in text and "edited by you" not in report, report


def test_disk_full_mid_write_is_one_line_and_the_next_run_works(workspace, monkeypatch):
    articles, decks, out = built(workspace)
    _, sentence = change_a_number(articles / "wechat_lora.txt", decks / "LoRA.yaml")
    real = build_module.write_atomic

    def full(path, text):
        if path.suffix == ".yaml":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, text)

    monkeypatch.setattr(build_module, "write_atomic", full)
    output = fail("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert "No space left on device" in output and "LoRA.yaml" in output
    monkeypatch.setattr(build_module, "write_atomic", real)
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert re.search(r"LoRA: \d+ updated", report) and sentence in (decks / "LoRA.yaml").read_text(encoding="utf-8")
    assert not list(decks.glob(".*.yaml.*"))


# ---- 7. outputs that would replace the user's files


def test_outputs_that_would_replace_the_users_files_are_refused(workspace, tmp_path):
    articles, decks, out = built(workspace)
    link = tmp_path / "link.apkg"
    link.symlink_to(out)
    notes = tmp_path / "notes.md"
    notes.write_text("我的笔记\n", encoding="utf-8")
    cases = {
        str(decks / "LoRA.yaml"): "inside the decks folder",
        str(articles / "wechat_lora.txt"): "one of the input articles",
        str(link): "symbolic link",
        "/dev/null": "not a regular file",
        str(notes): "not an Anki package",
    }
    before = {p: p.read_bytes() for p in [*decks.iterdir(), *articles.iterdir(), notes, out] if p.is_file()}
    for target, message in cases.items():
        assert message in fail("build", str(articles), "-o", target, "--decks-dir", str(decks)), target
        refused = fail("package", "-o", target, "--decks-dir", str(decks))  # knows no articles, but no package either
        assert message in refused or "not an Anki package" in refused, target
    assert {p: p.read_bytes() for p in before} == before
    assert link.is_symlink()


def test_unwritable_places_are_one_line_errors(workspace, tmp_path):
    articles, decks, out = workspace
    assert "cannot write" in fail("build", str(articles), "-o", "/proc/deckgen.apkg", "--decks-dir", str(decks))
    assert "/proc/deckgen-decks: cannot write there" in fail("build", str(articles), "-o", str(out), "--decks-dir", "/proc/deckgen-decks")
    a_file = tmp_path / "plain"
    a_file.write_text("x", encoding="utf-8")
    assert "cannot write there (Not a directory)" in fail("build", str(articles), "-o", str(out), "--decks-dir", str(a_file / "decks"))


# ---- 8. --terms files that are not text


@pytest.mark.parametrize(
    "data, message",
    [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"), ("LoRA\t低秩适应\n".encode("gbk"), "not UTF-8")],
)
def test_a_terms_file_that_is_not_utf8_text(workspace, tmp_path, data, message):
    articles, decks, out = workspace
    terms = tmp_path / "terms.tsv"
    terms.write_bytes(data)
    assert message in fail("build", str(articles), "--terms", str(terms), "-o", str(out), "--decks-dir", str(decks))


# ---- 9. refine reads only article files near the decks


def test_refine_refuses_sources_that_are_not_articles_near_the_decks(workspace, tmp_path, monkeypatch):
    articles, decks, out = built(workspace)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("别处的文章\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "work")
    lora = decks / "LoRA.yaml"
    doc = load(lora)
    doc["sources"] = ["~/.ssh/id_rsa", "/proc/self/environ", str(outside), str(decks / STATE_FILE), *doc["sources"]]
    save(lora, doc)
    found, missing, refused = deck_sources(decks)
    assert refused == ["~/.ssh/id_rsa", "/proc/self/environ", str(outside), str(decks / STATE_FILE)]
    assert found and all(Path(f).resolve().parent == articles for f in found) and not missing
    result = CliRunner().invoke(cli, ["refine", "--decks-dir", str(decks), "-o", str(out), "--base-url", "http://127.0.0.1:9/v1"])
    assert "~/.ssh/id_rsa (listed in a deck file) not read" in result.output
    assert "/proc/self/environ (listed in a deck file) not read" in result.output


def test_the_api_key_never_lands_in_links(workspace, monkeypatch):
    from deckgen.build import _without_secret
    from deckgen.config import resolve
    from deckgen.model import Deck

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    config = resolve({})
    deck = Deck("P", [], links=["https://x.org/?k=sk-test-0123456789abcdef", "https://arxiv.org/abs/1"])
    assert _without_secret(deck, config).links == ["https://arxiv.org/abs/1"]


def test_an_oserror_nobody_expected_is_still_one_line(workspace, monkeypatch):
    articles, decks, out = workspace

    def unreadable(inputs, memo=None):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(articles))

    monkeypatch.setattr(build_module, "ingest", unreadable)
    assert f"{articles}: Permission denied" in fail("build", str(articles), "-o", str(out), "--decks-dir", str(decks))


def test_a_package_never_holds_one_id_twice(tmp_path):
    from deckgen.build import _check_unique_ids
    from deckgen.errors import DeckFileError
    from deckgen.model import Card, Deck

    card = Card(id="term-1", type="qa", kind="term", front="Q", back="A")
    _check_unique_ids([(tmp_path / "a.yaml", Deck("A", [card])), (tmp_path / "b.yaml", Deck("B", [Card(**{**card.__dict__, "id": "term-2"})]))])
    with pytest.raises(DeckFileError, match="a.yaml and .*b.yaml: both would hold card id 'term-1'"):
        _check_unique_ids([(tmp_path / "a.yaml", Deck("A", [card])), (tmp_path / "b.yaml", Deck("B", [card]))])
