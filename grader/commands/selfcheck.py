"""The lab's own integrity check: the reference solutions earn every point, the stubs none."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.core.paths import REPO
from grader.practices import PRACTICES


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
    """Run the suites on ``folder`` (and any further paths in ``extra_args``) in a fresh pytest process."""
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


def grade_tree(root: Path, tree: str, practices: list[int] | None = None) -> FolderGrade:
    """Grade ``root/tree`` (``solutions`` or ``assignments``), or only the given practices' folders in it."""
    if not practices:
        return grade_folder(root / tree)
    first, *rest = (str(root / tree / PRACTICES[number].folder) for number in practices)
    grade = grade_folder(first, *rest)
    return FolderGrade(str(root / tree), grade.report, grade.returncode)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``selfcheck [--practices N,M]``."""
    parser.add_argument(
        "--practices",
        type=practice_numbers,
        default=None,
        help="comma-separated practice numbers (default: all), e.g. a practice you are adding",
    )


def run(args: argparse.Namespace) -> int:
    """The command: check every practice, or those of ``--practices``."""
    return check(practices=args.practices)


def check(root: Path = REPO, practices: list[int] | None = None) -> int:
    """Grade solutions/ (must earn 100 %) and assignments/ (must earn 0 %); 0 when both hold."""
    expectations = (("solutions", 1.0), ("assignments", 0.0))
    grades = [(grade_tree(root, name, practices), share) for name, share in expectations]
    scope = "practices " + ", ".join(map(str, practices)) if practices else "every practice"
    print(f"\nLab self-check of {scope} (points gradable on this machine; SKIP rows are not graded here):")
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


def practice_numbers(text: str) -> list[int]:
    """``"1,3"`` -> ``[1, 3]``, each a practice of ``grader.practices``."""
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected practice numbers like 1,3, got {text!r}") from None
    unknown = [n for n in numbers if n not in PRACTICES]
    if unknown or not numbers:
        known = ", ".join(map(str, PRACTICES))
        raise argparse.ArgumentTypeError(f"no practice {unknown or text!r}: the practices are {known}")
    return numbers
