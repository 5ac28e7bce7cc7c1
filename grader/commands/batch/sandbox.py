"""Containment of one submission: namespaces, a hidden and read-only filesystem, a lesser user, limits.

The zygote forks one process per submission and calls ``run_job`` in it. Three processes follow:

* A (``run_job``): new process group, dies with the zygote; creates the namespaces (network, mount,
  pid, IPC, and a user namespace when not root), forks B, reports B's pid to the parent and waits.
* B (``_init``): pid 1 of the new pid namespace. Mounts a fresh /proc, covers every folder that is
  not the system's (``/home``, ``/root``, ``/tmp``, the repository's ``solutions/``, ``tests/``,
  ``.git``, the suites' source, the batch's submissions and output...) with empty tmpfs, binds back
  what grading needs (the repository, the Python installation, the workspace, a read-only view of
  the artifact cache), makes every mount read-only but the workspace, brings up loopback, forks C
  and reports its wait status. When B exits the kernel kills every process left in the namespace.
* C (``_student``): drops to an unprivileged uid (root) or into a nested user namespace without
  capabilities (not root), sets no_new_privs and the rlimits, runs each practice's worker setup
  (``Practice.worker_setup``: still no student code, and the key not yet read) and runs pytest on the
  workspace, with what the setups returned in pytest's ``config.stash`` (``WorkerResources``).

``mode`` is ``root`` (uid 0 with CAP_SYS_ADMIN), ``userns`` (unprivileged user namespaces) or
``none`` (neither: limits only; the network and the filesystem are then not contained, which the
manifest and every feedback file say).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import importlib
import json
import os
import resource
import signal
import socket
import struct
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from grader.core.practice import Practice

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
O_PATH = getattr(os, "O_PATH", 0o10000000)

# Top-level folders left visible (read-only); every other top-level folder is covered.
SYSTEM_DIRS = frozenset(
    {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys", "run", "var", "opt", "snap"}
)
ALSO_HIDDEN = ("/var/tmp", "/run/user", "/var/lib/sss", "/etc/ssh")
# Root mode: slot k of a batch runs as uid/gid SLOT_UID_BASE + 256 * (batch number) + k, where the batch number
# comes from the output folder, so two batches at once never share a uid (nor an RLIMIT_NPROC count).
SLOT_UID_BASE = 2_000_000_000
SLOT_UID_SPAN = 256 * 4096
EXIT_SETUP = 90


@dataclass(frozen=True)
class Limits:
    """Per-submission limits."""

    timeout_s: float = 300.0  # wall clock, enforced by the parent
    memory_bytes: int = 8 << 30  # RLIMIT_AS of every process (torch + ONNX Runtime reserve ~3.3 GB); 0 = none
    rss_bytes: int = 4 << 30  # resident memory of the whole submission, watched by the parent
    file_bytes: int = 512 << 20  # RLIMIT_FSIZE: largest file (resnet50 ONNX is ~100 MB)
    disk_bytes: int = 2 << 30  # the workspace's total size, watched by the parent
    processes: int = 128  # RLIMIT_NPROC (threads count too; a full solution peaks near 10)
    output_bytes: int = 8 << 20  # stdout + stderr
    cpu_s: int = 0  # RLIMIT_CPU; 0 = 4 x timeout

    def describe(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return asdict(self)


@dataclass
class Plan:
    """Everything a worker needs, sent from the parent to the zygote as JSON."""

    job: str
    workspace: str
    args: list[str]
    env: dict[str, str]
    mode: str
    uid: int = -1
    hide: list[str] = field(default_factory=list)
    keep: list[list[str]] = field(default_factory=list)  # [source, target, "ro" | "rw"]
    limits: dict[str, Any] = field(default_factory=dict)
    threads: int = 1
    start_dir: str = ""
    action: str = "pytest"  # or "probe"
    probe_paths: dict[str, str] = field(default_factory=dict)
    forbidden: list[str] = field(default_factory=list)  # mode none: refused by the audit-hook guard

    def to_json(self) -> str:
        """JSON text."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Parse ``to_json``."""
        return cls(**json.loads(text))


# ---------------------------------------------------------------- libc


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    """Raise OSError with errno when a libc call failed."""
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    """unshare(2)."""
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2)."""
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def prctl(option: int, value: int) -> None:
    """prctl(2) with one argument."""
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def die_with_parent(expected_parent: int | None = None) -> None:
    """SIGKILL this process when its parent exits (and now, if that already happened)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # 0: the parent is outside this process's pid namespace (B, pid 1 of its namespace).
    if expected_parent is not None and os.getppid() not in (expected_parent, 0):
        os._exit(EXIT_SETUP)


# ---------------------------------------------------------------- A: namespaces


def run_job(plan: Plan, channel: int, key_fd: int, out_fd: int, status_fd: int, zygote_pid: int) -> None:
    """Process A (never returns): namespaces, then B; report B's pid and wait for it."""
    try:
        os.setpgid(0, 0)
        die_with_parent(zygote_pid)
        prctl(PR_SET_DUMPABLE, 0)
        _close_other_fds({channel, key_fd, out_fd, status_fd})
        uid, gid = os.getuid(), os.getgid()
        if plan.mode == "root":
            unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC)
        elif plan.mode == "userns":
            unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC)
            _map_ids(uid, gid)
    except OSError as error:
        _report(status_fd, f"setup-error namespaces: {error}")
        os._exit(EXIT_SETUP)
    me = os.getpid()
    child = os.fork()
    if child == 0:
        _init(plan, channel, key_fd, out_fd, status_fd, me)
    for fd in (channel, key_fd, out_fd):
        os.close(fd)
    _report(status_fd, f"b_pid {child}")
    os.close(status_fd)
    while True:
        try:
            pid, _ = os.waitpid(child, 0)
        except ChildProcessError:
            break
        if pid == child:
            break
    os._exit(0)


def _map_ids(uid: int, gid: int) -> None:
    """Map this user to itself in a new user namespace (the one mapping an unprivileged user may write)."""
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def _close_other_fds(keep: set[int]) -> None:
    """Close every descriptor above 2 that is not in ``keep``."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _report(fd: int, line: str) -> None:
    """One status line to the parent (short: atomic on a pipe)."""
    try:
        os.write(fd, (line.replace("\n", " ")[:400] + "\n").encode())
    except OSError:
        pass


# ---------------------------------------------------------------- B: init of the namespace, mounts


def _init(plan: Plan, channel: int, key_fd: int, out_fd: int, status_fd: int, parent: int) -> None:
    """Process B (never returns): the filesystem view, loopback, then C; report C's wait status."""
    try:
        die_with_parent(parent)
        prctl(PR_SET_DUMPABLE, 0)
        notes: list[str] = []
        if plan.mode != "none":
            notes = setup_mounts(plan)
            _loopback_up(notes)
        for note in notes:
            _report(status_fd, f"note {note}")
    except OSError as error:
        _report(status_fd, f"setup-error filesystem: {error}")
        os._exit(EXIT_SETUP)
    me = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(status_fd)
        _student(plan, channel, key_fd, out_fd, me)
    for fd in (channel, key_fd, out_fd):
        os.close(fd)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            _report(status_fd, f"exit {status}")
            break
    os._exit(0)


def _depth(path: str) -> int:
    """Number of components."""
    return len(Path(path).parts)


def _under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hidden_paths(extra: list[str]) -> list[str]:
    """Folders to cover: non-system top-level folders, a few system ones, and ``extra``."""
    found = [f"/{name}" for name in os.listdir("/") if name not in SYSTEM_DIRS and os.path.isdir(f"/{name}")]
    found += [path for path in ALSO_HIDDEN if os.path.isdir(path)]
    found += [path for path in extra if os.path.isdir(path)]
    return sorted(set(found), key=lambda p: (_depth(p), p))


def setup_mounts(plan: Plan) -> list[str]:
    """Cover ``plan.hide``, bind ``plan.keep`` back, make everything read-only but rw keeps; return notes."""
    notes: list[str] = []
    sources = {}
    for source, target, _ in plan.keep:
        try:
            sources[target] = os.open(source, O_PATH | os.O_DIRECTORY)
        except OSError as error:
            notes.append(f"cannot keep {source}: {error.strerror}")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as error:
        notes.append(f"no private /proc ({error.strerror}): other processes' command lines stay visible")
    operations = [(_depth(p), 0, p) for p in plan.hide] + [(_depth(t), 1, t) for t in sources]
    for _, kind, path in sorted(operations):
        if kind == 0:
            if os.path.isdir(path) and not os.path.islink(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
        else:
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{sources[path]}", path, None, MS_BIND | MS_REC)
    for fd in sources.values():
        os.close(fd)
    failures = _all_read_only()
    if failures:
        notes.append("could not make read-only: " + ", ".join(failures[:5]))
    for _, target, access in plan.keep:
        if access == "rw" and target in sources:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | _atime_flags(target))
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    return notes


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, options, filesystem type) of every mount in this namespace."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        point = fields[4].encode().decode("unicode_escape")
        out.append((point, fields[5], right.split()[0] if right else ""))
    return out


_FLAG_OPTIONS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}


def _atime_flags(target: str) -> int:
    """The locked per-mount flags of the mount at ``target`` (a remount must repeat them)."""
    flags = 0
    for point, options, _ in _mounts():
        if point == target:
            flags = sum(flag for name, flag in _FLAG_OPTIONS.items() if name in options.split(","))
    return flags


def _all_read_only() -> list[str]:
    """Remount every mount read-only (this namespace only: MS_BIND), except /proc, /sys and /dev."""
    failures = []
    seen = set()
    for point, options, fstype in _mounts():
        if point in seen or fstype in ("proc", "sysfs") or _under(point, "/proc") or _under(point, "/sys"):
            continue
        if _under(point, "/dev"):
            continue
        seen.add(point)
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(flag for name, flag in _FLAG_OPTIONS.items() if name in options.split(","))
        try:
            mount(None, point, None, flags)
        except OSError as error:
            if point == "/" or error.errno not in (errno.ENOENT, errno.EINVAL):
                failures.append(f"{point} ({error.strerror})")
    return failures


def _loopback_up(notes: list[str]) -> None:
    """Bring ``lo`` up in the new network namespace (local sockets work; nothing else is reachable)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack("16sH14s", b"lo", 0, b"")
            flags = struct.unpack("16sH", fcntl.ioctl(sock, siocgifflags, request)[:18])[1]
            fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))
    except OSError as error:
        notes.append(f"loopback not up ({error.strerror})")


# ---------------------------------------------------------------- C: the student's process


def _student(plan: Plan, channel: int, key_fd: int, out_fd: int, parent: int) -> None:
    """Process C (never returns): lose privileges, apply limits, then pytest (or the probe)."""
    try:
        prctl(PR_SET_DUMPABLE, 1)
        os.chdir(plan.workspace)
        if plan.mode == "root":
            os.setgroups([])
            os.setresgid(plan.uid, plan.uid, plan.uid)
            os.setresuid(plan.uid, plan.uid, plan.uid)
        elif plan.mode == "userns":
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER)  # a nested namespace: no capability over the mounts made above
            _map_ids(uid, gid)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        die_with_parent(parent)
        apply_limits(Limits(**plan.limits))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # a file over the limit ends the run (Python ignores it)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in (null, out_fd):
            os.close(fd)
        os.environ.clear()
        os.environ.update(plan.env)
        import tempfile

        tempfile.tempdir = None  # the zygote's cached choice (/tmp) is read-only here: use TMPDIR
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        resources: dict[int, object] = {}
        if plan.action != "probe":
            from grader.practices import PRACTICES

            _set_threads(plan.threads)  # as a new program would start: OMP_NUM_THREADS read at torch's start
            resources = run_worker_setups(PRACTICES.values(), close_fds=(channel, key_fd))
        key = os.read(key_fd, 64)
        os.close(key_fd)
    except OSError as error:
        os.write(2, f"trtlab sandbox setup failed: {error}\n".encode())
        os._exit(EXIT_SETUP)
    if plan.action == "probe":
        _probe_body(plan, channel)
    code = _run_pytest(plan, channel, key, WorkerResources(resources))
    os._exit(code)


def run_worker_setups(practices: Iterable[Practice], close_fds: tuple[int, ...]) -> dict[int, object]:
    """Call each practice's ``worker_setup`` (now: no student code and no torch op has run, the limits and the
    user are final); what each returned, by practice number. Every practice is set up, graded here or not: the
    sandbox knows no workspace layout, and a setup is cheap (Practice 2's forks one idle process, as before)."""
    resources: dict[int, object] = {}
    for practice in practices:
        if not practice.worker_setup:
            continue
        module, _, function = practice.worker_setup.partition(":")
        try:
            provided = getattr(importlib.import_module(module), function)(close_fds)
        except Exception as error:  # noqa: BLE001 - a head start failed: the suite grades without it
            os.write(
                2, f"trtlab worker setup {practice.worker_setup} failed: {type(error).__name__}: {error}\n".encode()
            )
            continue
        if provided is not None:
            resources[practice.number] = provided
    return resources


class WorkerResources:
    """pytest plugin of a batch worker: what the practices' worker setups returned, put in ``config.stash``
    (read by the ``worker_resource`` fixture of ``grader.plugin.hooks``); no module global is set."""

    def __init__(self, resources: dict[int, object]) -> None:
        self._resources = dict(resources)

    def pytest_configure(self, config: pytest.Config) -> None:
        """Store the resources before collection."""
        from grader.plugin.hooks import WORKER_RESOURCES

        config.stash[WORKER_RESOURCES] = dict(self._resources)


def apply_limits(limits: Limits) -> None:
    """setrlimit for memory, file size, processes, CPU time and core files."""
    cpu = limits.cpu_s or int(limits.timeout_s * 4) + 10
    for name, value in (
        (resource.RLIMIT_AS, limits.memory_bytes or resource.RLIM_INFINITY),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_CORE, 0),
    ):
        _soft, hard = resource.getrlimit(name)
        if hard != resource.RLIM_INFINITY:
            value = hard if value == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(name, (value, value))


def _run_pytest(plan: Plan, channel: int, key: bytes, resources: WorkerResources) -> int:
    """pytest on the workspace, streaming to the parent; messages show paths relative to ``plan.start_dir``."""
    import pytest

    from grader.commands.batch.stream import Guard, StreamPlugin

    _set_threads(plan.threads)
    guard = Guard(plan.workspace, plan.forbidden) if plan.mode == "none" else None
    plugin = StreamPlugin(channel, key, Path(plan.workspace), guard)
    del key
    args = [*plan.args, "--start-dir", plan.start_dir or plan.workspace]
    try:
        code = int(pytest.main(args, plugins=[plugin, resources]))
    except SystemExit as error:
        code = error.code if isinstance(error.code, int) else 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


def _set_threads(count: int) -> None:
    """Intra-op threads of torch and of the grader's ONNX Runtime sessions: fixed, so results do not depend
    on the machine's core count (float sums in another order) and threads stay far below RLIMIT_NPROC."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(count)
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            torch.set_num_threads(count)
        except RuntimeError:
            pass
    os.environ["TRTLAB_ORT_THREADS"] = str(count)  # grader.backends.onnxruntime.THREADS_ENV: 0 is one per core


def _probe_body(plan: Plan, channel: int) -> None:
    """What the sandbox really contains, measured from inside (sent as JSON on the channel)."""
    found: dict[str, Any] = {"uid": os.getuid()}
    try:
        socket.create_connection(("10.255.255.1", 9), timeout=1).close()
        found["network"] = "open"
    except OSError as error:
        found["network"] = "blocked" if error.errno in (101, 99, 113) else f"open? ({error.strerror})"
    for name, path in plan.probe_paths.items():
        if name.startswith("hidden:"):
            try:
                found[name] = "visible" if os.listdir(path) else "hidden"
            except OSError:
                found[name] = "hidden"
        elif name.startswith("readonly:"):
            try:
                probe = Path(path) / ".trtlab-probe"
                probe.write_text("x")
                probe.unlink()
                found[name] = "writable"
            except OSError:
                found[name] = "read-only"
    try:
        (Path(plan.workspace) / "probe").write_text("x")
        found["workspace"] = "writable"
    except OSError as error:
        found["workspace"] = f"not writable ({error.strerror})"
    sock = socket.socket(fileno=channel)
    sock.send(json.dumps(found).encode())
    os._exit(0)
