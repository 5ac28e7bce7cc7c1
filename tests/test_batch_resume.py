"""Killing the batch at random moments, then running the same command, ends in a clean run's gradebook.

Practices 3 and 5 on seven entries (full solution, stubs, partial hand-ins, a zip, a segfault,
os._exit). One uninterrupted run into one folder; into another, four runs SIGKILLed at random
times (seed printed on failure; set TRTLAB_RESUME_SEED to replay), then one run to the end.
"""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.core.paths import REPO

HOSTILE = Path(__file__).parent / "hostile"
KILLS = 4


def _entries(root: Path) -> Path:
    """The submissions folder."""
    subs = root / "submissions"
    for practice, name in ((3, "dla_build.py"), (5, "profile_parser.py")):
        for student, tree in (("solution", "solutions"), ("stub", "assignments")):
            target = subs / student / f"practice{practice}"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / tree / f"practice{practice}" / name, target / name)
    (subs / "only_p5").mkdir()
    shutil.copytree(subs / "solution" / "practice5", subs / "only_p5" / "practice5")
    (subs / "p3_top_level").mkdir()
    shutil.copy(REPO / "solutions" / "practice3" / "dla_build.py", subs / "p3_top_level" / "dla_build.py")
    for name in ("segfault_ctypes", "os_exit", "syntax_error"):
        shutil.copytree(HOSTILE / name, subs / name)
    with zipfile.ZipFile(subs / "zipped.zip", "w") as archive:
        for path in sorted((subs / "solution").rglob("*.py")):
            archive.write(path, f"zipped-main/{path.relative_to(subs / 'solution')}")
    return subs


def _command(subs: Path, out: Path) -> list[str]:
    """The batch command line."""
    return [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--practices", "3,5"] + [
        "--timeout",
        "60",
        "--jobs",
        "2",
    ]


def test_killed_and_resumed_batch_matches_a_clean_run(tmp_path: Path) -> None:
    """Same gradebook, same statuses, and the last run grades only what the killed runs left."""
    seed = int(os.environ.get("TRTLAB_RESUME_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    subs = _entries(tmp_path)
    clean = tmp_path / "clean"
    completed = subprocess.run(_command(subs, clean), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    clean_book = (clean / "gradebook.csv").read_text(encoding="utf-8")
    resumed = tmp_path / "resumed"
    finished_before = []
    for _ in range(KILLS):
        process = subprocess.Popen(
            _command(subs, resumed), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(1.0, 14.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished_before.append(len(list(resumed.glob("*/result.json"))) if resumed.exists() else 0)
    final = subprocess.run(_command(subs, resumed), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]
    context = f"seed {seed}; finished after each kill: {finished_before}"
    assert (resumed / "gradebook.csv").read_text(encoding="utf-8") == clean_book, context
    already = finished_before[-1]
    students = len(clean_book.splitlines()) - 1
    if already == students:
        assert "Grading" not in final.stderr, context  # nothing left to grade
    else:
        assert f"Grading {students - already} of {students} submissions ({already} unchanged)" in final.stderr, context
    rows = _book(clean_book)
    assert rows["solution"]["total"] == rows["solution"]["max"] and float(rows["solution"]["max"]) > 0
    assert rows["stub"]["total"] == "0"
    assert rows["only_p5"]["status"] == "partial" and rows["p3_top_level"]["status"] == "partial"
    assert rows["segfault_ctypes"]["status"] == "crashed" and rows["os_exit"]["status"] == "crashed"
    assert rows["zipped"]["total"] == rows["solution"]["total"]


def _book(text: str) -> dict[str, dict[str, str]]:
    """gradebook.csv's rows by id (the file is UTF-8 with a BOM)."""
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}


def test_unchanged_submissions_are_not_graded_again(tmp_path: Path) -> None:
    """A second run over the same files grades nothing and is fast; --regrade grades everything."""
    subs = tmp_path / "submissions"
    (subs / "solo" / "practice5").mkdir(parents=True)
    shutil.copy(REPO / "solutions" / "practice5" / "profile_parser.py", subs / "solo" / "practice5")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--practices", "5"]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    start = time.monotonic()
    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    assert second.returncode == 0 and "Grading" not in second.stderr, second.stderr
    row = _book((out / "gradebook.csv").read_text(encoding="utf-8"))["solo"]
    assert row["total"] == row["max"] and row["status"] == "graded"
    assert elapsed < 15, f"an unchanged batch took {elapsed:.1f} s"
    (subs / "solo" / "practice5" / "profile_parser.py").write_text("x = 1\n")
    third = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "Grading 1 of 1" in third.stderr
    regrade = subprocess.run([*command, "--regrade"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "Grading 1 of 1" in regrade.stderr


@pytest.fixture(autouse=True)
def _no_orphaned_workers() -> None:
    """Every test here kills batches: no zygote may outlive its batch (they die with their parent)."""
    yield
    deadline = time.monotonic() + 10
    while True:
        orphans = []
        for pid in subprocess.run(
            ["pgrep", "-f", "grader.commands.batch.zygote"], capture_output=True, text=True
        ).stdout.split():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2 :].split()[1] == "1":
                orphans.append(pid)
        if not orphans or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert orphans == [], f"zygotes left running after their batch was killed: {orphans}"
