"""deckgen push / build --push against a loopback AnkiConnect backed by a real Anki collection."""

from __future__ import annotations

import socket

import pytest
import yaml
from anki_connect import FakeAnki
from click.testing import CliRunner

from deckgen.cli import cli
from deckgen.model import STALE_TAG

ARTICLE = """SparseNet 论文解读

SparseNet 是一种新的稀疏注意力模型。稀疏注意力(Sparse Attention)只计算一部分位置之间的注意力。
SparseNet 在 ImageNet 上的 Top-1 准确率达到 81.5%,比基线高 2.3 个百分点。
研究者发现 SparseNet 的显存占用降低了 40%。
SparseNet 的核心思想是只让每个位置关注附近的窗口和少数全局位置。
"""


@pytest.fixture
def fake_anki(tmp_path):
    fake = FakeAnki(tmp_path / "collection.anki2").start()
    yield fake
    fake.stop()


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def notes(fake, query=""):
    return {n.guid: n for n in (fake.col.get_note(i) for i in fake.col.find_notes(query))}


def test_a_week_build_push_edit_push(tmp_path, fake_anki):
    articles = tmp_path / "articles"
    articles.mkdir()
    article = articles / "sparsenet.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out, decks = tmp_path / "papers.apkg", tmp_path / "decks"
    common = ["-o", str(out), "--decks-dir", str(decks), "--anki-url", fake_anki.url]

    # week 1: build and push
    result = run("build", str(articles), *common, "--push")
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output
    first = notes(fake_anki)
    assert len(first) >= 3 and "AI Papers::SparseNet" in {d.name for d in fake_anki.col.decks.all_names_and_ids()}
    assert [r["action"] for r in fake_anki.requests][:3] == ["version", "importPackage", "findNotes"]

    # study: answer every card once, so there is review history to keep
    col = fake_anki.col
    col.decks.select(col.decks.id_for_name("AI Papers"))
    for _ in range(len(col.find_cards(""))):
        col.sched.answerCard(col.sched.getCard(), 3)
    history = col.db.all("select id, cid, ease, ivl from revlog order by id")
    due = dict(col.db.all("select id, due from cards"))
    assert len(history) == len(col.find_cards(""))

    # week 2: a number fixed in the article, a sentence gone, a card edited in the deck file
    gone = "研究者发现 SparseNet 的显存占用降低了 40%。\n"
    article.write_text(ARTICLE.replace("81.5%", "82.5%").replace(gone, ""), encoding="utf-8")
    deck_file = decks / "SparseNet.yaml"
    doc = yaml.safe_load(deck_file.read_text(encoding="utf-8"))
    # the user's note on a card whose sentence stays (a Q&A's back, or a cloze's text)
    mine = next(c for c in doc["cards"] if "40%" not in c.get("source", "") and "81.5" not in c.get("source", ""))
    field = "back" if mine["type"] != "cloze" else "text"
    mine[field] += "（我的笔记）"
    deck_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run("build", str(articles), *common)
    assert result.exit_code == 0, result.output
    assert "deckgen push" in result.output
    result = run("push", str(out), "--anki-url", fake_anki.url, input="y\n")
    assert result.exit_code == 0, result.output

    second = notes(fake_anki)
    assert "Deleted 1 stale note" in result.output and "40%" in result.output  # listed before deleting
    assert "{{c1::" not in result.output  # as plain text
    assert result.output.index("Imported") < result.output.index("Delete it from Anki?") < result.output.index("Deleted")
    assert not notes(fake_anki, f"tag:{STALE_TAG}")
    assert len(second) == len(first) - 1  # one deleted, none duplicated
    assert all(second[g].id == first[g].id for g in second)  # updated in place, same notes
    assert "（我的笔记）" in second[mine["id"]][field.capitalize()]
    assert any("82.5%" in n["Text"] for n in second.values() if "Text" in n)
    assert col.db.all("select id, cid, ease, ivl from revlog order by id") == history  # review history kept
    assert {c: d for c, d in col.db.all("select id, due from cards")} == {c: due[c] for c in col.find_cards("")}


def test_stale_notes_stay_without_confirmation(tmp_path, fake_anki):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text(ARTICLE, encoding="utf-8")
    common = ["-o", str(tmp_path / "p.apkg"), "--decks-dir", str(tmp_path / "decks")]
    assert run("build", str(articles), *common).exit_code == 0
    assert run("push", str(tmp_path / "p.apkg"), "--anki-url", fake_anki.url).exit_code == 0
    (articles / "a.txt").write_text(ARTICLE.replace("研究者发现 SparseNet 的显存占用降低了 40%。\n", ""), encoding="utf-8")
    assert run("build", str(articles), *common).exit_code == 0
    result = run("push", str(tmp_path / "p.apkg"), "--anki-url", fake_anki.url, input="n\n")
    assert result.exit_code == 0 and "Kept 1 stale note" in result.output
    assert len(notes(fake_anki, f"tag:{STALE_TAG}")) == 1
    assert "deleteNotes" not in [r["action"] for r in fake_anki.requests]
    result = run("push", str(tmp_path / "p.apkg"), "--anki-url", fake_anki.url, "--yes")
    assert "Deleted 1 stale note" in result.output and not notes(fake_anki, f"tag:{STALE_TAG}")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_anki_names_the_fix_and_the_package_is_still_written(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.txt").write_text(ARTICLE, encoding="utf-8")
    url = f"http://127.0.0.1:{_closed_port()}"
    out = tmp_path / "p.apkg"
    result = run("build", str(articles), "-o", str(out), "--decks-dir", str(tmp_path / "decks"), "--push", "--anki-url", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert out.is_file() and f"The package is written all the same: {out}" in result.output
    for fix in ("Start Anki", "AnkiConnect", "2055492159", "--anki-url", url):
        assert fix in result.output, fix


def test_push_of_a_missing_package_says_what_to_do(tmp_path):
    result = run("push", str(tmp_path / "none.apkg"), "--anki-url", f"http://127.0.0.1:{_closed_port()}")
    assert result.exit_code == 1 and "deckgen build" in result.output


def test_a_server_that_is_not_ankiconnect(tmp_path):
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from threading import Thread

    class Html(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

    server = HTTPServer(("127.0.0.1", 0), Html)
    Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "p.apkg").write_bytes(b"x")
    try:
        result = run("push", str(tmp_path / "p.apkg"), "--anki-url", f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1 and "did not answer like AnkiConnect" in result.output


def test_a_package_anki_cannot_read_names_the_reason(tmp_path, fake_anki):
    package = tmp_path / "p.apkg"
    package.write_bytes(b"not a zip file")
    result = run("push", str(package), "--anki-url", fake_anki.url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "AnkiConnect importPackage:" in result.output and "File → Import" in result.output
