"""Draw a fixed-seed random sample of cards from decks built from the development corpora, for blind judging.

    python bench/quality/sample.py NAME [--n 120] [--seed 2026]

builds ../shared/corpus/articles and ../shared/seeds (and, with --corpora, the bundled examples)
with the deckgen on the path, then writes
bench/quality/NAME.md: one numbered card per entry, as a student sees it (front, back, source line),
plus the article file it came from. A judge writes one line per card into NAME.verdicts
("12 KEEP", "13 FIX wrong span", "14 DROP rhetoric"); bench/quality/rates.py counts them.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"
CORPORA = {"corpus": SHARED / "corpus" / "articles", "seeds": SHARED / "seeds", "examples": HERE.parents[1] / "examples"}


def build(corpus: Path, out: Path) -> list[tuple[str, list[str], dict]]:
    decks = out / "decks"
    subprocess.run(
        [sys.executable, "-m", "deckgen", "build", str(corpus), "-o", str(out / "x.apkg"), "--decks-dir", str(decks)],
        check=True,
        capture_output=True,
    )
    cards = []
    for path in sorted(decks.glob("*.yaml")):
        deck = yaml.safe_load(path.read_text(encoding="utf-8"))
        for card in deck.get("cards") or []:
            cards.append((deck["paper"], deck.get("sources") or [], card))
    return cards


def render(number: int, paper: str, sources: list[str], card: dict) -> str:
    lines = [f"## {number}", f"- paper deck: {paper}", f"- article file: {', '.join(Path(s).name for s in sources)}"]
    if card.get("type") == "cloze":
        lines.append(f"- cloze: {card.get('text', '')}")
        if card.get("extra"):
            lines.append(f"- back extra: {card['extra']}")
    else:
        lines.append(f"- front ({card.get('type')}): {card.get('front', '')}")
        lines.append(f"- back: {card.get('back', '')}")
    if card.get("source"):
        lines.append(f"- source sentence: {card['source']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--corpora", default="corpus,seeds", help="which of: " + ", ".join(CORPORA) + ", or folders")
    args = parser.parse_args()
    pool = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, label in enumerate(args.corpora.split(",")):
            corpus = CORPORA.get(label) or Path(label)  # a folder of articles nobody tuned to
            pool += build(corpus, Path(tmp) / str(number))
    sample = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    body = "\n\n".join(render(i, *entry) for i, entry in enumerate(sample, 1))
    header = f"# Card sample {args.name}: {len(sample)} of {len(pool)} cards, seed {args.seed}\n\n"
    (HERE / f"{args.name}.md").write_text(header + body + "\n", encoding="utf-8")
    print(f"{len(sample)} of {len(pool)} cards -> {HERE / (args.name + '.md')}")


if __name__ == "__main__":
    main()
