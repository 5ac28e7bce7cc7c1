"""The parent's side of grading: one batch session ties the planner, the workspaces, the isolation probe,
the zygote and the monitor together.

The parent never imports or runs student code. Per submission the session takes a free slot (its uid in
root mode), builds a fresh workspace, plans the worker and has the monitor fork it through the zygote and
watch it; when the worker has ended, the slot is freed and the workspace deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from grader.commands.batch.isolation import probe
from grader.commands.batch.monitor import Job, Monitor, WorkerReport
from grader.commands.batch.planner import Planner, slot_uid_base
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.submissions import Submission
from grader.commands.batch.trusted import TestInfo
from grader.commands.batch.workspaces import Workspaces, chown_tree
from grader.commands.batch.zygote_client import ZygoteClient

PROGRESS_EVERY_S = 0.5
MAX_JOBS = 255  # slots at once; each slot is one uid of the batch's range of 256

Todo = list[tuple[Submission, list[int], list[TestInfo]]]  # submission, practices present, expected tests in order
# A cluster worker's job: the same, and the tier it runs ("cpu" or "gpu").
TierJob = tuple[Submission, list[int], list[TestInfo], str]


class BatchSession:
    """Grades submissions, ``jobs`` at a time, through one zygote."""

    def __init__(
        self,
        *,
        repo: Path,
        batch_root: Path,
        cache_dir: Path,
        limits: Limits,
        jobs: int,
        threads: int,
        hide: list[str],
        log: Path,
    ) -> None:
        self.jobs = max(1, min(jobs, MAX_JOBS))
        self.uid_base = slot_uid_base(batch_root)
        self.planner = Planner(
            repo=repo, batch_root=batch_root, cache_dir=cache_dir, limits=limits, threads=threads, hide=hide
        )
        self.workspaces = Workspaces(repo=repo, batch_root=batch_root, cache_dir=cache_dir)
        self.zygote = ZygoteClient(batch_root / "zygote", log)
        self.isolation = probe(self.zygote, self.planner, self.workspaces, self.uid_base)
        self.monitor = Monitor(limits, self.zygote)
        self._free_slots = list(range(self.jobs))
        self._slot_of: dict[str, int] = {}

    def run(
        self,
        todo: Todo,
        finished: Callable[[Submission, WorkerReport], None],
        progress: Callable[[list[tuple[str, float]]], None],
    ) -> None:
        """Grade every entry of ``todo`` (submission, practices present, expected tests in order)."""
        pending = list(todo)
        running = self.monitor.running
        last_progress = 0.0

        def ended(job: Job) -> None:
            self._release(job)
            finished(job.submission, job.report)

        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    self._start(*pending.pop(0))
                self.monitor.step(ended)
                now = time.monotonic()
                if now - last_progress >= PROGRESS_EVERY_S:
                    progress([(j.submission.id, now - j.started) for j in running.values()])
                    last_progress = now
        finally:
            self.monitor.stop_all(self._release)
            self.zygote.close()

    def serve(
        self, take: Callable[[bool], list[TierJob]], finished: Callable[[Submission, WorkerReport], None]
    ) -> None:
        """Grade jobs as ``take(wait)`` hands them over (a cluster worker's service); ``take(True)`` waits for one
        and an empty list from it ends the service."""
        running = self.monitor.running

        def ended(job: Job) -> None:
            self._release(job)
            finished(job.submission, job.report)

        try:
            while True:
                while len(running) < self.jobs:
                    jobs = take(not running)
                    if not jobs and not running:
                        return
                    if not jobs:
                        break
                    for job in jobs:
                        self._start(*job)
                self.monitor.step(ended)
        finally:
            self.monitor.stop_all(self._release)
            self.zygote.close()

    def _start(self, submission: Submission, practices: list[int], expected: list[TestInfo], tier: str = "") -> Job:
        """A slot, a fresh workspace (the slot user's in root mode), the plan, then the zygote forks the worker."""
        slot = self._free_slots.pop(0)
        self._slot_of[submission.id] = slot
        workspace = self.workspaces.for_submission(submission)
        mode = self.isolation.mode
        uid = self.uid_base + slot
        if mode == "root":
            chown_tree(workspace, uid)
        plan = self.planner.plan(submission.id, workspace, practices, mode, uid, tier)
        return self.monitor.launch(submission, plan, [t.nodeid for t in expected])

    def _release(self, job: Job) -> None:
        """Free the job's slot and delete its workspace."""
        slot = self._slot_of.pop(job.submission.id, None)
        if slot is not None:
            self._free_slots.append(slot)
            self._free_slots.sort()
        self.workspaces.remove(Path(job.plan.workspace))
