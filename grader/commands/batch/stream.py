"""The pytest plugin of a batch worker: each test's result goes to the batch parent as it happens.

Two modes:

* ``StreamPlugin(channel_fd, key)``: inside a sandboxed worker (``grader.commands.batch.zygote``). Every
  message is a JSON payload plus an HMAC-SHA256 tag over the sequence number and payload, sent on
  an AF_UNIX SOCK_SEQPACKET socket whose other end the parent opened before the worker existed;
  the parent checks the tag, the sequence, and the sender's kernel-attested pid (SCM_CREDENTIALS).
  Before each result it checks that nothing in the grader, pytest or pluggy was replaced since
  collection (the moment before any student code ran): a change ends the run as tampering.
* ``-p grader.commands.batch.stream`` with ``TRTLAB_BATCH_REPORT=PATH``: a trusted run (no student code:
  the suite's own collection, or the reference solution) writes every test's metadata and outcome
  to PATH. The parent takes points, visibility and the tests "not graded on this machine" from it.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import socket
import sys
import sysconfig
import threading
import time
import types
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.backends import requirements
from grader.core.files import atomic_write
from grader.core.scoring import Outcome
from grader.plugin import hooks

REPORT_ENV = "TRTLAB_BATCH_REPORT"
TAG_SIZE = 32
MAX_EVENTS = 20  # audit events kept per test
EXIT_LIMIT = 75  # worker exit code after a resource limit ended the run
EXIT_TAMPER = 76
EXIT_CHANNEL = 77

# Modules whose functions, classes and globals grading relies on: replacing any of them after
# collection changes what a test reports.
TRUSTED_PREFIXES = (
    "grader",
    "_pytest",
    "pytest",
    "pytest_timeout",
    "pluggy",
    "numpy",
    "builtins",
    "hmac",
    "json",
    "socket",
    "_socket",
)
TRUSTED_EXACT = ("os", "posix", "sys", "hashlib", "_hashlib", "traceback", "linecache")
# Globals that pytest itself reassigns around every test.
MUTABLE_GLOBALS = frozenset(
    {
        ("_pytest.assertion.util", "_reprcompare"),
        ("_pytest.assertion.util", "_assertion_pass"),
        ("_pytest.assertion.util", "_config"),
    }
)
# Immutable values whose replacement changes behaviour (tolerances, seeds, names); containers and
# other objects (sys.path, caches, streams) legitimately change while tests run.
_CHECKED_VALUES = (int, float, str, bytes, bool, type(None), tuple, frozenset, complex)
_CALLABLES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    type,
    classmethod,
    staticmethod,
    property,
)
# Audit events worth telling the instructor about when student code triggers them.
WATCHED_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.getaddrinfo",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "subprocess.Popen",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.cdata",
        "ctypes.string_at",
        "ctypes.addressof",
        "sys.settrace",
        "sys.setprofile",
        "sys._current_frames",
        "os.remove",
        "os.rmdir",
        "os.rename",
        "shutil.rmtree",
        "object.__setattr__",
        "object.__delattr__",
    }
)


def sign(key: bytes, seq: int, payload: bytes) -> bytes:
    """HMAC-SHA256 tag of one message."""
    return hmac.new(key, seq.to_bytes(8, "big") + payload, hashlib.sha256).digest()


def verify(key: bytes, seq: int, message: bytes) -> dict[str, Any] | None:
    """The payload of ``message`` when its tag is right for ``seq``, else None."""
    if len(message) <= TAG_SIZE:
        return None
    payload, tag = message[:-TAG_SIZE], message[-TAG_SIZE:]
    if not hmac.compare_digest(sign(key, seq, payload), tag):
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("seq") == seq else None


# ---------------------------------------------------------------- resource limits


def _exceptions(excinfo: pytest.ExceptionInfo[BaseException] | None) -> list[BaseException]:
    """The exception and everything chained to it (the student's originals hide behind StudentCodeError)."""
    found: list[BaseException] = []
    error = excinfo.value if excinfo is not None else None
    while error is not None and error not in found and len(found) < 20:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def limit_hit(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    """Which resource limit (memory, processes, file size) a test's failure came from, if any."""
    for error in _exceptions(excinfo):
        if isinstance(error, MemoryError):
            return "memory"
        if isinstance(error, OSError) and error.errno == errno.EFBIG:
            return "file size"
        if (isinstance(error, OSError) and error.errno == errno.EAGAIN) or (
            isinstance(error, RuntimeError) and "can't start new thread" in str(error)
        ):
            if near_process_limit():
                return "processes"
    return None


def near_process_limit() -> bool:
    """Whether this user's processes and threads are at 90 % of RLIMIT_NPROC (fork then fails with EAGAIN)."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    if limit == resource.RLIM_INFINITY or limit <= 0:
        return False
    uid = str(os.getuid())
    tasks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                status = handle.read()
            if f"\nUid:\t{uid}\t" in status:
                tasks += int(status.split("\nThreads:\t", 1)[1].split("\n", 1)[0])
        except (OSError, IndexError, ValueError):
            continue
    return tasks >= 0.9 * limit


# ---------------------------------------------------------------- integrity of the grader in memory


_FUNCTION_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__globals__"})


def _trusted_name(name: str) -> bool:
    """Whether a module name is one whose code grading relies on."""
    return name in TRUSTED_EXACT or name.split(".")[0] in TRUSTED_PREFIXES


def _trusted_modules() -> dict[str, types.ModuleType]:
    """The modules grading relies on, as they are now."""
    out = {}
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType):
            continue
        if name in TRUSTED_EXACT or name.split(".")[0] in TRUSTED_PREFIXES:
            if name.startswith(("numpy.", "grader.commands.batch.")) and name.count(".") > 1:
                continue  # numpy's deep internals are C types; keep the check fast
            out[name] = module
    return out


_MISSING = object()


def _frozen_record(value: Any) -> bool:
    """A frozen dataclass instance (a suite's ``StudentFile``, a ``PRACTICE``): immutable, so its replacement
    is as telling as a replaced tolerance."""
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and bool(getattr(params, "frozen", False)) and not isinstance(value, type)


def _function_state(value: Any) -> tuple[Any, ...]:
    """The contents of a function's closure cells. Its ``__code__``, ``__defaults__`` and ``__kwdefaults__``
    are not read here: each read raises an audit event (a million per submission); replacing them raises
    ``object.__setattr__``, which the worker's audit hook turns into tampering as it happens."""
    cells = []
    for cell in value.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # empty cell
            cells.append(_MISSING)
    return tuple(cells)


def _same(first: tuple[Any, ...], second: tuple[Any, ...]) -> bool:
    """Element-wise identity."""
    return len(first) == len(second) and all(a is b for a, b in zip(first, second, strict=True))


_SKIPPED_CLASS_KEYS = ("__dict__", "__weakref__", "__doc__", "__abstractmethods__", "_abc_impl")


class Snapshot:
    """Identities of every trusted module, its globals, its classes' attributes, its functions' code and
    the hook implementations, taken once; ``changes()`` compares them with now (a few ms per test)."""

    def __init__(self, pluginmanager: Any) -> None:
        self._modules: list[tuple[str, types.ModuleType]] = []
        self._entries: list[tuple[Any, str, Any, str]] = []  # (namespace, key, value, label)
        self._functions: list[tuple[Any, tuple[Any, ...], str]] = []
        self._hooks: list[tuple[Any, tuple[Any, ...], str]] = []
        self._class_keys: list[tuple[Any, int, str]] = []
        for name, module in _trusted_modules().items():
            self._modules.append((name, module))
            namespace = vars(module)
            for attr, value in list(namespace.items()):
                if attr.startswith("__") or (name, attr) in MUTABLE_GLOBALS:
                    continue
                if not isinstance(value, _CALLABLES + _CHECKED_VALUES) and not _frozen_record(value):
                    continue
                self._entries.append((namespace, attr, value, f"global {name}.{attr} was replaced"))
                if isinstance(value, types.FunctionType) and value.__module__ == name and value.__closure__:
                    self._functions.append((value, _function_state(value), f"function {name}.{attr} was changed"))
                elif isinstance(value, type) and value.__module__ == name:
                    members = vars(value)
                    label = f"class {name}.{attr} gained or lost an attribute (e.g. one shadowing its base class's)"
                    self._class_keys.append((members, len(members), label))
                    for key, member in list(members.items()):
                        if key in _SKIPPED_CLASS_KEYS:
                            continue
                        label = f"{name}.{attr}.{key}"
                        self._entries.append((members, key, member, f"class attribute {label} was replaced"))
                        if isinstance(member, types.FunctionType) and member.__closure__:
                            self._functions.append((member, _function_state(member), f"method {label} was changed"))
        for hook_name in dir(pluginmanager.hook):
            caller = getattr(pluginmanager.hook, hook_name, None)
            if callable(getattr(caller, "get_hookimpls", None)):
                functions = tuple(impl.function for impl in caller.get_hookimpls())
                label = (
                    f"pytest hook {hook_name} gained or lost an implementation (a plugin was registered at run time)"
                )
                self._hooks.append((caller, functions, label))
        self._trace = (sys.gettrace(), sys.getprofile())

    def changes(self) -> list[str]:
        """What differs now (new globals do not count; removed ones do)."""
        found = []
        modules = sys.modules
        for name, module in self._modules:
            if modules.get(name) is not module:
                found.append(f"module {name} was replaced in sys.modules")
        for namespace, key, value, label in self._entries:
            if namespace.get(key, _MISSING) is not value:
                found.append(label)
        for function, state, label in self._functions:
            if not _same(_function_state(function), state):
                found.append(label)
        for members, count, label in self._class_keys:
            if len(members) != count:
                found.append(label)
        for caller, functions, label in self._hooks:
            if not _same(tuple(impl.function for impl in caller.get_hookimpls()), functions):
                found.append(label)
        if not _same((sys.gettrace(), sys.getprofile()), self._trace):
            found.append("sys.settrace/sys.setprofile was changed")
        return found

    def __len__(self) -> int:
        """Number of identities checked."""
        return len(self._modules) + len(self._entries) + len(self._functions) + len(self._hooks) + 1


# ---------------------------------------------------------------- best-effort guard without namespaces


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.chmod", "os.chown", "os.truncate")
_PROGRAM_EVENTS = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen")
_GUARDED_EVENTS = frozenset({"open", "socket.connect", "socket.sendto", *_PATH_EVENTS, *_PROGRAM_EVENTS})


class Guard:
    """Where no namespace can be made (isolation mode ``none``): refuse, from inside Python, what the sandbox
    would have made impossible: reading solutions, tests, other submissions or outputs; writing or deleting
    outside the workspace; network connections; starting programs from student code. Audit hooks cannot be
    removed, but native code (ctypes, C extensions) and programs started elsewhere bypass them."""

    def __init__(self, workspace: str, forbidden: list[str]) -> None:
        self.workspace = workspace
        self.forbidden = [f for f in forbidden if not _inside(workspace, f)] + [
            f for f in forbidden if _inside(workspace, f) and f != workspace
        ]

    def problem(self, event: str, args: tuple[Any, ...]) -> str | None:
        """Why this event is refused, or None."""
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.abspath(os.fsdecode(args[0]))
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            if self._forbidden(path):
                return f"reading {path} is not allowed during grading"
            if (flags & _WRITE_FLAGS or any(c in mode for c in "wax+")) and not self._writable(path):
                return f"writing {path} is not allowed: write inside your working folder only"
        elif event in _PATH_EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.abspath(os.fsdecode(args[0]))
            if not self._writable(path):
                return f"{event.split('.')[-1]}({path}) outside your working folder is not allowed"
        elif event in ("socket.connect", "socket.sendto") and len(args) > 1:
            address = args[1]
            if isinstance(address, tuple) and address and str(address[0]) not in ("127.0.0.1", "::1", "localhost"):
                return f"network access ({address[0]}) is not allowed during grading"
        return None

    def _forbidden(self, path: str) -> bool:
        """Inside a hidden folder and not inside the workspace."""
        return not _inside(path, self.workspace) and any(_inside(path, f) for f in self.forbidden)

    def _writable(self, path: str) -> bool:
        """The workspace, or a device such as /dev/null."""
        real = os.path.realpath(path)
        return _inside(real, os.path.realpath(self.workspace)) or _inside(real, "/dev")


# ---------------------------------------------------------------- the streaming plugin (worker side)


class StreamPlugin:
    """Sends each test's outcome to the parent; registered by the worker with ``pytest.main(plugins=...)``."""

    def __init__(
        self, channel_fd: int, key: bytes, workspace: Path, guard: Guard | None = None, exit: Any = os._exit
    ) -> None:
        self._sock = socket.socket(fileno=channel_fd)
        self._guard = guard
        self._key = key
        self._seq = 0
        self._workspace = str(workspace)
        self._exit = exit
        self._snapshot: Snapshot | None = None
        self._pluginmanager: Any = None
        self._outcomes: dict[str, Outcome] = {}
        self._events: list[str] = []
        self._sent: set[str] = set()
        self._tampering: list[str] = []  # seen by the audit hook as it happened
        self._threads_at_start: set[int] = set()
        self._lock = threading.Lock()

    # -- channel

    def send(self, message_type: str, **fields: Any) -> None:
        """One signed message; a broken channel ends the worker."""
        with self._lock:
            payload = json.dumps({**fields, "seq": self._seq, "type": message_type}, default=str).encode()
            message = payload + sign(self._key, self._seq, payload)
            self._seq += 1
            try:
                self._sock.send(message)
            except OSError:
                os.write(2, b"\ntrtlab: the result channel to the grader was closed; stopping.\n")
                self._exit(EXIT_CHANNEL)

    # -- audit events (cannot be removed once added)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        """Record watched events raised from student code (and refuse some without a sandbox)."""
        if self._guard is not None and self._snapshot is not None:
            problem = self._guard.problem(event, args)
            if problem is None and event in _PROGRAM_EVENTS and self._student_on_stack(sys._getframe(1)):
                problem = "starting other programs is not allowed when the grader cannot sandbox them"
            if problem is not None:
                if len(self._events) < MAX_EVENTS:
                    self._events.append(f"refused: {problem}")
                raise PermissionError(problem)
        if event not in WATCHED_EVENTS or self._snapshot is None:
            return
        if event in ("object.__setattr__", "object.__delattr__"):
            target = args[0] if args else None
            attribute = args[1] if len(args) > 1 else "?"
            if isinstance(target, (types.FunctionType, types.MethodType)) and attribute in _FUNCTION_ATTRIBUTES:
                function = getattr(target, "__func__", target)
                if _trusted_name(getattr(function, "__module__", None) or ""):
                    self._tampering.append(
                        f"function {function.__module__}.{function.__qualname__}.{attribute} was replaced"
                    )
                return
            module = getattr(target, "__module__", "") if isinstance(target, type) else ""
            if str(module).split(".")[0] not in TRUSTED_PREFIXES:
                return
            detail = f"{getattr(target, '__qualname__', target)}.{attribute}"
        elif event in ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree"):
            path = args[0] if args else ""
            if isinstance(path, (str, bytes, os.PathLike)) and _inside(os.fsdecode(path), self._workspace):
                return
            detail = _short(path)
        else:
            detail = ", ".join(_short(arg) for arg in args[:3])
        if len(self._events) < MAX_EVENTS and self._student_did_it(sys._getframe(1)):
            self._events.append(f"{event}({detail})")

    def _is_student_file(self, filename: str) -> bool:
        """Whether ``filename`` is a submitted file."""
        return filename.startswith(self._workspace) and "/assignments/practice" in filename

    def _student_on_stack(self, frame: types.FrameType | None) -> bool:
        """Whether a submitted file is anywhere on the call stack (the guard refuses broadly)."""
        return any(self._is_student_file(filename) for filename in _callers(frame))

    def _student_did_it(self, frame: types.FrameType | None) -> bool:
        """Whether the student's own code raised the event: the first frame outside this module and the
        standard library is a submitted file. A library's own work (torch probing GPUs with ctypes and
        subprocess while the student's file imports it) is the library's, not the student's."""
        for filename in _callers(frame):
            if self._is_student_file(filename):
                return True
            if filename != __file__ and not _standard_library(filename):
                return False
        return False

    # -- hooks

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        """Say hello (the parent pins this process's pid) and start auditing."""
        self._pluginmanager = config.pluginmanager
        watched = WATCHED_EVENTS | (_GUARDED_EVENTS if self._guard is not None else frozenset())
        slow = self._audit

        def hook(event: str, args: tuple[Any, ...]) -> None:
            # Runs for every audit event of the process (hundreds of thousands): one set lookup.
            if event in watched:
                slow(event, args)

        sys.addaudithook(hook)
        self.send("hello", pid=os.getpid(), python=sys.version.split()[0])

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Report what was collected and take the integrity snapshot: no student code has run yet."""
        self.send("collected", nodeids=[item.nodeid for item in session.items])
        self._threads_at_start = {thread.ident or 0 for thread in threading.enumerate()}
        self._snapshot = Snapshot(self._pluginmanager)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Fold each phase; send the test at teardown, or at once when a resource limit ended it."""
        report = yield
        outcome = hooks.fold(item, report, call.excinfo, self._outcomes)
        limit = limit_hit(call.excinfo) if report.failed else None
        if limit is not None:  # the phase failed, so Outcome.fold has made the test a failure already
            self._result(outcome)
            self.send("limit", kind=limit, nodeid=item.nodeid)
            sys.stdout.flush()
            sys.stderr.flush()
            self._exit(EXIT_LIMIT)
        if report.when == "teardown":
            self._result(outcome)
        return report

    def _result(self, outcome: Outcome) -> None:
        """Check integrity, then send one test's outcome (once)."""
        if outcome.nodeid in self._sent:
            return
        found = [*self._tampering, *(self._snapshot.changes() if self._snapshot is not None else [])]
        if found:
            self.send("tamper", nodeid=outcome.nodeid, changes=found[:10])
            self._exit(EXIT_TAMPER)
        threads = [t.name for t in threading.enumerate() if (t.ident or 0) not in self._threads_at_start]
        events, self._events = self._events, []
        self._sent.add(outcome.nodeid)
        self.send("result", **outcome.to_json(), events=events, threads=threads[:5])

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The run ended normally."""
        status = _memory_status()
        self.send("done", exitstatus=int(exitstatus), **status)


def _callers(frame: types.FrameType | None, depth: int = 80) -> Iterator[str]:
    """The file of each frame from ``frame`` outwards, at most ``depth`` of them."""
    while frame is not None and depth > 0:
        yield frame.f_code.co_filename
        frame = frame.f_back
        depth -= 1


_STDLIB = tuple({os.path.realpath(sysconfig.get_paths()[name]) + os.sep for name in ("stdlib", "platstdlib")})


def _standard_library(filename: str) -> bool:
    """Whether ``filename`` is Python's own code (frozen importlib included), not an installed package."""
    if filename.startswith("<frozen "):
        return True
    return filename.startswith(_STDLIB) and "-packages" + os.sep not in filename


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` (relative to the working folder when not absolute) lies in ``folder``."""
    full = os.path.abspath(path)
    return full == folder or full.startswith(folder.rstrip("/") + "/")


def _short(value: Any) -> str:
    """A short repr for an audit event argument."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _memory_status() -> dict[str, int]:
    """Peak virtual memory and peak resident memory of this process, in KiB."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmPeak:", "VmHWM:")):
                out[line.split(":")[0].lower()] = int(line.split()[1])
    except OSError:
        pass
    return out


# ---------------------------------------------------------------- trusted report mode (-p grader.commands.batch.stream)


class _TrustedReport:
    """Test metadata and outcomes of a run without student code, written to a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.started = time.monotonic()


_REPORT = pytest.StashKey[_TrustedReport]()


def pytest_configure(config: pytest.Config) -> None:
    """Trusted report mode is on when TRTLAB_BATCH_REPORT names a file."""
    path = os.environ.get(REPORT_ENV)
    if path:
        config.stash[_REPORT] = _TrustedReport(Path(path))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every graded test's points, visibility, name, practice and whether this machine can run it."""
    report = config.stash.get(_REPORT, None)
    if report is None:
        return
    specs = config.stash[hooks.SESSION].specs
    # Positions among every graded test collected (the other tier's too): one order for both tiers' runs.
    positions = {nodeid: position for position, nodeid in enumerate(specs)}
    for item in items:
        spec = specs.get(item.nodeid)
        if spec is None:
            continue
        missing = [
            name
            for marker in item.iter_markers("requires")
            for name in marker.args
            if not requirements.capability(name).available
        ]
        report.tests[item.nodeid] = {
            "nodeid": item.nodeid,
            "index": positions[item.nodeid],
            "tier": hooks.tier_of(item),
            "name": spec.name,
            "practice": spec.practice,
            "max_score": spec.points,
            "visibility": spec.visibility,
            "number": spec.number,
            "check": spec.check,
            "requires_missing": missing,
            "skip_reason": requirements.capability(missing[0]).skip_reason() if missing else "",
        }


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fold each phase into the test's outcome."""
    report_ = yield
    report = item.config.stash.get(_REPORT, None)
    if report is not None:
        hooks.fold(item, report_, call.excinfo, report.outcomes)
    return report_


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the JSON file (atomically)."""
    report = session.config.stash.get(_REPORT, None)
    if report is None:
        return
    data = {
        "tests": list(report.tests.values()),
        "outcomes": {nodeid: outcome.to_json() for nodeid, outcome in report.outcomes.items()},
        "exitstatus": int(exitstatus),
        "duration": time.monotonic() - report.started,
        "fingerprint": requirements.fingerprint(),
    }
    atomic_write(report.path, json.dumps(data, indent=1, default=str))
