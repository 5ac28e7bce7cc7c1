"""Batch grading throughput: submissions per minute with ``--jobs 1`` and ``--jobs 2``, and what dominates.

    .venv/bin/python benchmarks/batch_throughput.py [--count 10] [--jobs 1,2] [--mix solution|stub|class]
                                                   [--practices 1,2,3,4,5] [--json out.json]

Each submission is a copy of the reference solution (``--mix solution``: every test runs to the end,
the slowest realistic case), of the stubs, or a class-like mix (``class``: 60 % solutions, 20 %
stubs, 20 % Practice-5-only), every copy with a unique comment so no two share a content hash. The
trusted reference run and the workers' start are timed apart from grading; per-practice time comes
from the tests' own durations, the rest of a submission's time is sandbox and pytest overhead.
Finally the unchanged batch is run again (the regrade check: nothing is graded). Targets (issue:
batch grading): 100 CPU-tier submissions in <= 10 minutes on 2 cores, i.e. >= 10 per minute.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.practices import PRACTICES  # noqa: E402

TARGET_PER_MINUTE = 10.0


def make_class(root: Path, count: int, mix: str, practices: list[int]) -> Path:
    """``count`` submissions in ``root/submissions``."""
    subs = root / "submissions"
    for index in range(count):
        if mix == "class":
            kind = "solution" if index % 5 < 3 else ("stub" if index % 5 == 3 else "p5only")
        else:
            kind = mix
        for number in practices:
            if kind == "p5only" and number != 5:
                continue
            tree = "assignments" if kind == "stub" else "solutions"
            source = REPO / tree / f"practice{number}" / PRACTICES[number].student_file
            target = subs / f"student{index:03d}" / f"practice{number}" / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text(encoding="utf-8") + f"\n# submission {index}\n", encoding="utf-8")
    return subs


def run_batch(subs: Path, out: Path, jobs: int, practices: list[int]) -> tuple[float, dict]:
    """One batch; its wall time and manifest."""
    command = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--jobs", str(jobs)]
    command += ["--practices", ",".join(map(str, practices))]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"batch failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return wall, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def breakdown(out: Path) -> dict[str, float]:
    """Mean seconds per submission: each practice's tests, and the rest (sandbox, pytest, fixtures' overhead)."""
    per: dict[str, float] = defaultdict(float)
    students = [p for p in out.iterdir() if (p / "result.json").is_file()]
    for folder in students:
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        tests = sum(t["duration"] for t in result["tests"])
        for test in result["tests"]:
            per[f"practice{test['practice']}"] += test["duration"]
        per["outside tests"] += max(0.0, result["duration_s"] - tests)
        per["total"] += result["duration_s"]
    return {key: round(value / max(1, len(students)), 2) for key, value in sorted(per.items())}


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--mix", choices=("solution", "stub", "class"), default="solution")
    parser.add_argument("--practices", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from grader.batch.trusted import available_practices

    practices = [int(p) for p in args.practices.split(",")] if args.practices else available_practices(REPO)
    rows = []
    with tempfile.TemporaryDirectory(prefix="trtlab-bench-") as scratch:
        subs = make_class(Path(scratch), args.count, args.mix, practices)
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out = Path(scratch) / f"out-jobs{jobs}"
            wall, manifest = run_batch(subs, out, jobs, practices)
            run = manifest["run"]
            regrade_wall, regrade = run_batch(subs, out, jobs, practices)
            grading = run.get("grading_s") or wall
            row = {
                "jobs": jobs,
                "submissions": args.count,
                "mix": args.mix,
                "wall_s": round(wall, 1),
                "trusted_run_s": run.get("trusted_run_s"),
                "workers_start_s": run.get("workers_start_s"),
                "grading_s": grading,
                "per_minute": round(60 * args.count / grading, 2),
                "minutes_for_100": round(100 * grading / args.count / 60, 1),
                "per_submission": breakdown(out),
                "unchanged_rerun_s": round(regrade_wall, 1),
                "unchanged_rerun_graded": regrade["run"]["graded_now"],
            }
            rows.append(row)
            shutil.rmtree(out, ignore_errors=True)
    print(f"{'jobs':>4} {'n':>4} {'grading s':>10} {'per min':>8} {'100 in':>8} {'rerun s':>8}  per submission (s)")
    for row in rows:
        parts = ", ".join(f"{k} {v}" for k, v in row["per_submission"].items())
        print(
            f"{row['jobs']:>4} {row['submissions']:>4} {row['grading_s']:>10} {row['per_minute']:>8} "
            f"{row['minutes_for_100']:>6}m {row['unchanged_rerun_s']:>8}  {parts}"
        )
    best = max(row["per_minute"] for row in rows)
    verdict = "meets" if best >= TARGET_PER_MINUTE else "misses"
    print(f"Best: {best} submissions/min; target {TARGET_PER_MINUTE}/min (100 in 10 min): {verdict} it.")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
