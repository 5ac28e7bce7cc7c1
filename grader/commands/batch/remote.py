"""The worker's side of a cluster batch: the tasks Dask runs in ``python -m grader worker``.

A grading worker keeps one ``Service`` (``SERVICE``, set by ``grader.commands.worker``): a local
``BatchSession`` (its own batch folder in the worker's temporary folder, its own zygote and isolation
probe) driven by one service thread; Dask's task threads hand it a submission through a queue and
wait for its ``WorkerReport``, so N task threads grade N sandboxed submissions at once, with the same
sandbox, limits and signed result channel as a local batch. Files arrive as bytes in the task's
arguments (no shared file system). Every task carries the batch's identity (grader version, suite
hash of its practices, batch schema): a worker with another one refuses the work.

These functions are imported by the client too (Dask sends them by name); they do nothing there.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.session import BatchSession, TierJob
from grader.commands.batch.submissions import FoundFile, Submission, remove_tree
from grader.commands.batch.trusted import TestInfo, TrustedSuite, build, suite_hash
from grader.core.paths import REPO

Identity = dict[str, Any]  # {"version", "suite_hash", "schema", "practices"}


class WrongWorker(RuntimeError):
    """This worker cannot take the batch's work (another grader or suite, or no grading service)."""


def batch_identity(practices: list[int], schema: int) -> Identity:
    """What a worker must share with the batch: the grader's version, the suite hash, the batch schema
    (``cli.BATCH_SCHEMA``, handed in: the command modules import this one)."""
    import grader

    return {
        "version": grader.__version__,
        "suite_hash": suite_hash(REPO, practices),
        "schema": schema,
        "practices": sorted(practices),
    }


def mismatch(name: str, mine: Identity, needed: Identity) -> str:
    """The one line that says why a worker is refused ("" when it fits)."""
    if mine == needed:
        return ""
    have = f"grader {mine.get('version')} / suite {str(mine.get('suite_hash'))[:12]} / schema {mine.get('schema')}"
    want = f"grader {needed['version']} / suite {needed['suite_hash'][:12]} / schema {needed['schema']}"
    return f"worker {name} has {have}; the batch needs {want}: install the same commit on that machine"


class Service:
    """One grading worker's local batch session, its trusted runs and the queue that feeds its thread."""

    def __init__(
        self, name: str, tiers: list[str], nthreads: int, root: Path, fingerprint: dict[str, Any], schema: int
    ) -> None:
        self.name = name
        self.schema = schema
        self.tiers = tiers
        self.nthreads = nthreads
        self.root = root
        self.fingerprint = fingerprint
        self.jobs: queue.Queue[tuple[TierJob, Future[WorkerReport]] | None] = queue.Queue()
        self.waiting: dict[str, Future[WorkerReport]] = {}
        self.session: BatchSession | None = None
        self.settings: dict[str, Any] | None = None
        self.thread: threading.Thread | None = None
        self.suites: dict[tuple[tuple[int, ...], str], TrustedSuite] = {}
        self.lock = threading.Lock()
        self.trusted_lock = threading.Lock()
        self.counter = 0
        self.stopping = False
        self.identities: dict[tuple[int, ...], Identity] = {}

    def identity(self, practices: list[int]) -> Identity:
        """This worker's identity for ``practices``, hashed once: the code it runs was loaded at its start."""
        key = tuple(sorted(practices))
        with self.lock:
            if key not in self.identities:
                self.identities[key] = batch_identity(list(key), self.schema)
            return self.identities[key]

    def describe(self, practices: list[int]) -> dict[str, Any]:
        """What the client checks before it sends work: identity, tiers, the machine's fingerprint."""
        return {
            "grader_worker": True,
            "name": self.name,
            "identity": self.identity(practices),
            "tiers": self.tiers,
            "nthreads": self.nthreads,
            "fingerprint": self.fingerprint,
        }

    def trusted(self, practices: list[int], tier: str) -> TrustedSuite:
        """The trusted run of ``practices`` for ``tier`` ("" = every test) on this machine, once per process."""
        key = (tuple(sorted(practices)), tier)
        with self.trusted_lock:
            if key not in self.suites:
                scratch = self.root / f"trusted-{tier or 'all'}"
                self.suites[key] = build(REPO, sorted(practices), scratch, suite_hash(REPO, practices), tier)
            return self.suites[key]

    def warm(self, practices: list[int], tier: str) -> None:
        """Warm this machine's artifact cache as a local batch does: one trusted run per tier, before grading."""
        key = tuple(sorted(practices))
        if (key, tier) not in self.suites and (key, "") not in self.suites:
            self.trusted(practices, tier)

    def prepare(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The batch session for these settings (limits, threads): started, or restarted when they changed."""
        with self.lock:
            if self.session is None or self.settings != settings:
                self._stop()
                self.session = self._session(settings)
                self.settings = settings
                self.thread = threading.Thread(target=self._serve, name="grader-service", daemon=True)
                self.thread.start()
            return self.session.isolation.describe()

    def _session(self, settings: dict[str, Any]) -> BatchSession:
        """A fresh local batch session in this worker's own folder."""
        from grader.core.cache import default_root

        batch_root = self.root / "batch"
        if batch_root.exists():
            remove_tree(batch_root)
        batch_root.mkdir(mode=0o755, parents=True)
        cache_dir = default_root()
        cache_dir.mkdir(parents=True, exist_ok=True)
        (batch_root / "cache-ro").symlink_to(cache_dir)
        private = self.root / "private"
        private.mkdir(exist_ok=True)
        return BatchSession(
            repo=REPO,
            batch_root=batch_root,
            cache_dir=cache_dir,
            limits=Limits(**settings["limits"]),
            jobs=self.nthreads,
            threads=settings["threads"],
            hide=[str(private)],
            log=private / "workers.log",
        )

    def _stop(self) -> None:
        """End the service thread (after its running submissions) and its session."""
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
        self.thread = None
        self.session = None
        self.stopping = False

    def _serve(self) -> None:
        """The service thread: the only user of the session."""
        assert self.session is not None
        try:
            self.session.serve(self._take, self._finished)
        except BaseException as error:  # the session broke: every waiting task learns why
            for future in list(self.waiting.values()):
                future.set_exception(WrongWorker(f"worker {self.name}: the grading service stopped: {error}"))
            self.waiting.clear()
            raise

    def _take(self, wait: bool) -> list[TierJob]:
        """The next job from the queue (waiting for one when ``wait``); [] to end (or when none is there)."""
        if self.stopping:
            return []
        try:
            item = self.jobs.get() if wait else self.jobs.get_nowait()
        except queue.Empty:
            return []
        if item is None:  # end once the running submissions are done
            self.stopping = True
            return []
        job, future = item
        self.waiting[job[0].id] = future
        return [job]

    def _finished(self, submission: Submission, report: WorkerReport) -> None:
        """A submission's worker ended: wake the task that waits for it."""
        future = self.waiting.pop(submission.id, None)
        if future is not None:
            future.set_result(report)

    def grade(
        self, payload: dict[str, Any], tier: str, expected: list[dict[str, Any]], practices: list[int]
    ) -> WorkerReport:
        """Grade one submission's ``tier`` in the sandbox and wait for its report (called from a task thread);
        ``practices``: the batch's, for the warm-up run."""
        self.warm(practices, tier)
        self.prepare(payload["settings"])
        with self.lock:
            self.counter += 1
            # unique here: one student's two tiers (or a retried task) may run on this worker at once
            job_id = f"{payload['id']}.{tier}.{self.counter}"
        files = {int(n): FoundFile(int(n), *fields) for n, fields in payload["files"].items()}
        submission = Submission(job_id, Path(job_id), "folder", files=files)
        future: Future[WorkerReport] = Future()
        tests = [TestInfo(**raw) for raw in expected]
        self.jobs.put(((submission, sorted(files), tests, tier), future))
        return future.result()


SERVICE: Service | None = None  # set in the worker process by grader.commands.worker


def _service(identity: Identity) -> Service:
    """This worker's service, if it may take work of a batch with ``identity``; else WrongWorker."""
    if SERVICE is None:
        raise WrongWorker("this Dask worker is not a grading worker: start it with python -m grader worker ADDRESS")
    problem = mismatch(SERVICE.name, SERVICE.identity(_practices(identity)), identity)
    if problem:
        raise WrongWorker(problem)
    return SERVICE


def _practices(identity: Identity) -> list[int]:
    """The practices an identity's suite hash covers (carried beside it)."""
    return list(identity.get("practices", []))


def identity(practices: list[int]) -> dict[str, Any]:
    """``client.run``: what this worker is (a plain Dask worker says it is not a grading one)."""
    if SERVICE is None:
        return {"grader_worker": False}
    return SERVICE.describe(practices)


def prepare(settings: dict[str, Any], identity: Identity) -> dict[str, Any]:
    """Task: start this worker's batch session for the batch's settings; its isolation, measured here."""
    service = _service(identity)
    return {"worker": service.name, "isolation": service.prepare(settings)}


def trusted(practices: list[int], tier: str, identity: Identity) -> dict[str, Any]:
    """Task: the trusted suite of ``practices`` for ``tier`` ("" = every test) from this machine, as JSON."""
    service = _service(identity)
    return {"worker": service.name, "suite": service.trusted(practices, tier).to_json()}


def grade(payload: dict[str, Any], tier: str, expected: list[dict[str, Any]], identity: Identity) -> dict[str, Any]:
    """Task: one student's ``tier`` graded in this worker's sandbox; the ``WorkerReport`` as plain data."""
    service = _service(identity)
    report = service.grade(payload, tier, expected, _practices(identity))
    return {"worker": service.name, "report": asdict(report)}
