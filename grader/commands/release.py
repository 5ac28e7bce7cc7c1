"""``python -m grader release OUT_DIR``: the student-facing bundle, checked before it is written.

The bundle holds ``assignments/`` (stubs, READMEs, test entries), the ``grader`` package with only
visible tests, ``calib_images/``, ``eval_images/``, the README and the install files (``setup.sh``,
``pyproject.toml``, ``conftest.py``). Never ``solutions/``, ``tests/`` (the self-tests mutate the
solutions), ``.git``, benchmarks or CI files.

Every file comes from git's last commit (``git archive HEAD``), never from the working tree: an
instructor who tried the practices in their own checkout (edited stubs, exported models, a
``calib.cache``) releases the committed stubs all the same, and is told which of their files were
left out. Outside a git checkout the command refuses.

Tests whose visibility is not ``visible`` (``hidden``, ``after_due_date``, ``after_published``) are
cut out of the suite sources (decorated top-level functions; a module marked as a whole by
``pytestmark`` is emptied). Then the bundle is checked, and nothing is left in OUT_DIR when a check
fails: no file equal to a solution file, no solution function (compared as syntax trees) anywhere,
and a collection of the bundle's own suites (in a subprocess, the bundle's ``grader`` first on the
path) finds only visible tests.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from grader.core.paths import REPO
from grader.practices import PRACTICES

COPIED_DIRS = ("assignments", "grader", "calib_images", "eval_images", "real_files")
COPIED_FILES = ("README.md", "setup.sh", "pyproject.toml", "conftest.py", ".gitignore")
SKIPPED_PARTS = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache")
SKIPPED_SUFFIXES = (".pyc", ".onnx", ".engine", ".tmp")
VISIBLE = "visible"
SELFCHECK_LINE = ".venv/bin/python -m grader selfcheck"
BUNDLE_CHECK = (
    '.venv/bin/python -m pytest assignments --collect-only -q -p no:cacheprovider >/dev/null && echo "Ready: '
    'source .venv/bin/activate && pytest assignments/practice1"'
)
README_HEADER = (
    "> **Student release.** Your practice files are in `assignments/practiceN/`; run `./setup.sh` once, then "
    "`pytest assignments/practiceN`. The solutions and the instructor's hidden tests are not part of this "
    "release; commands below that mention `solutions/` are for instructors.\n\n"
)


class ReleaseError(RuntimeError):
    """The bundle would leak something, or does not work."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The release command's options."""
    parser.add_argument("out_dir", type=Path, help="where to write the bundle (must not exist, or be empty)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")


def run(args: argparse.Namespace) -> int:
    """Build, check, then move the bundle into place."""
    out: Path = args.out_dir.resolve()
    if out.exists() and any(out.iterdir()) and not args.force:
        raise SystemExit(f"{out} exists and is not empty (use --force to replace it)")
    try:
        removed = build(REPO, out)
    except ReleaseError as error:
        print(f"release refused: {error}", file=sys.stderr)
        return 1
    print(f"Wrote the student bundle to {out} (the files of git's last commit)")
    for line in removed:
        print(f"  left out: {line}")
    return 0


def build(repo: Path, out: Path) -> list[str]:
    """Write the checked bundle at ``out``; return what was left out (hidden tests, working-tree changes)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".release-", dir=out.parent))
    try:
        _copy(repo, staging)
        changed = working_tree_changes(repo, [*COPIED_DIRS, *COPIED_FILES], "the release", "not released")
        removed = [*changed, *strip_hidden(staging / "grader" / "practices")]
        _adapt(staging)
        check(repo, staging)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return removed


def is_skipped(path: Path) -> bool:
    """Caches and build outputs."""
    return any(part in SKIPPED_PARTS for part in path.parts) or path.suffix in SKIPPED_SUFFIXES


def run_git(repo: Path, *args: str) -> bytes:
    """``git -C repo ARGS``'s output; ReleaseError when git or the checkout is missing."""
    try:
        completed = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise ReleaseError(f"git could not be run ({error}): the release takes the student files from git") from None
    if completed.returncode != 0:
        raise ReleaseError(
            f"{repo} is not a git checkout with a commit ({completed.stderr.decode(errors='replace').strip()}). "
            "The release takes every file from git's last commit, so that practices tried out in a working tree "
            "never ship: run it from a clone of the course repository."
        )
    return completed.stdout


def committed_files(repo: Path, names: list[str]) -> dict[str, tuple[bytes, int]]:
    """``{path: (bytes, mode)}`` of the regular files under ``names`` in git's last commit (``git archive HEAD``)."""
    present = [n for n in names if run_git(repo, "ls-tree", "--name-only", "HEAD", "--", n).strip()]
    archive = tarfile.open(fileobj=io.BytesIO(run_git(repo, "archive", "--format=tar", "HEAD", "--", *present)))
    files = {}
    for member in archive.getmembers():
        relative = PurePosixPath(member.name)
        # Regular files only, inside the bundle: git archive writes no others, but a tar is read with care.
        if not member.isfile() or relative.is_absolute() or ".." in relative.parts or is_skipped(Path(member.name)):
            continue
        source = archive.extractfile(member)
        assert source is not None
        files[relative.as_posix()] = (source.read(), 0o755 if member.mode & 0o111 else 0o644)
    return files


def _copy(repo: Path, target: Path) -> None:
    """The bundle's files as git's last commit holds them (``git archive HEAD``), never the working tree's."""
    for relative, (data, mode) in committed_files(repo, [*COPIED_DIRS, *COPIED_FILES]).items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(data)
        os.chmod(target / relative, mode)


def working_tree_changes(repo: Path, names: list[str], product: str, untracked: str) -> list[str]:
    """What the working tree holds beyond git's last commit under ``names``: ``untracked`` files and changed ones
    (of which ``product``, e.g. "the release", holds the committed version); neither is shipped."""
    status = run_git(repo, "status", "--porcelain", "--untracked-files=all", "--", *names).decode(errors="replace")
    changes = []
    for line in status.splitlines():
        path = line[3:].strip().strip('"')
        if is_skipped(Path(path)):
            continue
        if line.startswith("??"):
            changes.append(f"{path} (untracked in your working tree: {untracked})")
        else:
            changes.append(f"{path} (changed in your working tree: {product} holds the committed version)")
    return changes


def _adapt(bundle: Path) -> None:
    """setup.sh checks the student's environment instead of grading solutions/; the README says what this is."""
    setup = bundle / "setup.sh"
    if setup.is_file():
        text = setup.read_text(encoding="utf-8")
        if SELFCHECK_LINE in text:
            setup.write_text(text.replace(SELFCHECK_LINE, BUNDLE_CHECK), encoding="utf-8")
    readme = bundle / "README.md"
    if readme.is_file():
        readme.write_text(README_HEADER + readme.read_text(encoding="utf-8"), encoding="utf-8")


# ---------------------------------------------------------------- hidden tests


def _visibility(decorator: ast.expr) -> str | None:
    """``"hidden"`` for ``@pytest.mark.visibility("hidden")``, else None."""
    if not isinstance(decorator, ast.Call) or not decorator.args:
        return None
    func = decorator.func
    if isinstance(func, ast.Attribute) and func.attr == "visibility":
        value = decorator.args[0]
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
        return "unknown"
    return None


def strip_hidden(suites: Path) -> list[str]:
    """Cut every test that is not visible out of the suite sources; return what was cut."""
    removed = []
    for path in sorted(suites.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.splitlines(keepends=True)
        module_mark = _module_visibility(tree)
        if module_mark not in (None, VISIBLE):
            path.write_text('"""Hidden tests: not part of the student release."""\n', encoding="utf-8")
            removed.append(f"{path.relative_to(suites.parent.parent)} (whole module, visibility {module_mark})")
            continue
        cuts = []
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            marks = [m for m in (_visibility(d) for d in node.decorator_list) if m is not None]
            if marks and marks[0] != VISIBLE:
                start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
                cuts.append((start, node.end_lineno or node.lineno))
                removed.append(f"{path.relative_to(suites.parent.parent)}::{node.name} (visibility {marks[0]})")
        for start, end in sorted(cuts, reverse=True):
            del lines[start:end]
        if cuts:
            path.write_text("".join(lines), encoding="utf-8")
            ast.parse(path.read_text(encoding="utf-8"))  # still valid Python
    return removed


def _module_visibility(tree: ast.Module) -> str | None:
    """The visibility of ``pytestmark = pytest.mark.visibility(...)`` (or a list holding it), if any."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            for value in values:
                mark = _visibility(value)
                if mark is not None:
                    return mark
    return None


# ---------------------------------------------------------------- checks


def _function_shapes(path: Path) -> dict[str, str]:
    """Syntax-tree dumps of the top-level functions of a Python file (location-free)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return {}
    shapes = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring is shared with the stub
            if len(body) <= 1 and all(isinstance(s, (ast.Raise, ast.Pass)) for s in body):
                continue  # a stub's `raise NotImplementedError`
            shapes[ast.dump(ast.Module(body=body, type_ignores=[]))] = node.name
    return shapes


def check(repo: Path, bundle: Path) -> None:
    """Raise ReleaseError when a solution or a hidden test is in the bundle, or the bundle cannot collect."""
    solution_files = [p for p in (repo / "solutions").rglob("*") if p.is_file() and not is_skipped(p)]
    solution_hashes = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in solution_files}
    entries = {f"test_practice{n}.py" for n in PRACTICES}
    solution_functions: dict[str, str] = {}
    for path in solution_files:
        if path.suffix == ".py" and path.name not in entries:
            for shape, name in _function_shapes(path).items():
                solution_functions[shape] = f"{path.relative_to(repo)}::{name}"
    for path in (repo / "assignments").rglob("*.py"):
        for shape in _function_shapes(path):  # scaffolding the stub hands out is no leak
            solution_functions.pop(shape, None)
    for path in sorted(bundle.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(bundle)
        if relative.parts[0] in ("solutions", "tests", ".git"):
            raise ReleaseError(f"{relative} must not be in the student release")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in solution_hashes and path.name not in entries:
            raise ReleaseError(f"{relative} is a copy of {solution_hashes[digest].relative_to(repo)}")
        if path.suffix == ".py":
            for shape in _function_shapes(path):
                if shape in solution_functions:
                    raise ReleaseError(f"{relative} contains the solution's function {solution_functions[shape]}")
    visibilities = collected_visibilities(bundle)
    hidden = {nodeid: v for nodeid, v in visibilities.items() if v != VISIBLE}
    if hidden:
        raise ReleaseError(f"tests that are not visible are still collected: {sorted(hidden)[:5]}")
    if not visibilities:
        raise ReleaseError("the bundle's suites collect no test")


def collected_visibilities(bundle: Path) -> dict[str, str]:
    """Every graded test the bundle's own grader collects in ``assignments/``, with its visibility."""
    with tempfile.TemporaryDirectory(prefix="trtlab-release-") as scratch:
        report = Path(scratch) / "collected.json"
        env = {**os.environ, "PYTHONPATH": str(bundle), "TRTLAB_BATCH_REPORT": str(report)}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "assignments",
            "--collect-only",
            "-q",
            "-p",
            "grader.commands.batch.stream",
            "-p",
            "no:cacheprovider",
        ]
        completed = subprocess.run(command, cwd=bundle, env=env, capture_output=True, text=True, check=False)
        if not report.exists() or completed.returncode not in (0, 5):  # 5: nothing collected, reported below
            tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-15:])
            raise ReleaseError(f"the bundle's suites do not collect (pytest exit {completed.returncode}):\n{tail}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return {test["nodeid"]: test["visibility"] for test in data["tests"]}
