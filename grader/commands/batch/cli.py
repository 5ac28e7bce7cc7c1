"""``python -m grader batch SUBMISSIONS --out OUT``: grade a class, resumably.

    python -m grader batch SUBMISSIONS --out OUT [--jobs N] [--timeout SECONDS]
                           [--practices 1,2,...] [--regrade] [--memory GIB] [--rss GIB] [--threads N]

SUBMISSIONS holds one folder or .zip per student (the id is its name). OUT receives
gradebook.csv, report.html, manifest.json and OUT/<id>/{results.json, feedback.md, result.json}.
Killed at any moment, the same command grades only what is missing; a student whose files,
the suites and the environment are unchanged is not graded again (unless --regrade).
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
from pathlib import Path
from typing import Any

from grader.core.paths import REPO

BATCH_SCHEMA = 2  # bump when a change in the batch code changes grades (2: one model of outcomes, one maximum)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The batch command's options."""
    parser.add_argument("submissions", type=Path, help="folder with one folder or .zip per student")
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


def _hash(data: Any) -> str:
    """SHA-256 of a JSON-able value."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


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


def run(args: argparse.Namespace) -> int:
    """Grade every submission that has no up-to-date result, then write the class files."""
    from grader.backends import requirements
    from grader.commands.batch import outputs, results, runner, submissions, trusted
    from grader.commands.batch.progress import Progress, duration
    from grader.commands.batch.sandbox import Limits
    from grader.core.cache import default_root

    started = time.monotonic()
    timings: dict[str, Any] = {}
    repo = REPO
    source: Path = args.submissions.resolve()
    out: Path = args.out.resolve()
    if not source.is_dir():
        raise SystemExit(f"{source} is not a folder of submissions")
    if args.jobs < 1 or args.timeout <= 0 or args.threads < 1:
        raise SystemExit("--jobs, --threads and --timeout must be positive")
    practices = _practices(args.practices, repo)
    out.mkdir(parents=True, exist_ok=True)
    lock = _Lock(out)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    batch_root = Path(tempfile.gettempdir()) / f"trtlab-batch-{hashlib.sha256(str(out).encode()).hexdigest()[:12]}"
    private = out / ".batch"
    try:
        if batch_root.exists():
            submissions.remove_tree(batch_root)  # a killed earlier run's workspaces
        batch_root.mkdir(mode=0o755)
        os.chmod(batch_root, 0o755)
        private.mkdir(exist_ok=True)
        fingerprint = requirements.fingerprint()
        memory = args.memory if args.memory is not None else (0.0 if fingerprint.get("gpu") else 8.0)
        limits = Limits(timeout_s=args.timeout, memory_bytes=int(memory * 2**30), rss_bytes=int(args.rss * 2**30))
        cache_dir = default_root()
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Workers read the cache through this name: a read-only bind in a sandbox, this link without one.
        (batch_root / "cache-ro").symlink_to(cache_dir)
        environment = _hash(fingerprint)
        suite_hash = trusted.suite_hash(repo, practices)

        suite_file = private / f"trusted-{suite_hash[:16]}-{environment[:16]}.json"
        if suite_file.exists():
            suite = trusted.TrustedSuite.from_json(json.loads(suite_file.read_text(encoding="utf-8")))
        else:
            print(
                "Running the reference solutions once (trusted: points, tests graded here, warm caches)...",
                file=sys.stderr,
            )
            mark = time.monotonic()
            suite = trusted.build(repo, practices, batch_root / "trusted", suite_hash)
            timings["trusted_run_s"] = round(time.monotonic() - mark, 1)
            results.atomic_write(suite_file, json.dumps(suite.to_json(), indent=1))
        for warning in suite.warnings:
            print(f"warning: {warning}", file=sys.stderr)

        entries, skipped = submissions.discover(source)
        entries = [e for e in entries if e.source.resolve() != out]
        for entry in entries:
            submissions.load(entry)

        settings = {
            "limits": limits.describe(),
            "threads": args.threads,
            "practices": practices,
            "schema": BATCH_SCHEMA,
        }
        isolation_file = private / f"isolation-{environment[:16]}.json"
        isolation = json.loads(isolation_file.read_text()) if isolation_file.exists() else None

        def key_of(entry: submissions.Submission, mode: str) -> str:
            return _hash(
                {
                    "submission": entry.content_hash(practices),
                    "suite": suite_hash,
                    "environment": environment,
                    "isolation": mode,
                    "settings": settings,
                }
            )

        done: dict[str, results.StudentResult] = {}
        todo = []
        for entry in entries:
            previous = None if args.regrade else results.read_student(out, entry.id)
            mode = isolation["mode"] if isolation else "?"
            if previous is not None and previous.key == key_of(entry, mode):
                done[entry.id] = previous
            else:
                todo.append(entry)

        progress = Progress(len(entries), args.jobs)
        progress.done = len(done)
        isolation_note = "see manifest.json"
        reused = len(done)
        if todo:
            hide = [str(source), str(out)]
            mark = time.monotonic()
            work = runner.Runner(
                repo=repo,
                batch_root=batch_root,
                cache_dir=cache_dir,
                limits=limits,
                jobs=args.jobs,
                threads=args.threads,
                hide=hide,
                log=private / "workers.log",
            )
            timings["workers_start_s"] = round(time.monotonic() - mark, 1)
            timings["zygote_import_s"] = work.zygote.ready.get("import_s")
            isolation = work.isolation.describe()
            results.atomic_write(isolation_file, json.dumps(isolation, indent=1))
            isolation_note = _isolation_note(isolation)
            if isolation["mode"] == "none":
                print(
                    "warning: no namespaces here: submissions are NOT contained (network and files); "
                    "limits still apply. See manifest.json.",
                    file=sys.stderr,
                )
            print(
                f"Grading {len(todo)} of {len(entries)} submissions ({reused} unchanged), "
                f"{args.jobs} at a time; isolation: {isolation['mode']}",
                file=sys.stderr,
            )
            suite_tests = {n: suite.for_practice(n) for n in practices}
            queue = []
            for entry in todo:
                present = [n for n in practices if n in entry.files]
                if entry.unreadable or not present:
                    result = results.build(entry, key_of(entry, isolation["mode"]), practices, suite, None, limits)
                    results.write_student(out, result, fingerprint, isolation_note)
                    done[entry.id] = result
                    progress.finished(entry.id, result.status, f"{result.score:g}/{result.max_score:g}", [])
                    continue
                expected = [t for n in present for t in suite_tests[n]]
                queue.append((entry, present, expected))

            def finished(entry: submissions.Submission, outcome: runner.Outcome) -> None:
                result = results.build(entry, key_of(entry, isolation["mode"]), practices, suite, outcome, limits)
                results.write_student(out, result, fingerprint, isolation_note)
                (private / "outputs").mkdir(exist_ok=True)
                results.atomic_write(private / "outputs" / f"{entry.safe_id}.log", outcome.output_text())
                done[entry.id] = result
                progress.finished(entry.id, result.status, f"{result.score:g}/{result.max_score:g}", [])

            mark = time.monotonic()
            work.run(queue, finished, progress.update)
            timings["grading_s"] = round(time.monotonic() - mark, 1)
        else:
            isolation = isolation or {}
        progress.close()
        final = [done[e.id] for e in entries if e.id in done]
        manifest = {
            "grader": {"version": _version(), **_git(repo)},
            "command": [sys.executable, "-m", "grader", *sys.argv[1:]] if sys.argv else [],
            "suite_hash": suite_hash,
            "practices": practices,
            "environment": fingerprint,
            "environment_hash": environment,
            "isolation": isolation,
            "settings": settings,
            "seeds": seeds(repo, practices),
            "reference": suite.reference,
            "warnings": suite.warnings,
            "skipped_entries": skipped,
            "run": {
                "graded_now": len(final) - reused,
                "unchanged": reused,
                **timings,
                "wall_s": round(time.monotonic() - started, 1),
            },
        }
        skips = outputs.sandbox_skips(final)
        manifest["warnings"] = [*suite.warnings, *skips]
        for warning in skips:
            print(f"warning: {warning}", file=sys.stderr)
        outputs.write_class_files(out, final, practices, manifest)
        print()
        for line in outputs.summary(final):
            print(line)
        print(
            f"\nWrote {out / 'gradebook.csv'}, report.html, manifest.json and {len(final)} student folders "
            f"in {duration(time.monotonic() - started)}."
        )
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: finished students are saved; run the same command to grade the rest.", file=sys.stderr)
        return 130
    finally:
        if batch_root.exists():
            submissions.remove_tree(batch_root)
        lock.release()


def _version() -> str:
    """The grader's version."""
    import grader

    return grader.__version__


def _isolation_note(isolation: dict[str, Any]) -> str:
    """One line for feedback files."""
    if isolation.get("mode") == "none":
        return "limits only: this machine allows no namespaces, so the network and files were not contained"
    return f"{isolation.get('mode')} namespaces; network {isolation.get('network')}"
