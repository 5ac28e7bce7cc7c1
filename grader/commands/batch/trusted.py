"""What the parent knows without asking any submission: the suites' tests, points and what this machine grades.

A trusted pytest process (no student code: the reference solutions, or the stubs when there are
no solutions) runs with ``-p grader.commands.batch.stream`` in the same workspace layout as a submission, so
node ids match. It gives every test's points, visibility and name, and which tests are "not graded
on this machine": those whose hardware is missing and those the reference run itself skipped (the
suites skip for the machine, e.g. missing resnet50 weights or ``../shared/reference``, before they
call student code, so the stubs tell it too). That verdict holds for every student alike: one batch
has one maximum per practice, whatever a student hands in. The reference's own extra files (a
``calib.cache`` beside the loader) make the tests that read them gradable for everyone. The run
also warms the shared artifact cache that workers read. The result is kept in OUT/.batch/ keyed by
the suite hash and the environment (which includes the reference data present), so a resumed batch
skips it.
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

from grader.commands.batch import allocator
from grader.core.scoring import NOT_GRADED_PREFIX, PASSED, RAN_SKIPPED, Outcome, TestSpec, not_run, score
from grader.practices import PRACTICES

SUITE_FILES = ("pyproject.toml",)
SUITE_DIRS = ("grader", "calib_images", "eval_images", "real_files")


@dataclass
class TestInfo:
    """One graded test, as the pristine suite defines it."""

    nodeid: str
    name: str
    practice: int
    max_score: float
    visibility: str
    index: int
    not_graded: str = ""  # why no student is graded on it here (missing hardware, the reference skipped it)
    number: str = ""
    check: str = ""  # the suite's stable id (@pytest.mark.check)
    tier: str = "cpu"  # "gpu": it requires one of the board's capabilities (a cluster routes it to such a worker)

    def spec(self) -> TestSpec:
        """The test as the scoring model knows it."""
        return TestSpec(
            self.nodeid, self.name, self.practice, f"practice{self.practice}", self.max_score, self.visibility,
            self.number, self.check,
        )  # fmt: skip


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
        if (repo / "grader" / "practices" / f"practice{number}").is_dir() and entry(repo, number).is_file()
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


REFERENCE_SKIPPED = "the reference run skipped it on this machine, so no student is graded on it in this batch"
NOT_COPIED = ("README.md", "__pycache__")
NOT_COPIED_SUFFIXES = (".onnx", ".data", ".engine", ".png", ".pyc", ".tmp")


def reference_files(repo: Path, practices: list[int]) -> tuple[dict[int, dict[str, bytes]], bool]:
    """The files the trusted run grades per practice: the solutions (with their extra files, such as a
    ``calib.cache``), or the stubs of ``assignments/`` when any solution is missing; and which it was."""
    have_solutions = all(
        (repo / "solutions" / PRACTICES[n].folder / PRACTICES[n].student_file).is_file() for n in practices
    )
    root = repo / ("solutions" if have_solutions else "assignments")
    files: dict[int, dict[str, bytes]] = {}
    for number in practices:
        folder = root / PRACTICES[number].folder
        files[number] = {
            path.name: path.read_bytes()
            for path in sorted(folder.iterdir())
            if path.is_file()
            and path.name not in NOT_COPIED
            and path.name != entry(repo, number).name
            and path.suffix not in NOT_COPIED_SUFFIXES
        }
    return files, have_solutions


def build(repo: Path, practices: list[int], scratch: Path, suite: str, tier: str = "") -> TrustedSuite:
    """Run the reference solutions (or the stubs) in a trusted subprocess (``tier``: that tier's tests only)."""
    files, have_solutions = reference_files(repo, practices)
    workspace = scratch / "reference"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    layout(workspace, repo, files)
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
        "grader.commands.batch.stream",
        "-p",
        "pytest_timeout",
        "-q",
        "-p",
        "no:randomly",
        *(["--grade-tier", tier] if tier else []),
    ]
    env = {
        **os.environ,
        **allocator.malloc_environment(os.environ),
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
    from grader.commands.batch.sandbox import die_with_parent

    die_with_parent()


def _skip_reason(outcome: Outcome | None) -> str:
    """Why nobody is graded on a test the reference run skipped ("" when it did not skip)."""
    if outcome is None or outcome.ran != RAN_SKIPPED:
        return ""
    message = outcome.message.strip()
    if message.startswith(NOT_GRADED_PREFIX):
        return f"{message} ({REFERENCE_SKIPPED})"
    return f"{NOT_GRADED_PREFIX}: {REFERENCE_SKIPPED}: {message}"


def _from_report(data: dict[str, Any], suite: str, have_solutions: bool) -> TrustedSuite:
    """Tests and not-graded reasons from the trusted run's report; the reference's own grade, scored by the one
    model (``grader.core.scoring.score``) as a student's would be."""
    outcomes = {nodeid: Outcome.from_json(raw) for nodeid, raw in data.get("outcomes", {}).items()}
    tests = []
    warnings = []
    reference: dict[str, Any] = {"ran": "solutions" if have_solutions else "stubs", "practices": {}}
    for raw in sorted(data["tests"], key=lambda t: t["index"]):
        outcome = outcomes.get(raw["nodeid"])
        reason = raw["skip_reason"] or _skip_reason(outcome)
        info = TestInfo(
            raw["nodeid"], raw["name"], raw["practice"], float(raw["max_score"]), raw["visibility"], raw["index"],
            reason, raw.get("number", ""), raw.get("check", ""), raw.get("tier", "cpu"),
        )  # fmt: skip
        tests.append(info)
        if have_solutions and not reason:
            spec = info.spec()
            result = score(spec, outcome, skip_is_failure=True) if outcome is not None else not_run(spec, "not run")
            sums = reference["practices"].setdefault(str(info.practice), {"score": 0.0, "max": 0.0})
            sums["max"] += result.max_score
            if result.status == PASSED:
                sums["score"] += result.score
            else:
                first_line = (result.output.splitlines() or [""])[0][:200]
                warnings.append(f"the reference solution does not pass {info.nodeid}: {first_line}")
    if not have_solutions:
        warnings.append(
            "no solutions/ here: the trusted run graded the stubs, so it learnt which tests this machine cannot run "
            "but did not check that a correct submission earns every point, and the shared cache is not warmed"
        )
    return TrustedSuite(suite, tests, reference, warnings)
