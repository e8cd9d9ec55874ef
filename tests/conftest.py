from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


class AnkiCollection:
    """A real Anki collection (Anki's own Rust backend) that packages are imported into."""

    def __init__(self, path: Path):
        from anki.collection import Collection

        self.col = Collection(str(path))

    def import_package(self, apkg: Path) -> None:
        from anki.collection import ImportAnkiPackageRequest
        from anki.import_export_pb2 import ImportAnkiPackageOptions

        request = ImportAnkiPackageRequest(
            package_path=str(Path(apkg).resolve()),
            options=ImportAnkiPackageOptions(with_scheduling=False, merge_notetypes=True),
        )
        self.col.import_anki_package(request)

    def notes(self, query: str = "") -> list:
        return [self.col.get_note(nid) for nid in self.col.find_notes(query)]

    def deck_names(self) -> set[str]:
        return {d.name for d in self.col.decks.all_names_and_ids()}

    def close(self) -> None:
        self.col.close()


@pytest.fixture
def anki(tmp_path):
    collection = AnkiCollection(tmp_path / "collection.anki2")
    yield collection
    collection.close()


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Every test runs in its own folder with its own user config dir, so nothing leaks in or out."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    for name in ("DECKGEN_CONFIG", "DECKGEN_TRUST_PROJECT_CONFIG", "DECKGEN_OUTPUT", "DECKGEN_DECKS_DIR",
                 "DECKGEN_ROOT_DECK", "DECKGEN_ANKI_URL"):
        monkeypatch.delenv(name, raising=False)
