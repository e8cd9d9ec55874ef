"""Benchmark: `deckgen build` over 1,000 and 10,000 synthetic articles against raw `jieba.lcut` over the same text.

Every measurement is a separate process in the same session (the machine is shared and noisy), the kinds
of run interleaved round by round: jieba.lcut, a full build, a rebuild with nothing changed, a rebuild
after editing one article, a rebuild after also editing one deck file. Reported: medians of CPU time
(user + system, from the child's rusage) with the spread between rounds, the build/jieba ratio, each
process's peak RSS, and rebuilds as a share of the full build of the same round.

    python bench/bench_build.py [--sizes 1000 10000] [--repeat 3] [--rebuild-sizes 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child: steadier than wall time on a shared machine
    peak: float  # MB, the child's maximum resident set size


def timed(cmd: list[str]) -> Run:
    """One child process: wall and CPU seconds and peak RSS from its own rusage (os.wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def deckgen_build(corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "deckgen", "build", str(corpus), "-o", str(out / "x.apkg"), "--decks-dir", str(out / "decks")]


def edit_article(corpus: Path, round_no: int) -> None:
    """Append a clause to one sentence of one article (the middle file's first article)."""
    files = sorted(corpus.glob("*.txt"))
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    cut = text.index("。", 200)
    path.write_text(text[:cut] + f",第 {round_no} 次修订" + text[cut:], encoding="utf-8")


def edit_deck_file(decks: Path, round_no: int) -> None:
    """A user's edit: one card's source gets a note appended (a text edit; the YAML stays as deckgen wrote it)."""
    path = sorted(decks.glob("*.yaml"))[len(list(decks.glob("*.yaml"))) // 3]
    text = path.read_text(encoding="utf-8")
    cut = text.index("\n  source: ") + len("\n  source: ")
    end = text.index("\n", cut)
    line = text[cut:end]
    if line.startswith(("|", ">", "'", '"')):  # a block or quoted scalar: edit the tag list instead
        cut = text.index("\n  tags:\n") + len("\n  tags:\n")
        path.write_text(text[:cut] + f"  - note{round_no}\n" + text[cut:], encoding="utf-8")
    else:
        path.write_text(text[:end] + f" note{round_no}" + text[end:], encoding="utf-8")


def spread(values: list[float]) -> str:
    """Median and the noise around it: (max - min) / median."""
    med = statistics.median(values)
    return f"{med:.2f} (±{(max(values) - min(values)) / med / 2:.0%})" if len(values) > 1 else f"{med:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild-sizes", type=int, nargs="*", default=[1000], help="sizes that also time rebuilds")
    args = parser.parse_args()
    helps = [timed([sys.executable, "-m", "deckgen", "--help"]).wall for _ in range(5)]
    print(f"deckgen --help: median {statistics.median(helps) * 1000:.0f} ms of 5 (wall)\n")
    print("| articles | MB | jieba.lcut CPU s | full build CPU s | ratio | jieba peak MB | build peak MB "
          "| nothing changed | one article edited | one deck file edited |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.sizes:
            corpus = Path(tmp) / f"corpus{count}"
            size_mb = make_corpus(corpus, count) / 1e6
            rebuilds = count in args.rebuild_sizes
            base: list[Run] = []
            full: list[Run] = []
            again: dict[str, list[float]] = {"nothing": [], "article": [], "deck": []}
            for run in range(args.repeat):  # interleaved: every kind of run once per round
                base.append(timed([sys.executable, "-c", BASELINE, str(corpus)]))
                out = Path(tmp) / f"out{count}_{run}"
                build = timed(deckgen_build(corpus, out))
                full.append(build)
                if not rebuilds:
                    continue
                again["nothing"].append(timed(deckgen_build(corpus, out)).cpu / build.cpu)
                edit_article(corpus, run)
                again["article"].append(timed(deckgen_build(corpus, out)).cpu / build.cpu)
                edit_deck_file(out / "decks", run)
                again["deck"].append(timed(deckgen_build(corpus, out)).cpu / build.cpu)
                shutil.rmtree(out)
            ratios = [f.cpu / b.cpu for f, b in zip(full, base, strict=True)]
            cells = [spread(again[k]) + "×" if again[k] else "—" for k in ("nothing", "article", "deck")]
            print(f"| {count} | {size_mb:.2f} | {spread([b.cpu for b in base])} | {spread([f.cpu for f in full])} "
                  f"| {spread(ratios)} | {max(b.peak for b in base):.0f} | {max(f.peak for f in full):.0f} | "
                  + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
