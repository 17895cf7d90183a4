"""Bytes to text: the encoding detected (or named by the person importing), the delimiter sniffed.

Spreadsheets save CSV as UTF-8 (often with a byte order mark), as UTF-16 with one ("Unicode text"), or
in the Windows code page of their locale — a CRM export opened and saved again in Excel in western Europe
is Windows-1252. The header line tells which delimiter a locale uses.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

from segone.importing.problems import ImportRejected

DELIMITERS = (",", ";", "\t", "|")
FALLBACK = "cp1252"
"""Windows-1252: what Excel writes as "CSV" in western European locales."""
LAST_RESORT = "latin-1"
"""Latin-1 reads any bytes: what is left when a file is neither UTF-8 nor Windows-1252 (five bytes are
not Windows-1252 characters; Latin-1 reads them as control characters)."""

_SAVE_AS_UTF8 = "save the file as UTF-8 (in Excel: 'CSV UTF-8')"
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # .xlsx (a zip), .xls
_LABELS = {"iso8859-1": "latin-1", "utf-8-sig": "utf-8"}


class Decoded(NamedTuple):
    text: str
    encoding: str | None
    """How the bytes were read, as a person names it (``utf-8``, ``utf-16``, ``windows-1252``,
    ``latin-1``); None for text that came as text."""


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte order mark names: ``utf-8-sig``, ``utf-16``, or None without one."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def encoding_label(codec: str) -> str:
    """A codec as people name it, and as ``--encoding`` takes it back: ``cp1252`` -> ``windows-1252``."""
    name = codecs.lookup(codec).name
    if name.startswith("cp125"):
        return "windows-" + name.removeprefix("cp")
    return _LABELS.get(name, name)


def codec_of(name: str) -> str:
    """The codec of an encoding a person named (``Windows-1252``, ``latin1``, ``utf-8``).

    Raises ``ImportRejected`` for a name that is no text encoding.
    """
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ImportRejected.of_file(
            f"'{name}' is not a text encoding; use e.g. utf-8, utf-16, windows-1252 or latin-1, or leave it "
            "out to have the encoding detected."
        )
    return info.name


def detect_encoding(data: bytes, *, partial: bool = False) -> str:
    """The codec that reads ``data``: the one a byte order mark names, else UTF-8, else Windows-1252,
    else Latin-1. ``partial``: ``data`` is the head of a longer file (a character may be cut at its end).
    """
    found = bom_encoding(data)
    if found is not None:
        return found
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 3:
            return "utf-8"  # merely a character cut at the end of the sample
    try:
        data.decode(FALLBACK)
        return FALLBACK
    except UnicodeDecodeError:
        return LAST_RESORT


def decode(data: bytes | str, *, encoding: str | None = None) -> Decoded:
    """The text of a file, and the encoding it was read in: ``encoding`` when given, else detected
    (``detect_encoding``).

    Raises ``ImportRejected`` for a workbook or other binary file, and for bytes the given encoding (or
    a byte order mark's) cannot read, naming the first line at fault.
    """
    codec = codec_of(encoding) if encoding is not None else None
    if isinstance(data, str):
        return Decoded(data.removeprefix("\ufeff"), None)
    if data.startswith(_WORKBOOKS):
        raise ImportRejected.of_file(
            f"The file is an Excel workbook (or another archive), not CSV text; {_SAVE_AS_UTF8}."
        )
    if codec is not None:
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        return Decoded(_decode_as(data, codec, named=True).removeprefix("\ufeff"), encoding_label(codec))
    if bom_encoding(data) is None and b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ImportRejected.of_file(
            f"Line {line} holds a NUL byte, so the file is not text as a spreadsheet saves it (UTF-16 "
            f"without a byte order mark? name the encoding, e.g. utf-16-le); {_SAVE_AS_UTF8}.",
            row=line,
        )
    codec = detect_encoding(data)
    return Decoded(_decode_as(data, codec, named=False), encoding_label(codec))


def _decode_as(data: bytes, codec: str, *, named: bool) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        label = encoding_label(codec)
        if codec.startswith("utf-16"):
            line = data[: exc.start].decode(codec, errors="replace").count("\n") + 1
        else:
            line = data.count(b"\n", 0, exc.start) + 1
        if named:
            message = (
                f"The file is not {label} text: line {line} holds bytes {label} cannot read. Leave the "
                "encoding out to have it detected, or name the one the file was saved in."
            )
        else:
            message = f"The file is {label} text but line {line} is not; {_SAVE_AS_UTF8}."
        raise ImportRejected.of_file(message, row=line) from exc


def sniff_delimiter(line: str) -> str:
    """The delimiter a header line uses: the most frequent of ``,`` ``;`` tab ``|`` (a comma if none)."""
    return max(DELIMITERS, key=line.count)
