"""Finding input files and decoding their bytes: never a traceback, never a garbage deck."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import InputError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
INPUT_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
STDIN = "-"

# Control characters other than tab, newline, form feed and carriage return: never in a text file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_DAMAGE_LIMIT = 0.02  # share of characters that may be replaced before a file counts as binary


@dataclass
class Input:
    """One input: the name shown to the user, the path (None for stdin), or why it cannot be read."""

    name: str
    path: Path | None
    problem: str | None = None


def display_name(path: Path | str) -> str:
    """A printable name even for file names that are not valid UTF-8."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def _valid_name(path: Path | str) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(root: Path) -> Iterator[Input]:
    """Every article file under root, without recursion (folders of any depth) and without following links."""
    stack = [root]
    found: list[Input] = []
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            found.append(Input(display_name(folder), folder, f"cannot read folder ({exc.strerror})"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif entry.is_file() and path.suffix.lower() in INPUT_SUFFIXES:
                    problem = None if _valid_name(path) else "file name is not valid UTF-8; rename the file"
                    found.append(Input(display_name(path), path, problem))
            except OSError as exc:
                found.append(Input(display_name(path), path, f"cannot read ({exc.strerror})"))
    yield from sorted(found, key=lambda i: i.name)


def iter_inputs(paths: Iterable[str]) -> Iterator[Input]:
    """Files named, folders walked for article files, '-' for stdin; each unusable input says why."""
    for raw in paths:
        if raw == STDIN:
            yield Input("<stdin>", None)
            continue
        path = Path(raw)
        name = display_name(path)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            yield Input(name, path, "no such file")
            continue
        except OSError as exc:
            yield Input(name, path, f"cannot read ({exc.strerror})")
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(path)
        elif not stat.S_ISREG(mode):
            yield Input(name, path, "not a regular file (a pipe, socket or device); skipped")
        elif not _valid_name(path):
            yield Input(name, path, "file name is not valid UTF-8; rename the file")
        else:
            yield Input(name, path)


# ---------------------------------------------------------------- decoding


def _plausible_chinese(text: str) -> bool:
    """Text decoded as GB18030 is real if its Chinese characters are mostly the 3755 common ones.

    Bytes of another encoding (Big5, UTF-8) decoded as GB18030 give rare characters; GB2312 level 1
    (lead bytes 0xB0-0xD7) holds the common simplified ones.
    """
    if _CONTROL.search(text):
        return False
    cjk = _CJK.findall(text)
    if not cjk:
        return not re.search(r"[^\x00-\x7f]", text)
    common = 0
    for ch in cjk:
        with contextlib.suppress(UnicodeEncodeError):
            common += 0xB0 <= ch.encode("gb2312")[0] <= 0xD7
    return common >= 0.8 * len(cjk)


def _plausible_text(text: str) -> bool:
    return not _CONTROL.search(text) and text.count("\ufffd") <= _DAMAGE_LIMIT * max(len(text), 1)


def _decode_line(line: bytes) -> tuple[str, bool]:
    """One line of a file that mixes encodings: UTF-8, else GB18030, else UTF-8 with damage replaced."""
    try:
        return line.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        text = line.decode("gb18030")
        if _plausible_chinese(text):
            return text, False
    except UnicodeDecodeError:
        pass
    return line.decode("utf-8", "replace"), True


def decode_with_note(data: bytes, name: str) -> tuple[str, str | None]:
    """The text and, when bytes had to be replaced, a warning; InputError for binary or unknown encodings.

    Order: byte-order marks (UTF-8, UTF-32, UTF-16), UTF-8, GB18030 when its text is plausible Chinese,
    Big5 when that is, then line by line for files that mix encodings or end in half a character.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
                          (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: not valid {encoding} despite its byte-order mark; skipped") from exc
            if _CONTROL.search(text):
                raise InputError(f"{name}: not a text file (control characters after a {encoding} mark); skipped")
            return text, None
    if b"\x00" in data:
        # Without a byte-order mark NUL bytes mean binary: UTF-16/32 files carry a mark.
        raise InputError(f"{name}: not a text file (binary, or UTF-16/32 without a byte-order mark); skipped")
    try:
        text = data.decode("utf-8")
        if _CONTROL.search(text):
            raise InputError(f"{name}: not a text file (binary); skipped")
        return text, None
    except UnicodeDecodeError:
        pass
    for encoding, plausible in (("gb18030", _plausible_chinese), ("big5", _plausible_text)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if plausible(text) and _CJK.search(text):
            return text, None
    lines = [_decode_line(line) for line in data.split(b"\n")]
    text = "\n".join(t for t, _ in lines)
    damaged = text.count("\ufffd")
    if _CONTROL.search(text) or damaged > max(3, _DAMAGE_LIMIT * len(text)):
        raise InputError(f"{name}: not a text file (binary or unknown encoding); skipped")
    bad = sum(1 for _, replaced in lines if replaced)
    return text, f"read with {damaged} undecodable byte(s) on {bad} line(s) replaced by \ufffd"


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (BOM or not), UTF-16/32 with BOM, GB18030, Big5; reject binary files."""
    return decode_with_note(data, name)[0]


def read_input(item: Input) -> tuple[str, str | None]:
    """The decoded text of one input and an optional warning; InputError says why it cannot be read."""
    if item.problem:
        raise InputError(f"{item.name}: {item.problem}")
    if item.path is None:
        stream = getattr(sys.stdin, "buffer", None)
        try:
            data = stream.read() if stream is not None else b""
        except (OSError, ValueError) as exc:
            raise InputError(f"{item.name}: standard input is closed or unreadable") from exc
        if stream is None:
            raise InputError(f"{item.name}: standard input is closed or unreadable")
        return decode_with_note(data, item.name)
    try:
        return decode_with_note(item.path.read_bytes(), item.name)
    except FileNotFoundError as exc:
        raise InputError(f"{item.name}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{item.name}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{item.name}: cannot read ({exc.strerror})") from exc
