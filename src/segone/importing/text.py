"""Bytes to text: the encoding detected, the delimiter sniffed.

Spreadsheets save CSV as UTF-8 (often with a byte order mark), as UTF-16 with one ("Unicode text"), or
in the Windows code page of their locale; the header line tells which delimiter a locale uses.
"""

from __future__ import annotations

import codecs

from segone.importing.problems import ImportRejected

DELIMITERS = (",", ";", "\t", "|")
FALLBACK = "cp1252"
"""Windows-1252: what Excel writes as "CSV" in western European locales."""

_SAVE_AS_UTF8 = "save the file as UTF-8 (in Excel: 'CSV UTF-8')"


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte order mark names: ``utf-8-sig``, ``utf-16``, or None without one."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def decode(data: bytes | str) -> str:
    """The text of a file: UTF-8 with or without a BOM, UTF-16 with a BOM, else Windows-1252.

    Raises ``ImportRejected`` naming the first line that none of them reads.
    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    encoding = bom_encoding(data)
    if encoding == "utf-16":
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
            raise ImportRejected.of_file(
                f"The file is UTF-16 text but line {line} is not; {_SAVE_AS_UTF8}.", row=line
            ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(FALLBACK)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRejected.of_file(
            f"Line {line} is neither UTF-8 nor Windows-1252 text; {_SAVE_AS_UTF8}.", row=line
        ) from exc


def sniff_delimiter(line: str) -> str:
    """The delimiter a header line uses: the most frequent of ``,`` ``;`` tab ``|`` (a comma if none)."""
    return max(DELIMITERS, key=line.count)
