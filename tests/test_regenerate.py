"""Rebuilds after edits, checked where it matters: in a real Anki collection that has review history."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from deckgen.build import DecksBusy, build, decks_lock
from deckgen.cli import cli
from deckgen.model import STALE_TAG

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def change_report(output: str) -> list[str]:
    """The per-deck lines of a summary: what --dry-run promises and the real run reports."""
    summary = re.split(r"^(?:Wrote|Would write) ", output, maxsplit=1, flags=re.M)[0]  # not the next steps
    return [line for line in summary.splitlines()
            if line.startswith("  ") and ": " in line and not line.startswith(("  by kind", "  merged "))]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def save(path: Path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def find(doc: dict, needle: str) -> dict:
    [card] = [c for c in doc["cards"] if needle in (c.get("text") or c.get("front") or "")]
    return card


def find_source(doc: dict, needle: str) -> dict:
    [card] = [c for c in doc["cards"] if needle in (c.get("source") or "")]
    return card


def snapshot(anki) -> dict[str, dict]:
    return {n.guid: {"id": n.id, "fields": list(n.fields), "tags": list(n.tags)} for n in anki.notes()}


def history(anki) -> tuple[list, dict]:
    revlog = anki.col.db.all("select id, cid, ease, ivl from revlog order by id")
    due = dict(anki.col.db.all("select id, due from cards where id in (select cid from revlog)"))
    return revlog, due


@pytest.fixture
def workspace(tmp_path, examples_dir):
    articles = tmp_path / "articles"
    shutil.copytree(examples_dir, articles)
    return articles, tmp_path / "decks", tmp_path / "out.apkg"


def test_three_rounds_keep_edits_history_and_ids(workspace, anki):
    articles, decks, out = workspace

    # ---- round 1: build, import, study
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    anki.import_package(out)
    first = snapshot(anki)
    assert len({n["id"] for n in first.values()}) == len(first)
    anki.col.decks.select(anki.col.decks.id_for_name("AI Papers"))
    for _ in range(6):
        card = anki.col.sched.getCard()
        anki.col.sched.answerCard(card, 3)
    revlog_before, due_before = history(anki)
    assert len(revlog_before) == 6

    # ---- round 2: the user edits deck files, the article and a note inside Anki
    lora_file = decks / "LoRA.yaml"
    lora = load(lora_file)
    [edited] = [c for c in lora["cards"] if c.get("front") == "LoRA"]  # the term card: the user adds a note
    edited["back"] += "（我的笔记）"
    removed_by_user = find(lora, "核心思想")
    lora["cards"].remove(removed_by_user)
    lora["cards"].append({"type": "qa", "front": "LoRA 冻结了什么?", "back": "预训练模型的权重", "tags": ["mine"]})
    save(lora_file, lora)
    [anki_edited] = anki.notes('"deck:AI Papers::DDPM" "Front:DDPM"')
    anki_edited["Back"] = "去噪扩散概率模型（在 Anki 里改的）"
    anki.col.update_note(anki_edited)
    anki.col.remove_notes([first[removed_by_user["id"]]["id"]])  # and deletes it in Anki too

    article = articles / "wechat_lora.txt"
    text = article.read_text(encoding="utf-8")
    number_card = find(lora, "{{c1::10000 倍}}")
    typo_card = find_source(lora, "全量微调相当甚至更好")
    gone_sentence = "与 Adapter 等方法不同,LoRA 在部署时可以把 $BA$ 直接合并回原权重,因此不会引入任何额外的推理延迟。"
    assert gone_sentence in text
    text = (
        text.replace("10000 倍", "12000 倍")  # a number corrected
        .replace("上的实验发现", "上的实验结果发现")  # a wording fixed
        .replace(gone_sentence, "在 GLUE 基准上,LoRA 的平均得分达到 89.7。")  # a sentence replaced by a new one
    )
    article.write_text(text, encoding="utf-8")

    files_before = {p: p.read_bytes() for p in [out, *decks.rglob("*")] if p.is_file()}
    preview = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks), "--dry-run")
    assert {p: p.read_bytes() for p in [out, *decks.rglob("*")] if p.is_file()} == files_before, "--dry-run wrote something"
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert change_report(preview) == change_report(report)
    lora_line = next(line for line in change_report(report) if line.startswith("  LoRA:"))
    assert "new" in lora_line and "updated" in lora_line and "removed" in lora_line
    assert "1 deleted by you" in lora_line and "1 edited by you, kept" in lora_line

    after = load(lora_file)
    ids = [c["id"] for c in after["cards"]]
    assert removed_by_user["id"] not in ids and removed_by_user["id"] in after["deleted"]
    [mine] = [c for c in after["cards"] if c.get("front") == "LoRA 冻结了什么?"]
    assert mine["id"].startswith("custom-")
    assert [c["back"] for c in after["cards"] if c["id"] == edited["id"]] == [edited["back"]]
    assert find(after, "{{c1::12000 倍}}")["id"] == number_card["id"]
    assert find_source(after, "全量微调相当甚至更好")["id"] == typo_card["id"]
    assert "实验结果发现" in find_source(after, "全量微调相当甚至更好")["source"]
    assert not any("Adapter" in (c.get("source") or "") for c in after["cards"])
    assert any("89.7" in (c.get("text") or "") for c in after["cards"])

    anki.import_package(out)
    second = snapshot(anki)
    assert len(second) == len({n["id"] for n in second.values()})  # no duplicate notes
    for guid, note in first.items():
        if guid != removed_by_user["id"]:
            assert second[guid]["id"] == note["id"], "a note was re-created instead of updated"
    assert removed_by_user["id"] not in second  # deleted stays deleted
    assert "（我的笔记）" in second[edited["id"]]["fields"][1]
    assert "12000" in second[number_card["id"]]["fields"][0]
    assert "实验结果发现" in " ".join(second[typo_card["id"]]["fields"])
    assert second[anki_edited.guid]["fields"][1] == "去噪扩散概率模型（在 Anki 里改的）"  # unchanged in the file: Anki edit kept
    assert second[mine["id"]]["fields"][:2] == ["LoRA 冻结了什么?", "预训练模型的权重"]
    stale = [g for g, n in second.items() if STALE_TAG in n["tags"]]
    assert stale and all(g in first and g not in ids for g in stale)
    assert f"tag:{STALE_TAG}" in report
    assert history(anki) == (revlog_before, due_before)

    # ---- round 3: nothing changed; everything stays put
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert change_report(report) == [] and "0 new · 0 updated" in report, report  # unchanged decks get no line
    assert load(lora_file) == after  # the hand-added card's id is stable
    anki.import_package(out)
    assert snapshot(anki) == second
    assert history(anki) == (revlog_before, due_before)


def test_package_after_hand_edits_updates_in_place(workspace, anki):
    articles, decks, out = workspace
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    anki.import_package(out)
    before = snapshot(anki)
    ddpm = decks / "DDPM.yaml"
    doc = load(ddpm)
    doc["cards"].sort(key=lambda c: c["type"] == "cloze")  # a Q&A card first: the user edits its back
    doc["cards"][0]["back"] = "改过的答案"
    doc["cards"].append({"type": "cloze", "text": "DDPM 的前向过程有 {{c1::1000}} 步。"})
    save(ddpm, doc)
    run("package", "--decks-dir", str(decks), "-o", str(out))
    [added] = [c for c in load(ddpm)["cards"] if c.get("text") == "DDPM 的前向过程有 {{c1::1000}} 步。"]
    assert added["id"].startswith("custom-")  # written back
    anki.import_package(out)
    after = snapshot(anki)
    assert {g: n["id"] for g, n in after.items() if g != added["id"]} == {g: n["id"] for g, n in before.items()}
    assert after[doc["cards"][0]["id"]]["fields"][1] == "改过的答案"
    assert after[added["id"]]["fields"][0] == "DDPM 的前向过程有 {{c1::1000}} 步。"
    run("package", "--decks-dir", str(decks), "-o", str(out))
    anki.import_package(out)
    assert snapshot(anki) == after


def test_a_deck_file_without_its_article_is_kept_and_reported(workspace):
    articles, decks, out = workspace
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    (articles / "flashattention.md").unlink()
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert (decks / "FlashAttention.yaml").exists()
    assert "FlashAttention: kept, no article for it in this build" in report


def test_broken_deck_files_stop_the_build_before_anything_is_written(workspace):
    articles, decks, out = workspace
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    good = {p.name: p.read_bytes() for p in decks.rglob("*") if p.is_file()}
    package_before = out.read_bytes()
    (decks / "LoRA.yaml").write_text("paper: LoRA\ncards:\n- id: x\n  type: cloze\n  text: 没有挖空\n", encoding="utf-8")
    (decks / "DDPM.yaml").write_text("paper: DDPM\ncards: [\n", encoding="utf-8")
    (articles / "wechat_lora.txt").write_text("LoRA 新文章\n\nLoRA 的秩为 8,显存降低 3 倍。研究者发现效果很好。\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(articles), "-o", str(out), "--decks-dir", str(decks)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "LoRA.yaml: cards[0].text: a cloze card needs a deletion" in result.output
    assert "DDPM.yaml: line" in result.output  # both files named, with where
    assert out.read_bytes() == package_before
    assert {p.name: p.read_bytes() for p in decks.rglob("*") if p.is_file() and p.name not in ("LoRA.yaml", "DDPM.yaml")} == {
        k: v for k, v in good.items() if k not in ("LoRA.yaml", "DDPM.yaml")
    }


def test_a_second_run_waits_for_the_lock_then_says_why(workspace):
    articles, decks, out = workspace
    with decks_lock(decks), pytest.raises(DecksBusy, match="another deckgen run"):
        build([str(articles)], out, decks, lock_timeout=0.2)
    assert not out.exists()


def test_two_runs_at_once_leave_consistent_deck_files(workspace):
    articles, decks, out = workspace
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "deckgen", "build", str(articles), "-o", str(out.with_name(f"{i}.apkg")),
             "--decks-dir", str(decks)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        )
        for i in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    report = run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    assert change_report(report) == [] and "0 new · 0 updated" in report, report
    assert not list(decks.glob(".*.yaml.*"))  # no temporary files left behind


def test_changed_templates_still_update_existing_notes(workspace, anki, monkeypatch):
    """A new deckgen version with new card templates: notes are updated in place, the note types too."""
    import deckgen.package as package_module
    from deckgen.package import CLOZE_FIELDS, QA_FIELDS

    # the contract that makes this work: fields are only ever appended
    assert QA_FIELDS[:4] == ["Front", "Back", "Source", "Paper"]
    assert CLOZE_FIELDS[:4] == ["Text", "Extra", "Source", "Paper"]

    articles, decks, out = workspace
    run("build", str(articles), "-o", str(out), "--decks-dir", str(decks))
    anki.import_package(out)
    before = snapshot(anki)

    original = package_module.read_template
    monkeypatch.setattr(
        package_module, "read_template", lambda name: original(name).replace("{{Back}}", "{{Back}}<hr id=v2>")
    )
    ddpm = decks / "DDPM.yaml"
    doc = load(ddpm)
    term = next(c for c in doc["cards"] if c["kind"] == "term")
    term["back"] += "（新版）"
    save(ddpm, doc)
    run("package", "--decks-dir", str(decks), "-o", str(out))
    anki.import_package(out)
    after = snapshot(anki)
    assert {g: n["id"] for g, n in after.items()} == {g: n["id"] for g, n in before.items()}
    assert after[term["id"]]["fields"][1].endswith("（新版）")
    note = anki.col.get_note(after[term["id"]]["id"])
    assert 'id="v2"' in note.cards()[0].answer() or "id=v2" in note.cards()[0].answer()
