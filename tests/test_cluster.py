"""Grading a class across machines: ``python -m grader batch --cluster`` on a Dask scheduler and
``python -m grader worker`` processes on 127.0.0.1, one of them advertising the GPU tier through the
documented test setting ``TRTLAB_WORKER_TIERS``. Practice 5 only: its CPU tier is fast and three of its
tests are of the GPU tier (``requires("tensorrt", "gpu", "trtexec")``), so both tiers are routed.

One scheduler with two CPU workers and one GPU-tier worker serves the module; a class of four (the
reference, the stub, one mistake, a slow reference) is graded once locally to compare with. Checked:
GPU-tier work lands only on the GPU-tier worker and CPU-tier work on both CPU workers; the cluster's
gradebook is the local one byte for byte, also after a worker is SIGKILLed while it grades and after
an interrupted batch is resumed (nothing done is graded again); a worker from a copy of the repository
with one suite file changed is refused with the clear line; without a GPU-tier worker the batch says
once that the GPU tier is not graded, and the points are the local ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.commands.batch.cluster import merge_reports, merge_suites
from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.remote import batch_identity, mismatch
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.trusted import TestInfo, TrustedSuite
from grader.commands.worker import TIERS_ENV, probe_tiers
from grader.core.paths import REPO
from tests.conftest import mutate, run_batch

SOLUTION = REPO / "solutions" / "practice5" / "profile_parser.py"
STUB = REPO / "assignments" / "practice5" / "profile_parser.py"
SUITE = REPO / "grader" / "practices" / "practice5" / "suite.py"
SLOW_S = 4  # the slow student sleeps this long when imported: a window to kill its worker in
START_TIMEOUT_S = 120


def _class_files() -> dict[str, str]:
    """The class: the reference, the stub, one mistake, the reference that takes a while to import."""
    text = SOLUTION.read_text(encoding="utf-8")
    return {
        "1001": text,
        "1002": STUB.read_text(encoding="utf-8"),
        "1003": mutate(text, '"Half": "FP16",', '"Half": "FP32",'),
        "1004": text + f"\nimport time as _time\n\n_time.sleep({SLOW_S})\n",
    }


def _write_class(root: Path, files: dict[str, str]) -> Path:
    """One folder per student with practice5/profile_parser.py."""
    for sid, text in files.items():
        (root / sid / "practice5").mkdir(parents=True)
        (root / sid / "practice5" / "profile_parser.py").write_text(text, encoding="utf-8")
    return root


def _start(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.Popen:
    """A background process (its own session), its output in ``log``."""
    with open(log, "wb") as handle:
        return subprocess.Popen(
            command, cwd=cwd, env=env or os.environ.copy(), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    """End one process we started (SIGTERM, then SIGKILL)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _start_scheduler(root: Path, processes: list[subprocess.Popen]) -> str:
    """A Dask scheduler on 127.0.0.1 (any free port); its address, read from its scheduler file."""
    file = root / "scheduler.json"
    command = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--scheduler-file", str(file), "--no-dashboard"]  # fmt: skip
    processes.append(_start(command, root / "scheduler.log"))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if file.exists():
            try:
                return str(json.loads(file.read_text())["address"])
            except (ValueError, KeyError):
                pass
        assert processes[-1].poll() is None, (root / "scheduler.log").read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError("the scheduler wrote no scheduler file")


def _start_worker(
    root: Path,
    address: str,
    name: str,
    processes: list[subprocess.Popen],
    *,
    tiers: str = "",
    nthreads: int = 1,
    cwd: Path = REPO,
) -> Path:
    """``python -m grader worker`` named ``name`` with its own TMPDIR (returned: its workspaces lie there)."""
    tmp = root / f"tmp-{name}"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != TIERS_ENV} | {"TMPDIR": str(tmp)}
    if tiers:
        env[TIERS_ENV] = tiers
    command = [sys.executable, "-m", "grader", "worker", address, "--name", name, "--nthreads", str(nthreads)]
    processes.append(_start(command, root / f"{name}.log", env, cwd))
    return tmp


def _wait_for_workers(address: str, names: set[str]) -> None:
    """Until every named worker has joined the scheduler."""
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            joined = {info.get("name") for info in client.scheduler_info(n_workers=-1)["workers"].values()}
            if names <= joined:
                return
            time.sleep(0.3)
    raise AssertionError(f"workers {sorted(names)} did not all join {address}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A scheduler, CPU workers cpu-a and cpu-b, GPU-tier worker gpu-g (the test setting); all stopped after."""
    root = tmp_path_factory.mktemp("cluster")
    processes: list[subprocess.Popen] = []
    try:
        address = _start_scheduler(root, processes)
        _start_worker(root, address, "cpu-a", processes)
        _start_worker(root, address, "cpu-b", processes)
        _start_worker(root, address, "gpu-g", processes, tiers="gpu")
        _wait_for_workers(address, {"cpu-a", "cpu-b", "gpu-g"})
        yield {"root": root, "address": address, "processes": processes}
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture(scope="module")
def graded_locally(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The class and its gradebook from a local batch."""
    root = tmp_path_factory.mktemp("local")
    subs = _write_class(root / "subs", _class_files())
    done = run_batch(subs, root / "out", "--practices", "5", "--jobs", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return {"subs": subs, "gradebook": (root / "out" / "gradebook.csv").read_bytes(), "out": root / "out"}


def _cluster_batch(subs: Path, out: Path, address: str) -> subprocess.CompletedProcess[str]:
    """The same batch, graded by the cluster."""
    return run_batch(subs, out, "--practices", "5", "--cluster", address)


def _graded_on(out: Path) -> dict[str, dict[str, str]]:
    """Where each student's tiers ran, from manifest.json."""
    return json.loads((out / "manifest.json").read_text())["cluster"]["graded_on"]


def test_tiers_are_routed_by_resources_and_the_gradebook_is_the_local_one(
    cluster: dict[str, Any], graded_locally: dict[str, Any]
) -> None:
    """GPU-tier tasks only on gpu-g, CPU-tier tasks on both CPU workers, and the local gradebook byte for byte."""
    out = cluster["root"] / "out-routed"
    done = _cluster_batch(graded_locally["subs"], out, cluster["address"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "gradebook.csv").read_bytes() == graded_locally["gradebook"]
    where = _graded_on(out)
    assert set(where) == {"1001", "1002", "1003", "1004"}
    assert {tiers["gpu"] for tiers in where.values()} == {"gpu-g"}
    assert {tiers["cpu"] for tiers in where.values()} == {"cpu-a", "cpu-b"}
    assert "cpu 4/4, gpu 4/4 done" in done.stderr
    for sid in where:  # the merged result is the local one: same tests, same points
        local = json.loads((graded_locally["out"] / sid / "result.json").read_text())
        remote = json.loads((out / sid / "result.json").read_text())
        assert [(t["nodeid"], t["score"], t["status"]) for t in remote["tests"]] == [
            (t["nodeid"], t["score"], t["status"]) for t in local["tests"]
        ]


def test_a_worker_killed_while_it_grades_loses_nothing(cluster: dict[str, Any], graded_locally: dict[str, Any]) -> None:
    """SIGKILL a worker once a submission runs in its sandbox: Dask grades it again elsewhere, same gradebook."""
    root, address = cluster["root"], cluster["address"]
    tmp = _start_worker(root, address, "cpu-k", cluster["processes"], nthreads=2)
    victim = cluster["processes"][-1]
    _wait_for_workers(address, {"cpu-k"})
    out = root / "out-killed"
    command = [sys.executable, "-m", "grader", "batch", str(graded_locally["subs"]), "--out", str(out),
               "--practices", "5", "--cluster", address]  # fmt: skip
    batch = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        running: list[Path] = []
        deadline = time.monotonic() + 240
        while not running and time.monotonic() < deadline and batch.poll() is None:
            # a student's workspace (<id>.cpu.<n>), not the isolation probe's
            running = [p for p in tmp.glob("trtlab-worker-*/batch/ws/*") if ".cpu." in p.name]
            time.sleep(0.05)
        assert running, "no submission ran on cpu-k"
        os.kill(victim.pid, signal.SIGKILL)
        _, stderr = batch.communicate(timeout=300)
    finally:
        _stop(batch)
    assert batch.returncode == 0, stderr[-3000:]
    assert (out / "gradebook.csv").read_bytes() == graded_locally["gradebook"]
    student = running[0].name.split(".")[0]
    assert _graded_on(out)[student]["cpu"] in {"cpu-a", "cpu-b"}, (student, _graded_on(out))


def test_an_interrupted_cluster_batch_resumes_without_regrading(
    cluster: dict[str, Any], graded_locally: dict[str, Any]
) -> None:
    """Ctrl-C after the first student: the rerun grades only the others; the finished ones stay byte for byte."""
    out = cluster["root"] / "out-resumed"
    command = [sys.executable, "-m", "grader", "batch", str(graded_locally["subs"]), "--out", str(out),
               "--practices", "5", "--cluster", cluster["address"]]  # fmt: skip
    batch = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert batch.stderr is not None
        for line in batch.stderr:
            if re.match(r"\[1/4\] ", line):
                break
        batch.send_signal(signal.SIGINT)
        _, stderr = batch.communicate(timeout=120)
    finally:
        _stop(batch)
    assert batch.returncode == 130, stderr[-3000:]
    kept = {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")}
    assert 1 <= len(kept) < 4, sorted(kept)
    done = _cluster_batch(graded_locally["subs"], out, cluster["address"])
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["graded_now"] == 4 - len(kept)
    assert set(manifest["cluster"]["graded_on"]) == {"1001", "1002", "1003", "1004"} - set(kept)
    assert {sid: (out / sid / "result.json").read_bytes() for sid in kept} == kept
    assert (out / "gradebook.csv").read_bytes() == graded_locally["gradebook"]


def test_another_suite_is_refused_and_no_gpu_tier_is_said_once(tmp_path: Path, graded_locally: dict[str, Any]) -> None:
    """A scheduler with one good CPU worker and one from a copy with a changed suite file: refused, clearly;
    no GPU-tier worker: said once, and the student's points are the local batch's (GPU tier not graded)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("grader", "assignments", "solutions", "calib_images", "eval_images", "real_files"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    changed = copy / SUITE.relative_to(REPO)
    changed.write_text(SUITE.read_text(encoding="utf-8") + "\n# one changed line\n", encoding="utf-8")
    processes: list[subprocess.Popen] = []
    try:
        address = _start_scheduler(tmp_path, processes)
        _start_worker(tmp_path, address, "good", processes)
        _start_worker(tmp_path, address, "other-suite", processes, cwd=copy)
        _wait_for_workers(address, {"good", "other-suite"})
        subs = _write_class(tmp_path / "subs", {"1003": _class_files()["1003"]})
        done = _cluster_batch(subs, tmp_path / "out", address)
    finally:
        for process in reversed(processes):
            _stop(process)
    assert done.returncode == 0, done.stderr[-3000:]
    refused = [line for line in done.stderr.splitlines() if "refused" in line]
    assert len(refused) == 1 and "worker other-suite has grader" in refused[0], done.stderr[-3000:]
    assert "install the same commit on that machine" in refused[0]
    assert done.stderr.count("no worker of the cluster has the GPU tier") == 1
    assert _graded_on(tmp_path / "out") == {"1003": {"cpu": "good"}}
    local = json.loads((graded_locally["out"] / "1003" / "result.json").read_text())
    remote = json.loads((tmp_path / "out" / "1003" / "result.json").read_text())
    assert (remote["score"], remote["max_score"]) == (local["score"], local["max_score"])
    assert [t["status"] for t in remote["tests"]] == [t["status"] for t in local["tests"]]


# ------------------------------------------------------------------ units: no cluster


def test_grade_tier_runs_one_tier_of_practice5() -> None:
    """``--grade-tier gpu`` collects exactly the tests that require the board; ``cpu`` the others."""
    board = len(re.findall(r'@pytest\.mark\.requires\("tensorrt", "gpu", "trtexec"\)', SUITE.read_text()))
    counts = {}
    for tier in ("gpu", "cpu", ""):
        command = [sys.executable, "-m", "pytest", "solutions/practice5", "--co", "-q", "-p", "no:cacheprovider",
                   *(["--grade-tier", tier] if tier else [])]  # fmt: skip
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
        found = re.search(r"(\d+)(?:/\d+)? tests collected", done.stdout)
        assert found, done.stdout[-2000:]
        counts[tier] = int(found.group(1))
    assert board > 0 and counts["gpu"] == board
    assert counts["cpu"] + counts["gpu"] == counts[""]


def test_the_probe_and_the_test_setting() -> None:
    """Without the setting the tiers are what this machine has; the setting forces them; a bad value is one line."""
    from grader.backends import requirements

    saved = os.environ.pop(TIERS_ENV, None)
    try:
        tiers, facts = probe_tiers()
        gpu = all(requirements.capability(n).available for n in ("tensorrt", "gpu", "pycuda", "trtexec"))
        assert tiers == (["cpu", "gpu"] if gpu else ["cpu"]) and set(facts) >= {"tensorrt", "gpu", "dla"}
        os.environ[TIERS_ENV] = "gpu,cpu"
        assert probe_tiers()[0] == ["cpu", "gpu"]
        os.environ[TIERS_ENV] = "tpu"
        with pytest.raises(SystemExit, match=f"{TIERS_ENV}='tpu': expected tiers among cpu,gpu"):
            probe_tiers()
    finally:
        os.environ.pop(TIERS_ENV, None)
        if saved is not None:
            os.environ[TIERS_ENV] = saved


def test_mismatch_names_the_worker_and_both_suites() -> None:
    """The refusal line: the worker's name, what it has, what the batch needs, what to do."""
    needed = batch_identity([5], 2)
    assert mismatch("board-7", dict(needed), needed) == ""
    other = needed | {"suite_hash": "f" * 64}
    line = mismatch("board-7", other, needed)
    assert line.startswith("worker board-7 has grader ") and f"suite {'f' * 12}" in line
    assert f"the batch needs grader {needed['version']} / suite {needed['suite_hash'][:12]}" in line
    assert line.endswith("install the same commit on that machine")


def _info(nodeid: str, index: int, tier: str, not_graded: str = "") -> TestInfo:
    """A test of practice 5 worth 1 point."""
    return TestInfo(nodeid, nodeid, 5, 1.0, "visible", index, not_graded, tier=tier)


def test_merge_suites_takes_each_tier_from_its_own_run() -> None:
    """CPU tests from the CPU run, GPU tests from the GPU run (its verdict, not the CPU run's skip), in order."""
    cpu = TrustedSuite("h", [_info("a", 0, "cpu"), _info("g", 1, "gpu", "not graded"), _info("c", 2, "cpu")],
                       {"ran": "solutions", "practices": {"5": {"score": 2.0, "max": 2.0}}}, ["w1"])  # fmt: skip
    gpu = TrustedSuite("h", [_info("g", 1, "gpu")], {"practices": {"5": {"score": 1.0, "max": 1.0}}}, ["w1", "w2"])
    merged = merge_suites(cpu, gpu)
    assert [(t.nodeid, t.not_graded) for t in merged.tests] == [("a", ""), ("g", ""), ("c", "")]
    assert merged.reference["practices"]["5"] == {"score": 3.0, "max": 3.0}
    assert merged.warnings == ["w1", "w2"]


def test_merge_reports_keeps_both_results_and_the_abnormal_ending() -> None:
    """The GPU tier timed out: the merged report has both tiers' results, that ending, each note once."""
    ok = WorkerReport(results={"a": {"x": 1}}, done={"exitstatus": 0}, exit_status=0, notes=["n1"],
                      output_head=b"cpu out", output_total=7, duration_s=1.0, peak_rss=10)  # fmt: skip
    slow = WorkerReport(results={"g": {"x": 2}}, killed="timeout", exit_status=9, notes=["n1", "n2"],
                        output_head=b"gpu out", output_total=7, duration_s=2.0, peak_rss=30)  # fmt: skip
    merged = merge_reports([ok, slow], Limits())
    assert merged.results == {"a": {"x": 1}, "g": {"x": 2}}
    assert merged.killed == "timeout" and merged.exit_status == 9 and merged.done is None
    assert merged.notes == ["n1", "n2"] and merged.duration_s == 3.0 and merged.peak_rss == 30
    assert "cpu out" in merged.output_text() and "gpu out" in merged.output_text()
    assert merge_reports([ok], Limits()) is ok
