"""Loading and calling student code: every failure is one clear message, never a grader crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.core import student
from grader.core.student import StudentCodeError


def _write(tmp_path: Path, text: str, name: str = "answer.py") -> Path:
    """A student file with ``text``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _message(func, *args) -> str:  # noqa: ANN001
    """The StudentCodeError message of calling ``func``."""
    with pytest.raises(StudentCodeError) as info:
        student.call(func, *args)
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file names itself and the expected name."""
    with pytest.raises(StudentCodeError, match=r"answer\.py not found"):
        student.load(tmp_path / "answer.py")


def test_syntax_error(tmp_path: Path) -> None:
    """A syntax error names the line."""
    with pytest.raises(StudentCodeError, match="syntax error at line 2"):
        student.load(_write(tmp_path, "x = 1\ndef f(:\n"))


def test_import_time_exception(tmp_path: Path) -> None:
    """An exception at import shows the student's line and says why it ran."""
    with pytest.raises(StudentCodeError) as info:
        student.load(_write(tmp_path, "import json\nVALUE = 1 / 0\n"))
    assert "ZeroDivisionError" in str(info.value) and "line 2" in str(info.value)
    assert "runs on import" in str(info.value)


def test_exit_at_import(tmp_path: Path) -> None:
    """sys.exit() at import does not end the grading process."""
    with pytest.raises(StudentCodeError, match="SystemExit"):
        student.load(_write(tmp_path, "import sys\nsys.exit(0)\n"))


def test_missing_function(tmp_path: Path) -> None:
    """A missing function is named with its expected signature."""
    module = student.load(_write(tmp_path, "def other():\n    pass\n"))
    with pytest.raises(StudentCodeError, match=r"no function f\(\)"):
        student.function(module, "f", "(x) -> int")


def test_stub_is_not_implemented(tmp_path: Path) -> None:
    """The stub's own NotImplementedError reads 'not implemented yet'."""
    module = student.load(_write(tmp_path, "def f(x):\n    raise NotImplementedError\n"))
    assert "f() is not implemented yet" in _message(module.f, 1)


def test_library_not_implemented_is_a_crash(tmp_path: Path) -> None:
    """A NotImplementedError raised inside a library is the student's crash, not a stub."""
    helper = _write(tmp_path, "def deep():\n    raise NotImplementedError('unsupported op')\n", "libhelper.py")
    assert helper.exists()
    module = student.load(_write(tmp_path, "import libhelper\ndef f():\n    return libhelper.deep()\n"))
    message = _message(module.f)
    assert "not implemented yet" not in message
    assert "raised NotImplementedError: unsupported op" in message


def test_exception_shows_student_lines(tmp_path: Path) -> None:
    """A crash shows the exception and the student's own line."""
    module = student.load(_write(tmp_path, "def f(x):\n    return x['key']\n"))
    message = _message(module.f, {})
    assert "f() raised KeyError: 'key'" in message
    assert "answer.py, line 2, in f" in message and "return x['key']" in message


@pytest.mark.parametrize(
    "body", ["import pytest; pytest.skip('no')", "import pytest; pytest.fail('x')", "raise SystemExit(3)"]
)
def test_student_cannot_skip_or_exit(tmp_path: Path, body: str) -> None:
    """pytest.skip/fail or sys.exit inside student code become failures, never skips or exits."""
    module = student.load(_write(tmp_path, f"def f():\n    {body}\n"))
    message = _message(module.f)
    assert message.startswith("f() raised") or message.startswith("f() called sys.exit")


def test_reload_after_edit(tmp_path: Path) -> None:
    """An edited file is imported again (content-keyed), an unchanged one is reused."""
    path = _write(tmp_path, "VALUE = 1\n")
    first = student.load(path)
    assert student.load(path) is first
    path.write_text("VALUE = 2\n", encoding="utf-8")
    assert student.load(path).VALUE == 2
