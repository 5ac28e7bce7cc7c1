"""Reports: the per-practice terminal table and Gradescope's results.json."""

from __future__ import annotations

import textwrap
from typing import NamedTuple

from grader.core.scoring import FAILED, NOT_GRADED, PASSED, PracticeScore, TestResult

WIDTH = 88
INDENT = 10  # message lines under a table row
FAILURE_LINES = 24  # screen lines of a failure's message in the table (results.json has it whole)


class LeftOut(NamedTuple):
    """Graded tests that were collected but are in no total: deselected, or not run."""

    deselected: int = 0
    not_run: int = 0

    def sentence(self) -> str:
        """One line for the table, or "" when every collected graded test ran."""
        parts = []
        if self.deselected:
            parts.append(f"{self.deselected} deselected (-k, -m or --deselect)")
        if self.not_run:
            parts.append(f"{self.not_run} not run (the run stopped early, e.g. -x or Ctrl-C)")
        return f"Not in this total: graded tests {' and '.join(parts)}." if parts else ""


NOTHING_LEFT_OUT = LeftOut()


def points(value: float) -> str:
    """``2`` rather than ``2.0``; ``1.5`` stays."""
    return f"{value:g}"


def _message_lines(text: str) -> list[str]:
    """A message's non-empty lines."""
    return [line.rstrip() for line in text.strip().splitlines() if line.strip()]


def table(groups: list[PracticeScore], hidden_collected: bool, left_out: LeftOut = NOTHING_LEFT_OUT) -> list[str]:
    """The points table printed at the end of every graded run."""
    out: list[str] = []
    for group in groups:
        out.append(f" Practice {group.practice} - {group.title}  ({group.folder}) ".center(WIDTH, "="))
        first_seen: dict[str, str] = {}  # message -> label of the first test that showed it
        for result in group.results:
            label = result.number
            score = "-" if result.status == NOT_GRADED else points(result.score)
            mark = {PASSED: "PASS", FAILED: "FAIL", NOT_GRADED: "SKIP"}[result.status]
            shown = result.name if result.visibility == "visible" else f"{result.name} [{result.visibility}]"
            out.append(f"  {label:<6}{score:>5}/{points(result.points):<3} {mark}  {shown}")
            if result.status == PASSED and not result.output:
                continue
            if result.output in first_seen:
                out.append(f"{' ' * INDENT}(same message as {first_seen[result.output]})")
                continue
            first_seen[result.output] = label
            # A skip's reason says what to install: shown whole. A long failure is cut (results.json has it all).
            lines = None if result.status == NOT_GRADED else FAILURE_LINES
            out.extend(_indent(result.output, INDENT, lines=lines))
        skipped = f", {group.not_graded} not graded on this machine" if group.not_graded else ""
        out.append(
            f"  Practice {group.practice}: {points(group.score)}/{points(group.max_score)} points; "
            f"{group.passed} of {group.graded} graded tests passed{skipped}"
        )
    total = sum(g.score for g in groups)
    maximum = sum(g.max_score for g in groups)
    out.append("=" * WIDTH)
    if not groups:
        out.append("No graded test ran.")
    scope = (
        "visible and hidden tests"
        if hidden_collected
        else "public tests only; hidden tests, if any, run at grading time"
    )
    out.append(f"Total: {points(total)}/{points(maximum)} points ({scope}).")
    if left_out.sentence():
        out.append(left_out.sentence())
    if any(g.not_graded for g in groups):
        out.append("SKIP = not graded on this machine: excluded from the total, never counted as 0.")
    return out


def _indent(text: str, width: int, lines: int | None) -> list[str]:
    """A message's lines, wrapped to the table's width, at most ``lines`` screen lines (None: all)."""
    pad = " " * width
    wrapped: list[str] = []
    for line in _message_lines(text):
        wrapped.extend(
            textwrap.wrap(
                line,
                WIDTH,
                initial_indent=pad,
                subsequent_indent=pad + "  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
            or [pad]
        )
    if lines is None or len(wrapped) <= lines:
        return wrapped
    return wrapped[:lines] + [pad + "... (the whole message is in --grade-report's results.json)"]


def gradescope(
    groups: list[PracticeScore],
    execution_time: float,
    fingerprint: dict[str, object],
    hidden_collected: bool,
    left_out: LeftOut = NOTHING_LEFT_OUT,
) -> dict[str, object]:
    """results.json in Gradescope's schema (uploadable as is), with the lab's extra_data."""
    tests = [_gradescope_test(result) for group in groups for result in group.results]
    score = sum(g.score for g in groups)
    max_score = sum(g.max_score for g in groups)
    return {
        "score": round(score, 4),
        "execution_time": int(round(execution_time)),
        "output": "\n".join(table(groups, hidden_collected, left_out)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "max_score": round(max_score, 4),
            "practices": [
                {
                    "practice": g.practice,
                    "title": g.title,
                    "folder": g.folder,
                    "score": round(g.score, 4),
                    "max_score": round(g.max_score, 4),
                    "passed": g.passed,
                    "graded": g.graded,
                    "not_graded": g.not_graded,
                }
                for g in groups
            ],
            "left_out": left_out._asdict(),
            "fingerprint": fingerprint,
        },
    }


def _gradescope_test(result: TestResult) -> dict[str, object]:
    """One entry of ``tests``; a test not graded here carries max_score 0 and no status."""
    extra: dict[str, object] = {"nodeid": result.nodeid, "duration_s": round(result.duration, 3)}
    if result.check:
        extra["check"] = result.check
    if result.kind:
        extra["failure_kind"] = result.kind
    entry: dict[str, object] = {
        "name": result.name,
        "number": result.number,
        "score": round(result.score, 4),
        "max_score": round(result.max_score, 4),
        "output": result.output,
        "visibility": result.visibility,
        "extra_data": extra,
    }
    if result.graded:
        entry["status"] = result.status
    else:
        entry["name"] = f"{result.name} [not graded on this machine]"
        extra.update(graded=False, points_if_graded=result.points)
    return entry
