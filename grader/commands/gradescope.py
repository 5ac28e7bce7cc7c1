"""``python -m grader gradescope OUT.zip [--practices N,...]``: the autograder zip Gradescope asks for.

Gradescope's autograder specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
a zip with ``setup.sh`` (run once, as root, on an Ubuntu image) and an executable ``run_autograder``
at its root; the zip is unpacked in ``/autograder/source``, the student's upload is in
``/autograder/submission``, and ``run_autograder`` must write ``/autograder/results/results.json``.

The zip holds the whole grader with its hidden tests, the test entries, the reference solutions
(the batch's trusted run needs them; students never see an autograder's source on Gradescope, so
shipping them there is safe), the photos and data the suites read, ``pyproject.toml`` and
``conftest.py``. ``run_autograder`` runs the real batch (``python -m grader batch``) on a
one-student folder made from the upload and hands Gradescope the batch's own results.json. Gradescope
has no GPU: setup.sh installs the CPU tier, and the GPU tier's tests are "not graded" there, never 0.

As for the student release, every file comes from git's last commit (``git archive HEAD``): what an
instructor tried in a working tree never ships, and they are told which of their files were left out.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import zipfile
from pathlib import Path

from grader.commands.release import ReleaseError, committed_files, is_skipped, run_git, working_tree_changes
from grader.core.files import atomic_write
from grader.core.paths import REPO, SHARED_REFERENCE

COPIED = (
    "grader",
    "assignments",
    "solutions",
    "calib_images",
    "eval_images",
    "real_files",
    "pyproject.toml",
    "conftest.py",
    "README.md",  # pyproject.toml's readme: pip refuses to install the lab without it
)
SHARED = "shared/reference"  # in the zip; run_autograder puts it at ROOT/shared/reference, beside source/ as here
TEMPLATES = {"gradescope/setup.sh": "setup.sh", "gradescope/run_autograder": "run_autograder"}
CONFIG = "gradescope.json"  # read by grader.commands.autograder
TORCH_PLACEHOLDER = "@TORCH@"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same commit gives the same zip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gradescope command's options."""
    parser.add_argument("out", type=Path, help="the zip to write (e.g. autograder.zip; replaced if it exists)")
    parser.add_argument("--practices", default="", help="comma-separated practice numbers to grade (default: all)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="wall-clock seconds for grading one submission, as batch --timeout (keep it below Gradescope's own limit)",
    )


def run(args: argparse.Namespace) -> int:
    """Build the zip from git's last commit and write it atomically."""
    out: Path = args.out.resolve()
    if out.suffix.lower() != ".zip":
        raise SystemExit(
            f"{args.out}: the autograder must be a .zip file (Gradescope uploads a zip), e.g. autograder.zip"
        )
    chosen = choose_practices(args.practices)
    if args.timeout <= 0:
        raise SystemExit(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    try:
        names, left_out = build(REPO, out, chosen, args.timeout)
    except ReleaseError as error:
        print(f"gradescope refused: {error}", file=sys.stderr)
        return 1
    shared = sum(name.startswith(SHARED + "/") for name in names)
    print(f"Wrote {out} ({len(names) - shared} files from git's last commit; practices {', '.join(map(str, chosen))}).")
    if shared:
        print(f"  with {shared} reference files of {SHARED_REFERENCE} (not in git; the suites read them)")
    print("Upload it as the autograder of a Gradescope programming assignment (Ubuntu image; no GPU there,")
    print("so the GPU tier's tests show as not graded). Students upload practiceN/<file> or the bare files.")
    for line in left_out:
        print(f"  left out: {line}")
    return 0


def choose_practices(text: str) -> list[int]:
    """The requested practices, checked against the suites present (all of them by default)."""
    from grader.commands.batch.trusted import available_practices

    available = available_practices(REPO)
    if not text.strip():
        return available
    try:
        wanted = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--practices: expected numbers like 1,2,5, got {text!r}") from None
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise SystemExit(f"--practices: no suite for {unknown}; available: {available}")
    return wanted


def build(repo: Path, out: Path, chosen: list[int], timeout: float = 300.0) -> tuple[list[str], list[str]]:
    """Write the zip at ``out``; return its file names and what the working tree held that was left out."""
    files = committed_files(repo, [*COPIED, *TEMPLATES])
    for template, name in TEMPLATES.items():
        if template not in files:
            raise ReleaseError(f"{template} is not in git's last commit: commit it, then build the zip again")
        files[name] = files.pop(template)
    data, mode = files["setup.sh"]
    files["setup.sh"] = (data.replace(TORCH_PLACEHOLDER.encode(), torch_pins(repo).encode()), mode)
    commit = run_git(repo, "rev-parse", "HEAD").decode().strip()
    config = {"practices": chosen, "timeout_s": timeout, "commit": commit, "built_by": "python -m grader gradescope"}
    files[CONFIG] = (json.dumps(config, indent=1).encode(), 0o644)
    files.update(shared_reference(repo.parent / "shared" / "reference"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = (0o100000 | mode) << 16  # a regular file with its permissions (run_autograder: 755)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    atomic_write(out, buffer.getvalue(), durable=True)
    return sorted(files), working_tree_changes(repo, [*COPIED, *TEMPLATES], "the zip", "not in the zip")


def shared_reference(folder: Path) -> dict[str, tuple[bytes, int]]:
    """The real trtexec files the suites read from ``<repo>/../shared/reference`` (not in git), when present.

    Without them those tests are "not graded" on Gradescope; with them it grades what a batch here grades.
    """
    if not folder.is_dir():
        return {}
    return {
        f"{SHARED}/{path.relative_to(folder).as_posix()}": (path.read_bytes(), 0o644)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and not is_skipped(path.relative_to(folder))
    }


def torch_pins(repo: Path) -> str:
    """The x86_64 torch/torchvision pins of the lab's own setup.sh (git's last commit), so both install alike."""
    text = run_git(repo, "show", "HEAD:setup.sh").decode(errors="replace")
    match = re.search(r"x86_64\)\s*TORCH=\(([^)]*)\)", text)
    if not match:
        raise ReleaseError("setup.sh (git's last commit) has no 'x86_64) TORCH=(...)' line to take the torch pins from")
    return match.group(1).strip()
