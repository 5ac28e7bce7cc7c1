"""Batch grading, piece by piece: finding files, the signed stream, the guard, scoring and statuses."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.commands.batch import outputs, results, stream, submissions, trusted
from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.progress import Progress
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.trusted import TestInfo, TrustedSuite

ENTRY = "assignments/practice5/test_practice5.py::"


# ---------------------------------------------------------------- finding the files


def _loaded(root: Path, name: str) -> submissions.Submission:
    """Discover ``root`` and load the entry called ``name``."""
    entries, _ = submissions.discover(root)
    entry = next(e for e in entries if e.id == name)
    return submissions.load(entry)


@pytest.mark.parametrize(
    ("layout", "placement"),
    [
        ("practice5/profile_parser.py", "practice folder"),
        ("profile_parser.py", "top level"),
        ("alice-main/practice5/profile_parser.py", "one folder deeper"),
        ("handin/profile_parser.py", "one folder deeper"),
    ],
)
def test_files_found_where_lms_exports_put_them(tmp_path: Path, layout: str, placement: str) -> None:
    """A practice file is found in its folder, at the top level or one folder deeper, and says where."""
    path = tmp_path / "alice" / layout
    path.parent.mkdir(parents=True)
    path.write_text("x = 1\n")
    entry = _loaded(tmp_path, "alice")
    assert entry.files[5].where == layout
    assert entry.files[5].placement == placement


def test_practice_folder_wins_and_the_others_are_named(tmp_path: Path) -> None:
    """Two copies: the practice folder's is graded, the note names the ignored one."""
    for layout in ("practice5/profile_parser.py", "profile_parser.py"):
        path = tmp_path / "bob" / layout
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {layout}\n")
    entry = _loaded(tmp_path, "bob")
    assert entry.files[5].where == "practice5/profile_parser.py"
    assert any("ignored profile_parser.py" in note for note in entry.notes)


def test_too_deep_or_wrong_folder_is_not_taken(tmp_path: Path) -> None:
    """Two folders deep, or in another practice's folder, is not the practice's file."""
    for layout in ("a/b/practice5/profile_parser.py", "practice3/profile_parser.py"):
        path = tmp_path / "carol" / layout
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    assert _loaded(tmp_path, "carol").files == {}


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    """A submitted link to another file (the solution, /etc/shadow) is ignored with a note."""
    target = tmp_path / "secret.py"
    target.write_text("SECRET = 1\n")
    folder = tmp_path / "subs" / "dave" / "practice5"
    folder.mkdir(parents=True)
    (folder / "profile_parser.py").symlink_to(target)
    entry = _loaded(tmp_path / "subs", "dave")
    assert entry.files == {}
    assert any("symbolic link" in note for note in entry.notes)


def test_zip_members_are_read_safely(tmp_path: Path) -> None:
    """Zip slip, absolute paths and links in archives are ignored; the real file is read; calib.cache comes along."""
    archive = tmp_path / "erin.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../../practice5/profile_parser.py", "EVIL = 1\n")
        handle.writestr("/abs/profile_parser.py", "EVIL = 2\n")
        link = zipfile.ZipInfo("erin/practice2/data_loader.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(link, "/etc/passwd")
        handle.writestr("erin/practice5/profile_parser.py", "GOOD = 1\n")
        handle.writestr("erin/practice2/calib.cache", "TRT-1\n")
    entry = _loaded(tmp_path, "erin")
    assert entry.kind == "zip"
    assert entry.files[5].data == b"GOOD = 1\n"
    assert 2 not in entry.files
    notes = " ".join(entry.notes)
    assert "unsafe path" in notes and "symbolic link" in notes


def test_unreadable_zip_is_reported_not_raised(tmp_path: Path) -> None:
    """A corrupt archive becomes a reason, never an exception in the grader."""
    (tmp_path / "frank.zip").write_bytes(b"PK\x03\x04 not really a zip")
    entry = _loaded(tmp_path, "frank")
    assert entry.unreadable and "could not be read" in entry.unreadable


def test_folder_and_zip_with_one_name_are_both_graded(tmp_path: Path) -> None:
    """``gina/`` and ``gina.zip`` become two entries with different ids."""
    (tmp_path / "gina").mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        handle.writestr("profile_parser.py", "x = 1\n")
    (tmp_path / "gina.zip").write_bytes(buffer.getvalue())
    entries, _ = submissions.discover(tmp_path)
    assert sorted(e.id for e in entries) == ["gina", "gina.zip"]


def test_content_hash_follows_what_is_graded(tmp_path: Path) -> None:
    """Editing the practice file changes the hash; adding an unrelated file does not."""
    path = tmp_path / "hal" / "practice5" / "profile_parser.py"
    path.parent.mkdir(parents=True)
    path.write_text("x = 1\n")
    before = _loaded(tmp_path, "hal").content_hash([5])
    (path.parent / "notes.txt").write_text("unrelated")
    assert _loaded(tmp_path, "hal").content_hash([5]) == before
    path.write_text("x = 2\n")
    assert _loaded(tmp_path, "hal").content_hash([5]) != before


def test_safe_ids_for_unusual_names() -> None:
    """Names with spaces or slashes become distinct, safe folder names."""
    odd = submissions.Submission("Ann Lee_123_file_", Path("x"), "folder")
    assert "/" not in odd.safe_id and " " not in odd.safe_id
    assert odd.safe_id != submissions.Submission("Ann_Lee_123_file_", Path("x"), "folder").safe_id


# ---------------------------------------------------------------- the signed stream


def test_signed_messages_verify_only_with_the_key_and_sequence() -> None:
    """A tag binds payload, key and sequence number: replays and edits fail."""
    key = os.urandom(32)
    payload = b'{"seq": 3, "type": "result"}'
    message = payload + stream.sign(key, 3, payload)
    assert stream.verify(key, 3, message) == {"seq": 3, "type": "result"}
    assert stream.verify(key, 4, message) is None
    assert stream.verify(os.urandom(32), 3, message) is None
    assert stream.verify(key, 3, payload.replace(b"result", b"resulT") + message[len(payload) :]) is None
    assert stream.verify(key, 3, b"short") is None


def test_integrity_snapshot_sees_replaced_globals_and_class_attributes() -> None:
    """A replaced suite constant, or an attribute added to a pytest class, is a change; undone, none."""
    import _pytest.reports
    import pluggy

    from grader.practices.practice5 import suite

    snapshot = stream.Snapshot(pluggy.PluginManager("probe"))
    assert len(snapshot) > 1000 and snapshot.changes() == []
    original = suite.STUDENT_FILE
    try:
        suite.STUDENT_FILE = "other.py"
        assert any("grader.practices.practice5.suite.STUDENT_FILE" in change for change in snapshot.changes())
    finally:
        suite.STUDENT_FILE = original
    assert "passed" not in vars(_pytest.reports.TestReport)  # inherited from BaseReport
    try:
        _pytest.reports.TestReport.passed = property(lambda self: True)
        assert any("_pytest.reports.TestReport gained" in change for change in snapshot.changes())
    finally:
        del _pytest.reports.TestReport.passed
    assert snapshot.changes() == []


def test_replacing_a_grader_functions_code_is_tampering(tmp_path: Path) -> None:
    """``f.__code__ = ...`` on a grader function (an audited event) is tampering; on the student's own, not."""
    import socket

    import pluggy

    from grader.core import checks

    mine, _theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    plugin = stream.StreamPlugin(mine.detach(), b"k" * 32, tmp_path)
    plugin._snapshot = stream.Snapshot(pluggy.PluginManager("probe"))

    def own(x: int = 1) -> int:
        return x

    plugin._audit("object.__setattr__", (own, "__code__", (lambda x=1: 2).__code__))
    assert plugin._tampering == []
    plugin._audit("object.__setattr__", (checks.expect, "__code__", (lambda c, m: None).__code__))
    assert plugin._tampering == ["function grader.core.checks.expect.__code__ was replaced"]


def test_guard_refuses_hidden_reads_outside_writes_and_network(tmp_path: Path) -> None:
    """Without namespaces the audit-hook guard refuses what the sandbox would make impossible."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    guard = stream.Guard(str(workspace), [str(tmp_path / "solutions"), str(tmp_path)])
    assert guard.problem("open", (str(tmp_path / "solutions" / "x.py"), "r", os.O_RDONLY))
    assert guard.problem("open", (str(tmp_path / "other.txt"), "w", os.O_WRONLY | os.O_CREAT))
    assert guard.problem("open", (str(workspace / "mine.txt"), "w", os.O_WRONLY)) is None
    assert guard.problem("open", ("/dev/null", "w", os.O_WRONLY)) is None
    assert guard.problem("os.remove", (str(tmp_path / "victim"),))
    assert guard.problem("socket.connect", (None, ("1.1.1.1", 80)))
    assert guard.problem("socket.connect", (None, ("127.0.0.1", 80))) is None


# ---------------------------------------------------------------- scores and statuses


def _suite() -> TrustedSuite:
    """Three tests of Practice 5 (2 + 1 points, one not graded here) and one of Practice 3."""
    return TrustedSuite(
        "hash",
        [
            TestInfo(ENTRY + "t1", "first", 5, 2.0, "visible", 0, number="5.1"),
            TestInfo(ENTRY + "t2", "second", 5, 1.0, "visible", 1),
            TestInfo(ENTRY + "t3", "gpu", 5, 4.0, "visible", 2, not_graded="not graded on this machine: no GPU"),
            TestInfo("assignments/practice3/test_practice3.py::t", "dla", 3, 5.0, "visible", 3),
        ],
    )


def _submission(practices: tuple[int, ...] = (5,)) -> submissions.Submission:
    """A submission holding the given practices' files."""
    entry = submissions.Submission("ivy", Path("ivy"), "folder")
    for number in practices:
        entry.files[number] = submissions.FoundFile(number, "f.py", f"practice{number}/f.py", "practice folder", b"")
    return entry


def _result(nodeid: str, ran: str, fraction: float = 1.0, message: str = "", kind: str = "") -> dict:
    """One streamed result (``grader.core.scoring.Outcome.to_json``)."""
    return {
        "nodeid": ENTRY + nodeid,
        "ran": ran,
        "fraction": fraction,
        "message": message,
        "kind": kind,
        "duration": 0.1,
        "called": ran != "skipped",
    }


def test_scores_come_from_the_trusted_suite() -> None:
    """Points are the suite's; a not-graded test is out of max; partial credit is scaled."""
    worker = WorkerReport(results={ENTRY + "t1": _result("t1", "passed"), ENTRY + "t2": _result("t2", "failed", 0.5)})
    worker.done = {"exitstatus": 1}
    result = results.build(_submission(), "k", [5], _suite(), worker, Limits())
    assert (result.status, result.score, result.max_score) == ("graded", 2.5, 3.0)
    assert [t["status"] for t in result.tests] == ["passed", "failed", "not graded"]


def test_a_skip_the_trusted_run_did_not_expect_counts_as_failed() -> None:
    """A worker cannot shrink max_score by skipping."""
    worker = WorkerReport(
        results={ENTRY + "t1": _result("t1", "skipped", 0.0, "nope"), ENTRY + "t2": _result("t2", "passed")}
    )
    worker.done = {"exitstatus": 0}
    result = results.build(_submission(), "k", [5], _suite(), worker, Limits())
    assert (result.score, result.max_score) == (1.0, 3.0)
    assert "counts as failed" in result.tests[0]["output"]


def test_a_test_the_reference_skipped_is_graded_for_nobody() -> None:
    """One class, one maximum: a test the reference run skipped (no calib.cache in solutions/) is out of
    every student's maximum, whether their own run skipped it, failed it or passed it."""
    suite = trusted._from_report(
        {
            "tests": [
                {**vars(info), "max_score": info.max_score, "skip_reason": info.not_graded} for info in _suite().tests
            ],
            "outcomes": {
                ENTRY + "t1": _result("t1", "passed"),
                ENTRY + "t2": _result("t2", "skipped", 0.0, "not graded on this machine: no calib.cache"),
            },
        },
        "hash",
        have_solutions=True,
    )
    assert suite.tests[1].not_graded.startswith("not graded on this machine: no calib.cache")
    maxima = set()
    for ran, fraction in (("skipped", 0.0), ("failed", 0.0), ("passed", 1.0)):
        worker = WorkerReport(
            results={ENTRY + "t1": _result("t1", "passed"), ENTRY + "t2": _result("t2", ran, fraction, "x")},
            done={"exitstatus": 0},
        )
        result = results.build(_submission(), "k", [5], suite, worker, Limits())
        assert (result.score, result.tests[1]["status"]) == (2.0, "not graded")
        maxima.add(result.max_score)
    assert maxima == {2.0}


def test_missing_practice_makes_the_grade_partial() -> None:
    """Every handed-in test ran, one requested practice was not handed in."""
    worker = WorkerReport(results={ENTRY + "t1": _result("t1", "passed"), ENTRY + "t2": _result("t2", "passed")})
    worker.done = {"exitstatus": 0}
    result = results.build(_submission(), "k", [3, 5], _suite(), worker, Limits())
    assert (result.status, result.score, result.max_score) == ("partial", 3.0, 8.0)
    assert "practice3" in result.detail


@pytest.mark.parametrize(
    ("change", "status", "phrase"),
    [
        ({"killed": "timeout"}, "timeout", "time limit"),
        ({"killed": "output"}, "crashed", "output limit"),
        ({"exit_status": 11}, "crashed", "SIGSEGV"),
        ({"exit_status": 0}, "crashed", "exited with code 0"),
        ({"limit": {"kind": "memory", "nodeid": ENTRY + "t1"}}, "crashed", "memory limit"),
        ({"tamper": {"nodeid": ENTRY + "t2", "changes": ["function x replaced"]}}, "invalid", "tampering"),
        ({"forged": ["bad signature"]}, "invalid", "forged"),
    ],
)
def test_statuses_of_runs_that_did_not_finish(change: dict, status: str, phrase: str) -> None:
    """Each way a run can end gets its status; results that arrived before are kept."""
    worker = WorkerReport(results={ENTRY + "t1": _result("t1", "passed")})
    for name, value in change.items():
        setattr(worker, name, value)
    result = results.build(_submission(), "k", [5], _suite(), worker, Limits())
    assert result.status == status
    assert phrase in result.detail
    assert result.score == 2.0  # t1 finished before
    assert result.tests[1]["output"].startswith(("Not finished", "Not run"))


def test_nothing_handed_in_is_invalid_without_running() -> None:
    """No practice file: invalid, with what the grader looked for."""
    result = results.build(_submission(()), "k", [5], _suite(), None, Limits())
    assert result.status == "invalid" and "practice5/profile_parser.py" in result.detail


def test_gradebook_is_sorted_and_has_no_timings() -> None:
    """One row per student, by id: the same bytes whatever order or speed they were graded in."""
    worker = WorkerReport(results={ENTRY + "t1": _result("t1", "passed")}, done={"exitstatus": 0}, duration_s=9.9)
    first = results.build(_submission(), "k", [5], _suite(), worker, Limits())
    second = results.StudentResult.from_json({**first.to_json(), "id": "adam", "duration_s": 1.0})
    text = outputs.gradebook([first, second], [5])
    assert text.splitlines() == [
        "id,name,total,max,practice5,practice5_max,status",
        "adam,,2,3,2,3,graded",
        "ivy,,2,3,2,3,graded",
    ]


def test_progress_line_has_an_eta() -> None:
    """The bar counts, estimates the time left and names what runs."""
    progress = Progress(10, 2, stream=io.StringIO())
    progress.done = 5
    line = progress.line([("ivy", 3.0)])
    assert "5/10" in line and "ETA" in line and "ivy 3s" in line


def test_memory_of_a_process_that_just_exited_is_zero() -> None:
    """A process gone between reading the process table and its smaps counts nothing, not its old RSS
    (forked children ending together once read as several GiB and killed a submission for memory)."""
    from grader.commands.batch import processes

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: /proc/<pid> is gone
    assert processes.private_bytes(child.pid, resident_pages=100_000) == 0
    assert 0 < processes.private_bytes(os.getpid(), resident_pages=1) < 4 * 2**30


def test_every_batch_program_gets_the_malloc_settings_and_the_instructors_own_values_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zygote's, the trusted run's and a worker's programs' environments carry glibc's MALLOC_* settings; a value
    the instructor set is the one passed on, also into the worker's environment, which keeps nothing else of theirs."""
    from grader.commands.batch import allocator, planner

    assert allocator.malloc_environment({}) == allocator.GLIBC_MALLOC
    mine = {"MALLOC_TOP_PAD_": "0", "HOME": "/home/teacher"}
    assert allocator.malloc_environment(mine) == {**allocator.GLIBC_MALLOC, "MALLOC_TOP_PAD_": "0"}
    monkeypatch.setenv("MALLOC_TOP_PAD_", "0")
    env = planner.worker_environment(tmp_path)
    assert {name: env.get(name) for name in allocator.GLIBC_MALLOC} == {**allocator.GLIBC_MALLOC, "MALLOC_TOP_PAD_": "0"}


def test_private_memory_is_read_again_only_after_faults_or_a_change_of_resident_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The monitor's reading of a process that neither faulted nor changed its resident pages is kept; one that
    allocated is read again and shows the new memory (smaps_rollup costs 20-30 ms per worker-sized process)."""
    from grader.commands.batch import processes

    script = "import sys; sys.stdin.readline(); b = bytearray(64 << 20); print('ok', flush=True); sys.stdin.readline()"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    reads: list[int] = []
    real = processes.private_bytes

    def counted(pid: int, resident_pages: int) -> int:
        reads.append(pid)
        return real(pid, resident_pages)

    monkeypatch.setattr(processes, "private_bytes", counted)
    try:
        memory = processes.PrivateMemory()
        entry = processes.process_table()[child.pid]
        before = memory.of(child.pid, entry)
        assert (memory.of(child.pid, entry), reads) == (before, [child.pid])  # nothing changed: not read again
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ok"
        after = memory.of(child.pid, processes.process_table()[child.pid])
        assert reads == [child.pid, child.pid]
        assert after - before >= 60 << 20
        total, threads = memory.tree_usage(child.pid)
        assert abs(total - after) < 4 << 20 and threads >= 1
    finally:
        child.kill()
        child.wait()


def test_a_skip_in_the_sandbox_of_a_test_the_reference_ran_is_reported_once_for_the_class() -> None:
    """The sandbox saw less than the reference run (or the student lacks an input): counted as failed, and the
    class report says which test and how many students, instead of blaming each student."""
    skipped = WorkerReport(
        results={
            ENTRY + "t1": _result("t1", "skipped", 0.0, "not graded on this machine: weights not cached"),
            ENTRY + "t2": _result("t2", "passed"),
        },
        done={"exitstatus": 0},
    )
    first = results.build(_submission(), "k", [5], _suite(), skipped, Limits())
    second = results.StudentResult.from_json({**first.to_json(), "id": "adam"})
    warnings = outputs.sandbox_skips([first, second])
    assert len(warnings) == 1 and "test 5.1 (first)" in warnings[0] and "2 student run(s)" in warnings[0]
    assert "weights not cached" in warnings[0]
    assert first.flags == []  # one test out of a practice is no reason to flag the student
