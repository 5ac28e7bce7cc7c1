"""Adding a practice is what the README's "Adding a practice" section says, and nothing else.

The section's code blocks (each starts with a comment naming its file) are written into a temporary
copy of the lab as a throwaway practice 9; nothing else in the copy is edited. The copy's grader must
then find practice 9, its self-check must give the reference 100 % and the stub 0 %, its mistakes
self-test must pass, and a batch over a small class must grade it.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.paths import REPO

SECTION = "## Adding a practice"
COPIED = ("grader", "assignments", "solutions", "tests", "conftest.py", "pyproject.toml", "README.md")
FILE_LINE = re.compile(r"^(?:#|<!--)\s*(?P<path>[\w./-]+\.\w+)\s*(?:-->)?\s*$")


def contributing_files(readme: str) -> dict[str, str]:
    """The files the section shows: every fenced block whose first line is ``# path`` (or ``<!-- path -->``)."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end > 0 else None]
    files = {}
    for body in re.findall(r"^```\w*\n(.*?)^```", section, flags=re.S | re.M):
        first, _, rest = body.partition("\n")
        match = FILE_LINE.match(first)
        if match:
            files[match.group("path")] = rest
    return files


def _run(copy: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the copy, with the copy's grader first on the path."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run(
        [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the lab with practice 9 added from the README, and only that."""
    root = tmp_path_factory.mktemp("new-practice") / "lab"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    files = contributing_files((REPO / "README.md").read_text(encoding="utf-8"))
    for relative, text in files.items():
        target = root / relative
        assert not target.exists(), f"the README's {relative} would overwrite a file: adding a practice edits nothing"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def test_the_section_shows_every_file_a_practice_needs() -> None:
    """Metadata, suite, stub, reference, both entries and READMEs, and the self-test, all for practice 9."""
    files = contributing_files((REPO / "README.md").read_text(encoding="utf-8"))
    assert set(files) >= {
        "grader/practices/practice9/__init__.py",
        "grader/practices/practice9/suite.py",
        "assignments/practice9/test_practice9.py",
        "solutions/practice9/test_practice9.py",
        "assignments/practice9/README.md",
        "tests/test_practice9_mistakes.py",
    }, sorted(files)
    stub = next(path for path in files if path.startswith("assignments/practice9/") and path.endswith(".py")
                and "test_" not in path)
    assert "NotImplementedError" in files[stub]
    assert stub.replace("assignments/", "solutions/") in files


def test_the_copy_finds_practice_9(copy: Path) -> None:
    """The practice list is read from the practice packages: the new folder is enough."""
    done = _run(copy, "-c", "import grader, grader.practices as p; print(grader.__file__); print(sorted(p.PRACTICES))")
    assert done.returncode == 0, done.stderr
    where, numbers = done.stdout.splitlines()
    assert where.startswith(str(copy)), where
    assert numbers == "[1, 2, 3, 4, 5, 9]"


def test_selfcheck_grades_practice_9(copy: Path) -> None:
    """``selfcheck --practices 9``: the reference earns every point, the stub none."""
    done = _run(copy, "-m", "grader", "selfcheck", "--practices", "9")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if "expected" in line]
    assert len(lines) == 2 and "(100%), expected 100%: OK" in lines[0] and "(0%), expected 0%: OK" in lines[1], lines


def test_the_new_practice_self_test_passes(copy: Path) -> None:
    """The practice's own mistakes self-test (from the README) passes in the copy."""
    done = _run(copy, "-m", "pytest", "tests/test_practice9_mistakes.py", "-q", "-p", "no:randomly")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and " failed" not in done.stdout


def test_a_batch_grades_practice_9(copy: Path, tmp_path: Path) -> None:
    """A class of three: the reference, the untouched stub and a submission with one mistake."""
    files = contributing_files((REPO / "README.md").read_text(encoding="utf-8"))
    stub = next(Path(p).name for p in files if p.startswith("assignments/practice9/") and p.endswith(".py")
                and "test_" not in p)
    subs = tmp_path / "submissions"
    for student, source in (("ada", copy / "solutions" / "practice9" / stub),
                            ("bo", copy / "assignments" / "practice9" / stub)):
        (subs / student).mkdir(parents=True)
        shutil.copy(source, subs / student / stub)
    (subs / "cy").mkdir()
    naive = (copy / "solutions" / "practice9" / stub).read_text(encoding="utf-8")
    (subs / "cy" / stub).write_text(naive.replace("logits - logits.max(axis=-1, keepdims=True)", "logits"))
    assert (subs / "cy" / stub).read_text() != naive, "the mistake must change the reference"
    out = tmp_path / "out"
    done = _run(copy, "-m", "grader", "batch", str(subs), "--out", str(out), "--practices", "9", "--jobs", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"ada", "bo", "cy"}, rows
    assert {row["max"] for row in rows.values()} == {rows["ada"]["max"]}, "one class, one maximum"
    total = float(rows["ada"]["max"])
    assert total > 0 and float(rows["ada"]["total"]) == float(rows["ada"]["practice9"]) == total
    assert float(rows["bo"]["total"]) == 0
    assert 0 < float(rows["cy"]["total"]) < total
