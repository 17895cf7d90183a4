"""Which event ids the dataset already holds: the index ``stage_batch`` checks a batch against.

Staging alone only knows what has not been flushed yet: an event re-sent after the flush would be staged,
answered as new and stored again. The index keeps a 128-bit hash of every ``event_id`` of each file of
the dataset (16 bytes an event), sorted by its first half, and answers a batch of ids with binary searches.
Files are written whole and never changed, so a file's hashes are read once, when it first appears (one
column read); a server process reads those there are before it serves (``load``), not at its first batch.
Each check lists the directory first, so files written by another process (the server's flusher, an
import, a refresh) count at once. ``check`` also says which files there were, so that a
batch can ask again, after staging, about the files that appeared in between (``ingest.stage_batch``).

The hashes of the files seen so far are kept merged in one sorted array, and those of the files that
appeared since then each in its own until there are ``MERGE_AFTER`` of them: a search per file cost an
events batch 10 ms with the 92 files of a busy day (a flush writes one every 30 s), and grew with every
file. A file removed (compaction rewrites the dataset) starts the index again from the files there.

The hashes are DuckDB's (``hash(event_id)`` and ``hash(event_id || chr(31))``), computed where the file
is read: a new server process reads ten million ids in about a second, where hashing them in NumPy took
thirteen, and every event batch of that process waited for it. They live in this process's memory only,
so the hash of this DuckDB version is the same for the files and for the batches asked about.

Two different ids count as one only if both 64-bit halves of their hashes agree (odds of about one in
10^19 for each pair of ids). Two ids whose first halves agree but second do not may be missed by the
search: such an event is staged again and the dataset's read-time de-duplication keeps it once.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from segone.behaviour.dataset import EventDataset

_HASHES = "SELECT hash(event_id) AS first, hash(event_id || chr(31)) AS second FROM {}"


@dataclass(frozen=True)
class _FileIds:
    first: npt.NDArray[np.uint64]  # sorted
    second: npt.NDArray[np.uint64]  # in the order of ``first``


_EMPTY = _FileIds(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64))


# Files kept apart before their hashes join the merged array (a merge copies it: about 0.15 s for ten
# million events, once per MERGE_AFTER files).
MERGE_AFTER = 16


class StoredIds:
    """The event ids in ``dataset``'s files; one per process, shared by its threads."""

    def __init__(self, dataset: EventDataset) -> None:
        self.dataset = dataset
        self._merged = _EMPTY
        self._merged_paths: frozenset[Path] = frozenset()
        self._recent: dict[Path, _FileIds] = {}
        self._merging = False
        self._lock = threading.Lock()
        self._duckdb = duckdb.connect()  # in memory, for hashing; each use takes a cursor of its own

    def load(self) -> None:
        """Read the hashes of the files there now. A server process does it as it starts: its first events
        batch would otherwise wait for them (about a second of CPU for ten million events), and every batch
        behind it."""
        self._current()

    @property
    def files_read(self) -> frozenset[Path]:
        """The files whose ids it holds, as of its last look at the dataset (without looking again)."""
        with self._lock:
            return self._merged_paths | self._recent.keys()

    def contains(self, ids: pa.Array) -> npt.NDArray[np.bool_]:
        """For each id (none null), whether a file of the dataset holds it."""
        return self.check(ids)[0]

    def check(
        self, ids: pa.Array, *, besides: Collection[Path] = frozenset()
    ) -> tuple[npt.NDArray[np.bool_], frozenset[Path]]:
        """For each id (none null), whether a file of the dataset holds it, leaving out the files
        ``besides`` (asked about already) where they are kept apart; and the files there were. Files
        merged since they were asked about are searched again: an id found there was found before."""
        found = np.zeros(len(ids), dtype=np.bool_)
        merged, merged_paths, recent = self._current()
        listed = frozenset(merged_paths | recent.keys())
        searched = [stored for path, stored in recent.items() if path not in besides]
        if merged_paths - set(besides):
            searched.append(merged)
        if not len(ids) or not searched:
            return found, listed
        first, second = self._hashes(pa.table({"event_id": ids}))
        # Searched in sorted order: neighbouring searches walk the same part of the array, which halves
        # the time a batch takes against millions of stored ids.
        order = np.argsort(first)
        first, second = first[order], second[order]
        for stored in searched:
            at = np.searchsorted(stored.first, first)
            inside = at < len(stored.first)
            at = np.where(inside, at, 0)
            found |= inside & (stored.first[at] == first) & (stored.second[at] == second)
        answer = np.empty_like(found)
        answer[order] = found
        return answer, listed

    def __len__(self) -> int:
        merged, _, recent = self._current()
        return len(merged.first) + sum(len(stored.first) for stored in recent.values())

    def _current(self) -> tuple[_FileIds, frozenset[Path], dict[Path, _FileIds]]:
        """The merged hashes, the files they are of, and the hashes of each file there now besides,
        reading those of files not seen before. The caller that finds ``MERGE_AFTER`` files apart merges
        them, outside the lock: the other threads' checks go on with what is there meanwhile."""
        paths = self.dataset.files()
        with self._lock:
            present = set(paths)
            if self._merged_paths - present:  # compacted away: its events are in other files now
                self._merged, self._merged_paths = _EMPTY, frozenset()
            for gone in set(self._recent) - present:
                del self._recent[gone]
            for path in paths:
                if path not in self._merged_paths and path not in self._recent:
                    try:
                        self._recent[path] = self._read(path)
                    except FileNotFoundError:  # compacted away since it was listed
                        continue
            now = self._merged, self._merged_paths, dict(self._recent)
            merging = len(self._recent) >= MERGE_AFTER and not self._merging
            self._merging = self._merging or merging
        if merging:
            self._merge(now[0], now[2])
        return now

    def _merge(self, base: _FileIds, parts: dict[Path, _FileIds]) -> None:
        try:
            joined = _merged(base, list(parts.values()))
            with self._lock:
                if self._merged is base:  # else the dataset was compacted meanwhile: start again
                    self._merged = joined
                    self._merged_paths = self._merged_paths | parts.keys()
                    self._recent = {p: ids for p, ids in self._recent.items() if p not in parts}
        finally:
            with self._lock:
                self._merging = False

    def _hashes(self, batch: pa.Table) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """The two hashes of each ``event_id`` of an Arrow table, in its order."""
        cursor = self._duckdb.cursor()
        try:
            cursor.register("batch", batch)
            found = cursor.execute(_HASHES.format("batch")).fetchnumpy()
        finally:
            cursor.close()
        return found["first"], found["second"]

    def _read(self, path: Path) -> _FileIds:
        cursor = self._duckdb.cursor()
        try:
            found = cursor.execute(_HASHES.format("read_parquet(?)"), [str(path)]).fetchnumpy()
        except duckdb.IOException as exc:
            raise FileNotFoundError(path) from exc
        finally:
            cursor.close()
        first, second = found["first"], found["second"]
        order = np.argsort(first, kind="stable")
        return _FileIds(first[order], second[order])


def _merged(base: _FileIds, parts: list[_FileIds]) -> _FileIds:
    """``parts`` slotted in among ``base``: they are sorted together (a few hundred thousand), then
    placed where they belong in one copy of ``base``, not all sorted again."""
    first = np.concatenate([part.first for part in parts])
    second = np.concatenate([part.second for part in parts])
    order = np.argsort(first)
    first, second = first[order], second[order]
    slots = np.searchsorted(base.first, first) + np.arange(len(first))
    kept = np.ones(len(base.first) + len(first), dtype=np.bool_)
    kept[slots] = False
    joined = _FileIds(np.empty(len(kept), dtype=np.uint64), np.empty(len(kept), dtype=np.uint64))
    joined.first[slots], joined.second[slots] = first, second
    joined.first[kept], joined.second[kept] = base.first, base.second
    return joined
