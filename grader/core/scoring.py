"""The one model of test outcomes: how pytest's reports become a test's status and points.

The plugin (a student's table and results.json), a batch worker's result stream and the batch
parent all go through it: ``Outcome.fold`` is the only place where a phase report is read, and
``score`` the only place where an outcome becomes points. A test that did not run has no
outcome and is never "passed".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from grader.core.student import StudentCodeError, TimeLimitExceeded, kind_of

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

PASSED, FAILED, NOT_GRADED = "passed", "failed", "not graded"
STATUSES = (PASSED, FAILED, NOT_GRADED)
# What an outcome says (before the grading context turns it into a status).
RAN_PASSED, RAN_FAILED, RAN_SKIPPED = "passed", "failed", "skipped"
# Failure kinds beyond grader.core.student's: a check of the suite failed, or the grader itself did.
CHECK_FAILED = "check"
INTERNAL = "internal"
NOT_GRADED_PREFIX = "not graded on this machine"
SKIPPED_WHERE_GRADED = "This test was skipped, which counts as failed here"  # a batch's reference ran it
MAX_TEXT = 12_000  # characters of one test's message that are kept


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """At most ``limit`` characters, saying how much was cut."""
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class TestSpec:
    """One graded test as the suite defines it: what it is worth, before it runs."""

    nodeid: str
    name: str
    practice: int
    folder: str
    points: float
    visibility: str = "visible"
    number: str = ""  # "2.7": the practice, then its place in the whole suite (stable under -k)
    check: str = ""  # "p2.loader.yields_dicts": the suite's stable id (@pytest.mark.check), kept when a test is renamed


@dataclass
class Outcome:
    """What one test did, folded over its setup, call and teardown reports."""

    nodeid: str
    ran: str = RAN_PASSED  # passed | failed | skipped
    fraction: float = 0.0
    message: str = ""
    kind: str = ""  # how it failed: a grader.core.student kind, CHECK_FAILED or INTERNAL
    duration: float = 0.0
    called: bool = False  # the call phase reported (a test whose setup failed never ran)

    def fold(self, report: pytest.TestReport, excinfo: Any, notes: list[str], fraction: float) -> None:
        """Fold one phase's report in; the first failure's message is the one kept."""
        self.duration += report.duration
        note_text = "\n".join(notes)
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.ran, self.fraction = RAN_SKIPPED, 0.0
            self.message = str(reason).removeprefix("Skipped: ")
        elif report.failed:
            if self.ran != RAN_FAILED:
                self.message = "\n".join(part for part in (_failure_text(report, excinfo), note_text) if part)
                self.kind = _failure_kind(report, excinfo)
            self.ran, self.fraction = RAN_FAILED, 0.0
        elif report.when == "call":
            self.fraction = max(0.0, min(1.0, float(fraction)))
            self.ran = RAN_PASSED if self.fraction >= 1.0 else RAN_FAILED
            self.message = note_text
        if report.when == "call":
            self.called = True

    def to_json(self) -> dict[str, Any]:
        """JSON form (what a batch worker sends)."""
        return {**asdict(self), "message": clip(self.message), "duration": round(self.duration, 3)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        """Parse ``to_json`` (from an untrusted worker: every field is coerced)."""
        ran = str(data.get("ran", RAN_FAILED))
        return cls(
            nodeid=str(data.get("nodeid", "")),
            ran=ran if ran in (RAN_PASSED, RAN_FAILED, RAN_SKIPPED) else RAN_FAILED,
            fraction=max(0.0, min(1.0, float(data.get("fraction", 0.0) or 0.0))),
            message=clip(str(data.get("message", ""))),
            kind=str(data.get("kind", ""))[:40],
            duration=max(0.0, float(data.get("duration", 0.0) or 0.0)),
            called=bool(data.get("called", False)),
        )


def _failure_text(report: pytest.TestReport, excinfo: Any) -> str:
    """The message a failed phase shows; setup and teardown errors are the grader's, not the student's."""
    error = excinfo.value if excinfo is not None else None
    if isinstance(error, StudentCodeError):
        text = str(error)
    elif isinstance(error, TimeLimitExceeded):
        text = (
            f"This test did not finish within its time limit of {error.seconds:g} s, in the grader's own work "
            "(not in your code). Run it again on an idle machine, or raise the limit with --timeout SECONDS; "
            "if it keeps happening, tell your instructor."
        )
    else:
        text = report.longreprtext.strip()
    if report.when != "call" and not isinstance(error, (StudentCodeError, TimeLimitExceeded)):
        text = f"Internal grader error during {report.when} (not your code; tell your instructor):\n{text}"
    return text


def _failure_kind(report: pytest.TestReport, excinfo: Any) -> str:
    """How a failed phase failed."""
    error = excinfo.value if excinfo is not None else None
    kind = kind_of(error)
    if kind:
        return kind
    if isinstance(error, TimeLimitExceeded):
        return INTERNAL
    return CHECK_FAILED if report.when == "call" else INTERNAL


@dataclass
class TestResult:
    """One graded test's status and points: only ``score`` makes these."""

    nodeid: str
    name: str
    practice: int
    folder: str
    points: float  # what the test is worth where it is graded
    visibility: str
    number: str
    status: str
    score: float = 0.0
    output: str = ""
    kind: str = ""
    duration: float = 0.0
    check: str = ""  # the test's stable id (TestSpec.check); "" in results written before it existed

    @property
    def graded(self) -> bool:
        """False for tests that could not run here (their points are not in the maximum)."""
        return self.status != NOT_GRADED

    @property
    def max_score(self) -> float:
        """Points this test adds to the maximum."""
        return self.points if self.graded else 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON form (a batch student's result.json); ``max_score`` is written for readers, not read back."""
        return {**asdict(self), "max_score": self.max_score}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestResult:
        """Parse ``to_json``."""
        return cls(**{key: value for key, value in data.items() if key != "max_score"})


def _result(spec: TestSpec, status: str, score: float = 0.0, output: str = "", kind: str = "") -> TestResult:
    """A result for ``spec``."""
    return TestResult(
        spec.nodeid, spec.name, spec.practice, spec.folder, spec.points, spec.visibility, spec.number,
        status, round(score, 4), output, kind, check=spec.check,
    )  # fmt: skip


def score(spec: TestSpec, outcome: Outcome, *, skip_is_failure: bool = False) -> TestResult:
    """The status and points of a test that ran.

    A skip means "not graded on this machine", except where the grading context knows the test is
    gradable here (a batch, whose trusted reference run did not skip it): there a skip is a failure.
    """
    if outcome.ran == RAN_SKIPPED and not skip_is_failure:
        return _result(spec, NOT_GRADED, output=outcome.message)
    if outcome.ran == RAN_SKIPPED:
        return _result(spec, FAILED, output=f"{SKIPPED_WHERE_GRADED}: {outcome.message}", kind=INTERNAL)
    status = PASSED if outcome.ran == RAN_PASSED and outcome.fraction >= 1.0 else FAILED
    earned = spec.points * outcome.fraction if outcome.called else 0.0
    result = _result(spec, status, earned, outcome.message, "" if status == PASSED else outcome.kind)
    result.duration = round(outcome.duration, 3)
    return result


def not_graded(spec: TestSpec, reason: str) -> TestResult:
    """A test this machine (or, in a batch, the reference run) cannot grade: out of the maximum."""
    return _result(spec, NOT_GRADED, output=reason)


def not_run(spec: TestSpec, why: str, kind: str = "") -> TestResult:
    """A gradable test without an outcome (not handed in, the run stopped): it counts, with 0 points."""
    return _result(spec, FAILED, output=why, kind=kind)


@dataclass
class PracticeScore:
    """Sums for one practice folder."""

    practice: int
    title: str
    folder: str
    results: list[TestResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        """Points available on this machine."""
        return sum(r.max_score for r in self.results)

    @property
    def passed(self) -> int:
        """Tests passed with full points."""
        return sum(r.status == PASSED for r in self.results)

    @property
    def graded(self) -> int:
        """Tests graded here."""
        return sum(r.graded for r in self.results)

    @property
    def not_graded(self) -> int:
        """Tests not graded on this machine."""
        return len(self.results) - self.graded


def group(results: list[TestResult], titles: dict[int, str]) -> list[PracticeScore]:
    """Results per (practice, folder), in practice then folder order."""
    groups: dict[tuple[int, str], PracticeScore] = {}
    for result in results:
        key = (result.practice, result.folder)
        if key not in groups:
            groups[key] = PracticeScore(result.practice, titles.get(result.practice, "tests"), result.folder)
        groups[key].results.append(result)
    return [groups[key] for key in sorted(groups)]
