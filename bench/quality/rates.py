"""Count KEEP / FIX / DROP verdicts: python bench/quality/rates.py NAME.verdicts [...]"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

for name in sys.argv[1:]:
    verdicts = Counter()
    for line in Path(name).read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\s*\d+\s*[:.]?\s*(KEEP|FIX|DROP)\b", line):
            verdicts[m.group(1)] += 1
    total = sum(verdicts.values())
    shares = ", ".join(f"{v} {verdicts[v]} ({verdicts[v] / total:.0%})" for v in ("KEEP", "FIX", "DROP")) if total else "none"
    print(f"{Path(name).name}: {total} cards: {shares}")
