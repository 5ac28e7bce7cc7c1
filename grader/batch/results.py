"""A student's grade, recomputed by the parent from the pristine suite and the worker's signed stream.

Points, visibility and names come from the trusted run (``trusted.TrustedSuite``), never from the
worker. A test is "not graded on this machine" only when the trusted run says so; any other skip
counts as a failure. Status: ``graded`` (every test ran), ``partial`` (every test ran, some requested
practices were not handed in), ``timeout`` (wall clock or CPU time), ``crashed`` (the worker died, or
a memory, file size, process, disk or output limit ended it), ``invalid`` (nothing gradable handed
in, or the results channel saw tampering or forgery).
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.runner import Outcome
from grader.batch.sandbox import EXIT_SETUP, Limits
from grader.batch.stream import EXIT_CHANNEL, EXIT_LIMIT, EXIT_TAMPER
from grader.batch.submissions import Submission, describe_missing
from grader.batch.trusted import TestInfo, TrustedSuite
from grader.plugin import report
from grader.plugin.scoring import FAILED, NOT_GRADED, PASSED, TestResult, group
from grader.practices import PRACTICES

GRADED, PARTIAL, TIMEOUT, CRASHED, INVALID = "graded", "partial", "timeout", "crashed", "invalid"
STATUSES = (GRADED, PARTIAL, TIMEOUT, CRASHED, INVALID)
RESULT_SCHEMA = 1
NOT_GRADED_PREFIX = "not graded on this machine"


@dataclass
class StudentResult:
    """Everything written for one student; ``result.json`` is the resume marker."""

    id: str
    key: str
    status: str
    detail: str
    score: float
    max_score: float
    practices: dict[str, dict[str, Any]]
    tests: list[dict[str, Any]]
    submission: dict[str, Any]
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_tasks: int = 0
    output: str = ""
    schema: int = RESULT_SCHEMA

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudentResult:
        """Parse ``to_json``."""
        return cls(**data)


def _signal_name(number: int) -> str:
    """SIGSEGV rather than 11."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _limit_text(kind: str, limits: Limits) -> str:
    """A limit in words."""
    return {
        "memory": f"the memory limit ({limits.rss_bytes / 2**30:g} GiB resident"
        + (f", {limits.memory_bytes / 2**30:g} GiB of address space per process)" if limits.memory_bytes else ")"),
        "file size": f"the file size limit ({limits.file_bytes / 2**20:g} MiB per file)",
        "processes": f"the process limit ({limits.processes} processes and threads)",
        "disk": f"the disk limit ({limits.disk_bytes / 2**30:g} GiB in the workspace)",
        "output": f"the output limit ({limits.output_bytes / 2**20:g} MiB printed)",
        "timeout": f"the time limit ({limits.timeout_s:g} s)",
        "cpu": "the CPU time limit",
    }.get(kind, kind)


def _crash_excerpt(output: str) -> str:
    """Python's own fatal-error report (faulthandler), if the worker printed one."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Fatal Python error"):
            block = [ln for ln in lines[index : index + 30] if ln.strip()]
            student = [ln.strip() for ln in block if "/assignments/practice" in ln]
            return "\n".join([block[0], *student[:6]])
    return ""


def _ending(outcome: Outcome, limits: Limits) -> tuple[str, str]:
    """(status, why) of a run that did not finish normally, or ("", "") when it did."""
    status = outcome.exit_status
    if outcome.setup_error:
        return CRASHED, f"the grader could not prepare the sandbox: {outcome.setup_error} (not your code)"
    if outcome.tamper:
        changed = "; ".join(outcome.tamper.get("changes", [])[:3])
        return INVALID, f"tampering detected: {changed}. Submissions must not modify pytest or the grader."
    if outcome.forged:
        return INVALID, f"the results channel was forged: {outcome.forged[0]}"
    if outcome.limit:  # reported by the worker itself: whatever the parent did next is a consequence
        return CRASHED, f"stopped: {_limit_text(str(outcome.limit.get('kind')), limits)} was exceeded"
    if outcome.killed == "timeout":
        return TIMEOUT, f"stopped after {limits.timeout_s:g} s: {_limit_text('timeout', limits)} was reached"
    if outcome.killed:
        return CRASHED, f"stopped: {_limit_text(outcome.killed, limits)} was exceeded"
    if status is not None and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return TIMEOUT, "stopped: the CPU time limit was reached"
        if number == signal.SIGXFSZ:
            return CRASHED, f"stopped: {_limit_text('file size', limits)} was exceeded"
        excerpt = _crash_excerpt(outcome.output_text())
        text = f"the grading process was killed by {_signal_name(number)}"
        if number == signal.SIGSEGV:
            text += " (a segmentation fault: native code read invalid memory, e.g. ctypes or a CUDA misuse)"
        return CRASHED, text + (f"\n{excerpt}" if excerpt else "")
    if outcome.done is not None and outcome.done.get("exitstatus") in (3, 4):
        return CRASHED, (
            f"pytest stopped with an internal or usage error (exit {outcome.done['exitstatus']}): "
            "not your code; tell your instructor"
        )
    if outcome.done is None:
        code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
        if code == EXIT_CHANNEL:
            return CRASHED, "the submission closed the grader's results channel"
        if code == EXIT_SETUP:
            return CRASHED, "the sandbox could not start pytest (not your code; tell your instructor)"
        if code in (EXIT_LIMIT, EXIT_TAMPER):
            return CRASHED, "the grading process stopped early"
        return CRASHED, (
            f"the grading process exited with code {code} before all tests ran "
            "(os._exit(), or a library that ended the process)"
        )
    return "", ""


def build(
    submission: Submission,
    key: str,
    requested: list[int],
    suite: TrustedSuite,
    outcome: Outcome | None,
    limits: Limits,
) -> StudentResult:
    """Scores per test and practice, the status and its explanation."""
    present = [n for n in requested if n in submission.files]
    ending, why = ("", "")
    if submission.unreadable:
        ending, why = INVALID, submission.unreadable
    elif not present:
        ending, why = INVALID, describe_missing(requested)
    elif outcome is not None:
        ending, why = _ending(outcome, limits)
    results = outcome.results if outcome is not None else {}
    running = None  # the test that was running when the run ended
    if outcome is not None and (outcome.limit or outcome.tamper):
        nodeid = (outcome.limit or outcome.tamper or {}).get("nodeid")
        running = next((t.name for t in suite.tests if t.nodeid == nodeid), None)
    tests: list[dict[str, Any]] = []
    practices: dict[str, dict[str, Any]] = {}
    for number in requested:
        handed_in = number in submission.files
        found = submission.files.get(number)
        sums = {
            "title": PRACTICES[number].title,
            "score": 0.0,
            "max": 0.0,
            "handed_in": handed_in,
            "where": f"{found.where} ({found.placement})" if found else "",
        }
        for position, info in enumerate(suite.for_practice(number), 1):
            entry, missing = _test(info, position, handed_in, results.get(info.nodeid))
            if missing and outcome is None:
                entry["output"] = why
            elif missing and ending and running in (None, info.name):
                running = info.name
                entry["output"] = f"Not finished: {why}"
            elif missing and ending:
                entry["output"] = f"Not run: the grading had already stopped ({why.splitlines()[0]})"
            elif missing:
                entry["output"] = "No result was received for this test."
            tests.append(entry)
            sums["score"] += entry["score"]
            sums["max"] += entry["max_score"]
        sums["score"] = round(sums["score"], 4)
        sums["max"] = round(sums["max"], 4)
        practices[str(number)] = sums
    status = ending or (GRADED if len(present) == len(requested) else PARTIAL)
    if not ending and status == PARTIAL:
        missing_files = [n for n in requested if n not in submission.files]
        why = "not handed in: " + ", ".join(f"practice{n}/{PRACTICES[n].student_file}" for n in missing_files)
    if running is not None:
        why += f"\nIt happened during: {running}"
    events = []
    if outcome is not None:
        for result in results.values():
            events.extend(result.get("events", []))
    return StudentResult(
        id=submission.id,
        key=key,
        status=status,
        detail=why,
        score=round(sum(p["score"] for p in practices.values()), 4),
        max_score=round(sum(p["max"] for p in practices.values()), 4),
        practices=practices,
        tests=tests,
        submission={
            "source": submission.source.name,
            "kind": submission.kind,
            "hash": submission.content_hash(requested),
            "files": {str(n): f.where for n, f in sorted(submission.files.items())},
            "notes": submission.notes,
        },
        events=events[:50],
        notes=(outcome.notes if outcome is not None else []),
        duration_s=round(outcome.duration_s, 2) if outcome is not None else 0.0,
        peak_rss_mb=round(outcome.peak_rss / 2**20, 1) if outcome is not None else 0.0,
        peak_tasks=outcome.peak_tasks if outcome is not None else 0,
        output=outcome.output_text()[-16000:] if outcome is not None else "",
    )


def _test(info: TestInfo, position: int, handed_in: bool, result: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """One test's entry decided by the parent, and whether its result is missing."""
    entry: dict[str, Any] = {
        "nodeid": info.nodeid,
        "name": info.name,
        "practice": info.practice,
        "number": f"{info.practice}.{position}",
        "max_score": info.max_score,
        "score": 0.0,
        "status": FAILED,
        "output": "",
        "visibility": info.visibility,
        "duration": 0.0,
    }
    if info.not_graded:
        entry.update(status=NOT_GRADED, max_score=0.0, points_if_graded=info.max_score, output=info.not_graded)
        return entry, False
    if not handed_in:
        entry["output"] = f"Not handed in: {PRACTICES[info.practice].student_file} was not found in the submission."
        return entry, False
    if result is None:
        if info.may_skip:  # never reached: left out like the reference's own skip
            entry.update(status=NOT_GRADED, max_score=0.0, points_if_graded=info.max_score, output="not run")
            return entry, False
        return entry, True
    entry["duration"] = result.get("duration", 0.0)
    message = str(result.get("message", ""))
    if result.get("status") == "skipped" and info.may_skip and message.startswith(NOT_GRADED_PREFIX):
        # The reference is skipped here too, for its own inputs (no calib.cache, no resnet50 weights).
        entry.update(status=NOT_GRADED, max_score=0.0, points_if_graded=info.max_score, output=message)
        return entry, False
    if result.get("status") == "passed":
        entry.update(status=PASSED, score=info.max_score, output=message)
    elif result.get("status") == "skipped":
        entry["output"] = f"This test was skipped, which counts as failed here: {message}"
    else:
        fraction = float(result.get("fraction", 0.0))
        entry.update(score=round(info.max_score * max(0.0, min(1.0, fraction)), 4), output=message)
    return entry, False


# ---------------------------------------------------------------- files for one student


def gradescope(result: StudentResult, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """results.json in Gradescope's schema, through the plugin's own writer."""
    results = []
    for test in result.tests:
        status = test["status"]
        results.append(
            TestResult(
                nodeid=test["nodeid"],
                name=test["name"],
                practice=test["practice"],
                folder=f"practice{test['practice']}",
                max_score=test.get("points_if_graded", test["max_score"]),
                visibility=test["visibility"],
                status=status,
                score=test["score"],
                output=test["output"],
                duration=test["duration"],
            )
        )
    titles = {number: practice.title for number, practice in PRACTICES.items()}
    hidden = any(t["visibility"] == "hidden" for t in result.tests)
    data = report.gradescope(group(results, titles), result.duration_s, fingerprint, hidden)
    summary = f"Status: {result.status}." + (f" {result.detail}" if result.detail else "")
    data["output"] = summary + "\n\n" + data["output"]
    extra = data["extra_data"]
    assert isinstance(extra, dict)
    extra.update(status=result.status, student=result.id, submission_hash=result.submission["hash"])
    return data


def feedback(result: StudentResult, isolation_note: str) -> str:
    """feedback.md: what passed, what failed and why, where the files were found, the student's numbers."""
    lines = [f"# Feedback for {result.id}", ""]
    lines.append(f"**Total: {result.score:g} / {result.max_score:g} points** - status: `{result.status}`")
    if result.detail:
        lines += ["", "> " + result.detail.replace("\n", "\n> ")]
    lines += ["", "## Files graded", ""]
    for number, practice in result.practices.items():
        where = practice["where"] or "not found"
        lines.append(f"- Practice {number} ({practice['title']}): {where}")
    for note in result.submission.get("notes", []):
        lines.append(f"- Note: {note}")
    for number, practice in result.practices.items():
        lines += ["", f"## Practice {number} - {practice['title']}: {practice['score']:g} / {practice['max']:g}", ""]
        for test in (t for t in result.tests if str(t["practice"]) == number):
            if test["status"] == NOT_GRADED:
                mark, points = "SKIP", f"-/{test.get('points_if_graded', 0):g}"
            else:
                mark = "PASS" if test["status"] == PASSED else "FAIL"
                points = f"{test['score']:g}/{test['max_score']:g}"
            lines.append(f"- **{mark}** {points} {test['number']} {test['name']}")
            text = test["output"].strip()
            if text and (test["status"] != NOT_GRADED):
                lines += ["", "  ```text", *("  " + ln for ln in text.splitlines()[:40]), "  ```", ""]
            elif text:
                lines.append(f"  ({text.splitlines()[0]})")
    if result.events:
        lines += ["", "## What your code did that grading does not allow", ""]
        lines += [f"- `{event}`" for event in result.events[:20]]
    lines += ["", "---", f"Graded in an isolated sandbox ({isolation_note})."]
    return "\n".join(lines) + "\n"


def write_student(out: Path, result: StudentResult, fingerprint: dict[str, Any], isolation_note: str) -> None:
    """results.json, feedback.md, then result.json last (its presence means the student is done)."""
    folder = out / result_folder(result.id)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "results.json", json.dumps(gradescope(result, fingerprint), indent=2, ensure_ascii=False))
    atomic_write(folder / "feedback.md", feedback(result, isolation_note))
    atomic_write(folder / "result.json", json.dumps(result.to_json(), indent=1, ensure_ascii=False))


def result_folder(student_id: str) -> str:
    """OUT/<folder> for a student id (the same rule as Submission.safe_id)."""
    return Submission(student_id, Path(student_id), "folder").safe_id


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary name and rename: a killed batch never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_student(out: Path, student_id: str) -> StudentResult | None:
    """A finished student's result, or None."""
    path = out / result_folder(student_id) / "result.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("schema") != RESULT_SCHEMA:
        return None
    try:
        return StudentResult.from_json(data)
    except TypeError:
        return None
