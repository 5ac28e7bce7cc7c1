"""Class-level files, all derived from the per-student results: gradebook, report, manifest, summary."""

from __future__ import annotations

import html
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.commands.batch import gradebook as gradebook_csv
from grader.commands.batch import roster as rosters
from grader.commands.batch import stats
from grader.commands.batch.late import LatePolicy
from grader.commands.batch.results import STATUSES, StudentResult, result_folder
from grader.commands.batch.roster import Roster
from grader.core.files import atomic_write
from grader.core.scoring import PASSED, SKIPPED_WHERE_GRADED, TestResult


@dataclass
class ClassOptions:
    """What shapes the class files beyond the grades: the late policy, the roster, similarity's findings."""

    policy: LatePolicy | None = None
    roster: Roster | None = None
    missing: list[str] = field(default_factory=list)  # roster students with no submission (set when written)


def gradebook(results: list[StudentResult], practices: list[int], policy: LatePolicy | None = None) -> str:
    """gradebook.csv's text (see ``gradebook.columns``), sorted by id, no timings."""
    return gradebook_csv.text(results, practices, policy)


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


def report_html(
    results: list[StudentResult],
    manifest: dict[str, Any],
    practice_stats: list[stats.PracticeStats] | None = None,
    options: ClassOptions | None = None,
    similarity: dict[str, Any] | None = None,
) -> str:
    """report.html: statuses, score distribution, per-practice statistics and histograms, the hardest tests,
    per-test pass rates, late and missing students, files not graded, similar pairs, slowest, who needs a look."""
    options = options or ClassOptions()
    parts = _html_head(results, manifest)
    parts += _status_table(results)
    parts += _score_distribution(results)
    parts += _practice_section(practice_stats or [], len(results))
    parts += _late_section(results, options.policy)
    parts += _missing_section(options)
    parts += _unmatched_section(results)
    parts += _similarity_section(similarity)
    parts += _pass_rates(results)
    parts += _slowest(results)
    parts += _needs_a_look(results)
    parts.append("</table></body></html>")
    return "\n".join(parts)


def _practice_section(practice_stats: list[stats.PracticeStats], students: int) -> list[str]:
    """Per practice: mean, median, min/max, a 10-bin distribution, its histogram PNG and its hardest tests."""
    e = html.escape
    if not practice_stats:
        return []
    parts = [
        "<h2>Per-practice statistics</h2><p>Over the students who handed the practice in.</p><table>",
        "<tr><th>practice</th><th>handed in</th><th>max</th><th>mean</th><th>median</th><th>min</th>"
        "<th>max scored</th><th>distribution (10 bins, 0 to max)</th></tr>",
    ]
    for item in practice_stats:
        low, high = (min(item.scores), max(item.scores)) if item.scores else (0.0, 0.0)
        parts.append(
            f"<tr><td>{item.practice} {e(item.title)}</td><td class=num>{len(item.scores)}/{students}</td>"
            f"<td class=num>{item.maximum:g}</td><td class=num>{item.mean:.2f}</td>"
            f"<td class=num>{item.median:.2f}</td><td class=num>{low:g}</td><td class=num>{high:g}</td>"
            f"<td>{' '.join(str(count) for count in item.bins())}</td></tr>"
        )
    parts.append("</table>")
    for item in practice_stats:
        parts.append(f"<h3>Practice {item.practice} - {e(item.title)}</h3>")
        parts.append(f"<p><img src='{e(item.png)}' alt='score histogram of practice {item.practice}'></p>")
        if not item.hardest:
            parts.append("<p>Hardest tests: none (every graded test was passed by everyone who handed it in).</p>")
            continue
        parts.append("<table><tr><th>hardest tests</th><th>name</th><th>passed</th><th>rate</th></tr>")
        parts += [
            f"<tr><td>{e(test.number)}</td><td>{e(test.name)}</td><td class=num>{passed}/{graded}</td>"
            f"<td class=num>{100 * passed / graded:.0f} %</td></tr>"
            for test, passed, graded in item.hardest
        ]
        parts.append("</table>")
    return parts


def _late_section(results: list[StudentResult], policy: LatePolicy | None) -> list[str]:
    """The late policy in words and every student it touches (late, or counted without a known time)."""
    e = html.escape
    if policy is None:
        return []
    rule = policy.describe()
    parts = [
        f"<h2>Late policy</h2><p>Due {e(rule['due'])}; {policy.per_day_pct:g} % per started day, at most "
        f"{policy.cap_pct:g} %. The gradebook's <code>total</code> is the raw score, <code>final</code> the score "
        "after the penalty.</p><table><tr><th>student</th><th>submitted</th><th>days late</th><th>penalty</th>"
        "<th>raw</th><th>final</th><th>note</th></tr>"
    ]
    for result in sorted(results, key=lambda r: r.id):
        late = gradebook_csv.lateness(result, policy)
        if not late.days and not late.note:
            continue
        final = gradebook_csv.final(result, policy)
        parts.append(
            f"<tr><td>{e(result.id)}</td><td>{e(late.submitted_at)}</td><td class=num>{late.days}</td>"
            f"<td class=num>{late.penalty_pct:g} %</td><td class=num>{result.score:g}</td>"
            f"<td class=num>{final:g}</td><td>{e(late.note)}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _missing_section(options: ClassOptions) -> list[str]:
    """Roster students who handed in nothing (left empty in the import file)."""
    e = html.escape
    if options.roster is None:
        return []
    roster = options.roster
    students = roster.students()
    parts = [
        f"<h2>Missing: on the roster, nothing handed in ({len(options.missing)})</h2>"
        f"<p>Their grade is left empty in {e(roster.out_name)}.</p><table><tr><th>id</th><th>name</th></tr>"
    ]
    for sid in options.missing:
        parts.append(f"<tr><td>{e(sid)}</td><td>{e(rosters.display_name(roster, students[sid]))}</td></tr>")
    parts.append("</table>")
    return parts


def _unmatched_section(results: list[StudentResult]) -> list[str]:
    """Files a student handed in that no practice claimed (also in their feedback.md)."""
    e = html.escape
    rows = [(r, r.submission.get("unmatched") or []) for r in sorted(results, key=lambda r: r.id)]
    rows = [(r, files) for r, files in rows if files]
    if not rows:
        return []
    parts = ["<h2>Files not graded</h2><p>Handed in, but no practice claimed them.</p><table>"]
    parts += [
        f"<tr><td><a href='{e(result_folder(r.id))}/feedback.md'>{e(r.id)}</a></td>"
        f"<td>{e(', '.join(files[:20]))}{' ...' if len(files) > 20 else ''}</td></tr>"
        for r, files in rows
    ]
    parts.append("</table>")
    return parts


def _similarity_section(similarity: dict[str, Any] | None) -> list[str]:
    """OUT/similarity.json's pairs, linked to similarity.html; flags for a human, never a grade change."""
    e = html.escape
    if similarity is None:
        return []
    pairs = sorted(similarity.get("pairs", []), key=lambda p: (-float(p.get("similarity", 0)), p.get("practice", 0)))
    parts = [
        "<h2>Similar submissions (for a human to look at; grades unchanged)</h2>",
        f"<p>{e(str(similarity.get('tool', '')))}, threshold {float(similarity.get('threshold', 0)):.2f}; "
        f"{len(pairs)} pair(s). Matching regions: <a href='similarity.html'>similarity.html</a>.</p>",
        "<table><tr><th>practice</th><th>student</th><th>student</th><th>similarity</th><th>regions (lines)</th></tr>",
    ]
    for pair in pairs:
        regions = "; ".join(_region(r) for r in pair.get("regions", [])[:5])
        parts.append(
            f"<tr><td>{int(pair.get('practice', 0))}</td><td>{e(_who(pair, 'a'))}</td><td>{e(_who(pair, 'b'))}</td>"
            f"<td class=num>{100 * float(pair.get('similarity', 0)):.0f} %</td><td>{e(regions)}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _region(region: dict[str, Any]) -> str:
    """'a_start-a_end / b_start-b_end' of a matching region ("?" for a malformed one: the report still renders)."""
    try:
        return f"{region['a_lines'][0]}-{region['a_lines'][1]} / {region['b_lines'][0]}-{region['b_lines'][1]}"
    except (KeyError, IndexError, TypeError):
        return "?"


def _who(pair: dict[str, Any], side: str) -> str:
    """'name (id)' of one side of a similar pair."""
    name, sid = pair.get(f"{side}_name") or "", str(pair.get(side, ""))
    return f"{name} ({sid})" if name else sid


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


def write_class_files(
    out: Path,
    results: list[StudentResult],
    practices: list[int],
    manifest: dict[str, Any],
    options: ClassOptions | None = None,
) -> None:
    """gradebook.csv (UTF-8 with a BOM), the LMS import file, the histograms, report.html and manifest.json."""
    options = options or ClassOptions()
    # a roster's display name ("Lin, Jiahao") beats the one a download's file names carry ("linjiahao")
    names = rosters.names(options.roster) if options.roster is not None else {}
    text = gradebook_csv.text(results, practices, options.policy, names)
    atomic_write(out / "gradebook.csv", text.encode(gradebook_csv.ENCODING))
    if options.roster is not None:
        finals = {r.id: (gradebook_csv.final(r, options.policy), r.max_score) for r in results}
        data, options.missing = rosters.import_file(options.roster, finals)
        atomic_write(out / options.roster.out_name, data)
    practice_stats = stats.practice_stats(results, practices)
    for item in practice_stats:
        stats.histogram(item, out, len(results))
    similarity = _similarity(out)
    atomic_write(out / "report.html", report_html(results, manifest, practice_stats, options, similarity))
    manifest = {**manifest, **_manifest_extras(options), "students": _manifest_students(results)}
    atomic_write(out / "manifest.json", json.dumps(manifest, indent=1, default=str, ensure_ascii=False))


def _manifest_extras(options: ClassOptions) -> dict[str, Any]:
    """The late rule and the roster, as manifest.json records them."""
    extras: dict[str, Any] = {"late_policy": options.policy.describe() if options.policy else None}
    if options.roster is not None:
        roster = options.roster
        extras["roster"] = {
            "file": str(roster.path),
            "lms": roster.lms,
            "score_column": roster.header[roster.score_column],
            "maximum": roster.maximum,
            "import_file": roster.out_name,
            "missing": options.missing,
        }
    return extras


def _manifest_students(results: list[StudentResult]) -> list[dict[str, Any]]:
    """Each student's folder, hashes, status and score."""
    return [
        {
            "id": r.id,
            "name": r.submission.get("name", ""),
            "folder": result_folder(r.id),
            "submission_hash": r.submission["hash"],
            "result_key": r.key,
            "status": r.status,
            "score": r.score,
            "max": r.max_score,
        }
        for r in sorted(results, key=lambda r: r.id)
    ]


def _similarity(out: Path) -> dict[str, Any] | None:
    """OUT/similarity.json (written by ``python -m grader similarity``), or None when absent or unreadable."""
    try:
        data = json.loads((out / "similarity.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pairs", []), list):
        return None
    # a pair the report cannot read is left out rather than failing the class files
    data["pairs"] = [pair for pair in data.get("pairs", []) if isinstance(pair, dict) and _numeric(pair)]
    if not _numeric({"similarity": data.get("threshold", 0)}):
        data["threshold"] = 0.0
    return data


def _numeric(pair: dict[str, Any]) -> bool:
    """Whether a similar pair's practice and similarity are numbers."""
    try:
        int(pair.get("practice", 0))
        float(pair.get("similarity", 0))
    except (TypeError, ValueError):
        return False
    return True
