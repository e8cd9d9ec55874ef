"""Where the LLM settings come from: option > environment > deckgen.yaml > default.

The API key is only ever read from an option or an environment variable, never from a file deckgen
reads or writes, so it cannot end up in a cache, deck file, package or repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import ConfigError

CONFIG_FILE = "deckgen.yaml"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_JOBS = 4
FILE_KEYS = {
    "base_url", "model", "api_key_env", "jobs", "timeout", "max_retries", "price_in", "price_out",
    "max_cost", "max_requests", "cache", "prompt", "chunk_chars",
}  # fmt: skip


@dataclass
class LLMConfig:
    base_url: str | None
    api_key: str | None
    model: str = DEFAULT_MODEL
    jobs: int = DEFAULT_JOBS
    timeout: float = 60.0
    max_retries: int = 3
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None
    max_cost: float | None = None
    max_requests: int | None = None
    cache: Path | None = None  # None: the user cache directory
    prompt: Path | None = None  # None: templates/refine_prompt.md
    chunk_chars: int = 6000  # longer articles go out in several requests, split at paragraphs

    @property
    def endpoint(self) -> str:
        return (self.base_url or "https://api.openai.com/v1").rstrip("/")


def config_path() -> Path:
    return Path(os.environ.get("DECKGEN_CONFIG") or CONFIG_FILE)


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The `llm:` section of deckgen.yaml, checked; {} when there is no file."""
    path = path or config_path()
    if not path.exists():
        return {}
    import yaml  # here, not at import: `deckgen --help` stays fast
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from exc
    section = doc.get("llm", {}) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected a mapping `llm:` with keys such as base_url and model")
    if "api_key" in section:
        raise ConfigError(
            f"{path}: llm.api_key: keys do not belong in files; set OPENAI_API_KEY, or name the variable that "
            "holds it with llm.api_key_env"
        )
    unknown = set(section) - FILE_KEYS
    if unknown:
        raise ConfigError(f"{path}: llm.{sorted(unknown)[0]}: unknown setting (allowed: {', '.join(sorted(FILE_KEYS))})")
    return section


def resolve(options: dict[str, Any], environ: dict[str, str] | None = None) -> LLMConfig:
    """Merge options (None = not given), the environment and the config file into one LLMConfig."""
    env = os.environ if environ is None else environ
    file = read_config_file()

    def pick(name: str, env_name: str | None = None, default: Any = None) -> Any:
        if options.get(name) is not None:
            return options[name]
        if env_name and env.get(env_name):
            return env[env_name]
        return file.get(name, default)

    key_env = file.get("api_key_env", "OPENAI_API_KEY")
    api_key = options.get("api_key") or env.get(key_env) or (env.get("OPENAI_API_KEY") if key_env != "OPENAI_API_KEY" else None)
    base_url = pick("base_url", "OPENAI_BASE_URL")
    if not api_key and not base_url:
        raise ConfigError(
            "no API key: set OPENAI_API_KEY (or pass --api-key), or point --base-url / OPENAI_BASE_URL at an "
            "OpenAI-compatible server such as a local Ollama (http://localhost:11434/v1); without --llm deckgen "
            "works offline"
        )
    try:
        config = LLMConfig(
            base_url=base_url,
            api_key=api_key,
            model=str(pick("model", "DECKGEN_MODEL", DEFAULT_MODEL)),
            jobs=int(pick("jobs", default=DEFAULT_JOBS)),
            timeout=float(pick("timeout", default=60.0)),
            max_retries=int(pick("max_retries", default=3)),
            price_in=_float(pick("price_in")),
            price_out=_float(pick("price_out")),
            max_cost=_float(pick("max_cost")),
            max_requests=None if pick("max_requests") is None else int(pick("max_requests")),
            cache=None if pick("cache") is None else Path(pick("cache")),
            prompt=None if pick("prompt") is None else Path(pick("prompt")),
            chunk_chars=int(pick("chunk_chars", default=6000)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"LLM settings: {exc}") from exc
    _check_limits(config)
    return config


MAX_JOBS = 64  # the same limit as the --jobs option


def _check_limits(config: LLMConfig) -> None:
    """Numbers from deckgen.yaml get the limits the options have (the CLI checks its own)."""
    if not 1 <= config.jobs <= MAX_JOBS:
        raise ConfigError(f"LLM settings: jobs: {config.jobs} is not between 1 and {MAX_JOBS}")
    if not 0 < config.timeout < float("inf"):
        raise ConfigError(f"LLM settings: timeout: {config.timeout:g} is not a number of seconds above 0")
    if config.max_retries < 0:
        raise ConfigError(f"LLM settings: max_retries: {config.max_retries} is below 0")
    if config.chunk_chars < 1:
        raise ConfigError(f"LLM settings: chunk_chars: {config.chunk_chars} is below 1")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
