"""Files a person uploaded to check before importing them: kept between the check and the import in
``<data_dir>/uploads``, for the person who uploaded them only, for a day at most.

The import page checks a file (a dry run) and shows what it would do; "Import" then imports the same
bytes without sending them again.
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
