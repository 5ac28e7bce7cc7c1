"""What the sandbox achieves on this machine, measured once per batch by probe workers.

A probe worker is forked like a submission's (same plan, mounts, uid and limits) but runs no pytest: it
reports which covered folders it could read, which read-only ones it could write, its network, and
notes. Modes are tried in order (``root`` as root, then ``userns``, then ``none``); a namespace mode
counts only when every covered folder was hidden, every kept one read-only and the workspace writable.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from grader.commands.batch.planner import Planner
from grader.commands.batch.workspaces import Workspaces, chown_tree
from grader.commands.batch.zygote_client import ZygoteClient, ZygoteError

ISOLATION_ENV = "TRTLAB_BATCH_ISOLATION"  # force root, userns or none (tests, debugging)
MODES = ("root", "userns", "none")
CONTAINED = "private view: solutions, tests, other submissions and outputs hidden; all but the workspace read-only"
NOT_CONTAINED = "not contained: the submission runs as this user and sees this machine's files"


@dataclass
class Isolation:
    """What the sandbox achieves on this machine (measured by a probe worker)."""

    mode: str
    network: str
    filesystem: str
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """JSON form."""
        return {"mode": self.mode, "network": self.network, "filesystem": self.filesystem, "notes": self.notes}


def modes_to_try() -> list[str]:
    """Root, then user namespaces, then nothing; or the one mode ``TRTLAB_BATCH_ISOLATION`` forces."""
    forced = os.environ.get(ISOLATION_ENV, "")
    if not forced:
        return (["root"] if os.geteuid() == 0 else []) + ["userns", "none"]
    if forced not in MODES:
        raise ZygoteError(f"{ISOLATION_ENV} must be root, userns or none, not {forced!r}")
    return [forced]


def probe(zygote: ZygoteClient, planner: Planner, workspaces: Workspaces, uid: int) -> Isolation:
    """Try each mode with a probe worker; keep the first that works."""
    errors = []
    for mode in modes_to_try():
        report, error = _probe_mode(zygote, planner, workspaces, mode, uid)
        if report is None:
            errors.append(f"{mode}: {error}")
            continue
        if mode != "none" and not _contained(report):
            errors.append(f"{mode}: incomplete ({report})")
            continue
        notes = errors + report.get("_notes", [])
        return Isolation(mode, str(report.get("network")), CONTAINED if mode != "none" else NOT_CONTAINED, notes)
    raise ZygoteError("no way to run a worker here: " + "; ".join(errors))


def _contained(report: dict[str, Any]) -> bool:
    """Every covered folder hidden, every kept one read-only, the workspace writable."""
    hidden = all(v == "hidden" for k, v in report.items() if k.startswith("hidden:"))
    read_only = all(v == "read-only" for k, v in report.items() if k.startswith("readonly:"))
    return hidden and read_only and report.get("workspace") == "writable"


def _probe_mode(
    zygote: ZygoteClient, planner: Planner, workspaces: Workspaces, mode: str, uid: int
) -> tuple[dict[str, Any] | None, str]:
    """One probe worker in ``mode``: what it could see and do, or why it failed."""
    workspace = workspaces.fresh(f"probe-{mode}")
    if mode == "root":
        chown_tree(workspace, uid)
    ends = zygote.fork_worker(planner.probe_plan(workspace, mode, uid), b"probe", watched=False)
    ends.channel.settimeout(60)
    message = _first_message(ends.channel)
    status = _read_all(ends.status_fd)
    output = _read_all(ends.out_fd, chunk=65536, keep=4096)
    for fd in (ends.status_fd, ends.out_fd):
        os.close(fd)
    ends.channel.close()
    workspaces.remove(workspace)
    lines = status.decode(errors="replace").splitlines()
    if not message:
        errors = [line for line in lines if line.startswith("setup-error")] or [output.decode(errors="replace")[-300:]]
        return None, "; ".join(errors) or "no answer"
    report = json.loads(message)
    report["_notes"] = [line[5:] for line in lines if line.startswith("note ")]
    return report, ""


def _first_message(channel: socket.socket) -> bytes:
    """The probe's one report, or b"" when none came."""
    try:
        return channel.recv(1 << 16)
    except OSError:
        return b""


def _read_all(fd: int, chunk: int = 4096, keep: int | None = None) -> bytes:
    """Everything until the end of a pipe; ``keep``: at most that much of each chunk."""
    data = b""
    while part := os.read(fd, chunk):
        data += part[:keep]
    return data
