"""The lab's own integrity check: the reference solutions earn every point, the stubs none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.core.paths import REPO


@dataclass(frozen=True)
class FolderGrade:
    """The grade of one folder of practices (``solutions/`` or ``assignments/``)."""

    folder: str
    report: dict
    returncode: int

    @property
    def score(self) -> float:
        """Points earned."""
        return float(self.report["score"])

    @property
    def max_score(self) -> float:
        """Points gradable on this machine."""
        return float(self.report["extra_data"]["max_score"])


def grade_folder(folder: str | os.PathLike[str], *extra_args: str, quiet: bool = False) -> FolderGrade:
    """Run the suites on ``folder`` in a fresh pytest process and return its results.json."""
    with tempfile.TemporaryDirectory(prefix="trtlab-selfcheck-") as tmp:
        report_path = Path(tmp) / "results.json"
        command = [sys.executable, "-m", "pytest", str(folder), "--grade-report", str(report_path), *extra_args]
        completed = subprocess.run(
            command,
            cwd=REPO,
            check=False,
            text=True,
            capture_output=quiet,
        )
        if not report_path.exists():
            output = (completed.stdout or "") + (completed.stderr or "") if quiet else ""
            raise RuntimeError(f"grading {folder} wrote no report (pytest exit {completed.returncode})\n{output}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return FolderGrade(str(folder), report, completed.returncode)


def run(root: Path = REPO) -> int:
    """Grade solutions/ (must earn 100 %) and assignments/ (must earn 0 %); 0 when both hold."""
    expectations = (("solutions", 1.0), ("assignments", 0.0))
    grades = [(grade_folder(root / name), share) for name, share in expectations]
    print("\nLab self-check (points gradable on this machine; SKIP rows are not graded here):")
    ok = True
    for grade, share in grades:
        earned = grade.score / grade.max_score if grade.max_score else 0.0
        good = grade.max_score > 0 and abs(earned - share) < 1e-9
        ok &= good
        print(
            f"  {Path(grade.folder).name + '/':<14} {grade.score:g}/{grade.max_score:g} points ({earned:.0%}), "
            f"expected {share:.0%}: {'OK' if good else 'WRONG'}"
        )
    return 0 if ok else 1
