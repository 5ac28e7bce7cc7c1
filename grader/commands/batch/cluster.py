"""The client's side of ``python -m grader batch ... --cluster ADDRESS``: a class graded by Dask workers.

Each worker is a ``python -m grader worker`` (``remote``): it advertises the tiers it can run as Dask
resources (``tier-cpu``, ``tier-gpu``). At the start every worker is asked who it is (grader version,
suite hash, schema); one that differs is said once and left out, and every task is restricted to the
others. The trusted run happens once per tier on a worker of that tier; its tests (the CPU tier's from
a CPU worker, the GPU tier's from a GPU worker) are the scoring suite. Per student one CPU-tier task
and, when some worker has the GPU tier and the student handed in a practice with GPU-tier tests, one
GPU-tier task; their two ``WorkerReport``s are merged into one and recorded as a local batch records
it. Files travel as bytes in the tasks. A worker that dies mid-task: Dask runs the task again on
another worker (a fresh workspace, so the same result); a task that raised is retried ``RETRIES`` times.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.commands.batch import remote
from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.results import ending
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.submissions import Submission
from grader.commands.batch.trusted import TestInfo, TrustedSuite
from grader.core.cache import json_sha256
from grader.core.files import atomic_write

if TYPE_CHECKING:
    from distributed import Client, Future

    from grader.commands.batch.progress import Progress

CONNECT_TIMEOUT_S = 30.0
WORKERS_TIMEOUT_S = 120.0  # how long the batch waits for a first worker to join
RETRIES = 2  # a task that raised (not a dead worker: Dask reschedules those itself) runs again this often
POLL_S = 0.5
ALIVE_EVERY_S = 2.0  # how often the batch asks the scheduler which workers are still there
TIERS = ("cpu", "gpu")

Record = Callable[[Submission, WorkerReport | None], None]



@dataclass
class _Student:
    """One student's tasks in flight and the reports back so far."""

    entry: Submission
    tiers: list[str]
    reports: dict[str, WorkerReport] = field(default_factory=dict)
    failed: str = ""


class Cluster:
    """A connection to the scheduler and the grading workers that fit the batch."""

    def __init__(self, client: Client, address: str, identity: remote.Identity, workers: dict[str, Any]) -> None:
        self.client = client
        self.address = address
        self.identity = identity
        self.workers = workers  # address -> what the worker said (name, tiers, fingerprint)
        self.refused: dict[str, str] = {}  # name -> why
        self.graded_on: dict[str, dict[str, str]] = {}  # student id -> tier -> worker name (this run)
        self.done = dict.fromkeys(TIERS, 0)
        self.total = dict.fromkeys(TIERS, 0)

    @classmethod
    def connect(cls, address: str, practices: list[int], schema: int) -> Cluster:
        """Connect, wait for a worker, ask each who it is; leave out (and say so once) those that differ."""
        from distributed import Client

        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SystemExit(f"--cluster {address}: no Dask scheduler answers there ({error})") from None
        try:
            cluster = cls(client, address, remote.batch_identity(practices, schema), {})
            cluster._check_workers(practices)
        except BaseException:
            client.close()
            raise
        return cluster

    def _check_workers(self, practices: list[int]) -> None:
        """Ask every worker (``client.run``) who it is and keep those with this batch's identity."""
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise SystemExit(
                f"--cluster {self.address}: no worker joined in {WORKERS_TIMEOUT_S:g} s; "
                "start python -m grader worker ADDRESS on the grading machines"
            ) from None
        answers = self.client.run(remote.identity, practices, on_error="return")
        for address, said in sorted(answers.items()):
            if isinstance(said, BaseException) or not isinstance(said, dict) or not said.get("grader_worker"):
                self.refused[address] = f"worker {address} is not a grading worker (python -m grader worker ADDRESS)"
                continue
            problem = remote.mismatch(said["name"], said["identity"], self.identity)
            if problem:
                self.refused[said["name"]] = problem
            else:
                self.workers[address] = said
        for why in self.refused.values():
            print(f"warning: refused: {why}", file=sys.stderr)
        if not self.workers:
            raise SystemExit(f"--cluster {self.address}: no worker can grade this batch (see the lines above)")

    def of_tier(self, tier: str) -> list[str]:
        """The addresses of the kept workers that advertise ``tier``."""
        return sorted(address for address, said in self.workers.items() if tier in said["tiers"])

    def fingerprint(self) -> dict[str, Any]:
        """The cluster's environment: per tier, its workers' distinct fingerprints, in a fixed order."""
        tiers = {}
        for tier in TIERS:
            prints = [self.workers[address]["fingerprint"] for address in self.of_tier(tier)]
            distinct = {json_sha256(found): found for found in prints}
            tiers[tier] = [distinct[key] for key in sorted(distinct)]
        return {"cluster": tiers}

    def has_gpu(self) -> bool:
        """Whether some kept worker has a GPU (then, as locally, no address-space limit by default)."""
        return any(said["fingerprint"].get("gpu") for said in self.workers.values())

    def _submit(self, function: Callable[..., Any], *args: Any, tier: str, key: str, **where: Any) -> Future:
        """One task on the kept workers of ``tier``, with retries, under a key of its own."""
        return self.client.submit(
            function, *args, self.identity, resources={f"tier-{tier}": 1}, retries=RETRIES, pure=False,
            key=f"{key}-{uuid.uuid4().hex[:8]}", **({"workers": self.of_tier(tier)} | where),
        )  # fmt: skip

    def _result(self, future: Future) -> dict[str, Any]:
        """A task's result, or SystemExit with the worker's one line (another grader, a broken service)."""
        try:
            return dict(future.result())
        except remote.WrongWorker as error:
            raise SystemExit(str(error)) from None

    def trusted_suite(self, private: Path, environment: str, timings: dict[str, Any]) -> TrustedSuite:
        """The scoring suite: the CPU tier's tests from a CPU worker's trusted run and the GPU tier's from a GPU
        worker's (with no GPU worker, one run of every test on a CPU worker, which skips the GPU tier's)."""
        practices = self.identity["practices"]
        suite_file = private / f"trusted-{self.identity['suite_hash'][:16]}-{environment[:16]}.json"
        if suite_file.exists():
            suite = TrustedSuite.from_json(json.loads(suite_file.read_text(encoding="utf-8")))
        else:
            print("Running the reference solutions once per tier on the cluster (trusted)...", file=sys.stderr)
            mark = time.monotonic()
            if self.of_tier("gpu"):
                cpu = self._submit(remote.trusted, practices, "cpu", tier="cpu", key="trusted-cpu")
                gpu = self._submit(remote.trusted, practices, "gpu", tier="gpu", key="trusted-gpu")
                suite = merge_suites(self._suite(cpu), self._suite(gpu))
            else:
                suite = self._suite(self._submit(remote.trusted, practices, "", tier="cpu", key="trusted-all"))
            timings["trusted_run_s"] = round(time.monotonic() - mark, 1)
            atomic_write(suite_file, json.dumps(suite.to_json(), indent=1), durable=True)
        for warning in suite.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        gpu_tests = [t for t in suite.tests if t.tier == "gpu"]
        if gpu_tests and not self.of_tier("gpu"):
            print(
                f"warning: no worker of the cluster has the GPU tier (TensorRT, a GPU, pycuda, trtexec): its "
                f"{len(gpu_tests)} tests are not graded for any student",
                file=sys.stderr,
            )
        return suite

    def _suite(self, future: Future) -> TrustedSuite:
        """A trusted task's suite."""
        return TrustedSuite.from_json(self._result(future)["suite"])

    def measure_isolation(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Start every kept worker's batch session; the isolation they measured (one mode when all agree)."""
        futures = {
            address: self._submit(
                remote.prepare, settings, tier=self.workers[address]["tiers"][0], key="prepare", workers=[address],
                allow_other_workers=False,
            )
            for address in self.workers
        }  # fmt: skip
        self._drop_lost(futures)
        described = {self.workers[a]["name"]: self._result(f)["isolation"] for a, f in futures.items()}
        first = described[min(described)]
        modes = sorted({d.get("mode", "?") for d in described.values()})
        return {**first, "mode": "+".join(modes), "workers": described}

    def alive(self) -> set[str]:
        """The addresses of the workers the scheduler has now."""
        try:
            return set(self.client.nthreads())
        except Exception:  # the scheduler is gone: the tasks' results say so
            return set(self.workers)

    def _drop_lost(self, futures: dict[str, Future]) -> None:
        """Wait for one task per worker; a worker that leaves first is left out (said once), its task dropped."""
        while not all(future.done() for future in futures.values()):
            time.sleep(POLL_S)
            alive = self.alive()
            for address in [a for a, f in futures.items() if not f.done() and a not in alive]:
                print(
                    f"warning: worker {self.workers[address]['name']} left before it was ready: left out",
                    file=sys.stderr,
                )
                futures.pop(address).cancel()
                del self.workers[address]
        if not self.workers:
            raise SystemExit(f"--cluster {self.address}: every worker left before grading began")

    def _check_tiers_alive(self, pending: list[str]) -> None:
        """SystemExit when no worker is left for a tier that still has work (its tasks would wait forever)."""
        alive = self.alive()
        for tier in sorted(set(pending)):
            if not set(self.of_tier(tier)) & alive:
                raise SystemExit(
                    f"no worker of the {tier} tier is left in the cluster: start one (python -m grader worker "
                    f"{self.address}) and run the same command again; the finished students are saved"
                )

    def grade(
        self, todo: list[Submission], suite: TrustedSuite, settings: dict[str, Any], record: Record, progress: Progress
    ) -> None:
        """Submit each student's tasks, merge and record each student as their tasks end."""
        limits = Limits(**settings["limits"])
        students: dict[str, _Student] = {}
        futures: dict[Future, tuple[str, str]] = {}
        for entry in todo:
            tasks = self._tasks(entry, suite)
            if not tasks:
                record(entry, None)
                continue
            students[entry.id] = _Student(entry, sorted(tasks))
            for tier, (practices, expected) in sorted(tasks.items()):
                payload = _payload(entry, practices, settings)
                tests = [asdict(t) for t in expected]
                key = f"grade-{tier}-{entry.safe_id}"
                future = self._submit(remote.grade, payload, tier, tests, tier=tier, key=key)
                futures[future] = (entry.id, tier)
                self.total[tier] += 1
        try:
            self._collect(futures, students, limits, record, progress)
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def _tasks(self, entry: Submission, suite: TrustedSuite) -> dict[str, tuple[list[int], list[TestInfo]]]:
        """The student's tasks by tier: practices handed in that have tests of the tier, and those tests."""
        present = [n for n in self.identity["practices"] if n in entry.files]
        if entry.unreadable or not present:
            return {}
        tiers = ["cpu", "gpu"] if self.of_tier("gpu") else ["cpu"]
        tasks = {}
        for tier in tiers:
            tests = [t for n in present for t in suite.for_practice(n) if t.tier == tier]
            if tests:
                tasks[tier] = (sorted({t.practice for t in tests}), tests)
        return tasks

    def _collect(
        self,
        futures: dict[Future, tuple[str, str]],
        students: dict[str, _Student],
        limits: Limits,
        record: Record,
        progress: Progress,
    ) -> None:
        """Wait for the tasks; a student whose tasks all ended is merged and recorded."""
        remaining = set(futures)
        checked = time.monotonic()
        while remaining:
            if time.monotonic() - checked >= ALIVE_EVERY_S:
                self._check_tiers_alive([futures[f][1] for f in remaining])
                checked = time.monotonic()
            ended = [future for future in remaining if future.done()]
            for future in ended:
                remaining.discard(future)
                student = students[futures[future][0]]
                self._ended(future, futures[future][1], student)
                if len(student.reports) == len(student.tiers):
                    record(student.entry, merge_reports([student.reports[t] for t in student.tiers], limits))
                elif student.failed and not any(futures[f][0] == student.entry.id for f in remaining):
                    print(f"error: {student.entry.id} was not graded: {student.failed}", file=sys.stderr)
            if ended:
                print(self.status_line(), file=sys.stderr)
            progress.update(self.busy())
            if remaining:
                time.sleep(POLL_S)

    def _ended(self, future: Future, tier: str, student: _Student) -> None:
        """One task's end: its report kept and its worker noted, or why it failed."""
        try:
            answer = future.result()
        except Exception as error:  # the worker's own error, after the retries (a dead worker is rescheduled)
            student.failed = f"{tier} tier: {error}"
            return
        student.reports[tier] = WorkerReport(**answer["report"])
        self.graded_on.setdefault(student.entry.id, {})[tier] = answer["worker"]
        self.done[tier] += 1

    def status_line(self) -> str:
        """Progress per tier and the busy workers."""
        tiers = ", ".join(f"{tier} {self.done[tier]}/{self.total[tier]}" for tier in TIERS if self.total[tier])
        busy = ", ".join(f"{name} {count}" for name, count in self._busy_counts().items()) or "none"
        return f"  cluster: {tiers} done; tasks on workers: {busy}"

    def _busy_counts(self) -> dict[str, int]:
        """Tasks running per worker name (the scheduler's view)."""
        try:
            processing = self.client.processing()
        except Exception:  # the scheduler is gone: the next result says so
            return {}
        names = {address: said["name"] for address, said in self.workers.items()}
        return {names.get(a, a): len(keys) for a, keys in sorted(processing.items()) if keys}

    def busy(self) -> list[tuple[str, float]]:
        """The busy workers, as the progress bar shows running work."""
        return [(f"{name}×{count}", 0.0) for name, count in self._busy_counts().items()]

    def manifest(self) -> dict[str, Any]:
        """manifest.json's ``cluster``: the scheduler, the workers kept and refused, where each student ran."""
        return {
            "scheduler": self.address,
            "workers": {w["name"]: {"tiers": w["tiers"], "nthreads": w["nthreads"]} for w in self.workers.values()},
            "refused": self.refused,
            "graded_on": self.graded_on,
        }

    def close(self) -> None:
        """Disconnect from the scheduler (the workers stay for the next batch)."""
        self.client.close()


def _payload(entry: Submission, practices: list[int], settings: dict[str, Any]) -> dict[str, Any]:
    """What a worker needs of a submission: its id and the bytes of its files for ``practices``."""
    files = {
        n: [f.name, f.where, f.placement, f.data, dict(f.extras), f.path]
        for n, f in sorted(entry.files.items())
        if n in practices
    }
    return {"id": entry.id, "files": files, "settings": settings}


def merge_suites(cpu: TrustedSuite, gpu: TrustedSuite) -> TrustedSuite:
    """The CPU tier's tests of the CPU run and the GPU tier's of the GPU run, in the suites' order."""
    tests = sorted(
        [t for t in cpu.tests if t.tier == "cpu"] + [t for t in gpu.tests if t.tier == "gpu"], key=lambda t: t.index
    )
    reference: dict[str, Any] = {"ran": cpu.reference.get("ran"), "practices": {}}
    for run in (cpu, gpu):
        for number, sums in run.reference.get("practices", {}).items():
            total = reference["practices"].setdefault(number, {"score": 0.0, "max": 0.0})
            total["score"] += sums["score"]
            total["max"] += sums["max"]
    warnings = [*cpu.warnings, *(w for w in gpu.warnings if w not in cpu.warnings)]
    return TrustedSuite(cpu.suite_hash, tests, reference, warnings)


def merge_reports(reports: list[WorkerReport], limits: Limits) -> WorkerReport:
    """One student's reports (CPU tier first) as one: every result, notes and output of both, and the ending
    (limit, kill, tampering, crash) of the first that did not end normally."""
    if len(reports) == 1:
        return reports[0]
    abnormal = [report for report in reports if ending(report, limits)[0]]
    first = abnormal[0] if abnormal else reports[0]
    text = "\n".join(report.output_text() for report in reports).encode()
    notes = list(dict.fromkeys(note for report in reports for note in report.notes))  # each once, in order
    collected = [r.collected for r in reports if r.collected is not None]
    return WorkerReport(
        results={nodeid: raw for report in reports for nodeid, raw in report.results.items()},
        collected=[nodeid for nodeids in collected for nodeid in nodeids] if collected else None,
        done=first.done,
        limit=first.limit,
        tamper=first.tamper,
        forged=[f for report in reports for f in report.forged],
        killed=first.killed,
        exit_status=first.exit_status,
        setup_error=first.setup_error,
        notes=notes,
        output_head=text,
        output_tail=b"",
        output_total=len(text),
        duration_s=sum(report.duration_s for report in reports),
        peak_rss=max(report.peak_rss for report in reports),
        peak_tasks=max(report.peak_tasks for report in reports),
    )  # fmt: skip
