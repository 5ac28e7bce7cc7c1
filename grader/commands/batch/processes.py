"""The process table as ``/proc`` shows it: the tree below a pid, its private memory, and ending it."""

from __future__ import annotations

import os
import signal

PAGE = os.sysconf("SC_PAGE_SIZE")

Table = dict[int, tuple[int, int, int]]  # pid -> (parent pid, resident pages, threads)


def process_table() -> Table:
    """pid -> (parent pid, resident pages, threads) of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(name)] = (int(fields[1]), int(fields[21]), int(fields[17]))
        except (OSError, ValueError, IndexError):
            continue
    return table


def ancestors(pid: int, table: Table) -> list[int]:
    """Parent, grandparent... of a process."""
    chain = []
    while pid in table and len(chain) < 64:
        pid = table[pid][0]
        chain.append(pid)
    return chain


def descendants(root: int, table: Table | None = None) -> list[int]:
    """Every process below ``root``."""
    table = table if table is not None else process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
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


def tree_usage(root: int) -> tuple[int, int]:
    """Private resident bytes and threads of a process and all its descendants."""
    if not root:
        return 0, 0
    table = process_table()
    pids = [pid for pid in [root, *descendants(root, table)] if pid in table]
    return sum(private_bytes(pid, table[pid][1]) for pid in pids), sum(table[pid][2] for pid in pids)


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
