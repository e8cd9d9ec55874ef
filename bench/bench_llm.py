"""Benchmark: LLM refinement of 64 articles against a loopback server that takes 300 ms per reply.

Times the refine stage (requests, parsing, grounding) at --jobs 16 and sequentially, each with an
empty cache, in the same run; the ideal at --jobs 16 is 64 / 16 x 0.3 s = 1.2 s.

    python bench/bench_llm.py [--articles 64] [--jobs 16] [--latency 0.3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_build import make_corpus  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402

from deckgen.config import LLMConfig  # noqa: E402
from deckgen.extract import extract  # noqa: E402
from deckgen.ingest import ingest  # noqa: E402
from deckgen.llm import Refiner  # noqa: E402
from deckgen.terms import load_vocabulary  # noqa: E402


def timed_refine(papers, url: str, jobs: int, cache: Path) -> tuple[float, int]:
    config = LLMConfig(base_url=url, api_key="bench", jobs=jobs, cache=cache, chunk_chars=100_000)
    refiner = Refiner(config)
    start = time.perf_counter()
    refiner.refine(papers)
    elapsed = time.perf_counter() - start
    refiner.close()
    return elapsed, refiner.report.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, args.articles)
        ingested = ingest([str(corpus)])
        vocab = load_vocabulary(())
        papers = [(p, extract(p, vocab)) for p in ingested.papers]
        server = FakeLLM(latency=args.latency).start()
        try:
            parallel = [timed_refine(papers, server.url, args.jobs, Path(tmp) / f"p{i}.sqlite") for i in range(args.repeat)]
            sequential = timed_refine(papers, server.url, 1, Path(tmp) / "seq.sqlite")
        finally:
            server.stop()
    ideal = len(papers) / args.jobs * args.latency
    median = statistics.median(t for t, _ in parallel)
    print(f"{len(papers)} articles, {parallel[0][1]} requests, {args.latency * 1000:.0f} ms per reply, max in flight "
          f"{server.max_in_flight}")
    print(f"--jobs {args.jobs}: median {median:.2f} s of {args.repeat} (ideal {ideal:.2f} s, ratio {median / ideal:.2f})")
    print(f"--jobs 1:  {sequential[0]:.2f} s (ideal {len(papers) * args.latency:.2f} s); "
          f"speed-up {sequential[0] / median:.1f}x")


if __name__ == "__main__":
    main()
