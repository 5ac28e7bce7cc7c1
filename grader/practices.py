"""The course's five practices: number, title and the one file a student hands in."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Practice:
    """One practice of the course."""

    number: int
    title: str
    student_file: str

    @property
    def folder(self) -> str:
        """Folder name under ``assignments/`` and ``solutions/``."""
        return f"practice{self.number}"

    @property
    def suite_module(self) -> str:
        """Import path of the practice's grading suite."""
        return f"grader.suites.practice{self.number}"


PRACTICES: dict[int, Practice] = {
    p.number: p
    for p in (
        Practice(1, "ONNX export", "export_onnx.py"),
        Practice(2, "Polygraphy data loader + INT8", "data_loader.py"),
        Practice(3, "GPU-simulated DLA build", "dla_build.py"),
        Practice(4, "TensorRT engine inference", "trt_infer.py"),
        Practice(5, "Profile parsing", "profile_parser.py"),
    )
}

_SUITE_MODULE = re.compile(r"^grader\.suites\.practice(\d+)(\.|$)")


def practice_of_module(module_name: str) -> Practice | None:
    """The practice whose suite defines ``module_name``, or None."""
    match = _SUITE_MODULE.match(module_name)
    return PRACTICES.get(int(match.group(1))) if match else None
