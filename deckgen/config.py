"""Where settings come from: option > environment > deckgen.yaml > default.

deckgen.yaml is read from the current folder (or the file DECKGEN_CONFIG names) and from the user's
config directory; the current folder's file wins key by key. It holds every option of build, package,
push and preview, plus an `llm:` section.

Secrets: the API key is only ever read from an option or an environment variable. Which variable holds
it (`api_key_env`) and an endpoint that receives it (`base_url`) come from the user — an option, the
environment, the user's own config file or DECKGEN_CONFIG — never from a deckgen.yaml that merely sits
in the current folder (a cloned repository could name AWS_SECRET_ACCESS_KEY and its own server), unless
the user opts in with DECKGEN_TRUST_PROJECT_CONFIG=1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.errors import ConfigError

CONFIG_FILE = "deckgen.yaml"
TRUST_ENV = "DECKGEN_TRUST_PROJECT_CONFIG"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_JOBS = 4
DEFAULT_ANKI_URL = "http://127.0.0.1:8765"
# Top-level keys: the options of build / package / push / preview.
TOP_KEYS = {"inputs", "output", "decks_dir", "root_deck", "terms", "max_cards", "anki_url", "preview_output", "llm"}
FILE_KEYS = {
    "enabled", "base_url", "model", "api_key_env", "jobs", "timeout", "max_retries", "price_in", "price_out",
    "max_cost", "max_requests", "cache", "prompt", "chunk_chars",
}  # fmt: skip
SECRET_KEYS = ("api_key_env", "base_url")  # only from the user, see the module docstring
PATH_KEYS = {"output", "decks_dir", "preview_output", "cache", "prompt"}


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


@dataclass
class Settings:
    """The merged deckgen.yaml files: each value with the file it came from."""

    values: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)  # "output", "llm.base_url", ...
    untrusted: set[str] = field(default_factory=set)  # keys set by a project file the user has not opted into

    @property
    def files(self) -> list[Path]:
        return list(dict.fromkeys(self.origin.values()))

    def default_map(self) -> dict[str, dict[str, Any]]:
        """click's default_map: file values under each command's parameter names (options and env still win)."""
        v = self.values
        common = {k: v[k] for k in ("output", "decks_dir", "root_deck") if k in v}
        anki = {"anki_url": v["anki_url"]} if "anki_url" in v else {}
        build = {**common, **anki, **{k: v[k] for k in ("terms", "max_cards") if k in v}}
        if "enabled" in self.llm:
            build["llm"] = self.llm["enabled"]
        push = {**anki, **({"package": v["output"]} if "output" in v else {})}
        preview = {k: v[k] for k in ("decks_dir", "root_deck") if k in v}
        if "preview_output" in v:
            preview["output"] = v["preview_output"]
        return {"build": build, "package": {**common, **anki}, "refine": dict(common), "push": push, "preview": preview}


def user_config_path() -> Path:
    from platformdirs import user_config_dir  # here, not at import: `deckgen --help` stays fast

    return Path(user_config_dir("deckgen", appauthor=False)) / CONFIG_FILE


def config_path() -> Path:
    """The project file: DECKGEN_CONFIG if set, else deckgen.yaml in the current folder."""
    return Path(os.environ.get("DECKGEN_CONFIG") or CONFIG_FILE)


def _read(path: Path) -> dict[str, Any]:
    import yaml  # here, not at import: `deckgen --help` stays fast

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of settings such as `output: papers.apkg` (see `deckgen init`)")
    unknown = sorted(str(k) for k in set(doc) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown setting (allowed: {', '.join(sorted(TOP_KEYS))})")
    section = doc.get("llm") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: llm: expected a mapping with keys such as base_url and model")
    if "api_key" in section:
        raise ConfigError(
            f"{path}: llm.api_key: keys do not belong in files; set OPENAI_API_KEY, or name the variable that "
            "holds it with llm.api_key_env"
        )
    unknown = sorted(str(k) for k in set(section) - FILE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: llm.{unknown[0]}: unknown setting (allowed: {', '.join(sorted(FILE_KEYS))})")
    for key in PATH_KEYS & set(doc):
        doc[key] = os.path.expanduser(str(doc[key]))
    if isinstance(doc.get("terms"), str):
        doc["terms"] = [doc["terms"]]
    if isinstance(doc.get("inputs"), str):
        doc["inputs"] = [doc["inputs"]]
    return doc


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """The user's file, then the project's file on top; unknown keys are an error naming the key and the file."""
    env = os.environ if environ is None else environ
    settings = Settings()
    user = user_config_path()
    project = Path(env.get("DECKGEN_CONFIG") or CONFIG_FILE)
    trusted_project = bool(env.get("DECKGEN_CONFIG")) or env.get(TRUST_ENV, "") not in ("", "0")
    for path, trusted in ((user, True), (project, trusted_project)):
        if not path.is_file() or (path.resolve() == user.resolve() and path is not user):
            continue
        doc = _read(path)
        for key, value in doc.items():
            if key == "llm":
                for name, item in (value or {}).items():
                    settings.llm[name] = item
                    settings.origin[f"llm.{name}"] = path
                    (settings.untrusted.discard if trusted else settings.untrusted.add)(f"llm.{name}")
            else:
                settings.values[key] = value
                settings.origin[key] = path
    return settings


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The `llm:` section of one deckgen.yaml, checked; {} when there is no file."""
    path = path or config_path()
    return (_read(path).get("llm") or {}) if path.is_file() else {}


def _untrusted(settings: Settings, key: str, what: str) -> ConfigError:
    return ConfigError(
        f"{settings.origin[f'llm.{key}']}: llm.{key}: {what}; a deckgen.yaml in the current folder may come with a "
        f"repository you cloned, so deckgen does not take that from it. Pass the option, set the environment "
        f"variable, put it in your own {user_config_path()}, or set {TRUST_ENV}=1 if you trust this folder"
    )


def resolve(options: dict[str, Any], environ: dict[str, str] | None = None, settings: Settings | None = None) -> LLMConfig:
    """Merge options (None = not given), the environment and the config files into one LLMConfig."""
    env = os.environ if environ is None else environ
    settings = settings or load_settings(env)
    file = settings.llm

    def pick(name: str, env_name: str | None = None, default: Any = None) -> Any:
        if options.get(name) is not None:
            return options[name]
        if env_name and env.get(env_name):
            return env[env_name]
        return file.get(name, default)

    if "llm.api_key_env" in settings.untrusted and not options.get("api_key"):
        raise _untrusted(settings, "api_key_env", f"names the variable whose secret is sent ({file['api_key_env']})")
    key_env = str(file.get("api_key_env", "OPENAI_API_KEY"))
    api_key = options.get("api_key") or env.get(key_env) or (env.get("OPENAI_API_KEY") if key_env != "OPENAI_API_KEY" else None)
    base_url = pick("base_url", "OPENAI_BASE_URL")
    from_project = options.get("base_url") is None and not env.get("OPENAI_BASE_URL") and "llm.base_url" in settings.untrusted
    if api_key and from_project:
        raise _untrusted(settings, "base_url", f"would receive your API key ({base_url})")
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


INIT_TEMPLATE = """\
# deckgen settings. Precedence: command-line option > environment variable > this file > default.
# deckgen reads ./deckgen.yaml, then {user} (this folder's file wins key by key).
# Unknown keys are an error. Uncomment what you need.

# inputs: [articles/]            # what `deckgen build` reads when you name no files
# output: papers.apkg            # the Anki package (default decks.apkg)            [env DECKGEN_OUTPUT]
# decks_dir: decks               # the editable YAML deck files, one per paper     [env DECKGEN_DECKS_DIR]
# root_deck: AI Papers           # each paper is a deck under it                   [env DECKGEN_ROOT_DECK]
# terms: [my_terms.tsv]          # extra AI-terms dictionaries (TERM<TAB>中文<TAB>English)
# max_cards: 20                  # most rule-based cards per paper
# anki_url: {anki_url}  # AnkiConnect, for `deckgen push`              [env DECKGEN_ANKI_URL]
# preview_output: preview.html   # the page `deckgen preview` writes

# llm:
#   enabled: false               # true: every build runs as with --llm
#   model: {model}              # [env DECKGEN_MODEL]
#   jobs: {jobs}                       # requests at once
#   timeout: 60                  # seconds per reply
#   max_retries: 3
#   max_requests: 200            # budget per run
#   max_cost: 0.50               # USD per run, needs the prices below
#   price_in: 0.15               # USD per million input tokens
#   price_out: 0.60              # USD per million output tokens
#   prompt: my_prompt.md         # your own prompt (format: templates/refine_prompt.md)
#   cache: ~/deckgen-cache.sqlite
# The endpoint and the key's variable are trusted only from your own config file
# ({user}), an option or the environment — not from a deckgen.yaml in a folder:
#   base_url: http://localhost:11434/v1   # [env OPENAI_BASE_URL]
#   api_key_env: DEEPSEEK_API_KEY         # the NAME of the variable holding the key; never the key
"""


def init_text() -> str:
    return INIT_TEMPLATE.format(user=user_config_path(), anki_url=DEFAULT_ANKI_URL, model=DEFAULT_MODEL, jobs=DEFAULT_JOBS)
