"""Class-level files, all derived from the per-student results: gradebook, report, manifest, summary."""

from __future__ import annotations

import csv
import html
import io
import json
import statistics
from pathlib import Path
from typing import Any

from grader.commands.batch.results import STATUSES, StudentResult, atomic_write, result_folder
from grader.core.scoring import SKIPPED_WHERE_GRADED


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
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Batch grading report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.bar{background:#4a7;height:12px}"
        ".num{text-align:right}</style></head><body>",
        "<h1>Batch grading report</h1>",
        f"<p>{len(results)} submissions; suite {e(manifest.get('suite_hash', '')[:12])}; "
        f"grader {e(str(manifest.get('grader', {}).get('version', '')))}; "
        f"isolation: {e(manifest.get('isolation', {}).get('mode', ''))}.</p>",
    ]
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    parts.append(
        "<h2>Status</h2><table>"
        + "".join(f"<tr><td>{s}</td><td class=num>{c}</td></tr>" for s, c in counts.items())
        + "</table>"
    )
    percents = [100 * r.score / r.max_score for r in results if r.max_score]
    if percents:
        parts.append(
            f"<h2>Score distribution</h2><p>mean {statistics.mean(percents):.1f} %, "
            f"median {statistics.median(percents):.1f} %</p><table>"
        )
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
    parts.append("<h2>Pass rate per test</h2><p>Among students who handed the practice in.</p><table>")
    parts.append("<tr><th>test</th><th>name</th><th>points</th><th>passed</th><th>rate</th></tr>")
    per_test: dict[str, dict[str, Any]] = {}
    for result in results:
        for test in result.tests:
            if test["status"] == "not graded" or not result.practices.get(str(test["practice"]), {}).get("handed_in"):
                continue
            row = per_test.setdefault(test["nodeid"], {"test": test, "n": 0, "passed": 0})
            row["n"] += 1
            row["passed"] += test["status"] == "passed"
    for row in sorted(per_test.values(), key=lambda r: [int(x) for x in r["test"]["number"].split(".")]):
        rate = row["passed"] / row["n"] if row["n"] else 0
        parts.append(
            f"<tr><td>{e(row['test']['number'])}</td><td>{e(row['test']['name'])}</td>"
            f"<td class=num>{row['test']['max_score']:g}</td><td class=num>{row['passed']}/{row['n']}</td>"
            f"<td style='width:12em'><div class=bar style='width:{100 * rate:.0f}%'></div></td></tr>"
        )
    parts.append(
        "</table><h2>Slowest submissions</h2><table><tr><th>student</th><th>seconds</th><th>peak MB</th><th>status</th></tr>"
    )
    for result in sorted(results, key=lambda r: -r.duration_s)[:10]:
        parts.append(
            f"<tr><td><a href='{e(result_folder(result.id))}/feedback.md'>{e(result.id)}</a></td>"
            f"<td class=num>{result.duration_s:.1f}</td><td class=num>{result.peak_rss_mb:.0f}</td><td>{result.status}</td></tr>"
        )
    parts.append("</table><h2>Needs a look</h2>")
    for warning in sandbox_skips(results):
        parts.append(f"<p>Grading environment: {e(warning)}</p>")
    parts.append("<table><tr><th>student</th><th>status</th><th>why</th></tr>")
    for result in sorted(results, key=lambda r: r.id):
        if result.status in ("graded", "partial") and not result.flags:
            continue
        why = " | ".join(([result.detail] if result.status not in ("graded", "partial") else []) + result.flags)
        parts.append(
            f"<tr><td><a href='{e(result_folder(result.id))}/feedback.md'>{e(result.id)}</a></td>"
            f"<td>{result.status}</td><td>{e(why[:400])}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def sandbox_skips(results: list[StudentResult]) -> list[str]:
    """Tests the trusted reference run graded but some students' sandboxed runs skipped (counted as failed):
    for a test that reads the student's own files that is theirs to fix; for one that skips for the machine,
    the sandbox sees less than the reference run did, and an instructor should look."""
    counts: dict[str, list[Any]] = {}
    for result in results:
        for test in result.tests:
            if str(test["output"]).startswith(SKIPPED_WHERE_GRADED):
                entry = counts.setdefault(test["number"], [test["name"], 0, test["output"]])
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
