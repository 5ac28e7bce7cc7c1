"""Results model: one TestResult per graded test, grouped per practice folder."""

from __future__ import annotations

from dataclasses import dataclass, field

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

PASSED, FAILED, NOT_GRADED = "passed", "failed", "not graded"


@dataclass
class TestResult:
    """One graded test's outcome."""

    nodeid: str
    name: str
    practice: int
    folder: str
    max_score: float
    visibility: str = "visible"
    status: str = PASSED
    score: float = 0.0
    output: str = ""
    duration: float = 0.0

    @property
    def graded(self) -> bool:
        """False for tests that could not run here (their points are not in max_score)."""
        return self.status != NOT_GRADED

    @property
    def counted_max(self) -> float:
        """Points this test adds to max_score."""
        return self.max_score if self.graded else 0.0


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
        return sum(r.counted_max for r in self.results)

    @property
    def passed(self) -> int:
        """Tests passed with full points."""
        return sum(r.status == PASSED for r in self.results)

    @property
    def graded(self) -> int:
        """Tests that ran here."""
        return sum(r.graded for r in self.results)

    @property
    def not_graded(self) -> int:
        """Tests skipped on this machine."""
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
