"""Card identity. Changing anything here changes every id in every user's collection."""

from __future__ import annotations

import hashlib
import re

from deckgen.terms import name_key

# Bump when the extraction rules change what they make: on the first rebuild after an upgrade, rule cards
# the new rules no longer make leave through the stale path (reported) instead of staying for good.
RULES_VERSION = 2


def card_id(paper: str, kind: str, anchor: str) -> str:
    """Stable note GUID from the paper, the kind of card and the fact it asks about."""
    digest = hashlib.sha1(f"{name_key(paper)}\x1f{kind}\x1f{anchor}".encode()).hexdigest()
    return f"{kind}-{digest[:12]}"


def anchor_text(sentence: str, mask_numbers: bool = False) -> str:
    """What identifies a sentence's fact: its characters without spacing or punctuation."""
    text = re.sub(r"\d+(?:\.\d+)?", "#", sentence) if mask_numbers else sentence
    return re.sub(r"[\s\W_]+", "", text).lower()


def tag_for(paper: str) -> str:
    return re.sub(r"[\s:：]+", "_", paper.strip())[:60]
