"""Per-practice class statistics for the report: the numbers, the hardest tests, and a histogram PNG."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.commands.batch.results import StudentResult
from grader.core.scoring import PASSED, TestResult

HARDEST = 5  # tests listed per practice
BINS = 10


@dataclass
class PracticeStats:
    """One practice across the class; the numbers are over the students who handed it in."""

    practice: int
    title: str
    maximum: float
    scores: list[float]  # one per student who handed the practice in
    not_handed_in: int
    hardest: list[tuple[TestResult, int, int]] = field(default_factory=list)  # (test, passed, graded on it)

    @property
    def mean(self) -> float:
        """Mean score."""
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        """Median score."""
        return statistics.median(self.scores) if self.scores else 0.0

    def bins(self, count: int = BINS) -> list[int]:
        """Students per equal-width score bin from 0 to the maximum (the last bin holds full marks)."""
        out = [0] * count
        for score in self.scores:
            share = score / self.maximum if self.maximum else 0.0
            out[min(count - 1, int(share * count))] += 1
        return out

    @property
    def png(self) -> str:
        """The histogram's file name, next to report.html."""
        return f"report-practice{self.practice}.png"


def practice_stats(results: list[StudentResult], practices: list[int]) -> list[PracticeStats]:
    """Statistics of every requested practice."""
    out = []
    for number in practices:
        entries = [r.practices.get(str(number)) for r in results]
        handed = [e for e in entries if e and e.get("handed_in")]
        title = next((e["title"] for e in entries if e), f"Practice {number}")
        maximum = max((float(e["max"]) for e in entries if e), default=0.0)
        stats = PracticeStats(number, title, maximum, [float(e["score"]) for e in handed], len(entries) - len(handed))
        stats.hardest = hardest_tests(results, number)
        out.append(stats)
    return out


def hardest_tests(
    results: list[StudentResult], practice: int, limit: int = HARDEST
) -> list[tuple[TestResult, int, int]]:
    """The graded tests of ``practice`` with the lowest pass rate among students who handed it in."""
    tests: dict[str, TestResult] = {}
    passed: Counter[str] = Counter()
    graded: Counter[str] = Counter()
    for result in results:
        if not result.practices.get(str(practice), {}).get("handed_in"):
            continue
        for test in map(TestResult.from_json, result.tests):
            if test.practice != practice or not test.graded or not test.max_score:
                continue
            tests.setdefault(test.nodeid, test)
            graded[test.nodeid] += 1
            passed[test.nodeid] += test.status == PASSED
    rows = [(tests[key], passed[key], graded[key]) for key in tests]
    rows.sort(key=lambda row: (row[1] / row[2], [int(x) for x in row[0].number.split(".") if x.isdigit()]))
    return [row for row in rows if row[1] < row[2]][:limit]  # a test everyone passed is not hard


def histogram(stats: PracticeStats, folder: Path, total_students: int) -> Path:
    """Write the practice's score histogram (students per score bin) as a PNG in ``folder``."""
    # The object API with the Agg canvas (as practice5's plot.py): no GUI backend, no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    counts = stats.bins()
    width = stats.maximum / BINS if stats.maximum else 1.0
    axes.bar([i * width for i in range(BINS)], counts, width=width * 0.92, align="edge", color="#4a7")
    axes.set_xlim(0, stats.maximum or BINS)
    axes.set_xlabel(f"score (of {stats.maximum:g} points)")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(
        f"Practice {stats.practice} - {stats.title}: {len(stats.scores)} of {total_students} handed in, "
        f"mean {stats.mean:.1f}, median {stats.median:.1f}",
        fontsize=9,
    )
    path = folder / stats.png
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
