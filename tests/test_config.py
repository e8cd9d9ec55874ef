"""deckgen.yaml: every option of build/package/push/preview, precedence, unknown keys, and the secrets rule."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from fake_llm import FakeLLM
from test_llm import write_articles

from deckgen.cli import cli
from deckgen.config import init_text, load_settings, user_config_path
from deckgen.errors import ConfigError


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def server():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _no_real_endpoint(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DECKGEN_MODEL", "SOME_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_the_file_sets_output_decks_dir_and_root_deck_and_inputs(tmp_path, anki):
    write_articles(tmp_path / "work" / "articles")
    (tmp_path / "work" / "deckgen.yaml").write_text(
        "inputs: articles\noutput: papers.apkg\ndecks_dir: my-decks\nroot_deck: Reading\n", encoding="utf-8"
    )
    result = run("build")  # nothing typed but the command
    assert result.exit_code == 0, result.output
    assert (tmp_path / "work" / "papers.apkg").is_file() and (tmp_path / "work" / "my-decks" / "GraphNet.yaml").is_file()
    assert not (tmp_path / "work" / "decks.apkg").exists()
    anki.import_package(tmp_path / "work" / "papers.apkg")
    assert "Reading::GraphNet" in anki.deck_names()
    assert "deckgen push   (" in result.output  # the file names the output: `deckgen push` alone finds it


def test_option_beats_environment_beats_file(tmp_path):
    write_articles(tmp_path / "work" / "articles")
    (tmp_path / "work" / "deckgen.yaml").write_text("output: from-file.apkg\n", encoding="utf-8")
    assert run("build", "articles", env={"DECKGEN_OUTPUT": "from-env.apkg"}).exit_code == 0
    assert (tmp_path / "work" / "from-env.apkg").exists() and not (tmp_path / "work" / "from-file.apkg").exists()
    assert run("build", "articles", "-o", "from-option.apkg", env={"DECKGEN_OUTPUT": "from-env.apkg"}).exit_code == 0
    assert (tmp_path / "work" / "from-option.apkg").exists()
    assert run("build", "articles").exit_code == 0
    assert (tmp_path / "work" / "from-file.apkg").exists()


def test_the_current_folder_wins_over_the_user_file_key_by_key(tmp_path):
    user = user_config_path()
    assert str(user).startswith(str(tmp_path))  # the fixture isolates the user config dir
    user.parent.mkdir(parents=True)
    user.write_text("output: user.apkg\nroot_deck: Mine\nllm:\n  model: user-model\n", encoding="utf-8")
    (tmp_path / "work" / "deckgen.yaml").write_text("output: project.apkg\n", encoding="utf-8")
    settings = load_settings()
    assert settings.values == {"output": "project.apkg", "root_deck": "Mine"}
    assert settings.llm == {"model": "user-model"} and settings.origin["root_deck"] == user


@pytest.mark.parametrize(
    "text, key",
    [("outptu: x.apkg\n", "outptu"), ("llm:\n  modle: x\n", "llm.modle"), ("llm:\n  api_key: sk-1\n", "llm.api_key")],
)
def test_unknown_keys_are_an_error_naming_the_key_and_the_file(tmp_path, text, key):
    (tmp_path / "work" / "deckgen.yaml").write_text(text, encoding="utf-8")
    result = run("package")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"deckgen.yaml: {key}:" in result.output


def test_init_writes_a_commented_file_whose_every_setting_is_known(tmp_path):
    result = run("init")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "work" / "deckgen.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) is None  # all commented out: defaults until the user edits it
    assert run("init").exit_code == 1  # never overwrites without --force
    uncommented = "\n".join(re.sub(r"^# ?(\s*[a-z_]+:)", r"\1", line) for line in text.splitlines())
    (tmp_path / "work" / "deckgen.yaml").write_text(uncommented, encoding="utf-8")
    settings = load_settings({"DECKGEN_TRUST_PROJECT_CONFIG": "1"})
    assert {"output", "decks_dir", "root_deck", "terms", "max_cards", "anki_url", "inputs", "preview_output"} <= set(settings.values)
    assert {"model", "jobs", "base_url", "api_key_env", "max_cost"} <= set(settings.llm)
    assert init_text() == text


def test_init_user_writes_to_the_user_config_dir(tmp_path):
    assert run("init", "--user").exit_code == 0
    assert user_config_path().is_file() and not (tmp_path / "work" / "deckgen.yaml").exists()


def _llm_project(tmp_path, server) -> None:
    write_articles(tmp_path / "work" / "articles")
    (tmp_path / "work" / "deckgen.yaml").write_text(
        f"llm:\n  api_key_env: SOME_SECRET\n  base_url: {server.url}\n", encoding="utf-8"
    )


def test_a_project_file_cannot_send_a_secret_to_its_server(tmp_path, server):
    _llm_project(tmp_path, server)
    env = {"SOME_SECRET": "aws-secret-value", "OPENAI_API_KEY": "sk-user-key"}
    result = CliRunner().invoke(cli, ["build", "articles", "--llm"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "llm.api_key_env" in result.output and "DECKGEN_TRUST_PROJECT_CONFIG" in result.output
    # the variable's name alone is not enough either: the file's server would still get the user's own key
    (tmp_path / "work" / "deckgen.yaml").write_text(f"llm:\n  base_url: {server.url}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "articles", "--llm"], env=env)
    assert result.exit_code == 1 and "would receive your API key" in result.output
    assert server.requests == [] and server.auth_headers == []


def test_a_project_endpoint_without_a_key_is_fine(tmp_path, server):
    write_articles(tmp_path / "work" / "articles")
    (tmp_path / "work" / "deckgen.yaml").write_text(f"llm:\n  base_url: {server.url}\n", encoding="utf-8")
    result = run("build", "articles", "--llm", "--cache", str(tmp_path / "c.sqlite"))
    assert result.exit_code == 0, result.output
    assert server.requests and not any("Bearer sk" in h or "secret" in h for h in server.auth_headers)


@pytest.mark.parametrize("how", ["opt-in", "user-file", "option"])
def test_the_user_can_choose_the_key_and_the_endpoint(tmp_path, server, how):
    _llm_project(tmp_path, server)
    env = {"SOME_SECRET": "aws-secret-value"}
    args = ["build", "articles", "--llm", "--cache", str(tmp_path / "c.sqlite")]
    if how == "opt-in":
        env["DECKGEN_TRUST_PROJECT_CONFIG"] = "1"
    elif how == "user-file":
        user = user_config_path()
        user.parent.mkdir(parents=True)
        user.write_text(f"llm:\n  api_key_env: SOME_SECRET\n  base_url: {server.url}\n", encoding="utf-8")
        (tmp_path / "work" / "deckgen.yaml").write_text("output: papers.apkg\n", encoding="utf-8")
    else:
        (tmp_path / "work" / "deckgen.yaml").write_text("output: papers.apkg\n", encoding="utf-8")
        args += ["--base-url", server.url, "--api-key", "aws-secret-value"]
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    assert server.auth_headers and set(server.auth_headers) == {"Bearer aws-secret-value"}


def test_resolve_refuses_an_untrusted_key_variable_without_running_anything(tmp_path):
    (tmp_path / "work" / "deckgen.yaml").write_text("llm:\n  api_key_env: SOME_SECRET\n", encoding="utf-8")
    from deckgen.config import resolve

    with pytest.raises(ConfigError, match="llm.api_key_env"):
        resolve({}, {"SOME_SECRET": "x"})
    assert resolve({}, {"SOME_SECRET": "x", "DECKGEN_TRUST_PROJECT_CONFIG": "1"}).api_key == "x"


def test_help_everywhere_with_h():
    for command in ([], ["build"], ["package"], ["push"], ["preview"], ["init"], ["refine"], ["cache", "stats"]):
        result = run(*command, "-h")
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_llm_enabled_in_the_file_makes_every_build_an_llm_build(tmp_path, server):
    write_articles(tmp_path / "work" / "articles")
    (tmp_path / "work" / "deckgen.yaml").write_text(f"inputs: articles\nllm:\n  enabled: true\n  cache: {tmp_path / 'c.sqlite'}\n",
                                                    encoding="utf-8")
    assert run("build", "--no-llm").exit_code == 0 and server.requests == []
    result = run("build", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 1 and "LLM: 1 request" in result.output
