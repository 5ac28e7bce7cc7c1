"""Loading and calling a student's file, with every failure turned into one clear message.

The suites never call student code directly: they go through ``call`` so that a stub's
``NotImplementedError``, an exception, ``sys.exit`` or even ``pytest.skip`` inside student
code becomes a failed test that names the function, shows the student's own lines and says
what to fix, never a traceback from the grader's internals.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

MAX_MESSAGE_LINES = 12


# How student code failed (``StudentCodeError.kind``): batch grading flags a practice for a human
# when every test of it failed for one of these reasons (a syntax error, an untouched stub...).
MISSING_FILE = "missing file"
SYNTAX_ERROR = "syntax error"
IMPORT_ERROR = "import error"
MISSING_FUNCTION = "missing function"
NOT_IMPLEMENTED = "not implemented"
EXCEPTION = "exception"
EXITED = "exited"
TIMED_OUT = "timeout"


class StudentCodeError(Exception):
    """The student's code failed; ``str(error)`` is the message the student sees, ``kind`` how it failed."""

    def __init__(self, message: str, kind: str = EXCEPTION) -> None:
        super().__init__(message)
        self.kind = kind


class TimeLimitExceeded(BaseException):
    """Raised by the grading plugin's timer when a test runs past its time limit.

    A BaseException, like KeyboardInterrupt, so that a student's ``except Exception`` does not
    swallow it; ``call`` turns it into the student's "did not return" message.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the test's time limit of {seconds:g} s was reached")
        self.seconds = seconds


def kind_of(error: BaseException | None) -> str:
    """The ``kind`` of the StudentCodeError behind ``error`` (suites re-raise with new text), else ""."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, StudentCodeError):
            return error.kind
        error = error.__cause__ or error.__context__
        seen += 1
    return ""


# Where grading started: suites run student code in temporary folders, but messages show
# paths as the student typed them, relative to where they ran pytest. The grading plugin sets it
# once, before collection (a batch worker starts elsewhere than its student did); a str, so the
# batch's integrity check sees a change made after collection.
_start_dir = os.getcwd()


def set_start_dir(folder: Path) -> None:
    """Show paths relative to ``folder`` from now on (the grading plugin calls it at configure)."""
    global _start_dir
    _start_dir = str(folder)


def display_path(path: Path) -> str:
    """``path`` relative to where grading started when it is below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path(_start_dir).resolve()))
    except ValueError:
        return str(path)


_loaded: dict[tuple[str, int], ModuleType] = {}


def load(path: Path) -> ModuleType:
    """Import the student's file by path (once per content), under a private module name."""
    if not path.is_file():
        raise StudentCodeError(
            f"{display_path(path)} not found. Keep the file name the practice gives "
            f"({path.name}) in the practice folder.",
            MISSING_FILE,
        )
    source = path.read_bytes()
    key = (str(path.resolve()), hash(source))
    if key in _loaded:
        return _loaded[key]
    name = "student_" + hashlib.sha256(key[0].encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # The student's folder first on sys.path, so helper files next to theirs import.
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        sys.modules.pop(name, None)
        line = (error.text or "").rstrip()
        raise StudentCodeError(
            f"{display_path(path)} has a syntax error at line {error.lineno}: {error.msg}\n"
            f"    {line}\nFix it, then run the tests again.",
            SYNTAX_ERROR,
        ) from None
    except BaseException as error:  # noqa: BLE001 - anything at import is the student's
        sys.modules.pop(name, None)
        if isinstance(error, KeyboardInterrupt):
            raise
        if isinstance(error, TimeLimitExceeded):
            raise StudentCodeError(
                f"Importing {display_path(path)} did not finish within {error.seconds:g} s, this test's time "
                f"limit.\n{_student_frames(error.__traceback__, path, alarm=True)}"
                "Code at the top level of the file runs on import: move work into the functions.",
                TIMED_OUT,
            ) from None
        raise StudentCodeError(
            f"Importing {display_path(path)} raised {_describe(error)}\n"
            f"{_student_frames(error.__traceback__, path)}"
            "Code at the top level of the file runs on import: move work into the functions.",
            IMPORT_ERROR,
        ) from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    _loaded[key] = module
    return module


def function(module: ModuleType, name: str, signature_hint: str) -> Callable[..., Any]:
    """The student's function ``name``, or a message saying it is missing."""
    func = getattr(module, name, None)
    if not callable(func):
        path = Path(module.__file__ or "?")
        raise StudentCodeError(
            f"{display_path(path)} has no function {name}(). Keep the stub's definition:\n"
            f"    def {name}{signature_hint}",
            MISSING_FUNCTION,
        )
    return func


def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call student code; any failure becomes a StudentCodeError with the student's frames."""
    return _guarded(func, lambda: func(*args, **kwargs))


def take(func: Callable[..., Any], limit: int, *args: Any, **kwargs: Any) -> list[Any]:
    """Call a student generator function and collect at most ``limit`` items, guarded like ``call``.

    The limit stops a loader that never ends; the generator's body counts as the function's code.
    """

    def drain() -> list[Any]:
        items = []
        for item in func(*args, **kwargs):
            items.append(item)
            if len(items) >= limit:
                break
        return items

    return _guarded(func, drain)


def _guarded(func: Callable[..., Any], work: Callable[[], Any]) -> Any:
    """Run ``work`` (which runs ``func``); turn every failure into the student's message."""
    path = Path(inspect.getsourcefile(func) or "?")
    name = getattr(func, "__name__", "function")
    try:
        return work()
    except KeyboardInterrupt:
        raise
    except TimeLimitExceeded as error:
        raise StudentCodeError(
            f"{name}() did not return within {error.seconds:g} s, this test's time limit: an endless loop, or "
            f"work far slower than it needs to be?\n{_student_frames(error.__traceback__, path, alarm=True)}"
            f"Fix {name}() in {display_path(path)} and run the tests again.",
            TIMED_OUT,
        ) from None
    except NotImplementedError as error:
        if _raised_in(error.__traceback__, path):
            stub = _frames(error.__traceback__)[-1].name  # load_data() may fail in a stubbed preprocess()
            raise StudentCodeError(
                f"{stub}() is not implemented yet: in {display_path(path)}, replace "
                f"`raise NotImplementedError` in {stub}() with your code (see the TODO comments).",
                NOT_IMPLEMENTED,
            ) from None
        raise StudentCodeError(_crash_message(name, error, path)) from None
    except SystemExit as error:
        raise StudentCodeError(
            f"{name}() called sys.exit({error.code!r}). Return a value instead of exiting ({display_path(path)}).",
            EXITED,
        ) from None
    except BaseException as error:  # noqa: BLE001 - includes pytest.skip()/fail() called by students
        raise StudentCodeError(_crash_message(name, error, path)) from None


def _crash_message(name: str, error: BaseException, path: Path) -> str:
    """One screen: the exception, the student's lines, where to fix it."""
    return (
        f"{name}() raised {_describe(error)}\n"
        f"{_student_frames(error.__traceback__, path)}"
        f"Fix {name}() in {display_path(path)} and run the tests again."
    )


def _describe(error: BaseException) -> str:
    """``Type: message``, shortened to a screen."""
    kind = type(error).__name__
    if type(error).__module__.startswith("_pytest"):
        kind = f"pytest.{kind.lower()}() (a submission cannot skip or decide its own tests)"
    lines = str(error).strip().splitlines() or [""]
    if len(lines) > MAX_MESSAGE_LINES:
        lines = lines[:MAX_MESSAGE_LINES] + [f"... ({len(lines) - MAX_MESSAGE_LINES} more lines)"]
    return f"{kind}: " + "\n    ".join(lines) if lines != [""] else kind


def _frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """Traceback frames, oldest first."""
    return list(traceback.extract_tb(tb)) if tb is not None else []


def _raised_in(tb: TracebackType | None, path: Path) -> bool:
    """True when the innermost frame is in the student's file."""
    frames = _frames(tb)
    return bool(frames) and _same_file(frames[-1].filename, path)


def _same_file(filename: str, path: Path) -> bool:
    """Whether a traceback filename is the student's file."""
    try:
        return os.path.samefile(filename, path)
    except OSError:
        return False


def _student_frames(tb: TracebackType | None, path: Path, *, alarm: bool = False) -> str:
    """The student's own lines in the traceback, plus where in a library it ended.

    ``alarm``: the innermost frame is the grading plugin's time-limit handler, not part of the story.
    """
    frames = _frames(tb)[:-1] if alarm else _frames(tb)
    lines = []
    for frame in frames:
        if _same_file(frame.filename, path):
            code = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
            lines.append(f"  {path.name}, line {frame.lineno}, in {frame.name}\n      {code}")
    if frames and not _same_file(frames[-1].filename, path):
        last = frames[-1]
        lines.append(f"  (raised inside {_short_library_path(last.filename)}, line {last.lineno})")
    return "".join(line + "\n" for line in lines)


def _short_library_path(filename: str) -> str:
    """``torch/onnx/utils.py`` rather than the full site-packages path."""
    marker = f"{os.sep}site-packages{os.sep}"
    return filename.split(marker, 1)[1] if marker in filename else filename
