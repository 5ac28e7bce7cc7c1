"""What the grader knows of a practice without importing its suite: number, title, the student's file.

Each practice package (``grader/practices/practiceN/__init__.py``) declares one ``Practice``; the
list of practices is read from those packages by ``grader.practices.PRACTICES``. The core defines
the shape only, so it never imports a practice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUITE_MODULE = re.compile(r"^grader\.practices\.practice(\d+)(\.|$)")


@dataclass(frozen=True)
class Practice:
    """One practice of the course, as its package declares it."""

    number: int
    title: str
    student_file: str
    # Modules a batch worker imports before forking (heavy libraries the suite needs).
    preload: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        """Folder name under ``assignments/`` and ``solutions/``."""
        return f"practice{self.number}"

    @property
    def package(self) -> str:
        """Import path of the practice's package."""
        return f"grader.practices.practice{self.number}"

    @property
    def suite_module(self) -> str:
        """Import path of the practice's grading suite."""
        return f"{self.package}.suite"


def number_of_module(module_name: str) -> int | None:
    """The practice number whose package defines ``module_name``, or None."""
    match = _SUITE_MODULE.match(module_name)
    return int(match.group(1)) if match else None
