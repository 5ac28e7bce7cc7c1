"""The student file a practice grades, written once for every suite: where it is, its functions, their calls.

A suite declares its file and the signatures of the functions it calls (what a missing function's
message shows); ``grader.plugin.suite_tools.student_module`` turns that into the module fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.core import student
from grader.core.checks import Attempt


@dataclass(frozen=True)
class StudentFile:
    """A practice's student file (``export_onnx.py``) and the signature of each function the suite calls."""

    name: str
    signatures: Mapping[str, str]

    def __str__(self) -> str:
        """The file name, as messages show it ("Fix export_model() in export_onnx.py")."""
        return self.name

    def __fspath__(self) -> str:
        """The file's path relative to the graded folder: ``student_dir / STUDENT_FILE`` is the file."""
        return self.name

    def path(self, folder: Path) -> Path:
        """The file in the graded folder."""
        return folder / self.name

    def load(self, folder: Path) -> ModuleType:
        """Import the file from the graded folder (a StudentCodeError says why it cannot be)."""
        return student.load(self.path(folder))

    def function(self, module: Attempt[ModuleType] | ModuleType, name: str) -> Callable[..., Any]:
        """The student's function ``name``; a StudentCodeError shows the stub's signature when it is missing."""
        loaded = module.result() if isinstance(module, Attempt) else module
        return student.function(loaded, name, self.signatures[name])

    def call(self, module: Attempt[ModuleType] | ModuleType, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name``; any failure becomes the student's message."""
        return student.call(self.function(module, name), *args, **kwargs)


def with_hint(error: student.StudentCodeError, hint: str) -> student.StudentCodeError:
    """The same failure, its kind kept for batch grading, with the grader's ``hint`` after its message."""
    return student.StudentCodeError(f"{error}\n{hint}" if hint else str(error), error.kind)
