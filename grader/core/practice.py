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
    """One practice of the course, as its package declares it.

    What a batch worker needs from a practice (both optional: a practice that declares neither is graded
    the same, only without the head start):

    * ``preload``: modules the batch's zygote imports once, before it forks the workers (heavy libraries
      the suite uses), on top of its own list. One missing on a machine is skipped.
    * ``worker_setup``: ``"module:function"``, named rather than imported so that this stays import-free.
      Every batch worker calls ``function(close_fds)`` once, after its limits and user change and before
      any student code or torch op runs. A process it forks must close ``close_fds`` (the worker's result
      channel and key). What it returns (None: nothing) reaches the practice's tests through the
      ``worker_resource`` fixture (``grader.plugin.hooks``), which gives None outside a batch worker: the
      suite must grade the same with or without it. The module must sit in the practice's package: the
      zygote imports those before the sandbox hides their source.

    ``functions``: the top-level functions the student's file defines (the suite's ``SIGNATURES``, kept
    equal by a self-test). A batch recognises a renamed file by them (``ast``, never imported).
    """

    number: int
    title: str
    student_file: str
    preload: tuple[str, ...] = ()
    worker_setup: str = ""
    functions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a ``worker_setup`` that does not name a function as ``module:function``."""
        module, _, function = self.worker_setup.partition(":")
        if self.worker_setup and not (module and function.isidentifier()):
            raise ValueError(
                f"Practice {self.number}: worker_setup must be 'module:function', got {self.worker_setup!r}"
            )

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
