"""``segone backup`` and ``segone restore``: the embedded stores (the SQLite database and every file in the
data directory: the events dataset, the secret key, uploads, the classifier) copied into one directory
with a manifest of what is in it.

The database is copied with SQLite's online backup API, which reads one consistent state of it while the
server and imports go on writing. It is copied *before* the files: an event flushed from the staging table
into the dataset while the backup runs is then in the copied staging table, the copied dataset or both
(the dataset is de-duplicated on read by ``event_id``), never in neither. The dataset's files are written
once under a temporary name and renamed, so a file that is listed is whole; temporary files are left out.

PostgreSQL is backed up with its own tools (pg_dump, docs/install.md): no copy of ours could be both
consistent and cheap there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from segone.clock import utcnow
from segone.errors import Conflict, Invalid
from segone.migrations import migrate
from segone.settings import Settings
from segone.version import __version__

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE = "segone.db"  # the database's name in a backup, wherever the store keeps it
FILES = "files"  # the data directory's other files, under their own relative paths
# Not part of the store: SQLite's own companions of the database (the backup API copies their content),
# the engine's spill space, and files being written (a dataset file under its temporary name).
_LEFT_OUT_NAMES = {"-wal", "-shm", "-journal"}
_LEFT_OUT_DIRS = {"duckdb-tmp"}
_CHUNK = 1 << 20


class BackupRefused(Invalid):
    """A backup or restore that cannot be done as asked: a bad path, a bad backup, PostgreSQL."""


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    revision: str | None
    created_at: datetime
    files: int
    bytes: int


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file of the store; None when the store is another database (PostgreSQL)."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupRefused("The store is an in-memory SQLite database: there is nothing to back up.")
    return Path(url.database)


def _postgres_refused(verb: str) -> BackupRefused:
    return BackupRefused(
        f"The store is on PostgreSQL: {verb} it with pg_dump and pg_restore, and copy the events dataset "
        "(SEGONE_DATA_DIR/events) beside it; docs/install.md shows the commands."
    )


def backup(settings: Settings, destination: Path) -> BackupReport:
    """Copy the store into ``destination`` (a new or empty directory) with its manifest."""
    database = sqlite_path(settings)
    if database is None:
        raise _postgres_refused("back")
    if not database.is_file():
        raise BackupRefused(f"There is no store at {database}: nothing to back up.")
    if destination.resolve().is_relative_to(settings.data_dir.resolve()):
        raise BackupRefused(f"{destination} is inside the data directory it would copy; name one outside it.")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupRefused(f"{destination} exists and is not an empty directory; name a new one.")
    try:
        destination.mkdir(parents=True, exist_ok=True)
        _copy_database(database, destination / DATABASE)
        revision = _revision_of(destination / DATABASE)
        copied = _copy_files(settings.data_dir.resolve(), destination / FILES, leave_out=database.resolve())
    except OSError as exc:
        raise BackupRefused(f"Could not write the backup to {destination}: {exc.strerror or exc}.") from exc
    entries = [_entry(destination, destination / DATABASE)] + [_entry(destination, p) for p in copied]
    created_at = utcnow()
    manifest = {
        "format": FORMAT,
        "segone_version": __version__,
        "revision": revision,
        "created_at": created_at.isoformat(),
        "database": DATABASE,
        "files": entries,
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupReport(destination, revision, created_at, len(entries), sum(e["bytes"] for e in entries))


def _copy_database(source: Path, target: Path) -> None:
    # A read-only connection of its own: the backup API copies pages while writers go on, and starts again
    # over what they changed, so the copy is one committed state of the database.
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        with writing:
            reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _revision_of(database: Path) -> str | None:
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}").fetchone()
    except sqlite3.DatabaseError:
        return None  # no version table: a store never set up
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _kept(path: Path, root: Path, database: Path) -> bool:
    relative = path.relative_to(root)
    if any(part in _LEFT_OUT_DIRS for part in relative.parts):
        return False
    if path == database or any(path.name == database.name + end for end in _LEFT_OUT_NAMES):
        return False
    return not (path.name.startswith(".") and path.name.endswith(".tmp"))


def _copy_files(root: Path, target: Path, *, leave_out: Path) -> list[Path]:
    """Copy the data directory's files; a file gone between listing and copying (the dataset compacted
    meanwhile) starts the copy again, so the copy holds one listing's whole files."""
    for _attempt in range(5):
        shutil.rmtree(target, ignore_errors=True)
        listed = sorted(p for p in root.rglob("*") if p.is_file() and _kept(p, root, leave_out))
        copied: list[Path] = []
        try:
            for path in listed:
                out = target / path.relative_to(root)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)
                copied.append(out)
        except FileNotFoundError:
            continue
        return copied
    raise BackupRefused(f"The files in {root} kept changing while they were copied; try again.")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(root: Path, path: Path) -> dict[str, Any]:
    return {"path": path.relative_to(root).as_posix(), "bytes": path.stat().st_size, "sha256": _sha256(path)}


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    revision: str | None
    created_at: str
    files: int
    needs_upgrade: bool


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is there with its checksum; refuses anything else."""
    if not source.is_dir():
        raise BackupRefused(f"{source} is not a directory: name the directory 'segone backup' wrote.")
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupRefused(f"{source} is not a segone backup: it has no {MANIFEST}.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupRefused(f"The backup's {MANIFEST} is damaged: it is not JSON ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "files" not in manifest:
        raise BackupRefused(f"The backup's {MANIFEST} is not one this segone reads (format {FORMAT}).")
    listed = {entry["path"] for entry in manifest["files"]}
    if manifest.get("database") not in listed:
        raise BackupRefused(f"The backup's {MANIFEST} lists no database.")
    for entry in manifest["files"]:
        path = source / entry["path"]
        if os.pardir in Path(entry["path"]).parts or Path(entry["path"]).is_absolute():
            raise BackupRefused(f"The backup's {MANIFEST} names a file outside it: {entry['path']}.")
        if not path.is_file():
            raise BackupRefused(f"The backup is incomplete: {entry['path']} is missing.")
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise BackupRefused(
                f"The backup is damaged: {entry['path']} does not match its checksum in {MANIFEST}."
            )
    return manifest


def _newer_than_this_segone(revision: str | None) -> bool:
    return revision is not None and revision not in migrate.known_revisions()


def restore(settings: Settings, source: Path, *, force: bool = False) -> RestoreReport:
    """Put the backup in ``source`` in place of the store; refuses a non-empty data directory unless
    ``force``. Stop the server first: it keeps the database open."""
    database = sqlite_path(settings)
    if database is None:
        raise _postgres_refused("restore")
    if source.resolve().is_relative_to(settings.data_dir.resolve()):
        raise BackupRefused(f"{source} is inside the data directory the restore replaces; move it out first.")
    manifest = read_manifest(source)
    revision = manifest.get("revision")
    if _newer_than_this_segone(revision):
        raise BackupRefused(
            f"The backup is at schema revision {revision}, newer than this segone knows "
            f"({migrate.head_revision()}): restore it with the segone version that made it "
            f"({manifest.get('segone_version', 'unknown')}) or a later one."
        )
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupRefused(f"{data_dir} is not a directory.")
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise Conflict(
            f"{data_dir} is not empty: restoring would replace what is there. Add --force to replace it."
        )
    try:
        _put_in_place(manifest, source, data_dir.resolve(), database.resolve())
    except OSError as exc:
        raise BackupRefused(f"Could not restore into {data_dir}: {exc.strerror or exc}.") from exc
    head = migrate.head_revision()
    return RestoreReport(
        source, revision, str(manifest.get("created_at", "")), len(manifest["files"]), revision != head
    )


def _put_in_place(manifest: dict[str, Any], source: Path, data_dir: Path, database: Path) -> None:
    """Copy the backup beside the data directory first, then swap it in with renames: a restore that
    fails or is killed while it copies leaves the old store as it was."""
    staging = data_dir.with_name(f".{data_dir.name}.restoring-{os.getpid()}")
    replaced = data_dir.with_name(f".{data_dir.name}.replaced-{os.getpid()}")
    inside = database.is_relative_to(data_dir)
    staged_database = staging / database.relative_to(data_dir) if inside else staging / DATABASE
    shutil.rmtree(staging, ignore_errors=True)
    for entry in manifest["files"]:
        relative = Path(entry["path"])
        is_database = entry["path"] == manifest["database"]
        target = staged_database if is_database else staging / relative.relative_to(FILES)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target)
    if not inside:
        os.replace(staged_database, database.with_name(database.name + ".restoring"))
    # A -wal file left beside the old database would be read into the restored one: gone first.
    for stale in [database, *_companions(database)]:
        stale.unlink(missing_ok=True)
    if data_dir.exists():
        try:
            data_dir.rename(replaced)
        except OSError:  # a mount point, say: emptied in place instead
            _empty(data_dir)
            for path in staging.iterdir():
                path.rename(data_dir / path.name)
            staging.rmdir()
    if staging.exists():
        staging.rename(data_dir)
    if not inside:
        os.replace(database.with_name(database.name + ".restoring"), database)
    shutil.rmtree(replaced, ignore_errors=True)


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + end) for end in _LEFT_OUT_NAMES]


def _empty(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
