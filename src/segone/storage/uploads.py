"""Files a person uploaded to check before importing them: kept between the check and the import in
``<data_dir>/uploads``, for the person who uploaded them only, for a day at most.

The import page checks a file (a dry run) and shows what it would do; "Import" then imports the same
bytes without sending them again. Erasing a customer drops every kept file (``drop_all``): one may hold
them, and importing it after the erasure would bring them back.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from segone.errors import NotFound

KEPT_FOR = 24 * 3600  # seconds
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _folder(data_dir: Path) -> Path:
    return data_dir / "uploads"


def _path(data_dir: Path, user_id: int, token: str) -> Path:
    if not _TOKEN.match(token):
        raise NotFound("That checked file is not known; upload it again.")
    return _folder(data_dir) / f"{user_id}-{token}"


def keep(data_dir: Path, user_id: int, data: bytes) -> str:
    """Keep ``data`` for ``user_id``; returns the token that names it. Drops files kept too long."""
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEPT_FOR
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # swept by another request at the same time
    token = secrets.token_urlsafe(24)
    _path(data_dir, user_id, token).write_bytes(data)
    return token


def read(data_dir: Path, user_id: int, token: str) -> bytes:
    """The file ``user_id`` kept under ``token``; raises ``NotFound`` when it is gone or not theirs."""
    try:
        return _path(data_dir, user_id, token).read_bytes()
    except FileNotFoundError:
        raise NotFound(
            "The checked file is no longer here (files are kept for a day); upload it again."
        ) from None


def drop(data_dir: Path, user_id: int, token: str) -> None:
    _path(data_dir, user_id, token).unlink(missing_ok=True)


def drop_all(data_dir: Path) -> int:
    """Drop every kept file, whoever uploaded it; how many there were. Which of them name a customer
    cannot be told for sure (a file may know them by an identifier of its own), so all go: the person
    who checked one uploads it again."""
    folder = _folder(data_dir)
    if not folder.is_dir():
        return 0
    dropped = 0
    for kept in folder.iterdir():
        try:
            kept.unlink()
            dropped += 1
        except FileNotFoundError:
            pass  # imported or swept meanwhile
    return dropped
