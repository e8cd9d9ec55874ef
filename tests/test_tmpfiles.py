"""A build leaves nothing in $TMPDIR: genanki's database is not used, jieba's cache is in the user cache dir."""

from __future__ import annotations

import os
import subprocess
import sys


def test_build_leaves_tmpdir_clean(tmp_path, examples_dir):
    tmpdir, cache = tmp_path / "tmp", tmp_path / "cache"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "XDG_CACHE_HOME": str(cache)}
    for _ in range(2):  # a first build (caches made) and a rebuild
        subprocess.run(
            [sys.executable, "-m", "deckgen", "build", str(examples_dir), "-o", str(tmp_path / "x.apkg"),
             "--decks-dir", str(tmp_path / "decks")],
            env=env, check=True, capture_output=True,
        )
        assert sorted(os.listdir(tmpdir)) == []
    assert (cache / "deckgen" / "jieba.cache").is_file()
    assert any(p.name.startswith("idf") for p in (cache / "deckgen").iterdir())
    assert (tmp_path / "x.apkg").stat().st_size > 0
