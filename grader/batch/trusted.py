"""What the parent knows without asking any submission: the suites' tests, points and what this machine grades.

A trusted pytest process (no student code: the reference solutions, or the stubs with
``--collect-only`` when there are no solutions) runs with ``-p grader.batch.stream`` in the same
workspace layout as a submission, so node ids match. It gives every test's points, visibility and
name, and which tests are "not graded on this machine" (missing hardware, or skipped by the
reference itself). It also warms the shared artifact cache that workers read. The result is kept
in OUT/.trusted/ keyed by the suite hash and the environment, so a resumed batch skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.practices import PRACTICES

SUITE_FILES = ("pyproject.toml",)
SUITE_DIRS = ("grader", "calib_images", "eval_images")


@dataclass
class TestInfo:
    """One graded test, as the pristine suite defines it."""

    nodeid: str
    name: str
    practice: int
    max_score: float
    visibility: str
    index: int
    not_graded: str = ""  # why this machine never grades it (missing hardware); "" = graded
    may_skip: bool = False  # the reference itself was skipped at run time (e.g. no calib.cache handed in)


@dataclass
class TrustedSuite:
    """Tests per practice, from the pristine suites, and the reference's own grade."""

    suite_hash: str
    tests: list[TestInfo]
    reference: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def for_practice(self, number: int) -> list[TestInfo]:
        """Tests of one practice, in run order."""
        return [t for t in self.tests if t.practice == number]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustedSuite:
        """Parse ``to_json``."""
        return cls(
            data["suite_hash"], [TestInfo(**t) for t in data["tests"]], data.get("reference", {}), data["warnings"]
        )


def entry(repo: Path, number: int) -> Path:
    """The pristine test entry of a practice (the grader's, never a student's)."""
    return repo / "assignments" / f"practice{number}" / f"test_practice{number}.py"


def available_practices(repo: Path) -> list[int]:
    """Practices with a suite package and a test entry."""
    return [
        number
        for number in sorted(PRACTICES)
        if (repo / "grader" / "suites" / f"practice{number}").is_dir() and entry(repo, number).is_file()
    ]


def suite_hash(repo: Path, practices: list[int]) -> str:
    """SHA-256 over the grader's code, config, photos and the entries: any change means regrading."""
    digest = hashlib.sha256()
    digest.update(f"practices={sorted(practices)}\n".encode())
    paths = [repo / name for name in SUITE_FILES] + [entry(repo, n) for n in sorted(practices)]
    for folder in SUITE_DIRS:
        for path in sorted((repo / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc",):
                paths.append(path)
    for path in paths:
        digest.update(f"{path.relative_to(repo).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def layout(workspace: Path, repo: Path, files: dict[int, dict[str, bytes]]) -> None:
    """The workspace layout every grading run uses: assignments/practiceN/{entry, files}, calib_images."""
    for number, named in files.items():
        folder = workspace / "assignments" / f"practice{number}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry(repo, number), folder / entry(repo, number).name)
        for name, data in named.items():
            (folder / name).write_bytes(data)
    calib = workspace / "calib_images"
    if not calib.exists():
        calib.symlink_to(repo / "calib_images")


def build(repo: Path, practices: list[int], scratch: Path, suite: str) -> TrustedSuite:
    """Run the reference solutions (or collect the stubs) in a trusted subprocess."""
    reference_files: dict[int, dict[str, bytes]] = {}
    have_solutions = True
    for number in practices:
        practice = PRACTICES[number]
        source = repo / "solutions" / practice.folder / practice.student_file
        if not source.is_file():
            have_solutions = False
            break
        named = {practice.student_file: source.read_bytes()}
        reference_files[number] = named
    workspace = scratch / "reference"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    if not have_solutions:
        reference_files = {n: {} for n in practices}
    layout(workspace, repo, reference_files)
    report = scratch / "reference.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *[f"assignments/practice{n}" for n in practices],
        "-c",
        str(repo / "pyproject.toml"),
        "--rootdir",
        str(workspace),
        "-p",
        "grader.plugin.hooks",
        "-p",
        "grader.batch.stream",
        "-q",
        "-p",
        "no:randomly",
    ]
    if not have_solutions:
        command.append("--collect-only")
    env = {
        **os.environ,
        "TRTLAB_BATCH_REPORT": str(report),
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    completed = subprocess.run(
        command, cwd=workspace, env=env, capture_output=True, text=True, check=False, preexec_fn=_die_with_parent
    )
    if not report.exists():
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-20:])
        raise RuntimeError(
            f"the trusted run of the suites wrote no report (pytest exit {completed.returncode}):\n{tail}"
        )
    data = json.loads(report.read_text(encoding="utf-8"))
    shutil.rmtree(workspace, ignore_errors=True)
    return _from_report(data, suite, have_solutions)


def _die_with_parent() -> None:
    """In the trusted pytest child: end when the batch is killed."""
    from grader.batch.sandbox import die_with_parent

    die_with_parent()


def _from_report(data: dict[str, Any], suite: str, have_solutions: bool) -> TrustedSuite:
    """Tests and not-graded reasons from the trusted run's report."""
    outcomes = data.get("outcomes", {})
    tests = []
    warnings = []
    reference: dict[str, Any] = {"ran": have_solutions, "practices": {}}
    for raw in sorted(data["tests"], key=lambda t: t["index"]):
        reason = raw["skip_reason"]
        outcome = outcomes.get(raw["nodeid"])
        may_skip = not have_solutions or (outcome is not None and outcome["status"] == "skipped")
        info = TestInfo(
            raw["nodeid"],
            raw["name"],
            raw["practice"],
            float(raw["max_score"]),
            raw["visibility"],
            raw["index"],
            reason,
            may_skip=may_skip and not reason,
        )
        tests.append(info)
        if have_solutions and not reason and not info.may_skip:
            sums = reference["practices"].setdefault(str(info.practice), {"score": 0.0, "max": 0.0})
            sums["max"] += info.max_score
            if outcome is not None and outcome["status"] == "passed":
                sums["score"] += info.max_score * outcome["fraction"]
            else:
                warnings.append(
                    f"the reference solution does not pass {info.nodeid}: "
                    + ((outcome or {}).get("message", "not run") or "").splitlines()[0][:200]
                )
    if not have_solutions:
        warnings.append(
            "no solutions/ here: the suites were only collected; a test a submission skips as 'not graded on this "
            "machine' is left out of its total, and the shared cache is not warmed"
        )
    return TrustedSuite(suite, tests, reference, warnings)
