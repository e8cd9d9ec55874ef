"""Send a package to a running Anki through the AnkiConnect add-on, and clear out stale notes.

AnkiConnect speaks JSON over HTTP (protocol version 6): POST {"action", "version", "params"} and get
back {"result", "error"}. `importPackage` reads the .apkg from a path, so the path must be one the
Anki process can read (same machine, absolute). A package cannot delete notes; the notes deckgen
tagged deckgen::stale are found with `findNotes` and deleted with `deleteNotes`, only after the
user's confirmation (deckgen/cli.py asks).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.config import DEFAULT_ANKI_URL
from deckgen.errors import DeckgenError
from deckgen.model import CLOZE_DELETION, STALE_TAG

PROTOCOL_VERSION = 6
ADDON_CODE = "2055492159"


class AnkiUnreachable(DeckgenError):
    """Nothing answers at the AnkiConnect URL."""


class AnkiConnectError(DeckgenError):
    """AnkiConnect answered with an error."""


@dataclass
class StaleNote:
    id: int
    deck: str
    text: str  # the first field, as plain text, to show before deleting


class AnkiConnect:
    """A small client for AnkiConnect's JSON protocol."""

    def __init__(self, url: str = DEFAULT_ANKI_URL, timeout: float = 120.0):
        self.url = url or DEFAULT_ANKI_URL
        self.timeout = timeout

    def invoke(self, action: str, **params: Any) -> Any:
        body = json.dumps({"action": action, "version": PROTOCOL_VERSION, "params": params}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise AnkiUnreachable(
                f"cannot reach Anki at {self.url} ({reason}). Start Anki and keep it open; if it is running, install "
                f"the AnkiConnect add-on (Tools → Add-ons → Get Add-ons…, code {ADDON_CODE}) and restart Anki; "
                "if AnkiConnect listens elsewhere, pass --anki-url (or set anki_url in deckgen.yaml)"
            ) from exc
        except ValueError as exc:
            raise AnkiConnectError(f"{self.url} did not answer like AnkiConnect (not JSON): is --anki-url right?") from exc
        if not isinstance(reply, dict) or "error" not in reply or "result" not in reply:
            raise AnkiConnectError(f"{self.url} did not answer like AnkiConnect (version {PROTOCOL_VERSION}): {reply!r:.200}")
        if reply["error"] is not None:
            raise AnkiConnectError(f"AnkiConnect {action}: {reply['error']}")
        return reply["result"]


def _plain(html_text: str) -> str:
    import html
    import re

    text = CLOZE_DELETION.sub(r"\1", html_text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def connect(url: str = DEFAULT_ANKI_URL) -> AnkiConnect:
    """A client for the AnkiConnect at `url`, checked to speak protocol version 6 or newer."""
    anki = AnkiConnect(url)
    version = anki.invoke("version")
    if not isinstance(version, int) or version < PROTOCOL_VERSION:
        raise AnkiConnectError(
            f"AnkiConnect at {anki.url} speaks version {version}; update the add-on (deckgen needs {PROTOCOL_VERSION})"
        )
    return anki


def import_package(anki: AnkiConnect, package: Path) -> Path:
    """Import the .apkg as File → Import does; the path is absolute because Anki, not deckgen, reads it."""
    package = Path(package).resolve()
    if not package.is_file():
        raise DeckgenError(f"{package}: no such package; run `deckgen build` or `deckgen package` first")
    try:
        anki.invoke("importPackage", path=str(package))
    except AnkiConnectError as exc:
        raise AnkiConnectError(
            f"{exc}. Anki reads the package itself: it must run on this computer and see {package} (a sandboxed "
            "Anki, e.g. Flatpak or Snap, may not; then use File → Import)"
        ) from exc
    return package


def stale_notes(anki: AnkiConnect) -> list[StaleNote]:
    """The notes tagged deckgen::stale: their fact left the article, and a package cannot delete them."""
    ids = anki.invoke("findNotes", query=f"tag:{STALE_TAG}") or []
    if not ids:
        return []
    decks = _note_decks(anki, ids)
    notes = []
    for info in anki.invoke("notesInfo", notes=ids) or []:
        fields = sorted((info.get("fields") or {}).values(), key=lambda f: f.get("order", 0))
        text = _plain(fields[0]["value"]) if fields else ""
        notes.append(StaleNote(int(info["noteId"]), decks.get(int(info["noteId"]), ""), text))
    return notes


def delete_notes(anki: AnkiConnect, notes: list[StaleNote]) -> int:
    anki.invoke("deleteNotes", notes=[n.id for n in notes])
    return len(notes)


def _note_decks(anki: AnkiConnect, note_ids: list[int]) -> dict[int, str]:
    """Each note's deck (of its first card), to show where a stale note lives."""
    cards = anki.invoke("findCards", query="nid:" + ",".join(str(i) for i in note_ids)) or []
    if not cards:
        return {}
    return {int(c["note"]): c.get("deckName", "") for c in anki.invoke("cardsInfo", cards=cards) or []}
