"""One ``selectors`` loop over every running worker: what it reports, what it prints, the limits it hits.

Per worker the parent watches signed results on the channel (accepted only with the right tag, the
next sequence number, the kernel-attested pid of the pytest process that said hello, and an expected
test not reported before), output (head and tail kept, capped), status lines (B's pid, notes, setup
errors, C's wait status), and the limits it enforces itself: wall clock, private resident memory and
tasks of the whole process tree, workspace size, output size. Everything learnt goes into the
worker's ``WorkerReport``; ``results`` turns it into a grade.
"""

from __future__ import annotations

import os
import secrets
import selectors
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.commands.batch import processes, stream
from grader.commands.batch.sandbox import Limits, Plan
from grader.commands.batch.submissions import Submission
from grader.commands.batch.workspaces import used_bytes
from grader.commands.batch.zygote_client import ZygoteClient

OUTPUT_KEEP = 24 << 10  # head and tail of a worker's output kept for the instructor
TICK_S = 0.25
RSS_EVERY_S = 0.5
DISK_EVERY_S = 2.0


@dataclass
class WorkerReport:
    """Everything the parent learnt from one worker (not one test's outcome: that is core.scoring.Outcome)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> stream result
    collected: list[str] | None = None
    done: dict[str, Any] | None = None
    limit: dict[str, Any] | None = None  # {"kind", "nodeid"} from the worker, or the parent's own kill
    tamper: dict[str, Any] | None = None
    forged: list[str] = field(default_factory=list)
    killed: str = ""  # timeout, memory, disk, output
    exit_status: int | None = None
    setup_error: str = ""
    notes: list[str] = field(default_factory=list)
    output_head: bytes = b""
    output_tail: bytes = b""
    output_total: int = 0
    duration_s: float = 0.0
    peak_rss: int = 0
    peak_tasks: int = 0

    def output_text(self) -> str:
        """Kept output, with a marker where the middle was dropped."""
        head = self.output_head.decode("utf-8", "replace")
        if self.output_total <= len(self.output_head):
            return head
        skipped = self.output_total - len(self.output_head) - len(self.output_tail)
        tail = self.output_tail.decode("utf-8", "replace")
        return head + (f"\n[... {skipped} bytes not kept ...]\n" if skipped > 0 else "") + tail


@dataclass
class Job:
    """One running submission."""

    submission: Submission
    plan: Plan
    expected: list[str]
    key: bytes
    chan: socket.socket
    out_fd: int
    status_fd: int
    started: float
    deadline: float
    pid_a: int = 0
    pid_b: int = 0
    pinned_pid: int = 0
    seq: int = 0
    status_buffer: bytes = b""
    open_streams: int = 3
    status_closed: bool = False
    report: WorkerReport = field(default_factory=WorkerReport)
    next_rss: float = 0.0
    next_disk: float = 0.0
    memory: processes.PrivateMemory = field(default_factory=processes.PrivateMemory)


class Monitor:
    """The running workers of one batch and the loop that watches them."""

    def __init__(self, limits: Limits, zygote: ZygoteClient) -> None:
        self.limits = limits
        self.zygote = zygote
        self.selector = selectors.DefaultSelector()
        self.running: dict[str, Job] = {}

    def launch(self, submission: Submission, plan: Plan, expected: list[str]) -> Job:
        """Fork the worker for ``plan`` with a fresh key and watch its three streams."""
        key = secrets.token_bytes(32)
        now = time.monotonic()
        ends = self.zygote.fork_worker(plan, key, watched=True)
        job = Job(
            submission,
            plan,
            expected,
            key,
            ends.channel,
            ends.out_fd,
            ends.status_fd,
            started=now,
            deadline=now + self.limits.timeout_s,
            pid_a=ends.pid,
        )
        self.selector.register(job.chan, selectors.EVENT_READ, (job, "chan"))
        self.selector.register(job.out_fd, selectors.EVENT_READ, (job, "out"))
        self.selector.register(job.status_fd, selectors.EVENT_READ, (job, "status"))
        self.running[submission.id] = job
        return job

    def step(self, ended: Callable[[Job], None]) -> None:
        """Read what is ready (waiting at most a tick), enforce the limits, end the workers whose B exited."""
        for key, _events in self.selector.select(timeout=TICK_S):
            job, kind = key.data
            self._readable(job, kind)
        now = time.monotonic()
        for job_id, job in list(self.running.items()):
            self._watch(job, now)
            if job.status_closed:
                self._finish(job)
                del self.running[job_id]
                ended(job)

    def stop_all(self, ended: Callable[[Job], None]) -> None:
        """Kill and end every worker still running (the batch stops: interrupted, or an error)."""
        for job in self.running.values():
            self.kill(job, "")
            self._finish(job)
            ended(job)
        self.running.clear()

    # -- reading

    def _readable(self, job: Job, kind: str) -> None:
        """Drain one stream of a job."""
        if kind == "chan":
            self._read_channel(job)
        elif kind == "out":
            self._read_output(job)
        else:
            self._read_status(job)

    def _close_stream(self, job: Job, kind: str) -> None:
        """Stop watching one of a job's streams."""
        target: Any = {"chan": job.chan, "out": job.out_fd, "status": job.status_fd}[kind]
        try:
            self.selector.unregister(target)
        except (KeyError, ValueError):
            return
        job.open_streams -= 1

    def _read_channel(self, job: Job) -> None:
        """Every message waiting on the result channel."""
        while True:
            try:
                data, ancillary, flags, _ = job.chan.recvmsg(1 << 20, socket.CMSG_SPACE(12))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, ancillary, flags = b"", [], 0
            if not data:
                self._close_stream(job, "chan")
                return
            pid = 0
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(value) >= 12:
                    pid = struct.unpack("3i", value[:12])[0]
            accept(job, data, pid, truncated=bool(flags & socket.MSG_TRUNC))

    def _read_output(self, job: Job) -> None:
        """Keep the head and tail of the output; kill the worker past the output limit."""
        report = job.report
        while True:
            try:
                chunk = os.read(job.out_fd, 1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            if not chunk:
                self._close_stream(job, "out")
                return
            report.output_total += len(chunk)
            if len(report.output_head) < OUTPUT_KEEP:
                room = OUTPUT_KEEP - len(report.output_head)
                report.output_head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                report.output_tail = (report.output_tail + chunk)[-OUTPUT_KEEP:]
            if report.output_total > self.limits.output_bytes and not report.killed:
                self.kill(job, "output")

    def _read_status(self, job: Job) -> None:
        """B's pid, notes, setup errors and C's wait status."""
        while True:
            try:
                chunk = os.read(job.status_fd, 4096)
            except (BlockingIOError, InterruptedError):
                return
            if not chunk:
                # B has exited (or A failed): the namespace is gone, only buffered data is left to read.
                self._close_stream(job, "status")
                job.status_closed = True
                return
            job.status_buffer += chunk
            *lines, rest = job.status_buffer.split(b"\n")
            job.status_buffer = rest
            for raw in lines:
                _status_line(job, raw.decode(errors="replace"))

    # -- limits and ending

    def _watch(self, job: Job, now: float) -> None:
        """Wall clock, resident memory of the process tree, workspace size."""
        report = job.report
        if report.killed:
            return
        if now > job.deadline:
            self.kill(job, "timeout")
            return
        if now >= job.next_rss:
            job.next_rss = now + RSS_EVERY_S
            rss, tasks = job.memory.tree_usage(job.pid_a)
            report.peak_rss = max(report.peak_rss, rss)
            report.peak_tasks = max(report.peak_tasks, tasks)
            if rss > self.limits.rss_bytes:
                self.kill(job, "memory")
                return
            if tasks > self.limits.processes:  # RLIMIT_NPROC is not enforced everywhere (root in a user namespace)
                self.kill(job, "processes")
                return
        if now >= job.next_disk:
            job.next_disk = now + DISK_EVERY_S
            if used_bytes(Path(job.plan.workspace), self.limits.disk_bytes) > self.limits.disk_bytes:
                self.kill(job, "disk")

    def kill(self, job: Job, reason: str) -> None:
        """End a worker and everything it started; ``reason`` (the first one) is what the report says."""
        if reason and not job.report.killed:
            job.report.killed = reason
        pids = processes.descendants(job.pid_a) if job.pid_a else []
        for pid in [job.pid_b, job.pid_a, *pids]:
            if pid:
                processes.kill(pid)
        if job.pid_a:
            processes.kill_group(job.pid_a)

    def _end_orphans(self) -> None:
        """Kill processes left below the zygote by finished submissions (only without pid namespaces)."""
        zygote = self.zygote.process.pid
        table = processes.process_table()
        alive = {j.pid_a for j in self.running.values() if j.pid_a}
        for pid in processes.descendants(zygote, table):
            if table[pid].ppid == zygote and pid in alive:
                continue
            if not alive.intersection(processes.ancestors(pid, table)) and pid not in alive:
                processes.kill(pid)

    def _finish(self, job: Job) -> None:
        """Drain what is left, close descriptors, end orphans, note the duration (the job still counts as running)."""
        self._read_channel(job)
        self._read_output(job)
        if job.pid_a and processes.descendants(job.pid_a):
            self.kill(job, "")
        for kind in ("chan", "out", "status"):
            self._close_stream(job, kind)
        job.chan.close()
        for fd in (job.out_fd, job.status_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._end_orphans()
        job.report.duration_s = time.monotonic() - job.started


def _status_line(job: Job, line: str) -> None:
    """One line of the status pipe."""
    word, _, value = line.partition(" ")
    if word == "b_pid":
        job.pid_b = int(value)
    elif word == "exit":
        job.report.exit_status = int(value)
    elif word == "setup-error":
        job.report.setup_error = value
    elif word == "note":
        job.report.notes.append(value)


def accept(job: Job, data: bytes, pid: int, truncated: bool) -> None:
    """Accept one message only if signed, in sequence, from the pinned process, about an expected test."""
    report = job.report
    if report.forged or report.tamper:
        return  # nothing after a forgery or tampering counts
    payload = None if truncated else stream.verify(job.key, job.seq, data)
    if payload is None:
        report.forged.append(f"message {job.seq + 1} on the result channel is not the grader's (bad signature)")
        return
    if job.pinned_pid == 0 and payload.get("type") == "hello":
        job.pinned_pid = pid
    if pid == 0 or pid != job.pinned_pid:
        report.forged.append(f"a process other than the grader's pytest (pid {pid}) sent results")
        return
    job.seq += 1
    _record(job, payload)


def _record(job: Job, payload: dict[str, Any]) -> None:
    """What an accepted message says, into the worker's report."""
    report = job.report
    kind = payload.get("type")
    if kind == "collected":
        report.collected = list(payload.get("nodeids", []))
    elif kind == "result":
        nodeid = payload.get("nodeid")
        if nodeid not in job.expected or nodeid in report.results:
            report.forged.append(f"result for an unexpected or repeated test {nodeid!r}")
            return
        report.results[nodeid] = payload
    elif kind == "limit":
        report.limit = {"kind": payload.get("kind"), "nodeid": payload.get("nodeid")}
    elif kind == "tamper":
        report.tamper = {"nodeid": payload.get("nodeid"), "changes": payload.get("changes", [])}
    elif kind == "done":
        report.done = payload
    elif kind != "hello":
        report.forged.append(f"unknown message type {kind!r}")
