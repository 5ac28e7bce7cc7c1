"""Student self-check speed: `pytest solutions/practiceN`, cold (empty artifact cache) and warm.

    .venv/bin/python benchmarks/selfcheck_speed.py [--json out.json] [--compare previous.json] [--practices 1,2]

Each run is a fresh pytest process (what a student types); wall time and the peak memory of
that process are measured from a small parent process of its own. Targets (issue: grading
speed): warm <= 15 s per practice; cold <= 90 s for the first practice run on a new machine.
Run it on an otherwise idle machine: on 2 cores any other load slows torch several-fold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WARM_TARGET_S = 15.0
COLD_TARGET_S = 90.0

# Runs pytest in a child and prints "<seconds> <peak RSS KiB> <exit code>": RUSAGE_CHILDREN of this
# small parent sees exactly that one child.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def measure(practice: int, cache_dir: Path) -> dict[str, float]:
    """One self-check of solutions/practiceN with the given artifact cache."""
    env = {**os.environ, "TRTLAB_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "pytest", f"solutions/practice{practice}", "-q", "-p", "no:cacheprovider"]
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    seconds, peak_kib, code = float(out[0]), int(out[1]), int(out[2])
    return {"seconds": round(seconds, 2), "peak_mib": round(peak_kib / 1024, 1), "exit_code": code}


def main() -> int:
    """Measure, print the table, compare with targets and an earlier run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the measurements here")
    parser.add_argument("--compare", help="an earlier --json file to compare with")
    parser.add_argument("--practices", default="1,2,3,4,5")
    args = parser.parse_args()
    practices = [int(p) for p in args.practices.split(",") if (REPO / "solutions" / f"practice{p}").is_dir()]
    rows: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="trtlab-bench-") as scratch:
        for practice in practices:
            cold_cache = Path(scratch) / f"cold-{practice}"  # each practice starts from an empty cache
            cold = measure(practice, cold_cache)
            warm = measure(practice, cold_cache)
            rows[str(practice)] = {"cold": cold, "warm": warm}
    previous = json.loads(Path(args.compare).read_text())["practices"] if args.compare else {}
    print(
        f"{'practice':>8} {'cold s':>7} {'warm s':>7} {'cold MiB':>9} {'warm MiB':>9}  warm<= {WARM_TARGET_S:g}s  cold<= {COLD_TARGET_S:g}s  vs previous warm"
    )
    ok = True
    for practice, row in rows.items():
        warm_ok = row["warm"]["seconds"] <= WARM_TARGET_S
        cold_ok = row["cold"]["seconds"] <= COLD_TARGET_S
        ok &= warm_ok and cold_ok and row["warm"]["exit_code"] == 0
        before = previous.get(practice, {}).get("warm", {}).get("seconds")
        delta = f"{row['warm']['seconds'] - before:+.2f} s" if before is not None else "-"
        print(
            f"{practice:>8} {row['cold']['seconds']:7.2f} {row['warm']['seconds']:7.2f} {row['cold']['peak_mib']:9.0f} "
            f"{row['warm']['peak_mib']:9.0f}  {'met' if warm_ok else 'MISSED':>9}  {'met' if cold_ok else 'MISSED':>9}  {delta}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "practices": rows}, indent=1)
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
