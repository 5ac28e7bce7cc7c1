"""Class-level files, all derived from the per-student results: gradebook, report, manifest, summary."""

from __future__ import annotations

import csv
import html
import io
import json
import statistics
from pathlib import Path
from typing import Any

from grader.commands.batch.results import STATUSES, StudentResult, result_folder
from grader.core.files import atomic_write
from grader.core.scoring import PASSED, SKIPPED_WHERE_GRADED, TestResult


def gradebook(results: list[StudentResult], practices: list[int]) -> str:
    """gradebook.csv: id, total, max, one column per practice, status (sorted by id, no timings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "total", "max", *[f"practice{n}" for n in practices], "status"])
    for result in sorted(results, key=lambda r: r.id):
        row = [result.id, f"{result.score:g}", f"{result.max_score:g}"]
        row += [f"{result.practices.get(str(n), {}).get('score', 0):g}" for n in practices]
        writer.writerow([*row, result.status])
    return buffer.getvalue()


def summary(results: list[StudentResult], limit: int = 60) -> list[str]:
    """The table printed at the end: every student (or, for large classes, all but the plainly graded)."""
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    rows = sorted(results, key=lambda r: r.id)
    if len(rows) > limit:
        rows = [r for r in rows if r.status != "graded"][:limit]
    width = max([len(r.id) for r in rows] + [10])
    out = [f"{'student':<{width}}  {'score':>13}  {'status':<8}  {'time':>7}  detail"]
    for r in rows:
        percent = f"{100 * r.score / r.max_score:5.1f}%" if r.max_score else "   - "
        text = r.flags[0] if r.flags and r.status in ("graded", "partial") else r.detail
        detail = text.splitlines()[0][:70] if text else ""
        score = f"{r.score:g}/{r.max_score:g}"
        out.append(f"{r.id:<{width}}  {score:>7} {percent}  {r.status:<8}  {r.duration_s:6.1f}s  {detail}")
    out.append("  ".join(f"{status}: {count}" for status, count in counts.items()) + f"  (total {len(results)})")
    return out


def report_html(results: list[StudentResult], manifest: dict[str, Any]) -> str:
    """report.html: score distribution, per-test pass rate, slowest submissions, who needs a look."""
    parts = _html_head(results, manifest)
    parts += _status_table(results)
    parts += _score_distribution(results)
    parts += _pass_rates(results)
    parts += _slowest(results)
    parts += _needs_a_look(results)
    parts.append("</table></body></html>")
    return "\n".join(parts)


def _html_head(results: list[StudentResult], manifest: dict[str, Any]) -> list[str]:
    """The page's head, style and title line (submissions, suite, grader version, isolation)."""
    e = html.escape
    return [
        "<!doctype html><html><head><meta charset='utf-8'><title>Batch grading report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.bar{background:#4a7;height:12px}"
        ".num{text-align:right}</style></head><body>",
        "<h1>Batch grading report</h1>",
        f"<p>{len(results)} submissions; suite {e(manifest.get('suite_hash', '')[:12])}; "
        f"grader {e(str(manifest.get('grader', {}).get('version', '')))}; "
        f"isolation: {e(manifest.get('isolation', {}).get('mode', ''))}.</p>",
    ]


def _status_table(results: list[StudentResult]) -> list[str]:
    """How many students ended in each status."""
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    rows = "".join(f"<tr><td>{s}</td><td class=num>{c}</td></tr>" for s, c in counts.items())
    return ["<h2>Status</h2><table>" + rows + "</table>"]


def _score_distribution(results: list[StudentResult]) -> list[str]:
    """Mean, median and a 10 %-bin histogram of the students' percentages (nothing when no one has a maximum)."""
    percents = [100 * r.score / r.max_score for r in results if r.max_score]
    if not percents:
        return []
    parts = [
        f"<h2>Score distribution</h2><p>mean {statistics.mean(percents):.1f} %, "
        f"median {statistics.median(percents):.1f} %</p><table>"
    ]
    bins = [0] * 11
    for value in percents:
        bins[min(10, int(value // 10))] += 1
    top = max(bins) or 1
    for index, count in enumerate(bins):
        label = "100 %" if index == 10 else f"{index * 10}-{index * 10 + 9} %"
        parts.append(
            f"<tr><td>{label}</td><td class=num>{count}</td>"
            f"<td style='width:20em'><div class=bar style='width:{100 * count / top:.0f}%'></div></td></tr>"
        )
    parts.append("</table>")
    return parts


def _pass_rates(results: list[StudentResult]) -> list[str]:
    """Per graded test: how many of the students who handed its practice in passed it."""
    e = html.escape
    parts = [
        "<h2>Pass rate per test</h2><p>Among students who handed the practice in.</p><table>",
        "<tr><th>test</th><th>name</th><th>points</th><th>passed</th><th>rate</th></tr>",
    ]
    for test, passed, handed_in in _test_counts(results):
        rate = passed / handed_in if handed_in else 0
        parts.append(
            f"<tr><td>{e(test.number)}</td><td>{e(test.name)}</td>"
            f"<td class=num>{test.max_score:g}</td><td class=num>{passed}/{handed_in}</td>"
            f"<td style='width:12em'><div class=bar style='width:{100 * rate:.0f}%'></div></td></tr>"
        )
    return parts


def _test_counts(results: list[StudentResult]) -> list[tuple[TestResult, int, int]]:
    """(first student's result of the test, students who passed it, students graded on it) per graded test,
    in test-number order; only students who handed the test's practice in count."""
    counts: dict[str, list[Any]] = {}
    for result in results:
        for test in map(TestResult.from_json, result.tests):
            if not test.graded or not result.practices.get(str(test.practice), {}).get("handed_in"):
                continue
            row = counts.setdefault(test.nodeid, [test, 0, 0])
            row[1] += test.status == PASSED
            row[2] += 1
    rows = sorted(counts.values(), key=lambda row: [int(x) for x in row[0].number.split(".")])
    return [(row[0], row[1], row[2]) for row in rows]


def _slowest(results: list[StudentResult]) -> list[str]:
    """The ten submissions that took longest, with their peak memory."""
    e = html.escape
    parts = [
        "</table><h2>Slowest submissions</h2><table><tr><th>student</th><th>seconds</th><th>peak MB</th>"
        "<th>status</th></tr>"
    ]
    for result in sorted(results, key=lambda r: -r.duration_s)[:10]:
        parts.append(
            f"<tr><td><a href='{e(result_folder(result.id))}/feedback.md'>{e(result.id)}</a></td>"
            f"<td class=num>{result.duration_s:.1f}</td><td class=num>{result.peak_rss_mb:.0f}</td>"
            f"<td>{result.status}</td></tr>"
        )
    return parts


def _needs_a_look(results: list[StudentResult]) -> list[str]:
    """The sandbox's skips, then every student whose status or flags a human should look at (table left open)."""
    e = html.escape
    parts = ["</table><h2>Needs a look</h2>"]
    parts += [f"<p>Grading environment: {e(warning)}</p>" for warning in sandbox_skips(results)]
    parts.append("<table><tr><th>student</th><th>status</th><th>why</th></tr>")
    for result in sorted(results, key=lambda r: r.id):
        if result.status in ("graded", "partial") and not result.flags:
            continue
        why = " | ".join(([result.detail] if result.status not in ("graded", "partial") else []) + result.flags)
        parts.append(
            f"<tr><td><a href='{e(result_folder(result.id))}/feedback.md'>{e(result.id)}</a></td>"
            f"<td>{result.status}</td><td>{e(why[:400])}</td></tr>"
        )
    return parts


def sandbox_skips(results: list[StudentResult]) -> list[str]:
    """Tests the trusted reference run graded but some students' sandboxed runs skipped (counted as failed):
    for a test that reads the student's own files that is theirs to fix; for one that skips for the machine,
    the sandbox sees less than the reference run did, and an instructor should look."""
    counts: dict[str, list[Any]] = {}
    for result in results:
        for test in map(TestResult.from_json, result.tests):
            if test.output.startswith(SKIPPED_WHERE_GRADED):
                entry = counts.setdefault(test.number, [test.name, 0, test.output])
                entry[1] += 1
    return [
        f"test {number} ({name}) was skipped in {count} student run(s) although the reference run graded it; "
        f"each counts as failed. First reason: {first.splitlines()[0][len(SKIPPED_WHERE_GRADED) + 2 :][:200]}"
        for number, (name, count, first) in sorted(counts.items())
    ]


def write_class_files(out: Path, results: list[StudentResult], practices: list[int], manifest: dict[str, Any]) -> None:
    """gradebook.csv, report.html and manifest.json."""
    atomic_write(out / "gradebook.csv", gradebook(results, practices))
    atomic_write(out / "report.html", report_html(results, manifest))
    manifest = {
        **manifest,
        "students": [
            {
                "id": r.id,
                "folder": result_folder(r.id),
                "submission_hash": r.submission["hash"],
                "result_key": r.key,
                "status": r.status,
                "score": r.score,
                "max": r.max_score,
            }
            for r in sorted(results, key=lambda r: r.id)
        ],
    }
    atomic_write(out / "manifest.json", json.dumps(manifest, indent=1, default=str))
