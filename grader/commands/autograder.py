"""What runs inside Gradescope: grade ``ROOT/submission`` with the batch, write ``ROOT/results/results.json``.

    python -m grader.commands.autograder [--root ROOT]     (run_autograder calls this)
    python -m grader.commands.autograder --warm-up         (setup.sh calls this once)

ROOT is ``$TRTLAB_AUTOGRADER_ROOT`` or ``/autograder``, laid out as Gradescope's autograder
specification says (https://gradescope-autograders.readthedocs.io/en/latest/specs/): this zip's
files in ``ROOT/source``, the student's upload in ``ROOT/submission``, and ``ROOT/results/results.json``
to write. The grading is the batch's own: ``python -m grader batch`` on a one-student folder made
from the upload (found by the batch's own rules: practiceN/ folders, the top level, one folder
deeper), and the student's ``results.json`` the batch writes in Gradescope's schema is copied as is.
Whatever goes wrong, a results.json with a clear ``output`` is written: Gradescope shows nothing
without one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from grader.core.files import atomic_write
from grader.core.paths import REPO

ROOT_ENV = "TRTLAB_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
CONFIG = "gradescope.json"  # written by ``python -m grader gradescope``: the practices this autograder grades
STUDENT = "submission"  # the one student's id in the batch (Gradescope keeps who it is)
STATE = ".trtlab"  # ROOT/source/.trtlab/out: the batch's OUT, warmed by setup.sh in the image


class AutograderError(RuntimeError):
    """The autograder cannot grade; its message is shown to the student as results.json's output."""


def main(argv: list[str] | None = None) -> int:
    """Grade (or warm up); always exit 0 after writing results.json, so Gradescope shows the output."""
    parser = argparse.ArgumentParser(prog="python -m grader.commands.autograder", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT))
    parser.add_argument("--warm-up", action="store_true", help="run the trusted reference once (setup.sh)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.warm_up:
        try:
            return warm_up(root)
        except AutograderError as error:
            print(f"autograder warm-up failed: {error}", file=sys.stderr)
            return 1
    try:
        data = grade(root)
    except AutograderError as error:
        data = failure(str(error))
    except Exception as error:  # noqa: BLE001 - Gradescope shows nothing without results.json
        traceback.print_exc(file=sys.stdout)  # the instructor's debugging log (Gradescope keeps stdout)
        data = failure(f"the autograder stopped on an internal error ({type(error).__name__}: {error})")
    atomic_write(root / "results" / "results.json", json.dumps(data, indent=2, ensure_ascii=False), durable=True)
    print(f"results.json: {data.get('score')} points, {len(data.get('tests', []))} tests")
    return 0


def failure(reason: str) -> dict[str, Any]:
    """results.json for a submission the autograder could not grade: the reason, in one line."""
    return {
        "score": 0,
        "output": f"Not graded: {reason}. This is not a problem with your files: tell your instructor.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"status": "autograder_error", "reason": reason},
    }


def settings(source: Path) -> tuple[list[int], float]:
    """The practices this autograder grades and the time limit per submission, from ``source/gradescope.json``."""
    path = source / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        return [int(n) for n in config["practices"]], float(config.get("timeout_s", 300.0))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AutograderError(
            f"{path} is missing or unreadable ({error}); rebuild the zip with python -m grader gradescope"
        ) from None


def _source(root: Path) -> Path:
    """``ROOT/source``, checked to be the grader that is running (the batch grades with its own folder)."""
    source = root / "source"
    if REPO.resolve() != source.resolve():
        raise AutograderError(
            f"the grader imported is {REPO}, not {source}: run_autograder must run from {source} "
            "with PYTHONPATH set to it"
        )
    shipped, beside = source / "shared" / "reference", root / "shared" / "reference"
    if shipped.is_dir() and not beside.exists():
        # The suites read the real trtexec files at <repo>/../shared/reference, as in the course repository.
        shutil.copytree(shipped, beside)
    return source


def batch(source: Path, submissions: Path) -> None:
    """``python -m grader batch`` on ``submissions``, its output to this process's stdout (the instructor's log)."""
    chosen, timeout = settings(source)
    out = source / STATE / "out"
    command = [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "1"]
    command += ["--practices", ",".join(map(str, chosen)), "--timeout", f"{timeout:g}", "--regrade"]
    env = {**os.environ, "PYTHONPATH": str(source)}
    completed = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True, check=False)
    print(completed.stdout)
    print(completed.stderr)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or ["no message"]
        raise AutograderError(f"python -m grader batch ended with exit {completed.returncode} ({lines[-1]})")


def grade(root: Path) -> dict[str, Any]:
    """The batch's results.json for the upload in ``ROOT/submission``."""
    from grader.commands.batch.results import result_folder

    source = _source(root)
    settings(source)  # a broken zip is said before anything is copied
    upload = root / "submission"
    if not upload.is_dir():
        raise AutograderError(f"{upload} does not exist: Gradescope puts the student's files there")
    work = Path(tempfile.mkdtemp(prefix="trtlab-gradescope-"))
    try:
        # Links are copied as links: the batch refuses them with a note, as for any student.
        shutil.copytree(upload, work / "submissions" / STUDENT, symlinks=True)
        batch(source, work / "submissions")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = source / STATE / "out" / result_folder(STUDENT) / "results.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AutograderError(f"the batch wrote no readable {path} ({error})") from None


def warm_up(root: Path) -> int:
    """The trusted reference run, once, into the batch's OUT (an empty class): setup.sh's last step."""
    source = _source(root)
    with tempfile.TemporaryDirectory(prefix="trtlab-gradescope-") as scratch:
        (Path(scratch) / "submissions").mkdir()
        batch(source, Path(scratch) / "submissions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
