"""The process table as ``/proc`` shows it: the tree below a pid, its private memory, and ending it."""

from __future__ import annotations

import os
import signal
from typing import NamedTuple

PAGE = os.sysconf("SC_PAGE_SIZE")


class Proc(NamedTuple):
    """One process's line of ``/proc/PID/stat``, the fields the batch uses."""

    ppid: int
    resident_pages: int
    threads: int
    faults: int  # minor + major page faults so far
    start: int  # start time in clock ticks since boot: with the pid, names one process


Table = dict[int, Proc]


def process_table() -> Table:
    """pid -> its ``Proc`` for every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
            fields = stat[stat.rindex(")") + 2 :].split()
            faults = int(fields[7]) + int(fields[9])
            table[int(name)] = Proc(int(fields[1]), int(fields[21]), int(fields[17]), faults, int(fields[19]))
        except (OSError, ValueError, IndexError):
            continue
    return table


def ancestors(pid: int, table: Table) -> list[int]:
    """Parent, grandparent... of a process."""
    chain: list[int] = []
    while pid in table and len(chain) < 64:
        pid = table[pid].ppid
        chain.append(pid)
    return chain


def descendants(root: int, table: Table | None = None) -> list[int]:
    """Every process below ``root``."""
    table = table if table is not None else process_table()
    children: dict[int, list[int]] = {}
    for pid, entry in table.items():
        children.setdefault(entry.ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def private_bytes(pid: int, resident_pages: int) -> int:
    """Memory only this process holds (private pages): the zygote's copy-on-write pages are not counted."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            total = 0
            for line in handle:
                if line.startswith((b"Private_Clean:", b"Private_Dirty:", b"Swap:")):
                    total += int(line.split()[1]) * 1024
            return total
    except (FileNotFoundError, ProcessLookupError):
        return 0  # it exited since the process table was read: it holds nothing now (not its old RSS)
    except (OSError, ValueError):
        return resident_pages * PAGE


class PrivateMemory:
    """Private bytes of the processes of one tree, read again only for a process whose memory may have changed.

    Reading ``smaps_rollup`` walks every page table entry: 20-30 ms for a worker forked from the zygote
    (1.3 GB mapped), so a tree of four processes read every half second took a tenth of the machine.
    A process's private memory grows only by page faults (a new page, or a copy-on-write copy of the
    zygote's) and shrinks with its resident pages, so a process whose fault count and resident pages
    are what they were at its last reading (the sandbox's waiting processes, an idle helper) keeps
    that reading. (Pages it shares with a child become private when the child exits, without a fault:
    counted at its next fault, as they were counted nowhere before.)
    """

    def __init__(self) -> None:
        self._read: dict[tuple[int, int], tuple[int, int, int]] = {}  # (pid, start) -> (faults, pages, bytes)

    def of(self, pid: int, entry: Proc) -> int:
        """Private bytes of ``pid`` (its ``entry`` from a fresh process table)."""
        key = (pid, entry.start)
        known = self._read.get(key)
        if known is not None and known[:2] == (entry.faults, entry.resident_pages):
            return known[2]
        value = private_bytes(pid, entry.resident_pages)
        self._read[key] = (entry.faults, entry.resident_pages, value)
        return value

    def tree_usage(self, root: int) -> tuple[int, int]:
        """Private resident bytes and threads of a process and all its descendants."""
        if not root:
            return 0, 0
        table = process_table()
        pids = [pid for pid in [root, *descendants(root, table)] if pid in table]
        alive = {(pid, table[pid].start) for pid in pids}
        self._read = {key: value for key, value in self._read.items() if key in alive}
        return sum(self.of(pid, table[pid]) for pid in pids), sum(table[pid].threads for pid in pids)


def kill(pid: int) -> None:
    """SIGKILL one process; one that is gone already (or not ours to signal) is left alone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_group(pgid: int) -> None:
    """SIGKILL a process group; a group that is gone already is left alone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
