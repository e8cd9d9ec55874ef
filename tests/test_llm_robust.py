"""A misbehaving server, a careless config, an impatient user: never a traceback, never a lost card,
never the key in a file or on the terminal. Against the loopback server, through the real openai client."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fake_llm import FakeLLM, user_message

from deckgen.cli import cli

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-robust-NEVER-SHOW-8812"
ARTICLE = (
    "{name} 语音识别新模型\n\n"
    "研究者提出了 {name},一种流式语音识别(Automatic Speech Recognition,ASR)模型。"
    "在 LibriSpeech 上,{name} 的词错误率降到了 2.1%。"
    "{name} 的延迟只有 80 毫秒,比上一代模型低 40%。"
    "研究者发现,分块注意力让长音频的识别更加稳定。\n"
)
NAMES = ["EchoNet", "WaveTalk", "SoundMind", "VoxFlow", "AudioKit", "SpeakNow"]


@pytest.fixture
def server():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


def write_articles(tmp_path, count: int = 1) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name in NAMES[:count]:
        (folder / f"{name}.txt").write_text(ARTICLE.format(name=name), encoding="utf-8")
    return folder


def build_args(tmp_path, url: str, *extra: str) -> list[str]:
    return ["build", str(tmp_path / "articles"), "-o", str(tmp_path / "out.apkg"), "--decks-dir", str(tmp_path / "decks"),
            "--llm", "--base-url", url, "--api-key", KEY, "--cache", str(tmp_path / "cache.sqlite"), *extra]


def run(tmp_path, url: str, *extra: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, build_args(tmp_path, url, *extra), catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def model_cards(tmp_path, name: str = "EchoNet") -> list[dict]:
    doc = yaml.safe_load((tmp_path / "decks" / f"{name}.yaml").read_text(encoding="utf-8"))
    return [c for c in doc["cards"] if c["kind"] == "llm"]


def completion(content) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 10, "completion_tokens": 5}}).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"), "the server's response is not JSON"),
        ((b'{"choices": {"0": "x"}, "usage": {}}',), "no list of choices"),
        ((b'{"choices": []}',), "no list of choices"),
        ((completion({"cards": []}),), "content is not text"),
        ((b'{"choices": ' + b"[" * 50000 + b"]" * 50000 + b"}",), "not JSON"),
        ((b"null",), "no list of choices"),
    ],
    ids=["html", "choices-not-a-list", "no-choices", "content-not-text", "nested-too-deep", "json-null"],
)
def test_a_reply_that_is_not_a_chat_completion_falls_back_with_a_warning(tmp_path, server, body, reason):
    write_articles(tmp_path)
    server.script.append(("body", *body))
    output = run(tmp_path, server.url, code=1)
    assert "EchoNet keeps its rule-based cards: " in output and reason in output
    assert not model_cards(tmp_path)


def test_usage_fields_as_strings_are_read_or_ignored(tmp_path, server):
    write_articles(tmp_path)
    content = json.dumps({"cards": [{"type": "cloze", "text": "EchoNet 的词错误率降到了 {{c1::2.1%}}。",
                                     "source": "在 LibriSpeech 上,EchoNet 的词错误率降到了 2.1%。"}]}, ensure_ascii=False)
    body = json.dumps({"choices": [{"message": {"content": content}, "finish_reason": None}],
                       "usage": {"prompt_tokens": "1200", "completion_tokens": "lots"}}).encode()
    server.script.append(("body", body))
    output = run(tmp_path, server.url)
    assert "tokens in 1,200 / out 0" in output and len(model_cards(tmp_path)) == 1


def test_deeply_nested_json_in_the_reply_gets_a_repair_attempt(tmp_path, server):
    write_articles(tmp_path)
    server.script.append(("text", '{"cards": ' + "[" * 50000 + "]" * 50000 + "}"))
    output = run(tmp_path, server.url)
    assert len(server.requests) == 2 and "nested too deeply" in server.requests[1]["messages"][-1]["content"]
    assert model_cards(tmp_path) and "keeps its rule-based cards" not in output


def test_a_server_that_drips_bytes_is_stopped_at_the_deadline(tmp_path, server):
    write_articles(tmp_path)
    (tmp_path / "work" / "deckgen.yaml").write_text("llm:\n  max_retries: 0\n", encoding="utf-8")
    server.script.append(("drip", 0.05))  # a byte every 50 ms: no single read ever times out
    start = time.monotonic()
    output = run(tmp_path, server.url, "--timeout", "1", code=1)
    assert time.monotonic() - start < 8
    assert "EchoNet keeps its rule-based cards: no reply within 1 s" in output


def test_a_cache_file_that_is_not_sqlite_is_a_clear_error(tmp_path, server):
    write_articles(tmp_path)
    (tmp_path / "cache.sqlite").write_text("this is my shopping list\n" * 100, encoding="utf-8")
    output = run(tmp_path, server.url, code=1)
    assert "cache.sqlite: cannot use it as the LLM cache" in output and "--cache" in output
    assert not server.requests
    result = CliRunner().invoke(cli, ["cache", "stats", "--cache", str(tmp_path / "cache.sqlite")])
    assert result.exit_code == 1 and "Traceback" not in result.output and "cannot use it" in result.output
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("create table notes (x)")
    output = run(tmp_path, server.url, "--cache", str(other), code=1)
    assert "not a deckgen cache" in output


@pytest.mark.parametrize(
    ("setting", "message"),
    [("timeout: -1", "timeout: -1 is not a number of seconds above 0"), ("timeout: .nan", "timeout"),
     ("max_retries: -2", "max_retries: -2 is below 0"), ("jobs: 1000", "jobs: 1000 is not between 1 and 64"),
     ("jobs: 0", "jobs: 0 is not between 1 and 64"), ("jobs: many", "LLM settings")],
)
def test_config_values_beyond_the_limits_are_refused(tmp_path, server, setting, message):
    write_articles(tmp_path)
    (tmp_path / "work" / "deckgen.yaml").write_text(f"llm:\n  {setting}\n", encoding="utf-8")
    output = run(tmp_path, server.url, code=1)
    assert message in output and not server.requests


def test_a_server_that_echoes_the_key_gets_it_nowhere(tmp_path, server):
    write_articles(tmp_path, count=2)
    server.script.extend([("echo_key",), ("status", 400, {}, f"bad request from key {KEY}")])
    result = CliRunner().invoke(cli, [*build_args(tmp_path, server.url, "-v"), "--jobs", "1"], catch_exceptions=False)
    assert KEY in server.auth_headers[0]  # it was sent, as it must be
    assert KEY not in result.output and "[API key]" in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file() and ".venv" not in path.parts:
            assert KEY.encode() not in path.read_bytes(), path


def test_dry_run_sends_nothing_and_says_what_a_real_run_would(tmp_path, server):
    write_articles(tmp_path, count=2)
    output = run(tmp_path, server.url, "--dry-run", "--price-in", "1", "--price-out", "2")
    assert not server.requests
    assert "a real run would send 2 requests" in output and "about $" in output
    assert not (tmp_path / "decks").exists() or not list((tmp_path / "decks").glob("*.yaml"))
    assert not (tmp_path / "cache.sqlite").exists()  # not even an empty cache
    run(tmp_path, server.url, "--jobs", "1", "--max-requests", "1")  # one reply in the cache
    assert len(server.requests) == 1
    output = run(tmp_path, server.url, "--dry-run")
    assert len(server.requests) == 1
    assert "a real run would send 1 request" in output and "1 replies from the cache" in output


def test_exit_code_when_every_request_failed_and_when_one_did_not(tmp_path, server):
    write_articles(tmp_path, count=2)
    (tmp_path / "work" / "deckgen.yaml").write_text("llm:\n  max_retries: 0\n", encoding="utf-8")
    server.script.extend([("status", 500, {}), ("status", 500, {})])
    output = run(tmp_path, server.url, "--jobs", "1", code=1)
    assert "every LLM request failed" in output and output.count("keeps its rule-based cards") == 2
    assert (tmp_path / "decks" / "EchoNet.yaml").exists()  # the rule-based decks were still written
    server.script.append(("status", 500, {}))
    output = run(tmp_path, server.url, "--jobs", "1")
    assert output.count("keeps its rule-based cards") == 1


def test_the_system_message_is_the_same_for_every_paper(tmp_path, server):
    write_articles(tmp_path, count=3)
    run(tmp_path, server.url)
    systems = {r["messages"][0]["content"] for r in server.requests}
    assert len(server.requests) == 3 and len(systems) == 1
    assert not any(name in next(iter(systems)) for name in NAMES)
    assert all(any(name in user_message(r) for name in NAMES[:3]) for r in server.requests)


def test_a_long_article_goes_in_chunks_each_with_its_own_candidates(tmp_path, server):
    folder = tmp_path / "articles"
    folder.mkdir()
    paragraphs = [f"在第 {i} 组实验中,EchoNet 的词错误率降到了 {i}.{i}%,延迟为 {10 * i} 毫秒。" for i in range(1, 9)]
    (folder / "long.txt").write_text("EchoNet 长文\n\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")
    (tmp_path / "work" / "deckgen.yaml").write_text("llm:\n  chunk_chars: 120\n", encoding="utf-8")
    CliRunner().invoke(cli, ["build", str(folder), "-o", str(tmp_path / "rules.apkg"), "--decks-dir",
                             str(tmp_path / "rules")], catch_exceptions=False)
    rule_count = len(yaml.safe_load(next((tmp_path / "rules").glob("*.yaml")).read_text(encoding="utf-8"))["cards"])
    run(tmp_path, server.url)
    assert len(server.requests) > 2
    shown = 0
    for request in server.requests:
        user = user_message(request)
        article = user.split("<article>")[1].split("</article>")[0]
        lines = [line for line in user.splitlines() if line.startswith("[S")]
        assert all(line.split("] ", 1)[1] in article for line in lines)  # its candidates' sentences are in its chunk
        shown += sum(1 for line in user.splitlines() if line[:1] == "c" and " | S" in line)
    assert shown == rule_count  # every candidate shown, none twice


def test_ctrl_c_stops_new_requests_keeps_the_cache_and_exits(tmp_path):
    slow = FakeLLM(latency=1.0).start()
    try:
        write_articles(tmp_path, count=6)
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DECKGEN_CONFIG")}
        proc = subprocess.Popen([sys.executable, "-m", "deckgen", *build_args(tmp_path, slow.url, "--jobs", "1")],
                                cwd=tmp_path / "work", env={**env, "PYTHONPATH": str(ROOT)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(slow.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(slow.requests) >= 2  # the first reply is in, the second request in flight
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - sent < 5
        assert proc.returncode != 0 and "interrupted" in err and "Traceback" not in err
        assert len(slow.requests) <= 3
        cached = sqlite3.connect(tmp_path / "cache.sqlite").execute("select count(*) from responses").fetchone()[0]
        assert cached >= 1
        assert not (tmp_path / "out.apkg").exists()
        output = run(tmp_path, slow.url, "--jobs", "4")
        assert f"{cached} from the cache" in output
    finally:
        slow.stop()
