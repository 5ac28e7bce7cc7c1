"""What a suite is written with, beside the plugin's own fixtures: the student module fixture and test cases.

A practice's suite (``grader/practices/practiceN/suite.py``) starts with::

    STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)
    export_onnx = student_module(STUDENT_FILE)   # the fixture's name is the name it is given here

and calls the student's code with ``STUDENT_FILE.call(export_onnx, "export_model", ...)``. Every test carries
``@pytest.mark.check("pN.some.id")``, its stable id; the cases of a parametrized test get theirs from
``case(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.core import student
from grader.core.checks import Attempt, attempt
from grader.core.submission import StudentFile


def student_module(
    file: StudentFile,
    *,
    around: Callable[[], AbstractContextManager[Any]] = nullcontext,
    hint: Callable[[str], str] | None = None,
) -> Any:
    """A module-scoped fixture: the student's file from the graded folder, imported once (or why not).

    ``around`` makes the context the import runs in (e.g. a stand-in for a library this machine lacks);
    ``hint`` rewrites the message of a failed import (the failure's kind is kept).
    """

    @pytest.fixture(scope="module")
    def fixture(student_dir: Path) -> Attempt[ModuleType]:
        def work() -> ModuleType:
            try:
                with around():
                    return file.load(student_dir)
            except student.StudentCodeError as error:
                if hint is not None:
                    error.args = (hint(str(error)),)
                raise

        return attempt(work)

    fixture.__doc__ = f"The student's {file.name}, imported (or why not)."
    return fixture


def case(check: str, *values: object, title: str = "", id: str = "", marks: Collection[Any] = ()) -> Any:
    """One case of a parametrized test, with its stable ``check`` id.

    ``title`` replaces the test's docstring as the case's name in the table and results.json (else the
    docstring is shown, followed by ``[id]``); ``id`` is pytest's id of the case, by default the check's
    last part.
    """
    mark = pytest.mark.check(check, title=title) if title else pytest.mark.check(check)
    return pytest.param(*values, id=id or check.rsplit(".", 1)[-1], marks=(mark, *marks))
