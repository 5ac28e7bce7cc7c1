"""The parent's side of grading: workspaces, the zygote, one event loop over every running worker.

The parent never imports or runs student code. Per submission it builds a workspace, creates the
result channel (SOCK_SEQPACKET pair, SO_PASSCRED on its end), a key pipe, an output pipe and a
status pipe, and hands the worker's ends to the zygote. It then watches, in one ``selectors`` loop:
signed results on the channel (checked for tag, sequence, node id and the kernel-attested sender
pid), output (capped), status lines (B's pid, C's wait status), and limits it enforces itself (wall
clock, resident memory of the whole process tree, workspace size, output size).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.commands.batch import stream
from grader.commands.batch.sandbox import SLOT_UID_BASE, SLOT_UID_SPAN, Limits, Plan
from grader.commands.batch.submissions import Submission, remove_tree
from grader.commands.batch.trusted import TestInfo, layout

OUTPUT_KEEP = 24 << 10  # head and tail of a worker's output kept for the instructor
TICK_S = 0.25
RSS_EVERY_S = 0.5
DISK_EVERY_S = 2.0
PAGE = os.sysconf("SC_PAGE_SIZE")
ISOLATION_ENV = "TRTLAB_BATCH_ISOLATION"  # force root, userns or none (tests, debugging)


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


@dataclass
class Outcome:
    """Everything the parent learnt from one worker."""

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


class ZygoteError(RuntimeError):
    """The forking server could not start or stopped."""


class Zygote:
    """The client side of ``grader.commands.batch.zygote``."""

    def __init__(self, scratch: Path, log: Path) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = parent_end
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        scratch.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader.commands.batch.zygote", str(child_end.fileno()), str(os.getpid()), str(scratch)],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,
                env=env,
            )
        child_end.close()
        self.sock.settimeout(600)
        try:
            ready = json.loads(self.sock.recv(1 << 20) or b"{}")
        except (OSError, ValueError) as error:
            raise ZygoteError(f"the worker server did not start: {error} (see {log})") from None
        if ready.get("type") != "ready":
            raise ZygoteError(f"the worker server did not start (see {log})")
        self.ready = ready
        self.sock.settimeout(60)

    def start(self, plan: Plan, fds: list[int]) -> int:
        """Fork a worker for ``plan``; return its pid (process A)."""
        socket.send_fds(self.sock, [json.dumps({"plan": plan.to_json()}).encode()], fds)
        reply = json.loads(self.sock.recv(1 << 16) or b"{}")
        if reply.get("type") != "started":
            raise ZygoteError(f"the worker server refused a job: {reply}")
        return int(reply["pid"])

    def close(self) -> None:
        """Stop the server."""
        try:
            self.sock.close()
        finally:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    outcome: Outcome = field(default_factory=Outcome)
    next_rss: float = 0.0
    next_disk: float = 0.0


class Runner:
    """Grades submissions, ``jobs`` at a time, through one zygote."""

    def __init__(
        self,
        *,
        repo: Path,
        batch_root: Path,
        cache_dir: Path,
        limits: Limits,
        jobs: int,
        threads: int,
        hide: list[str],
        log: Path,
    ) -> None:
        self.repo = repo
        self.batch_root = batch_root
        self.cache_dir = cache_dir
        self.limits = limits
        self.jobs = max(1, min(jobs, 255))
        self.threads = threads
        self.extra_hide = hide
        self.selector = selectors.DefaultSelector()
        batch_number = int(hashlib.sha256(str(batch_root).encode()).hexdigest()[:8], 16) % (SLOT_UID_SPAN // 256)
        self.uid_base = SLOT_UID_BASE + 256 * batch_number
        self.zygote = Zygote(batch_root / "zygote", log)
        self.isolation = self._probe()
        self._free_slots = list(range(self.jobs))
        self._running: dict[str, Job] = {}
        self._slot_of: dict[str, int] = {}

    # -- isolation

    def _probe(self) -> Isolation:
        """Try root, then user namespaces, then nothing; keep the first that works."""
        modes = (["root"] if os.geteuid() == 0 else []) + ["userns", "none"]
        forced = os.environ.get(ISOLATION_ENV, "")
        if forced:
            if forced not in ("root", "userns", "none"):
                raise ZygoteError(f"{ISOLATION_ENV} must be root, userns or none, not {forced!r}")
            modes = [forced]
        errors = []
        for mode in modes:
            report, error = self._probe_mode(mode)
            if report is None:
                errors.append(f"{mode}: {error}")
                continue
            hidden = all(v == "hidden" for k, v in report.items() if k.startswith("hidden:"))
            read_only = all(v == "read-only" for k, v in report.items() if k.startswith("readonly:"))
            if mode != "none" and not (hidden and read_only and report.get("workspace") == "writable"):
                errors.append(f"{mode}: incomplete ({report})")
                continue
            filesystem = (
                "private view: solutions, tests, other submissions and outputs hidden; all but the workspace read-only"
                if mode != "none"
                else "not contained: the submission runs as this user and sees this machine's files"
            )
            notes = errors + report.get("_notes", [])
            return Isolation(mode, str(report.get("network")), filesystem, notes)
        raise ZygoteError("no way to run a worker here: " + "; ".join(errors))

    def _probe_mode(self, mode: str) -> tuple[dict[str, Any] | None, str]:
        """One probe worker in ``mode``: what it could see and do, or why it failed."""
        workspace = self.batch_root / "ws" / f"probe-{mode}"
        remove_tree(workspace) if workspace.exists() else None
        workspace.mkdir(parents=True)
        if mode == "root":
            _chown_tree(workspace, self.uid_base)
        plan = self._plan("probe", workspace, [], mode, self.uid_base)
        plan.action = "probe"
        plan.probe_paths = {
            "hidden:solutions": str(self.repo / "solutions"),
            "hidden:tests": str(self.repo / "tests"),
            "readonly:repo": str(self.repo),
            "readonly:cache": str(self.batch_root / "cache-ro"),
        }
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        key_r, key_w = os.pipe()
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        os.write(key_w, b"probe")
        os.close(key_w)
        try:
            self.zygote.start(plan, [child_end.fileno(), key_r, out_w, status_w])
        finally:
            for fd in (key_r, out_w, status_w):
                os.close(fd)
            child_end.close()
        parent_end.settimeout(60)
        try:
            message = parent_end.recv(1 << 16)
        except OSError:
            message = b""
        status = b""
        while chunk := os.read(status_r, 4096):
            status += chunk
        output = b""
        while chunk := os.read(out_r, 65536):
            output += chunk[:4096]
        for fd in (status_r, out_r):
            os.close(fd)
        parent_end.close()
        remove_tree(workspace)
        lines = status.decode(errors="replace").splitlines()
        if not message:
            errors = [line for line in lines if line.startswith("setup-error")] or [
                output.decode(errors="replace")[-300:]
            ]
            return None, "; ".join(errors) or "no answer"
        report = json.loads(message)
        report["_notes"] = [line[5:] for line in lines if line.startswith("note ")]
        return report, ""

    # -- plans and workspaces

    def _plan(self, job: str, workspace: Path, practices: list[int], mode: str, uid: int) -> Plan:
        """The worker's instructions."""
        home = workspace / "home"
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(workspace / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            "TRTLAB_CACHE_DIR": str(workspace / "cache"),
            "HF_HOME": os.environ.get("HF_HOME", ""),
            "TORCH_HOME": os.environ.get("TORCH_HOME", ""),
        }
        for name in (
            "HF_HUB_OFFLINE",
            "HF_DATASETS_OFFLINE",
            "TRANSFORMERS_OFFLINE",
            "YOLO_OFFLINE",
            "YOLO_AUTOINSTALL",
        ):
            env[name] = os.environ.get(name, "1" if "OFFLINE" in name else "0")
        env["MPLBACKEND"] = "Agg"
        # The grader's plugin by name and no other: the same plugins as the trusted run, whatever else is
        # installed, and no scan of every package's entry points per submission.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        keep = [[str(workspace), str(workspace), "rw"], [str(self.cache_dir), str(self.batch_root / "cache-ro"), "ro"]]
        for path in self._needed_paths():
            keep.append([path, path, "ro"])
        hide = [str(self.repo / name) for name in ("solutions", "tests", ".git")]
        hide += [str(self.repo / "grader" / "practices")]  # imported by the zygote already: hidden tests stay unread
        hide += self.extra_hide
        from grader.commands.batch.sandbox import hidden_paths

        args = [
            *[f"assignments/practice{n}" for n in practices],
            "-c",
            str(self.repo / "pyproject.toml"),
            "--rootdir",
            str(workspace),
            "-q",
            "-s",
            "-p",
            "grader.plugin.hooks",
            "-p",
            "pytest_timeout",
            "-p",
            "no:cacheprovider",
        ]
        forbidden = [*hide, str(self.batch_root / "ws"), str(self.batch_root / "zygote")]
        return Plan(
            forbidden=forbidden,
            job=job,
            workspace=str(workspace),
            args=args,
            env={k: v for k, v in env.items() if v},
            mode=mode,
            uid=uid,
            hide=hidden_paths(hide),
            keep=keep,
            limits=self.limits.describe(),
            threads=self.threads,
            start_dir=str(workspace / "assignments"),
        )

    def _needed_paths(self) -> list[str]:
        """Folders a worker must read: the repository, the Python installation, model caches."""
        paths = {str(self.repo), sys.prefix, sys.base_prefix, sys.exec_prefix}
        shared = self.repo.parent / "shared" / "reference"  # real NVIDIA exports Practice 5 grades against
        if shared.is_dir():
            paths.add(str(shared.resolve()))
        paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
        for entry in sys.path:
            # Installed packages only: the current folder (sys.path[0]) may be the instructor's home.
            if entry and os.path.isdir(entry) and ("-packages" in entry or entry.startswith(sys.base_prefix)):
                paths.add(os.path.realpath(entry))
        for name in ("HF_HOME", "TORCH_HOME"):
            value = os.environ.get(name)
            if value and os.path.isdir(value):
                paths.add(os.path.realpath(value))
        ordered = sorted(paths, key=lambda p: (len(Path(p).parts), p))
        kept: list[str] = []
        for path in ordered:
            if path == "/" or any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
                continue
            kept.append(path)
        return kept

    def workspace(self, submission: Submission) -> Path:
        """A fresh workspace: pristine entries, the student's files, calib_images, a private cache view."""
        workspace = self.batch_root / "ws" / submission.safe_id
        if workspace.exists() or workspace.is_symlink():
            remove_tree(workspace)
        workspace.mkdir(parents=True)
        files = {number: {found.name: found.data, **found.extras} for number, found in sorted(submission.files.items())}
        layout(workspace, self.repo, files)
        for name in ("home", "tmp"):
            (workspace / name).mkdir()
        cache = workspace / "cache"
        cache.mkdir()
        if self.cache_dir.is_dir():
            for kind in sorted(self.cache_dir.iterdir()):
                if not kind.is_dir() or kind.name.startswith("."):
                    continue
                (cache / kind.name).mkdir()
                for item in kind.iterdir():
                    if not item.name.startswith("."):
                        (cache / kind.name / item.name).symlink_to(self.batch_root / "cache-ro" / kind.name / item.name)
        return workspace

    # -- running

    def run(
        self,
        todo: list[tuple[Submission, list[int], list[TestInfo]]],
        finished: Callable[[Submission, Outcome], None],
        progress: Callable[[list[tuple[str, float]]], None],
    ) -> None:
        """Grade every entry of ``todo`` (submission, practices present, expected tests in order)."""
        pending = list(todo)
        running: dict[str, Job] = {}
        self._running = running
        last_progress = 0.0
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    submission, practices, expected = pending.pop(0)
                    job = self._start(submission, practices, expected)
                    running[submission.id] = job
                for key, _events in self.selector.select(timeout=TICK_S):
                    job, kind = key.data
                    self._readable(job, kind)
                now = time.monotonic()
                for job_id, job in list(running.items()):
                    self._watch(job, now)
                    if job.status_closed:
                        self._finish(job)
                        del running[job_id]
                        finished(job.submission, job.outcome)
                if now - last_progress >= 0.5:
                    progress([(j.submission.id, now - j.started) for j in running.values()])
                    last_progress = now
        finally:
            for job in running.values():
                self._kill(job, "")
                self._finish(job)
            self.zygote.close()

    def _start(self, submission: Submission, practices: list[int], expected: list[TestInfo]) -> Job:
        """Workspace, descriptors, then the zygote forks the worker."""
        slot = self._free_slots.pop(0)
        self._slot_of[submission.id] = slot
        workspace = self.workspace(submission)
        mode = self.isolation.mode
        uid = self.uid_base + slot
        if mode == "root":
            _chown_tree(workspace, uid)
        plan = self._plan(submission.id, workspace, practices, mode, uid)
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent_end.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        parent_end.setblocking(False)
        key = secrets.token_bytes(32)
        key_r, key_w = os.pipe()
        os.write(key_w, key)
        os.close(key_w)
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        now = time.monotonic()
        job = Job(
            submission,
            plan,
            [t.nodeid for t in expected],
            key,
            parent_end,
            out_r,
            status_r,
            started=now,
            deadline=now + self.limits.timeout_s,
        )
        try:
            job.pid_a = self.zygote.start(plan, [child_end.fileno(), key_r, out_w, status_w])
        finally:
            for fd in (key_r, out_w, status_w):
                os.close(fd)
            child_end.close()
        for fd in (out_r, status_r):
            os.set_blocking(fd, False)
        self.selector.register(parent_end, selectors.EVENT_READ, (job, "chan"))
        self.selector.register(out_r, selectors.EVENT_READ, (job, "out"))
        self.selector.register(status_r, selectors.EVENT_READ, (job, "status"))
        return job

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
            self._message(job, data, pid, truncated=bool(flags & socket.MSG_TRUNC))

    def _message(self, job: Job, data: bytes, pid: int, truncated: bool) -> None:
        """Accept one message only if signed, in sequence, from the pinned process, about an expected test."""
        outcome = job.outcome
        if outcome.forged or outcome.tamper:
            return  # nothing after a forgery or tampering counts
        payload = None if truncated else stream.verify(job.key, job.seq, data)
        if payload is None:
            outcome.forged.append(f"message {job.seq + 1} on the result channel is not the grader's (bad signature)")
            return
        if job.pinned_pid == 0 and payload.get("type") == "hello":
            job.pinned_pid = pid
        if pid == 0 or pid != job.pinned_pid:
            outcome.forged.append(f"a process other than the grader's pytest (pid {pid}) sent results")
            return
        job.seq += 1
        kind = payload.get("type")
        if kind == "collected":
            outcome.collected = list(payload.get("nodeids", []))
        elif kind == "result":
            nodeid = payload.get("nodeid")
            if nodeid not in job.expected or nodeid in outcome.results:
                outcome.forged.append(f"result for an unexpected or repeated test {nodeid!r}")
                return
            outcome.results[nodeid] = payload
        elif kind == "limit":
            outcome.limit = {"kind": payload.get("kind"), "nodeid": payload.get("nodeid")}
        elif kind == "tamper":
            outcome.tamper = {"nodeid": payload.get("nodeid"), "changes": payload.get("changes", [])}
        elif kind == "done":
            outcome.done = payload
        elif kind != "hello":
            outcome.forged.append(f"unknown message type {kind!r}")

    def _read_output(self, job: Job) -> None:
        """Keep the head and tail of the output; kill the worker past the output limit."""
        outcome = job.outcome
        while True:
            try:
                chunk = os.read(job.out_fd, 1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            if not chunk:
                self._close_stream(job, "out")
                return
            outcome.output_total += len(chunk)
            if len(outcome.output_head) < OUTPUT_KEEP:
                room = OUTPUT_KEEP - len(outcome.output_head)
                outcome.output_head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                outcome.output_tail = (outcome.output_tail + chunk)[-OUTPUT_KEEP:]
            if outcome.output_total > self.limits.output_bytes and not outcome.killed:
                self._kill(job, "output")

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
                line = raw.decode(errors="replace")
                word, _, value = line.partition(" ")
                if word == "b_pid":
                    job.pid_b = int(value)
                elif word == "exit":
                    job.outcome.exit_status = int(value)
                elif word == "setup-error":
                    job.outcome.setup_error = value
                elif word == "note":
                    job.outcome.notes.append(value)

    def _watch(self, job: Job, now: float) -> None:
        """Wall clock, resident memory of the process tree, workspace size."""
        if job.outcome.killed:
            return
        if now > job.deadline:
            self._kill(job, "timeout")
            return
        if now >= job.next_rss:
            job.next_rss = now + RSS_EVERY_S
            rss, tasks = _tree_usage(job.pid_a)
            job.outcome.peak_rss = max(job.outcome.peak_rss, rss)
            job.outcome.peak_tasks = max(job.outcome.peak_tasks, tasks)
            if rss > self.limits.rss_bytes:
                self._kill(job, "memory")
                return
            if tasks > self.limits.processes:  # RLIMIT_NPROC is not enforced everywhere (root in a user namespace)
                self._kill(job, "processes")
                return
        if now >= job.next_disk:
            job.next_disk = now + DISK_EVERY_S
            if _tree_size(Path(job.plan.workspace), self.limits.disk_bytes) > self.limits.disk_bytes:
                self._kill(job, "disk")

    def _kill(self, job: Job, reason: str) -> None:
        """End a worker and everything it started."""
        if reason and not job.outcome.killed:
            job.outcome.killed = reason
        pids = _descendants(job.pid_a) if job.pid_a else []
        for pid in [job.pid_b, job.pid_a, *pids]:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if job.pid_a:
            try:
                os.killpg(job.pid_a, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _end_orphans(self) -> None:
        """Kill processes left below the zygote by finished submissions (only without pid namespaces)."""
        zygote = self.zygote.process.pid
        table = _process_table()
        alive = {j.pid_a for j in self._running.values() if j.pid_a}
        for pid in _descendants(zygote, table):
            if table[pid][0] == zygote and pid in alive:
                continue
            if not alive.intersection(_ancestors(pid, table)) and pid not in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def _finish(self, job: Job) -> None:
        """Drain what is left, close descriptors, delete the workspace."""
        self._read_channel(job)
        self._read_output(job)
        if job.pid_a:
            leftovers = _descendants(job.pid_a)
            if leftovers:
                self._kill(job, "")
        for kind in ("chan", "out", "status"):
            self._close_stream(job, kind)
        job.chan.close()
        for fd in (job.out_fd, job.status_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._end_orphans()
        job.outcome.duration_s = time.monotonic() - job.started
        slot = self._slot_of.pop(job.submission.id, None)
        if slot is not None:
            self._free_slots.append(slot)
            self._free_slots.sort()
        remove_tree(Path(job.plan.workspace))


def _ancestors(pid: int, table: dict[int, tuple[int, int, int]]) -> list[int]:
    """Parent, grandparent... of a process."""
    chain = []
    while pid in table and len(chain) < 64:
        pid = table[pid][0]
        chain.append(pid)
    return chain


def _chown_tree(path: Path, uid: int) -> None:
    """Give a workspace to the submission's slot user (root mode)."""
    os.lchown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def _process_table() -> dict[int, tuple[int, int, int]]:
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


def _descendants(root: int, table: dict[int, tuple[int, int, int]] | None = None) -> list[int]:
    """Every process below ``root``."""
    table = table if table is not None else _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _private_bytes(pid: int, resident_pages: int) -> int:
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


def _tree_usage(root: int) -> tuple[int, int]:
    """Private resident bytes and threads of a process and all its descendants."""
    if not root:
        return 0, 0
    table = _process_table()
    pids = [pid for pid in [root, *_descendants(root, table)] if pid in table]
    return sum(_private_bytes(pid, table[pid][1]) for pid in pids), sum(table[pid][2] for pid in pids)


def _tree_size(path: Path, stop_above: int) -> int:
    """Bytes used by a folder (stops counting past ``stop_above``)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
            if total > stop_above:
                return total
    return total
