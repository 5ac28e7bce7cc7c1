"""Cluster grading throughput: one class graded with 1, 2 and 3 local ``python -m grader worker`` processes.

    .venv/bin/python benchmarks/cluster_throughput.py [--count 12] [--workers 1,2,3] [--out results.md]

The class is ``--count`` copies of the Practice 5 reference solution (a unique comment each, so no two
share a content hash), graded ``--practices 5``. First locally with ``--jobs 1``, then through a Dask
scheduler on 127.0.0.1 with N workers of one thread each (fresh workers and a fresh OUT per N, so each
run pays its trusted runs and warm-ups). Reported per run: the wall time of the command, the grading
time (``manifest.json``'s ``run.grading_s``: from the first task to the last student recorded) and
submissions per minute of grading. The engine's overhead per submission is the cluster's grading time
with one worker minus the local ``--jobs 1`` grading time, divided by the class size: what Dask, the
task round trips and the worker's queue add to the same sandboxed work. All the workers share this
machine's cores, so more workers than cores cannot go faster; the core count is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / "practice5" / "profile_parser.py"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "cluster_throughput.md"


def make_class(root: Path, count: int) -> Path:
    """``count`` copies of the reference, each with its own comment."""
    text = SOLUTION.read_text(encoding="utf-8")
    subs = root / "submissions"
    for index in range(count):
        folder = subs / f"s{index:03d}" / "practice5"
        folder.mkdir(parents=True)
        (folder / "profile_parser.py").write_text(text + f"\n# copy {index}\n", encoding="utf-8")
    return subs


def batch(subs: Path, out: Path, *options: str) -> dict[str, Any]:
    """One batch run: its wall time and what its manifest says it spent grading."""
    command = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--practices", "5", *options]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the batch failed ({' '.join(options)}):\n{done.stderr[-3000:]}")
    run = json.loads((out / "manifest.json").read_text())["run"]
    return {"wall_s": wall, "grading_s": float(run["grading_s"]), "trusted_s": run.get("trusted_run_s")}


def start_scheduler(root: Path) -> tuple[subprocess.Popen, str]:
    """A scheduler on 127.0.0.1 and its address."""
    file = root / "scheduler.json"
    command = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--scheduler-file", str(file), "--no-dashboard"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if file.exists() and file.stat().st_size:
            return process, json.loads(file.read_text())["address"]
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the scheduler did not start")


def start_workers(address: str, count: int) -> list[subprocess.Popen]:
    """``count`` grading workers of one thread each, joined."""
    from distributed import Client

    env = {k: v for k, v in os.environ.items() if k != "TRTLAB_WORKER_TIERS"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "grader", "worker", address, "--name", f"w{n}"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for n in range(count)
    ]
    with Client(address, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=180)
    return workers


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process we started, then wait."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(count: int, worker_counts: list[int]) -> dict[str, Any]:
    """Local ``--jobs 1`` and the cluster with each number of workers."""
    root = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    try:
        subs = make_class(root, count)
        print("local --jobs 1 ...", file=sys.stderr)
        runs: dict[str, Any] = {"local": batch(subs, root / "out-local", "--jobs", "1")}
        scheduler, address = start_scheduler(root)
        try:
            for workers in worker_counts:
                print(f"cluster, {workers} worker(s) ...", file=sys.stderr)
                started = start_workers(address, workers)
                try:
                    runs[f"cluster-{workers}"] = batch(subs, root / f"out-{workers}", "--cluster", address)
                finally:
                    stop(started)
        finally:
            stop([scheduler])
        return runs
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(count: int, runs: dict[str, Any], load: tuple[float, float]) -> str:
    """The results as Markdown (``load``: the 1-minute load average before and after: others' work skews it)."""
    import distributed

    cores = os.cpu_count()
    lines = [
        "# Cluster grading throughput (`python -m grader batch --cluster`)",
        "",
        f"Command: `.venv/bin/python benchmarks/cluster_throughput.py --count {count}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d}, {platform.machine()} Linux with **{cores} CPU cores** (every "
        f"worker shares them), Python {platform.python_version()}, distributed {distributed.__version__}. The "
        f"class: {count} copies of the Practice 5 reference (CPU tier only here: no GPU-tier worker). Load "
        f"average before/after: {load[0]:.1f}/{load[1]:.1f} (anything above 0 is other work sharing the cores).",
        "",
        "| run | wall (s) | grading (s) | submissions/min (grading) | trusted run (s) |",
        "|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        rate = 60.0 * count / run["grading_s"] if run["grading_s"] else float("inf")
        label = "local, --jobs 1" if name == "local" else f"cluster, {name.split('-')[1]} worker(s) x 1 thread"
        trusted = "" if run["trusted_s"] is None else f"{run['trusted_s']:.1f}"
        lines.append(f"| {label} | {run['wall_s']:.1f} | {run['grading_s']:.1f} | {rate:.1f} | {trusted} |")
    if "cluster-1" in runs:
        overhead = (runs["cluster-1"]["grading_s"] - runs["local"]["grading_s"]) / count
        what = (
            "Dask's task round trip, the worker's queue and polling, and the worker's one warm-up trusted run, "
            "spread over the class"
        )
        if overhead <= 0:
            what = f"no measurable cost: the one-worker cluster was faster, within the noise of a shared machine; {what} are hidden in it"
        lines += [
            "",
            f"**Engine overhead:** {overhead:+.2f} s per submission (cluster with one worker against local "
            f"`--jobs 1`, grading time): {what}.",
        ]
    lines += [
        "",
        f"With {cores} cores, workers beyond {cores} only share the same CPUs: the speed-up of a real lab comes "
        "from one worker per machine (each Jetson grades its own share of the GPU tier).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Measure and write the Markdown file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    before = os.getloadavg()[0]
    runs = measure(args.count, [int(n) for n in args.workers.split(",")])
    text = report(args.count, runs, (before, os.getloadavg()[0]))
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
