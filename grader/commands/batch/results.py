"""A student's grade, recomputed by the parent from the pristine suite and the worker's signed stream.

Points, visibility and names come from the trusted run (``trusted.TrustedSuite``), never from the
worker, and every outcome becomes points in ``grader.core.scoring.score``, as in a student's own
run. A test is "not graded on this machine" only when the trusted run says so, for every student
alike (one maximum per practice); any other skip counts as a failure. Status: ``graded`` (every test ran), ``partial`` (every test ran, some requested
practices were not handed in), ``timeout`` (wall clock or CPU time), ``crashed`` (the worker died, or
a memory, file size, process, disk or output limit ended it), ``invalid`` (nothing gradable handed
in, or the results channel saw tampering or forgery).
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.sandbox import EXIT_SETUP, Limits
from grader.commands.batch.stream import EXIT_CHANNEL, EXIT_LIMIT, EXIT_TAMPER
from grader.commands.batch.submissions import FoundFile, Submission, describe_missing
from grader.commands.batch.trusted import TestInfo, TrustedSuite
from grader.core import report, scoring, student
from grader.core.files import atomic_write
from grader.core.scoring import FAILED, NOT_GRADED, PASSED, PracticeScore, TestResult, group
from grader.practices import PRACTICES

GRADED, PARTIAL, TIMEOUT, CRASHED, INVALID = "graded", "partial", "timeout", "crashed", "invalid"
STATUSES = (GRADED, PARTIAL, TIMEOUT, CRASHED, INVALID)
RESULT_SCHEMA = 2  # 2: tests scored by grader.core.scoring, flags for a human


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
    flags: list[str] = field(default_factory=list)  # what needs a human's look, and why
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


def ending(worker: WorkerReport, limits: Limits) -> tuple[str, str]:
    """(status, why) of a run that did not finish normally, or ("", "") when it did."""
    status = worker.exit_status
    if worker.setup_error:
        return CRASHED, f"the grader could not prepare the sandbox: {worker.setup_error} (not your code)"
    if worker.tamper:
        changed = "; ".join(worker.tamper.get("changes", [])[:3])
        return INVALID, f"tampering detected: {changed}. Submissions must not modify pytest or the grader."
    if worker.forged:
        return INVALID, f"the results channel was forged: {worker.forged[0]}"
    if worker.limit:  # reported by the worker itself: whatever the parent did next is a consequence
        return CRASHED, f"stopped: {_limit_text(str(worker.limit.get('kind')), limits)} was exceeded"
    if worker.killed == "timeout":
        return TIMEOUT, f"stopped after {limits.timeout_s:g} s: {_limit_text('timeout', limits)} was reached"
    if worker.killed:
        return CRASHED, f"stopped: {_limit_text(worker.killed, limits)} was exceeded"
    if status is not None and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return TIMEOUT, "stopped: the CPU time limit was reached"
        if number == signal.SIGXFSZ:
            return CRASHED, f"stopped: {_limit_text('file size', limits)} was exceeded"
        excerpt = _crash_excerpt(worker.output_text())
        text = f"the grading process was killed by {_signal_name(number)}"
        if number == signal.SIGSEGV:
            text += " (a segmentation fault: native code read invalid memory, e.g. ctypes or a CUDA misuse)"
        return CRASHED, text + (f"\n{excerpt}" if excerpt else "")
    if worker.done is not None and worker.done.get("exitstatus") in (3, 4):
        return CRASHED, (
            f"pytest stopped with an internal or usage error (exit {worker.done['exitstatus']}): "
            "not your code; tell your instructor"
        )
    if worker.done is None:
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


def _running(worker: WorkerReport | None, suite: TrustedSuite, handed_in: list[int], ending: str) -> str | None:
    """The name of the test that was running when the run ended early: the one the worker named (a limit,
    tampering), else the first gradable test of a handed-in practice without a result."""
    if worker is None or not ending:
        return None
    nodeid = (worker.limit or worker.tamper or {}).get("nodeid")
    named = next((t.name for t in suite.tests if t.nodeid == nodeid), None)
    if named is not None:
        return named
    missing = (
        t for n in handed_in for t in suite.for_practice(n) if not t.not_graded and t.nodeid not in worker.results
    )
    return next((t.name for t in missing), None)


def _missing_text(info: TestInfo, worker: WorkerReport | None, ending: str, why: str, running: str | None) -> str:
    """Why a gradable test of a handed-in practice has no result."""
    if worker is None:
        return why
    if ending and running == info.name:
        return f"Not finished: {why}"
    if ending:
        return f"Not run: the grading had already stopped ({why.splitlines()[0]})"
    return "No result was received for this test."


def practice_results(
    number: int,
    handed_in: bool,
    suite: TrustedSuite,
    worker: WorkerReport | None,
    ending: tuple[str, str, str | None],
) -> list[TestResult]:
    """Every test of one practice, scored by the one model; the maximum comes from the trusted run only.

    ``ending``: the run's early-ending status, why, and the test that was running then.
    """
    received = worker.results if worker is not None else {}
    status, why, running = ending
    tests = []
    for info in suite.for_practice(number):
        spec = info.spec()
        raw = received.get(info.nodeid)
        if info.not_graded:
            tests.append(scoring.not_graded(spec, info.not_graded))
        elif not handed_in:
            tests.append(scoring.not_run(spec, not_handed_in(number), student.MISSING_FILE))
        elif raw is None:
            text = _missing_text(info, worker, status, why, running)
            tests.append(scoring.not_run(spec, text, scoring.INTERNAL if not status else ""))
        else:
            tests.append(scoring.score(spec, scoring.Outcome.from_json(raw), skip_is_failure=True))
    return tests


def not_handed_in(number: int) -> str:
    """The message of a test whose practice was not handed in."""
    return f"Not handed in: {PRACTICES[number].student_file} was not found in the submission."


def _status(
    submission: Submission, requested: list[int], worker: WorkerReport | None, limits: Limits
) -> tuple[str, str]:
    """The submission's ending status and why ("" when it was graded to the end)."""
    present = [n for n in requested if n in submission.files]
    if submission.unreadable:
        return INVALID, submission.unreadable
    if not present:
        return INVALID, describe_missing(requested)
    if worker is not None:
        return ending(worker, limits)
    return "", ""


def build(
    submission: Submission,
    key: str,
    requested: list[int],
    suite: TrustedSuite,
    worker: WorkerReport | None,
    limits: Limits,
) -> StudentResult:
    """Scores per test and practice, the status, its explanation and what needs a human's look."""
    ending, why = _status(submission, requested, worker, limits)
    running = _running(worker, suite, [n for n in requested if n in submission.files], ending)
    scores = [
        _practice_score(number, number in submission.files, suite, worker, (ending, why, running))
        for number in requested
    ]
    tests = [test for practice in scores for test in practice.results]
    practices = {str(p.practice): _practice_entry(p, submission.files.get(p.practice)) for p in scores}
    missing_files = [n for n in requested if n not in submission.files]
    status = ending or (PARTIAL if missing_files else GRADED)
    if status == PARTIAL:
        why = "not handed in: " + ", ".join(f"practice{n}/{PRACTICES[n].student_file}" for n in missing_files)
    if running is not None:
        why += f"\nIt happened during: {running}"
    events = [event for raw in (worker.results.values() if worker else []) for event in raw.get("events", [])]
    return StudentResult(
        id=submission.id,
        key=key,
        status=status,
        detail=why,
        score=round(sum(p.score for p in scores), 4),
        max_score=round(sum(p.max_score for p in scores), 4),
        practices=practices,
        tests=[test.to_json() for test in tests],
        submission=_submission_entry(submission, requested),
        events=events[:50],
        flags=flags(tests, practices, events),
        **_worker_numbers(worker),
    )


def _practice_score(
    number: int,
    handed_in: bool,
    suite: TrustedSuite,
    worker: WorkerReport | None,
    ending: tuple[str, str, str | None],
) -> PracticeScore:
    """One practice's tests and sums, in the one model (``grader.core.scoring``)."""
    folder = PRACTICES[number].folder
    return PracticeScore(
        number, PRACTICES[number].title, folder, practice_results(number, handed_in, suite, worker, ending)
    )


def _practice_entry(scored: PracticeScore, found: FoundFile | None) -> dict[str, Any]:
    """A practice in result.json: its sums (from ``PracticeScore``) and where its file was found."""
    return {
        "title": scored.title,
        "score": round(scored.score, 4),
        "max": round(scored.max_score, 4),
        "handed_in": found is not None,
        "where": f"{found.where} ({found.placement})" if found else "",
    }


def _submission_entry(submission: Submission, requested: list[int]) -> dict[str, Any]:
    """What was handed in: the source, its kind and hash, the files graded, notes about the others, and what
    the LMS says of it (name, layout, time, its own late mark, the files no practice claimed)."""
    return {
        "source": submission.source.name,
        "kind": submission.kind,
        "hash": submission.content_hash(requested),
        "files": {str(n): f.where for n, f in sorted(submission.files.items())},
        "notes": submission.notes,
        **lms_entry(submission),
    }


def lms_entry(submission: Submission) -> dict[str, Any]:
    """What the LMS says of a submission: outside the result key, so it is refreshed even for a kept result."""
    submitted_at = submission.submitted_at
    return {
        "name": submission.name,
        "lms": submission.lms,
        "submitted_at": submitted_at.isoformat() if submitted_at is not None else "",
        "marked_late": submission.marked_late,
        "unmatched": list(submission.unmatched),
    }


def _worker_numbers(worker: WorkerReport | None) -> dict[str, Any]:
    """The worker's notes, time, peak memory and tasks, and the end of its output (nothing without a worker)."""
    if worker is None:
        return {"notes": [], "duration_s": 0.0, "peak_rss_mb": 0.0, "peak_tasks": 0, "output": ""}
    return {
        "notes": worker.notes,
        "duration_s": round(worker.duration_s, 2),
        "peak_rss_mb": round(worker.peak_rss / 2**20, 1),
        "peak_tasks": worker.peak_tasks,
        "output": worker.output_text()[-16000:],
    }


# Every graded test of a handed-in practice failed, most of them for one of these reasons: a human should look.
_WHOLE_PRACTICE = {
    student.SYNTAX_ERROR: "{file} has a syntax error, so none of its tests could run",
    student.IMPORT_ERROR: "importing {file} fails, so none of its tests could run",
    student.NOT_IMPLEMENTED: "{file} is still the unimplemented stub",
    student.MISSING_FUNCTION: "{file} does not define the practice's functions",
    student.TIMED_OUT: "{file} ran past the per-test time limit",
    scoring.INTERNAL: "the grader failed on it (not the student's code)",
}


def flags(tests: list[TestResult], practices: dict[str, dict[str, Any]], events: list[str]) -> list[str]:
    """What a human should look at: a handed-in practice that earned nothing for a reason other than wrong
    answers (a syntax error, the untouched stub...), a time limit, the submission's own forbidden actions."""
    out = []
    for number, practice in practices.items():
        graded = [t for t in tests if str(t.practice) == number and t.graded]
        if not practice["handed_in"] or not graded:
            continue
        file = f"practice{number}/{PRACTICES[int(number)].student_file}"
        kinds = Counter(t.kind for t in graded)
        kind, count = kinds.most_common(1)[0]
        if all(t.status == FAILED for t in graded) and kind in _WHOLE_PRACTICE:
            example = next(t for t in graded if t.kind == kind).output.strip().splitlines() or [""]
            reason = _WHOLE_PRACTICE[kind].format(file=file)
            out.append(f"Practice {number}: {reason} ({count} of {len(graded)} tests: {example[0]})")
        elif kinds[student.TIMED_OUT]:
            first = next(t for t in graded if t.kind == student.TIMED_OUT)
            out.append(
                f"Practice {number}: {kinds[student.TIMED_OUT]} test(s) ran past the time limit, e.g. {first.number}"
            )
    if events:
        out.append("the submission's own code did what grading does not allow: " + "; ".join(events[:3]))
    return out


# ---------------------------------------------------------------- files for one student


def gradescope(result: StudentResult, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """results.json in Gradescope's schema, through the plugin's own writer."""
    tests = [TestResult.from_json(test) for test in result.tests]
    titles = {number: practice.title for number, practice in PRACTICES.items()}
    hidden = any(test.visibility == "hidden" for test in tests)
    data = report.gradescope(group(tests, titles), result.duration_s, fingerprint, hidden)
    summary = f"Status: {result.status}." + (f" {result.detail}" if result.detail else "")
    data["output"] = summary + "\n\n" + data["output"]
    extra = data["extra_data"]
    assert isinstance(extra, dict)
    extra.update(status=result.status, student=result.id, submission_hash=result.submission["hash"])
    if result.submission.get("lms", "folders") != "folders":  # what the LMS said of the student, when it said any
        keys = ("name", "lms", "submitted_at", "marked_late", "unmatched")
        extra["lms"] = {key: result.submission.get(key) for key in keys}
    if result.flags:
        extra["needs_a_look"] = result.flags
    return data


def _test_lines(test: TestResult) -> list[str]:
    """One test's lines in feedback.md."""
    if test.status == NOT_GRADED:
        mark, points = "SKIP", f"-/{test.points:g}"
    else:
        mark, points = ("PASS" if test.status == PASSED else "FAIL"), f"{test.score:g}/{test.points:g}"
    lines = [f"- **{mark}** {points} {test.number} {test.name}"]
    text = test.output.strip()
    if text and test.status != NOT_GRADED:
        lines += ["", "  ```text", *("  " + ln for ln in text.splitlines()[:40]), "  ```", ""]
    elif text:
        lines.append(f"  ({text.splitlines()[0]})")
    return lines


def feedback(result: StudentResult, isolation_note: str) -> str:
    """feedback.md: what passed, what failed and why, where the files were found, the student's numbers."""
    name = result.submission.get("name") or ""
    lines = [f"# Feedback for {result.id}" + (f" ({name})" if name and name != result.id else ""), ""]
    lines.append(f"**Total: {result.score:g} / {result.max_score:g} points** - status: `{result.status}`")
    if result.detail:
        lines += ["", "> " + result.detail.replace("\n", "\n> ")]
    lines += ["", "## Files graded", ""]
    for number, practice in result.practices.items():
        where = practice["where"] or "not found"
        lines.append(f"- Practice {number} ({practice['title']}): {where}")
    for note in result.submission.get("notes", []):
        lines.append(f"- Note: {note}")
    unmatched = result.submission.get("unmatched") or []
    if unmatched:  # never dropped silently: the student sees what the grader did not take
        lines += ["", "## Files not graded", "", "No practice claimed these files (they were not graded):", ""]
        lines += [f"- `{name}`" for name in unmatched]
    tests = [TestResult.from_json(test) for test in result.tests]
    for number, practice in result.practices.items():
        lines += ["", f"## Practice {number} - {practice['title']}: {practice['score']:g} / {practice['max']:g}", ""]
        if not practice["handed_in"]:  # one line, not one per test
            lines.append(f"{not_handed_in(int(number))} Every graded test of this practice counts 0.")
            continue
        for test in (t for t in tests if str(t.practice) == number):
            lines += _test_lines(test)
    if result.events:
        lines += ["", "## What your code did that grading does not allow", ""]
        lines += [f"- `{event}`" for event in result.events[:20]]
    lines += ["", "---", f"Graded in an isolated sandbox ({isolation_note})."]
    return "\n".join(lines) + "\n"


def write_student(out: Path, result: StudentResult, fingerprint: dict[str, Any], isolation_note: str) -> None:
    """results.json, feedback.md, then result.json last (its presence means the student is done)."""
    folder = out / result_folder(result.id)
    folder.mkdir(parents=True, exist_ok=True)
    results_json = json.dumps(gradescope(result, fingerprint), indent=2, ensure_ascii=False)
    atomic_write(folder / "results.json", results_json, durable=True)
    atomic_write(folder / "feedback.md", feedback(result, isolation_note), durable=True)
    atomic_write(folder / "result.json", json.dumps(result.to_json(), indent=1, ensure_ascii=False), durable=True)


def result_folder(student_id: str) -> str:
    """OUT/<folder> for a student id (the same rule as Submission.safe_id)."""
    return Submission(student_id, Path(student_id), "folder").safe_id


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
