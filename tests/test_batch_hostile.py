"""The hostile corpus (tests/hostile, README there), graded as folders and zips next to the solution and the stub.

One batch run (Practice 5, 20 s timeout, 2 GiB resident memory) for the whole module: the batch
finishes, the solution earns 100 %, the stub 0 %, every hostile entry gets its status and a clear
message, and nothing outside the workspaces changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.commands.batch.sandbox import SLOT_UID_BASE, SLOT_UID_SPAN
from grader.core.cache import default_root
from grader.core.paths import REPO
from tests.conftest import run_batch

CORPUS = Path(__file__).parent / "hostile"
STUDENT_FILE = "profile_parser.py"

# entry -> (status, phrase in the detail or the first message)
EXPECTED = {
    "syntax_error": ("graded", "has a syntax error at line"),
    "import_exception": ("graded", "raised RuntimeError"),
    "infinite_loop": ("timeout", "time limit"),
    "sys_exit_import": ("graded", "SystemExit"),
    "os_exit": ("crashed", "exited with code 0"),
    "kill_self": ("crashed", "SIGKILL"),
    "segfault_ctypes": ("crashed", "SIGSEGV"),
    "memory_bomb": ("crashed", "memory limit"),
    "memory_bomb_touching": ("crashed", "memory limit"),
    "fork_bomb": ("crashed", "process limit"),
    "fork_and_hang": ("graded", "returned str"),
    "big_output": ("crashed", "output limit"),
    "big_file": ("crashed", "file size limit"),
    "read_solutions": ("graded", "no solutions/"),
    "forge_results": ("graded", ""),
    "forge_channel": ("invalid", "forged"),
    "monkeypatch_outcome": ("invalid", "tampering detected"),
    "patch_grader_code": ("invalid", "grader.core.checks.expect.__code__ was replaced"),
    "network_call": ("graded", "Network is unreachable"),
    "delete_outside": ("graded", ""),
    "wrong_types": ("graded", "expected a list"),
    "no_files": ("invalid", "no practice file found"),
    "symlink_to_solution": ("invalid", "no practice file found"),
    "solution_then_segfault": ("crashed", "SIGSEGV"),
}


@dataclass
class Batch:
    """What the module's one batch run left behind."""

    out: Path
    submissions: Path
    completed: subprocess.CompletedProcess[str]
    before: dict[str, str]
    sentinels: list[Path]
    cache_before: dict[str, int]

    def result(self, student: str) -> dict:
        """OUT/<student>/result.json."""
        return json.loads((self.out / student / "result.json").read_text(encoding="utf-8"))


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file (links as their target)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(root))] = "link:" + os.readlink(path)
        elif path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _cache_listing() -> dict[str, int]:
    """The shared artifact cache: entry -> size."""
    root = default_root()
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()} if root.is_dir() else {}


def _zip(folder: Path, target: Path) -> None:
    """An LMS-style zip of one entry (files under a folder named after the student)."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Grade the corpus once."""
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    subs.mkdir()
    for entry in sorted(CORPUS.iterdir()):
        if entry.is_dir():
            shutil.copytree(entry, subs / entry.name)
    solution = (REPO / "solutions" / "practice5" / STUDENT_FILE).read_text(encoding="utf-8")
    for name, text in (
        ("solution", solution),
        ("stub", (REPO / "assignments" / "practice5" / STUDENT_FILE).read_text(encoding="utf-8")),
        (
            "solution_then_segfault",
            solution
            + "\n\ndef plot_profile(profile, layers, out_png):\n    import ctypes\n\n    ctypes.memset(16, 0, 1)\n",
        ),
    ):
        (subs / name / "practice5").mkdir(parents=True)
        (subs / name / "practice5" / STUDENT_FILE).write_text(text, encoding="utf-8")
    (subs / "symlink_to_solution" / "practice5").mkdir(parents=True)
    (subs / "symlink_to_solution" / "practice5" / STUDENT_FILE).symlink_to(
        REPO / "solutions" / "practice5" / STUDENT_FILE
    )
    for folder in sorted(p for p in subs.iterdir() if p.is_dir() and p.name != "symlink_to_solution"):
        _zip(folder, subs / f"{folder.name}-zip.zip")
    sentinel_dir = Path(tempfile.mkdtemp(prefix="trtlab-hostile-sentinel-"))
    sentinels = [sentinel_dir / "victim.txt", Path(sys.prefix) / "trtlab-hostile-sentinel.txt"]
    for path in sentinels:
        path.write_text("must survive\n")
    before = _tree(subs)
    cache_before = _cache_listing()
    out = root / "out"
    try:
        completed = run_batch(subs, out, "--practices", "5", "--timeout", "20", "--rss", "2", "--jobs", "2")
        yield Batch(out, subs, completed, before, [p for p in sentinels if p.exists()], cache_before)
    finally:
        sentinels[1].unlink(missing_ok=True)
        shutil.rmtree(sentinel_dir, ignore_errors=True)


def _contained(batch: Batch) -> None:
    """Skip checks that need a sandbox where this machine allows none."""
    manifest = json.loads((batch.out / "manifest.json").read_text(encoding="utf-8"))
    if manifest["isolation"]["mode"] == "none":
        pytest.skip("no namespaces on this machine: the batch ran with limits only (see manifest.json)")


def test_batch_finishes_with_every_output_file(batch: Batch) -> None:
    """Exit 0; gradebook, report, manifest, and results.json/feedback.md for every entry."""
    assert batch.completed.returncode == 0, batch.completed.stderr[-3000:]
    for name in ("gradebook.csv", "report.html", "manifest.json"):
        assert (batch.out / name).is_file()
    students = [line.split(",")[0] for line in (batch.out / "gradebook.csv").read_text().splitlines()[1:]]
    expected = set(EXPECTED) | {"solution", "stub"}
    expected |= {f"{name}-zip" for name in expected if name != "symlink_to_solution"}
    assert set(students) == expected
    for student in students:
        results = json.loads((batch.out / student / "results.json").read_text(encoding="utf-8"))
        assert {"score", "tests", "output", "extra_data"} <= set(results)
        assert (batch.out / student / "feedback.md").read_text(encoding="utf-8").startswith(f"# Feedback for {student}")


@pytest.mark.parametrize("suffix", ["", "-zip"])
def test_solution_full_marks_stub_none(batch: Batch, suffix: str) -> None:
    """The reference earns every gradable point, the stub none, among all the hostile entries."""
    solution, stub = batch.result("solution" + suffix), batch.result("stub" + suffix)
    assert solution["status"] == "graded" and solution["max_score"] > 0
    assert solution["score"] == solution["max_score"]
    assert stub["status"] == "graded" and stub["score"] == 0


@pytest.mark.parametrize("suffix", ["", "-zip"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_entry_status_and_message(batch: Batch, name: str, suffix: str) -> None:
    """Each entry's documented status, zero points, and a message that says what happened."""
    if suffix and name == "symlink_to_solution":
        pytest.skip("a link cannot be zipped as a link by this test")
    if name in ("read_solutions", "forge_results", "delete_outside", "network_call"):
        _contained(batch)
    result = batch.result(name + suffix)
    status, phrase = EXPECTED[name]
    first = next(t for t in result["tests"] if t["status"] != "not graded")
    assert result["status"] == status, (result["detail"], first["output"])
    assert phrase in result["detail"] + "\n" + first["output"]
    if name != "solution_then_segfault":
        assert result["score"] == 0, result["detail"]
    if status in ("timeout", "crashed"):
        feedback = (batch.out / (name + suffix) / "feedback.md").read_text(encoding="utf-8")
        assert "It happened during:" in feedback


def test_results_before_a_crash_are_kept(batch: Batch) -> None:
    """The solution that segfaults in plot_profile keeps every point earned before that test."""
    crashed = {t["nodeid"]: t for t in batch.result("solution_then_segfault")["tests"]}
    solution = batch.result("solution")["tests"]
    plot = next(i for i, t in enumerate(solution) if "plot_profile" in t["name"])
    assert plot > 5
    for test in solution[:plot]:
        assert crashed[test["nodeid"]]["score"] == test["score"], test["name"]
    assert crashed[solution[plot]["nodeid"]]["output"].startswith("Not finished")


def test_nothing_outside_the_workspaces_changed(batch: Batch) -> None:
    """Sentinels, the submissions, the shared cache and OUT's own files are as they were."""
    _contained(batch)
    assert len(batch.sentinels) == 2
    for path in batch.sentinels:
        assert path.read_text() == "must survive\n", path
    assert _tree(batch.submissions) == batch.before
    after = _cache_listing()
    assert {k: v for k, v in after.items() if k in batch.cache_before} == batch.cache_before
    forged = [p.name for p in batch.out.iterdir() if p.name in ("results.json", "result.json", "feedback.md")]
    assert forged == []
    for student in ("forge_results", "forge_results-zip"):
        data = json.loads((batch.out / student / "results.json").read_text(encoding="utf-8"))
        assert data["score"] == 0 and data["extra_data"]["status"] == "graded"


def test_no_submission_process_survives(batch: Batch) -> None:
    """Forks, setsid children and sleeping fork-bomb children all ended with their submission."""
    _contained(batch)
    survivors = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                status = Path(f"/proc/{name}/status").read_text()
            except OSError:
                continue
            uid = int(status.split("\nUid:\t", 1)[1].split("\t", 1)[0])
            if SLOT_UID_BASE <= uid < SLOT_UID_BASE + SLOT_UID_SPAN:
                survivors.append(name)
    assert survivors == []


def test_report_lists_what_needs_a_look(batch: Batch) -> None:
    """Tampering, forgery and network attempts are in report.html's "Needs a look" list."""
    html = (batch.out / "report.html").read_text(encoding="utf-8")
    for name in ("monkeypatch_outcome", "patch_grader_code", "forge_channel", "network_call", "infinite_loop"):
        assert f">{name}<" in html
    events = " ".join(batch.result("network_call")["events"])
    assert "socket.connect" in events or "refused: network access" in events  # sandboxed, or the guard's refusal
