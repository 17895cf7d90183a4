"""Who does a piece of work: this process named so that another process can tell later whether it died.

A refresh's lease and an import's temporary file carry their owner's name: the host, the process-id
namespace and the process id (``web-1~4026531836~4242``). Another process can tell that the owner is gone
only when it sees the same host and namespace, where process ids mean the same thing; there it asks the
kernel. Anywhere else, or where the id has been given to a new process since, it cannot tell, and the
caller falls back on time (a lease's expiry, a file's age): a process checked by id is never wrongly taken
for dead, at worst recognised late.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

_SEPARATOR = "~"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Owner:
    host: str
    namespace: str
    pid: int

    def __str__(self) -> str:
        return _SEPARATOR.join((self.host, self.namespace, str(self.pid)))

    def is_dead(self) -> bool:
        """True only when this process can see that the owner has ended (same host and namespace)."""
        here = current()
        if (self.host, self.namespace) != (here.host, here.namespace):
            return False
        if self.pid == here.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return _is_zombie(self.pid)


def current() -> Owner:
    """This process."""
    host = _UNSAFE.sub("-", socket.gethostname())[:60] or "host"
    return Owner(host, _pid_namespace(), os.getpid())


def parse(text: str) -> Owner | None:
    """The owner a name stands for, or None when it is not one (written by an older version)."""
    parts = text.rsplit(_SEPARATOR, 2)
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return Owner(parts[0], parts[1], int(parts[2]))


def _pid_namespace() -> str:
    # Containers on one host may share a host name, never a namespace: without it a process id seen from
    # another container would name another process.
    try:
        link = os.readlink("/proc/self/ns/pid")
    except OSError:
        return "0"
    return "".join(ch for ch in link if ch.isdigit()) or "0"


def _is_zombie(pid: int) -> bool:
    """A killed child its parent has not reaped yet still answers ``kill(pid, 0)``, but is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
