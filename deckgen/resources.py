"""Find templates/ both in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

from deckgen.errors import TemplateError

_PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    # A wheel carries templates/ inside the package (see pyproject.toml force-include);
    # a checkout or editable install has it beside the package.
    for candidate in (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TemplateError("templates/ not found: reinstall deckgen (pip install deckgen)")


def read_template(name: str) -> str:
    path = templates_dir() / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from exc


def data_path(name: str) -> Path:
    return _PACKAGE_DIR / "data" / name
