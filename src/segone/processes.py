"""Who does a piece of work: this process named so that another process can tell later whether it died.

A refresh's lease and an import's temporary file carry their owner's name: the host, the process-id
namespace, the process id and when that process started (``web-1~4026531836~4242~8815231``). A process
on the same host and in the same namespace, where process ids mean the same thing, asks the kernel: the
owner lives if a process of that id started at that moment still runs (a process id given to a new
process since does not count). Anywhere else ``alive`` cannot tell and answers None, and the caller falls
back on time (a lease's expiry, a file's age).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache

_SEPARATOR = "~"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Owner:
    host: str
    namespace: str
    pid: int
    started: str  # clock ticks after boot (``/proc/<pid>/stat``), "0" where unknown

    def __str__(self) -> str:
        return _SEPARATOR.join((self.host, self.namespace, str(self.pid), self.started))

    def alive(self) -> bool | None:
        """Whether the owner still runs: True or False when this process can see it, else None."""
        here = current()
        if (self.host, self.namespace) != (here.host, here.namespace) or self.namespace == "0":
            return None
        if self.pid == here.pid:
            return self.started == here.started
        state = _state_of(self.pid)
        if state is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:  # alive, another user's
                return True
            return True
        status, started = state
        return status != "Z" and started == self.started


def current() -> Owner:
    """This process."""
    return _current(os.getpid())  # keyed by the id: a forked child is another owner


@cache
def _current(pid: int) -> Owner:
    host = _UNSAFE.sub("-", socket.gethostname())[:60] or "host"
    state = _state_of(pid)
    return Owner(host, _pid_namespace(), pid, state[1] if state else "0")


def parse(text: str) -> Owner | None:
    """The owner a name stands for, or None when it is not one (written by an older version)."""
    parts = text.rsplit(_SEPARATOR, 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return Owner(parts[0], parts[1], int(parts[2]), parts[3])


def _pid_namespace() -> str:
    # Containers on one host may share a host name, never a namespace: without it a process id seen from
    # another container would name another process.
    try:
        link = os.readlink("/proc/self/ns/pid")
    except OSError:
        return "0"
    return "".join(ch for ch in link if ch.isdigit()) or "0"


def _state_of(pid: int) -> tuple[str, str] | None:
    """The process's state letter (``Z`` for a killed child not reaped yet) and start time, if listed."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return (fields[0], fields[19]) if len(fields) > 19 else None


# glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_KEPT_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Have the C allocator keep what it frees for the next allocation, instead of giving it back to the
    kernel at once; whether it could (glibc only).

    A fit's NumPy temporaries are megabytes each, made and freed thousands of times: by default glibc maps
    each one from the kernel and unmaps it when freed, and every new one costs its pages' faults again. A
    behaviour refresh on 100,000 customers spent 24 s of its 85 in the kernel so, and its fit took 53 s; with
    the memory kept, 6 s and 33 s, the same numbers. For processes that end when their work does (a job's):
    the memory is given back at exit."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEPT_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEPT_BYTES))


_below_requests = threading.local()
MAX_PAUSE = 5.0  # seconds: a pause longer than this would only make the work late


def mark_below_requests() -> None:
    """Note that the calling thread does work the requests come before (a job's, the flusher's: see
    ``jobs.below_requests``), so that its writes give way to theirs (``give_way``)."""
    _below_requests.marked = True


def give_way(busy: float) -> None:
    """In a thread below the requests, pause as long as the work just done took (``busy`` seconds, at most
    ``MAX_PAUSE``); elsewhere return at once.

    A nice value lowers this process's share of the CPU, not the database's: the PostgreSQL process that
    writes a refresh's 100,000 profiles works at the requests' priority, and the pages sent in those
    seconds were the slowest of a load run. Paused between its pieces, such a write keeps the database
    busy at most half the time, and takes twice as long."""
    if getattr(_below_requests, "marked", False) and busy > 0:
        time.sleep(min(busy, MAX_PAUSE))
