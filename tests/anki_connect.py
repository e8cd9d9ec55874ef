"""A loopback AnkiConnect: a real HTTP server on 127.0.0.1 speaking AnkiConnect's protocol (version 6)
on top of a real Anki collection, the backend Anki desktop runs.

importPackage goes through the backend's import_anki_package with Anki's own import presets
(update notes and note types if newer, no scheduling), as File → Import does by default.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any


class FakeAnki:
    def __init__(self, collection_path: Path):
        from anki.collection import Collection

        self.col = Collection(str(collection_path))
        self.requests: list[dict[str, Any]] = []
        self._server = HTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeAnki:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.col.close()

    # ---- the actions deckgen uses, as AnkiConnect implements them
    def version(self) -> int:
        return 6

    def importPackage(self, path: str) -> bool:
        from anki.collection import ImportAnkiPackageRequest

        if not Path(path).is_absolute() or not Path(path).is_file():
            raise FileNotFoundError(path)
        options = self.col._backend.get_import_anki_package_presets()
        options.with_scheduling = False
        self.col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options))
        return True

    def findNotes(self, query: str) -> list[int]:
        return list(self.col.find_notes(query))

    def findCards(self, query: str) -> list[int]:
        return list(self.col.find_cards(query))

    def notesInfo(self, notes: list[int]) -> list[dict]:
        out = []
        for nid in notes:
            note = self.col.get_note(nid)
            fields = {name: {"value": note[name], "order": i} for i, name in enumerate(note.keys())}
            out.append({"noteId": nid, "modelName": note.note_type()["name"], "tags": note.tags, "fields": fields})
        return out

    def cardsInfo(self, cards: list[int]) -> list[dict]:
        out = []
        for cid in cards:
            card = self.col.get_card(cid)
            out.append({"cardId": cid, "note": card.nid, "deckName": self.col.decks.name(card.did)})
        return out

    def deleteNotes(self, notes: list[int]) -> None:
        self.col.remove_notes(notes)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                try:
                    if body.get("version") != 6:
                        raise ValueError("this test server speaks version 6 only")
                    method = getattr(fake, body["action"], None)
                    if method is None or body["action"].startswith("_"):
                        raise ValueError("unsupported action")
                    reply = {"result": method(**body.get("params", {})), "error": None}
                except Exception as exc:  # AnkiConnect reports every failure in "error"
                    reply = {"result": None, "error": str(exc)}
                payload = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
