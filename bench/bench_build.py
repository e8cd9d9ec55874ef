"""Benchmark: `deckgen build` over 100 and 1000 synthetic articles against raw `jieba.lcut` over the same text.

Both run as separate processes in the same session (this machine is shared and noisy), three times each;
the report quotes medians, the build/baseline ratio, articles/s, MB/s and each process's peak RSS.

    python bench/bench_build.py [--sizes 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

BASELINE = """
import sys, pathlib, jieba, logging
jieba.setLogLevel(logging.WARNING)
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.txt")):
    jieba.lcut(path.read_text(encoding="utf-8"))
"""

_NAME = re.compile(r"\b(LoRA|DDPM|Chinchilla|FlashAttention)\b")


def example_articles() -> list[tuple[str, str]]:
    """(title, body) pairs from the bundled examples, bodies flattened to one paragraph."""
    from deckgen.ingest import parse_text

    out = []
    for path in sorted(EXAMPLES.iterdir()):
        for article in parse_text(path.read_text(encoding="utf-8"), path.name):
            out.append((article.title or "无题", " ".join(article.paragraphs)))
    return out


def make_corpus(folder: Path, count: int, seed: int = 7) -> int:
    """Write `count` distinct articles, 20 per file: names, numbers and sentence order all varied."""
    rng = random.Random(seed)
    base = example_articles()
    pool = [s for _, body in base for s in re.findall(r"[^。！？]+[。！？]", body) if len(s) > 12]
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for file_no in range(0, count, 20):
        chunks = []
        for i in range(file_no, min(file_no + 20, count)):
            title, _ = base[i % len(base)]
            name = f"Model{i}X"
            # a random draw of sentences from every example: distinct enough that de-duplication keeps them all
            text = _NAME.sub(name, "".join(rng.sample(pool, min(16, len(pool)))))
            text = re.sub(r"\d+\.\d+", lambda m: f"{rng.uniform(1, 99):.2f}", text)
            chunks.append(f"{_NAME.sub(name, title)} {i}\n\n{text}\n")
        data = "\n".join(chunks)
        (folder / f"corpus_{file_no:05d}.txt").write_text(data, encoding="utf-8")
        size += len(data.encode("utf-8"))
    return size


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'articles':>8} {'MB':>6} {'jieba s':>8} {'build s':>8} {'ratio':>6} {'art/s':>7} {'MB/s':>6} "
          f"{'jieba MB':>9} {'build MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.sizes:
            corpus = Path(tmp) / f"corpus{count}"
            size_mb = make_corpus(corpus, count) / 1e6
            base, build = [], []
            for run in range(args.repeat):
                base.append(timed([sys.executable, "-c", BASELINE, str(corpus)]))
                out = Path(tmp) / f"out{count}_{run}"
                build.append(timed([sys.executable, "-m", "deckgen", "build", str(corpus), "-o", str(out / "x.apkg"),
                                    "--decks-dir", str(out / "decks")]))
            b_t = statistics.median(t for t, _ in base)
            d_t = statistics.median(t for t, _ in build)
            print(f"{count:>8} {size_mb:>6.2f} {b_t:>8.2f} {d_t:>8.2f} {d_t / b_t:>6.2f} {count / d_t:>7.1f} "
                  f"{size_mb / d_t:>6.2f} {max(m for _, m in base):>9.0f} {max(m for _, m in build):>9.0f}")


if __name__ == "__main__":
    main()
