"""``python -m grader batch SUBMISSIONS --out OUT``: grade a class, resumably.

    python -m grader batch SUBMISSIONS --out OUT [--lms canvas|moodle|classroom|folders] [--jobs N]
                           [--timeout SECONDS] [--practices 1,2,...] [--regrade] [--memory GIB] [--rss GIB]
                           [--threads N] [--roster FILE [--assignment NAME]] [--only ID,...]
                           [--due ISO-8601 [--late-penalty P] [--late-cap C] [--times FILE]]
                           [--cluster SCHEDULER_ADDRESS]

SUBMISSIONS is the LMS's download (a .zip) or a folder: extracted, or one folder or .zip per student.
OUT receives gradebook.csv (UTF-8 with a BOM), report.html with a histogram PNG per practice,
manifest.json, OUT/<id>/{results.json, feedback.md, result.json}, and with --roster the LMS's
import file (canvas-import.csv or moodle-import.csv). Killed at any moment, the same command grades
only what is missing; a student whose files, the suites and the environment are unchanged is not
graded again (unless --regrade; --only regrades just the students named). The late policy and the
roster shape the rows written, never the grading: changing them regrades no one.

With ``--cluster tcp://HOST:8786`` the same batch is graded by the ``python -m grader worker`` machines
of that Dask scheduler (GPU-tier tests only where TensorRT and a GPU are; ``--jobs`` is then each
worker's ``--nthreads``); the outputs and resuming are the same.
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.core.cache import json_sha256
from grader.core.files import atomic_write
from grader.core.paths import REPO

if TYPE_CHECKING:  # imported when the command runs: ``python -m grader --help`` stays fast
    from grader.commands.batch.cluster import Cluster
    from grader.commands.batch.monitor import WorkerReport
    from grader.commands.batch.outputs import ClassOptions
    from grader.commands.batch.progress import Progress
    from grader.commands.batch.results import StudentResult
    from grader.commands.batch.sandbox import Limits
    from grader.commands.batch.session import BatchSession
    from grader.commands.batch.submissions import Submission
    from grader.commands.batch.trusted import TrustedSuite

BATCH_SCHEMA = 2  # bump when a change in the batch code changes grades (2: one model of outcomes, one maximum)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The batch command's options."""
    parser.add_argument(
        "submissions", type=Path, help="the LMS's download (a .zip) or a folder (extracted, or one entry per student)"
    )
    parser.add_argument(
        "--lms",
        choices=("canvas", "moodle", "classroom", "folders"),
        default=None,
        help="the layout of SUBMISSIONS (default: recognised by its content)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created; reused to resume)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    parser.add_argument("--timeout", type=float, default=300.0, help="wall-clock seconds per submission")
    parser.add_argument("--practices", default="", help="comma-separated practice numbers (default: all)")
    parser.add_argument("--regrade", action="store_true", help="grade again even unchanged submissions")
    parser.add_argument(
        "--memory",
        type=float,
        default=None,
        help="address space per process, GiB (default 8; none where a GPU is found: CUDA reserves far more "
        "address space than it uses, so the resident-memory limit --rss is what bounds memory there)",
    )
    parser.add_argument("--rss", type=float, default=4.0, help="resident memory of a whole submission, GiB")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch/ONNX Runtime threads per submission (part of the result key)"
    )
    parser.add_argument(
        "--cluster",
        metavar="SCHEDULER_ADDRESS",
        default=None,
        help="grade on the python -m grader worker machines of this Dask scheduler, e.g. tcp://192.168.1.10:8786",
    )
    _grades_out_arguments(parser)


def _grades_out_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that shape the rows written, never the grading: roster, late policy, --only."""
    parser.add_argument(
        "--roster",
        type=Path,
        default=None,
        help="the LMS's grade sheet (Canvas gradebook export, Moodle grading worksheet): writes "
        "OUT/canvas-import.csv or OUT/moodle-import.csv with the final scores",
    )
    parser.add_argument("--assignment", default=None, help="the Canvas assignment column to fill (title or id)")
    parser.add_argument("--due", default=None, help="due time, ISO-8601 with an offset, e.g. 2026-03-01T23:59+08:00")
    parser.add_argument("--late-penalty", type=float, default=None, help="percent of the score per started day late")
    parser.add_argument("--late-cap", type=float, default=None, help="largest late penalty, percent (default 100)")
    parser.add_argument(
        "--times", type=Path, default=None, help="CSV of id,ISO time: submission times (over the LMS's own)"
    )
    parser.add_argument(
        "--only", default=None, help="comma-separated student ids: regrade just these (even if unchanged)"
    )


def _practices(text: str, repo: Path) -> list[int]:
    """Requested practices, checked against the suites present."""
    from grader.commands.batch.trusted import available_practices

    available = available_practices(repo)
    if not text:
        return available
    try:
        wanted = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--practices: expected numbers like 1,2,5, got {text!r}") from None
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise SystemExit(f"--practices: no suite for {unknown}; available: {available}")
    return wanted



def _git(repo: Path) -> dict[str, Any]:
    """The repository's commit and whether the grader has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "grader", "assignments", "pyproject.toml"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit or None, "grader_uncommitted_changes": bool(dirty)}


def seeds(repo: Path, practices: list[int]) -> dict[str, Any]:
    """Every ``*SEED*`` constant of the suites (read from the source, nothing imported), and the hash seed."""
    found: dict[str, Any] = {"PYTHONHASHSEED": 0}
    for number in practices:
        for path in sorted((repo / "grader" / "practices" / f"practice{number}").glob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError):
                continue
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and "SEED" in target.id:
                            found[f"{path.relative_to(repo).as_posix()}:{target.id}"] = node.value.value
    return found


class _Lock:
    """OUT/.lock: one batch at a time per output folder."""

    def __init__(self, out: Path) -> None:
        self.handle = open(out / ".lock", "w")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SystemExit(f"another batch is writing {out} (OUT/.lock is held)") from None

    def release(self) -> None:
        """Let the next batch in."""
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


@dataclass
class _Batch:
    """One batch run's fixed inputs: its folders, practices, limits, environment and trusted suite."""

    args: argparse.Namespace
    source: Path
    out: Path
    batch_root: Path
    practices: list[int]
    fingerprint: dict[str, Any]
    environment: str  # hash of the fingerprint
    limits: Limits
    cache_dir: Path
    suite_hash: str
    suite: TrustedSuite
    started: float
    timings: dict[str, Any] = field(default_factory=dict)
    isolation: dict[str, Any] | None = None  # this machine's, cached in OUT/.batch, then measured if grading
    isolation_note: str = "see manifest.json"
    remote: Cluster | None = None  # --cluster: the scheduler and the workers that grade

    @property
    def private(self) -> Path:
        """OUT/.batch: the trusted suite, the isolation probe, the workers' log and outputs."""
        return self.out / ".batch"

    @property
    def settings(self) -> dict[str, Any]:
        """The options that change a grade."""
        return {
            "limits": self.limits.describe(),
            "threads": self.args.threads,
            "practices": self.practices,
            "schema": BATCH_SCHEMA,
        }

    def isolation_file(self) -> Path:
        """Where this environment's isolation is kept."""
        return self.private / f"isolation-{self.environment[:16]}.json"

    def key_of(self, entry: Submission, mode: str) -> str:
        """A student's result key: what was handed in, the suite, the environment, the isolation, the settings."""
        return json_sha256(
            {
                "submission": entry.content_hash(self.practices),
                "suite": self.suite_hash,
                "environment": self.environment,
                "isolation": mode,
                "settings": self.settings,
            }
        )


def run(args: argparse.Namespace) -> int:
    """Grade every submission that has no up-to-date result, then write the class files."""
    from grader.commands.batch import submissions
    from grader.commands.batch.progress import Progress

    started = time.monotonic()
    source, out, practices = _checked(args)
    entries, skipped = _entries(source, out, args.lms)
    options = _class_options(args, entries)  # a bad roster, time or policy: one line, nothing written
    only = _only(args.only, entries, source)
    out.mkdir(parents=True, exist_ok=True)
    lock = _Lock(out)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    batch_root = Path(tempfile.gettempdir()) / f"trtlab-batch-{hashlib.sha256(str(out).encode()).hexdigest()[:12]}"
    batch: _Batch | None = None
    try:
        if args.cluster is None:
            batch = _prepare(args, source, out, practices, batch_root, started)
        else:
            batch = _prepare_cluster(args, source, out, practices, batch_root, started)
        done, todo = _unchanged(batch, entries, only)
        reused = len(done)
        progress = Progress(len(entries), args.jobs)
        progress.done = reused
        if todo:
            (_grade if batch.remote is None else _grade_cluster)(batch, todo, len(entries), done, progress)
        else:
            batch.isolation = batch.isolation or {}
        progress.close()
        final = _final(entries, done)
        _write_class(batch, final, _manifest(batch, final, reused, skipped), options)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: finished students are saved; run the same command to grade the rest.", file=sys.stderr)
        return 130
    finally:
        if batch is not None and batch.remote is not None:
            batch.remote.close()
        if batch_root.exists():
            submissions.remove_tree(batch_root)
        lock.release()


def _class_options(args: argparse.Namespace, entries: list[Submission]) -> ClassOptions:
    """The late policy (with --times read against the students found) and the roster, or SystemExit."""
    from grader.commands.batch import late, outputs, roster

    if args.assignment is not None and args.roster is None:
        raise SystemExit("--assignment names a column of the roster: give --roster FILE too")
    try:
        policy = late.from_args(args.due, args.late_penalty, args.late_cap, args.times)
        if policy is not None and args.times is not None:
            policy.times = late.read_times(args.times, {entry.id for entry in entries})
        sheet = roster.read(args.roster, args.assignment) if args.roster is not None else None
    except (late.PolicyError, roster.RosterError) as error:
        raise SystemExit(str(error)) from None
    return outputs.ClassOptions(policy, sheet)


def _only(text: str | None, entries: list[Submission], source: Path) -> set[str] | None:
    """The ids of ``--only`` (an entry's id or its OUT folder name), or SystemExit naming an unknown one."""
    if text is None:
        return None
    by_name = {entry.id: entry.id for entry in entries} | {entry.safe_id: entry.id for entry in entries}
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise SystemExit("--only: give student ids, e.g. --only 112233,445566")
    for name in wanted:
        if name not in by_name:
            known = ", ".join(sorted(by_name.values())[:5])
            raise SystemExit(f"--only: no submission in {source} has the id {name!r} (ids there: {known}, ...)")
    return {by_name[name] for name in wanted}


def _final(entries: list[Submission], done: dict[str, StudentResult]) -> list[StudentResult]:
    """The class's results in entry order, each with what the LMS says now (name, time: outside the key)."""
    from grader.commands.batch import results

    final = []
    for entry in entries:
        if entry.id in done:
            done[entry.id].submission.update(results.lms_entry(entry))
            final.append(done[entry.id])
    missing = [entry.id for entry in entries if entry.id not in done]
    if missing:  # only with --only: the others are never graded then
        print(
            f"warning: {len(missing)} student(s) have no result yet and were not graded (--only): "
            f"{', '.join(missing[:5])}; run without --only to grade them",
            file=sys.stderr,
        )
    return final


def _checked(args: argparse.Namespace) -> tuple[Path, Path, list[int]]:
    """The submissions folder, OUT and the practices, or SystemExit saying what is wrong."""
    source: Path = args.submissions.resolve()
    out: Path = args.out.resolve()
    if not (source.is_dir() or (source.is_file() and source.suffix.lower() == ".zip")):
        raise SystemExit(f"{source} is neither a folder nor a .zip of submissions; give the LMS's download or a folder")
    if args.jobs < 1 or args.timeout <= 0 or args.threads < 1:
        raise SystemExit("--jobs, --threads and --timeout must be positive")
    return source, out, _practices(args.practices, REPO)


def _prepare(
    args: argparse.Namespace, source: Path, out: Path, practices: list[int], batch_root: Path, started: float
) -> _Batch:
    """A clean batch folder, the limits, the cache's read-only name, the trusted suite, the cached isolation."""
    from grader.backends import requirements
    from grader.commands.batch import submissions, trusted
    from grader.core.cache import default_root

    if batch_root.exists():
        submissions.remove_tree(batch_root)  # a killed earlier run's workspaces
    batch_root.mkdir(mode=0o755)
    os.chmod(batch_root, 0o755)
    (out / ".batch").mkdir(exist_ok=True)
    fingerprint = requirements.fingerprint()
    limits = _limits(args, bool(fingerprint.get("gpu")))
    cache_dir = default_root()
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Workers read the cache through this name: a read-only bind in a sandbox, this link without one.
    (batch_root / "cache-ro").symlink_to(cache_dir)
    environment = json_sha256(fingerprint)
    suite_hash = trusted.suite_hash(REPO, practices)
    timings: dict[str, Any] = {}
    suite = _trusted_suite(practices, batch_root, out / ".batch", (suite_hash, environment), timings)
    batch = _Batch(
        args, source, out, batch_root, practices, fingerprint, environment, limits, cache_dir, suite_hash, suite,
        started, timings,
    )  # fmt: skip
    isolation_file = batch.isolation_file()
    batch.isolation = json.loads(isolation_file.read_text()) if isolation_file.exists() else None
    return batch


def _limits(args: argparse.Namespace, gpu: bool) -> Limits:
    """The per-submission limits of the options (no address-space limit by default where a GPU is)."""
    from grader.commands.batch.sandbox import Limits

    memory = args.memory if args.memory is not None else (0.0 if gpu else 8.0)
    return Limits(timeout_s=args.timeout, memory_bytes=int(memory * 2**30), rss_bytes=int(args.rss * 2**30))


def _prepare_cluster(
    args: argparse.Namespace, source: Path, out: Path, practices: list[int], batch_root: Path, started: float
) -> _Batch:
    """The cluster's kept workers, its environment (from their fingerprints), the limits, the trusted suite per
    tier, the cached isolation: the same ``_Batch`` as a local run, graded by the workers."""
    from grader.commands.batch.cluster import Cluster
    from grader.core.cache import default_root

    (out / ".batch").mkdir(exist_ok=True)
    cluster = Cluster.connect(args.cluster, practices, BATCH_SCHEMA)
    try:
        fingerprint = cluster.fingerprint()
        environment = json_sha256(fingerprint)
        timings: dict[str, Any] = {}
        suite = cluster.trusted_suite(out / ".batch", environment, timings)
        batch = _Batch(
            args, source, out, batch_root, practices, fingerprint, environment,
            _limits(args, cluster.has_gpu()), default_root(), cluster.identity["suite_hash"], suite, started, timings,
            remote=cluster,
        )  # fmt: skip
    except BaseException:
        cluster.close()
        raise
    isolation_file = batch.isolation_file()
    batch.isolation = json.loads(isolation_file.read_text()) if isolation_file.exists() else None
    return batch


def _grade_cluster(
    batch: _Batch, todo: list[Submission], total: int, done: dict[str, StudentResult], progress: Progress
) -> None:
    """The cluster's workers grade ``todo``; each student is recorded as a local batch records one."""
    assert batch.remote is not None
    settings = {"limits": batch.limits.describe(), "threads": batch.args.threads}
    batch.isolation = batch.remote.measure_isolation(settings)
    atomic_write(batch.isolation_file(), json.dumps(batch.isolation, indent=1), durable=True)
    batch.isolation_note = _isolation_note(batch.isolation)
    workers = ", ".join(f"{w['name']} ({'+'.join(w['tiers'])})" for w in batch.remote.workers.values())
    print(
        f"Grading {len(todo)} of {total} submissions ({len(done)} unchanged) on the cluster's workers {workers}; "
        f"isolation: {batch.isolation['mode']}",
        file=sys.stderr,
    )
    if "none" in batch.isolation["mode"].split("+"):
        print("warning: a worker allows no namespaces: submissions there are NOT contained", file=sys.stderr)
    mark = time.monotonic()
    batch.remote.grade(todo, batch.suite, settings, lambda e, w: _record(batch, e, w, done, progress), progress)
    batch.timings["grading_s"] = round(time.monotonic() - mark, 1)


def _trusted_suite(
    practices: list[int], batch_root: Path, private: Path, hashes: tuple[str, str], timings: dict[str, Any]
) -> TrustedSuite:
    """The pristine suites' tests and points: kept from an earlier run, else one trusted run now.

    ``hashes``: the suite's and the environment's (the file is kept per pair).
    """
    from grader.commands.batch import trusted

    suite_hash, environment = hashes
    suite_file = private / f"trusted-{suite_hash[:16]}-{environment[:16]}.json"
    if suite_file.exists():
        suite = trusted.TrustedSuite.from_json(json.loads(suite_file.read_text(encoding="utf-8")))
    else:
        print(
            "Running the reference solutions once (trusted: points, tests graded here, warm caches)...",
            file=sys.stderr,
        )
        mark = time.monotonic()
        suite = trusted.build(REPO, practices, batch_root / "trusted", suite_hash)
        timings["trusted_run_s"] = round(time.monotonic() - mark, 1)
        atomic_write(suite_file, json.dumps(suite.to_json(), indent=1), durable=True)
    for warning in suite.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return suite


def _entries(source: Path, out: Path, lms: str | None = None) -> tuple[list[Submission], list[str]]:
    """Every submission in SOURCE (OUT excluded), read into memory (before OUT is touched), and what was skipped.

    A malformed export (``submissions.IntakeError``) ends the command with its one line.
    """
    from grader.commands.batch import submissions

    try:
        entries, skipped = submissions.discover(source, lms=lms)
    except submissions.IntakeError as error:
        raise SystemExit(str(error)) from None
    entries = [e for e in entries if e.source.resolve() != out]
    for entry in entries:
        submissions.load(entry)
    return entries, skipped


def _unchanged(
    batch: _Batch, entries: list[Submission], only: set[str] | None = None
) -> tuple[dict[str, StudentResult], list[Submission]]:
    """Results still valid (same key: files, suite, environment, isolation, settings), and what to grade.

    With ``only``, exactly those students are graded; every other kept result stays as it is on disk.
    """
    from grader.commands.batch import results

    done: dict[str, StudentResult] = {}
    todo = []
    mode = batch.isolation["mode"] if batch.isolation else "?"
    for entry in entries:
        if only is not None and entry.id not in only:
            kept = results.read_student(batch.out, entry.id)
            if kept is not None:
                done[entry.id] = kept
            continue
        previous = None if batch.args.regrade or only is not None else results.read_student(batch.out, entry.id)
        if previous is not None and previous.key == batch.key_of(entry, mode):
            done[entry.id] = previous
        else:
            todo.append(entry)
    return done, todo


def _grade(
    batch: _Batch, todo: list[Submission], total: int, done: dict[str, StudentResult], progress: Progress
) -> None:
    """Start the workers, grade ``todo`` (those with nothing to run at once), record each as it ends."""
    session = _start_session(batch)
    mode = batch.isolation["mode"] if batch.isolation else "?"
    reused = len(done)
    print(
        f"Grading {len(todo)} of {total} submissions ({reused} unchanged), "
        f"{batch.args.jobs} at a time; isolation: {mode}",
        file=sys.stderr,
    )
    suite_tests = {n: batch.suite.for_practice(n) for n in batch.practices}
    queue = []
    for entry in todo:
        present = [n for n in batch.practices if n in entry.files]
        if entry.unreadable or not present:
            _record(batch, entry, None, done, progress)
            continue
        queue.append((entry, present, [t for n in present for t in suite_tests[n]]))

    def finished(entry: Submission, worker: WorkerReport) -> None:
        _record(batch, entry, worker, done, progress)

    mark = time.monotonic()
    session.run(queue, finished, progress.update)
    batch.timings["grading_s"] = round(time.monotonic() - mark, 1)


def _start_session(batch: _Batch) -> BatchSession:
    """The zygote and the isolation probe; the measured isolation is kept and said."""
    from grader.commands.batch.session import BatchSession

    mark = time.monotonic()
    session = BatchSession(
        repo=REPO,
        batch_root=batch.batch_root,
        cache_dir=batch.cache_dir,
        limits=batch.limits,
        jobs=batch.args.jobs,
        threads=batch.args.threads,
        hide=[str(_hidden_source(batch)), str(batch.out)],
        log=batch.private / "workers.log",
    )
    batch.timings["workers_start_s"] = round(time.monotonic() - mark, 1)
    batch.timings["zygote_import_s"] = session.zygote.ready.get("import_s")
    batch.isolation = session.isolation.describe()
    atomic_write(batch.isolation_file(), json.dumps(batch.isolation, indent=1), durable=True)
    batch.isolation_note = _isolation_note(batch.isolation)
    if batch.isolation["mode"] == "none":
        print(
            "warning: no namespaces here: submissions are NOT contained (network and files); "
            "limits still apply. See manifest.json.",
            file=sys.stderr,
        )
    return session


def _hidden_source(batch: _Batch) -> Path:
    """What to cover in the sandbox for SUBMISSIONS: the folder, or a .zip's folder unless that holds the grader."""
    if batch.source.is_dir():
        return batch.source
    needed = (REPO, batch.batch_root, batch.cache_dir)
    folder = batch.source.parent
    # mounts cover folders only; a folder above the repository or the workspaces must stay visible
    return batch.source if any(path.is_relative_to(folder) for path in needed) else folder


def _record(
    batch: _Batch, entry: Submission, worker: WorkerReport | None, done: dict[str, StudentResult], progress: Progress
) -> None:
    """A student's grade (``worker`` None: nothing was run), written to OUT/<id>/ and counted."""
    from grader.commands.batch import results

    mode = batch.isolation["mode"] if batch.isolation else "?"
    result = results.build(entry, batch.key_of(entry, mode), batch.practices, batch.suite, worker, batch.limits)
    results.write_student(batch.out, result, batch.fingerprint, batch.isolation_note)
    if worker is not None:
        atomic_write(batch.private / "outputs" / f"{entry.safe_id}.log", worker.output_text(), durable=True)
    done[entry.id] = result
    progress.finished(entry.id, result.status, f"{result.score:g}/{result.max_score:g}", [])


def _manifest(batch: _Batch, final: list[StudentResult], reused: int, skipped: list[str]) -> dict[str, Any]:
    """manifest.json: what graded, where, how, with which seeds, and how long it took."""
    from grader.commands.batch import outputs

    suite = batch.suite
    return {
        "grader": {"version": _version(), **_git(REPO)},
        "command": [sys.executable, "-m", "grader", *sys.argv[1:]] if sys.argv else [],
        "suite_hash": batch.suite_hash,
        "practices": batch.practices,
        "environment": batch.fingerprint,
        "environment_hash": batch.environment,
        "isolation": batch.isolation,
        "settings": batch.settings,
        "seeds": seeds(REPO, batch.practices),
        "reference": suite.reference,
        "warnings": [*suite.warnings, *outputs.sandbox_skips(final)],
        "skipped_entries": skipped,
        **({"cluster": batch.remote.manifest()} if batch.remote is not None else {}),
        "run": {
            "graded_now": len(final) - reused,
            "unchanged": reused,
            **batch.timings,
            "wall_s": round(time.monotonic() - batch.started, 1),
        },
    }


def _write_class(batch: _Batch, final: list[StudentResult], manifest: dict[str, Any], options: ClassOptions) -> None:
    """Warn about the sandbox's skips, write the class files, print the summary table."""
    from grader.commands.batch import outputs
    from grader.commands.batch.progress import duration

    for warning in outputs.sandbox_skips(final):
        print(f"warning: {warning}", file=sys.stderr)
    outputs.write_class_files(batch.out, final, batch.practices, manifest, options)
    print()
    for line in outputs.summary(final):
        print(line)
    written = "gradebook.csv, report.html, manifest.json"
    if options.roster is not None:
        written += f", {options.roster.out_name}"
        _roster_warnings(options, final)
    print(
        f"\nWrote {written} in {batch.out} and {len(final)} student folders "
        f"in {duration(time.monotonic() - batch.started)}."
    )


def _roster_warnings(options: ClassOptions, final: list[StudentResult]) -> None:
    """Say who is on the roster with nothing handed in, and who was graded but is not on the roster."""
    assert options.roster is not None
    on_roster = options.roster.students()
    strangers = sorted(r.id for r in final if r.id not in on_roster)
    name = options.roster.out_name
    if options.missing:
        shown = ", ".join(options.missing[:10])
        print(f"missing: {len(options.missing)} roster student(s) handed in nothing (left empty in {name}): {shown}")
    if strangers:
        print(
            f"warning: {len(strangers)} graded student(s) are not on the roster {options.roster.path} and are not "
            f"in {name}: {', '.join(strangers[:10])}",
            file=sys.stderr,
        )


def _version() -> str:
    """The grader's version."""
    import grader

    return grader.__version__


def _isolation_note(isolation: dict[str, Any]) -> str:
    """One line for feedback files."""
    if isolation.get("mode") == "none":
        return "limits only: this machine allows no namespaces, so the network and files were not contained"
    return f"{isolation.get('mode')} namespaces; network {isolation.get('network')}"
