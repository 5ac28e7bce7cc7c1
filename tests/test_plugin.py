"""The grading plugin: points, partial credit, visibility, not-graded skips, report and table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import pytest
from grader.core.student import StudentCodeError

@pytest.mark.points(2)
def test_passes():
    """a passing check"""

@pytest.mark.points(3)
def test_fails():
    """a failing check"""
    pytest.fail("expected 3, got 4: fix f()", pytrace=False)

@pytest.mark.points(4)
def test_partial(grade):
    """a half-right check"""
    grade.award(0.5, "2 of 4 cases right")

@pytest.mark.points(1)
def test_note(grade):
    """a check with a note"""
    grade.note("top-1 0.90")

@pytest.mark.points(5)
@pytest.mark.requires("tensorrt")
def test_needs_tensorrt():
    """a TensorRT check"""
    raise AssertionError("must never run without TensorRT")

@pytest.mark.points(1)
@pytest.mark.visibility("after_due_date")
def test_student_error():
    """a check whose student code crashed"""
    raise StudentCodeError("f() raised ValueError: boom")

@pytest.mark.points(1)
def test_grader_bug():
    """a check with a grader bug"""
    {}["missing"]
'''

GRADESCOPE_TEST_KEYS = {"name", "number", "score", "max_score", "output", "visibility", "extra_data"}
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


@pytest.fixture
def graded(pytester: pytest.Pytester) -> tuple[pytest.RunResult, dict]:
    """The synthetic suite above, graded in a subprocess as practice 9."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(SUITE)
    result = pytester.runpytest_subprocess("practice9", "--grade-report", "report.json")
    return result, json.loads((pytester.path / "report.json").read_text())


def test_scores_and_max_score(graded: tuple[pytest.RunResult, dict]) -> None:
    """Score sums passes and partial credit; a test skipped for missing TensorRT is out of max_score."""
    _, report = graded
    assert report["score"] == 2 + 2 + 1
    assert report["extra_data"]["max_score"] == 2 + 3 + 4 + 1 + 1 + 1
    by_name = {t["extra_data"]["nodeid"].split("::")[-1]: t for t in report["tests"]}
    skipped = by_name["test_needs_tensorrt"]
    assert skipped["max_score"] == 0 and skipped["score"] == 0 and "status" not in skipped
    assert "not graded on this machine" in skipped["output"] and "JetPack" in skipped["output"]
    assert skipped["extra_data"]["points_if_graded"] == 5
    assert by_name["test_partial"]["score"] == 2 and by_name["test_partial"]["status"] == "failed"
    assert "2 of 4 cases right" in by_name["test_partial"]["output"]
    assert by_name["test_note"]["status"] == "passed" and by_name["test_note"]["output"] == "top-1 0.90"


def test_messages(graded: tuple[pytest.RunResult, dict]) -> None:
    """Student failures show their message only; grader bugs are labelled as such."""
    _, report = graded
    by_name = {t["extra_data"]["nodeid"].split("::")[-1]: t for t in report["tests"]}
    assert by_name["test_fails"]["output"] == "expected 3, got 4: fix f()"
    assert by_name["test_student_error"]["output"] == "f() raised ValueError: boom"
    assert by_name["test_student_error"]["visibility"] == "after_due_date"
    assert "KeyError" in by_name["test_grader_bug"]["output"]


def test_gradescope_schema(graded: tuple[pytest.RunResult, dict]) -> None:
    """results.json has Gradescope's fields and types, plus the lab's extra_data."""
    _, report = graded
    assert isinstance(report["score"], (int, float)) and isinstance(report["execution_time"], int)
    assert isinstance(report["output"], str)
    for test in report["tests"]:
        assert GRADESCOPE_TEST_KEYS <= set(test)
        assert test["visibility"] in VISIBILITIES
        assert test.get("status", "passed") in {"passed", "failed"}
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
    assert [t["number"] for t in report["tests"]] == [f"9.{i}" for i in range(1, 8)]
    extra = report["extra_data"]
    assert extra["practices"][0]["practice"] == 9 and extra["practices"][0]["not_graded"] == 1
    fingerprint = extra["fingerprint"]
    for key in ("os", "python", "packages", "tensorrt", "gpu", "dla_cores"):
        assert key in fingerprint
    assert fingerprint["tensorrt"] is None and fingerprint["tensorrt_missing_reason"]


def test_table_is_honest(graded: tuple[pytest.RunResult, dict]) -> None:
    """The terminal table gives points per practice and never claims hidden tests passed."""
    result, _ = graded
    text = result.stdout.str()
    assert "Total: 5/12 points (public tests only" in text
    assert "not graded on this machine" in text
    assert "all passed" not in text.lower()
    assert "Traceback" not in text.split("Practice 9")[-1]


def test_hidden_tests_change_the_wording(pytester: pytest.Pytester) -> None:
    """With hidden tests in the run, the total says so."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(
        "import pytest\n@pytest.mark.points(1)\n@pytest.mark.visibility('hidden')\ndef test_h():\n    '''h'''\n"
    )
    result = pytester.runpytest_subprocess("practice9")
    assert "visible and hidden tests" in result.stdout.str()
    assert "PASS  h [hidden]" in result.stdout.str()  # an instructor sees which rows students never get


@pytest.mark.parametrize(
    ("decorators", "error"),
    [
        ("@pytest.mark.points(0)", "positive number"),
        ("@pytest.mark.points(1)\n@pytest.mark.visibility('secret')", "visibility must be one of"),
        ("@pytest.mark.points(1)\n@pytest.mark.requires('quantum')", "unknown requirement"),
    ],
)
def test_bad_markers_are_usage_errors(pytester: pytest.Pytester, decorators: str, error: str) -> None:
    """A mistake in a suite's markers stops the run with a clear message."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(f"import pytest\n{decorators}\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("practice9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.stderr.str()


def test_ungraded_runs_print_no_table(pytester: pytest.Pytester) -> None:
    """Ordinary tests (no points) are left alone: no table, no report noise."""
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess()
    assert "Total:" not in result.stdout.str()


def test_report_written_even_without_graded_tests(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """--grade-report always writes a valid file (score 0 of 0) so batch tools never miss it."""
    pytester.makepyfile("def test_plain():\n    assert True\n")
    pytester.runpytest_subprocess("--grade-report", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["score"] == 0 and report["tests"] == []


# ---------------------------------------------------------------- tests that did not run (issue 12, item 2)


def _report(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    """The synthetic suite graded with extra pytest options."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(SUITE)
    result = pytester.runpytest_subprocess("practice9", "--grade-report", "report.json", *args)
    return result, json.loads((pytester.path / "report.json").read_text())


@pytest.mark.parametrize(
    ("args", "ran", "sentence"),
    [
        (("-k", "passes or partial"), {"test_passes", "test_partial"}, "graded tests 5 deselected"),
        (("--deselect", "practice9/test_practice9.py::test_fails"), None, "graded tests 1 deselected"),
        (("-x",), {"test_passes", "test_fails"}, "graded tests 5 not run (the run stopped early"),
    ],
)
def test_tests_that_did_not_run_are_in_no_total(
    pytester: pytest.Pytester, args: tuple[str, ...], ran: set[str] | None, sentence: str
) -> None:
    """-k, --deselect and -x: the table, the totals and results.json hold only the tests that ran; none is 'passed'."""
    result, report = _report(pytester, *args)
    names = {t["extra_data"]["nodeid"].split("::")[-1] for t in report["tests"]}
    everything = {"test_passes", "test_fails", "test_partial", "test_note", "test_needs_tensorrt"}
    everything |= {"test_student_error", "test_grader_bug"}
    expected = ran if ran is not None else everything - {"test_fails"}
    assert names == expected
    maximum = {"test_passes": 2, "test_fails": 3, "test_partial": 4, "test_note": 1, "test_student_error": 1}
    maximum["test_grader_bug"] = 1
    assert report["extra_data"]["max_score"] == sum(maximum.get(name, 0) for name in expected)
    text = result.stdout.str()
    assert sentence in text
    table = text.split("Practice 9")[1]
    assert table.count("PASS") == len(expected & {"test_passes", "test_note"})
    graded = len(expected - {"test_needs_tensorrt"})
    passed = len(expected & {"test_passes", "test_note"})
    assert f"{passed} of {graded} graded tests passed" in text
    numbers = {t["extra_data"]["nodeid"].split("::")[-1]: t["number"] for t in report["tests"]}
    assert numbers.get("test_partial", "9.3") == "9.3"  # the suite's numbering, whatever was deselected


def test_a_full_run_says_nothing_was_left_out(graded: tuple[pytest.RunResult, dict]) -> None:
    """Without -k/-x every graded test ran: no 'not in this total' line."""
    result, report = graded
    assert "Not in this total" not in result.stdout.str()
    assert report["extra_data"]["left_out"] == {"deselected": 0, "not_run": 0}


# ---------------------------------------------------------------- per-test time limit (issue 12, item 6)

ENDLESS = '''
import time
import pytest
from grader.core import student

def endless():
    while True:
        try:
            time.sleep(0.05)
        except Exception:  # a student's catch-all does not swallow the limit
            pass

@pytest.mark.points(2)
def test_loops():
    """a check whose student code never returns"""
    student.call(endless)

@pytest.mark.points(1)
def test_after():
    """a check after it"""

@pytest.mark.points(1)
def test_grader_slow():
    """a check where the grader itself is slow"""
    time.sleep(30)
'''


def test_an_endless_student_function_fails_its_test_only(pytester: pytest.Pytester) -> None:
    """pytest-timeout's limit fails the looping test with the student's message; the next tests run."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(ENDLESS)
    result = pytester.runpytest_subprocess("practice9", "--timeout", "2", "--grade-report", "report.json")
    report = json.loads((pytester.path / "report.json").read_text())
    by_name = {t["extra_data"]["nodeid"].split("::")[-1]: t for t in report["tests"]}
    assert by_name["test_loops"]["status"] == "failed"
    assert "endless() did not return within 2 s" in by_name["test_loops"]["output"]
    assert by_name["test_loops"]["extra_data"]["failure_kind"] == "timeout"
    assert by_name["test_after"]["status"] == "passed"
    assert "grader's own work (not in your code)" in by_name["test_grader_slow"]["output"]
    assert "Timeout" not in result.stdout.str().split("Practice 9")[0]  # no stack dump of pytest-timeout


def test_graded_tests_get_the_default_time_limit(pytester: pytest.Pytester) -> None:
    """Without --timeout a graded test still has a limit (the lab's default), an ordinary test none."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(
        "import pytest\n@pytest.mark.points(1)\ndef test_g(request):\n    '''g'''\n"
        "    assert request.node.get_closest_marker('timeout').args == (120.0,)\n"
        "@pytest.mark.points(1)\n@pytest.mark.requires('tensorrt')\ndef test_t():\n    '''t'''\n"
        "def test_plain(request):\n    assert request.node.get_closest_marker('timeout') is None\n"
    )
    result = pytester.runpytest_subprocess("practice9")
    result.assert_outcomes(passed=2, skipped=1)


SWALLOWER = """
import pytest

@pytest.mark.points(1)
def test_x():
    '''x'''
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
"""


def test_code_that_swallows_every_alarm_ends_the_run_with_a_message(pytester: pytest.Pytester) -> None:
    """A bare except in a loop catches every alarm: the run stops (as pytest-timeout's thread method) and says why."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(SWALLOWER)
    result = pytester.runpytest_subprocess("practice9", "--timeout", "1", timeout=60)
    assert result.ret == 3
    assert "caught the grader's stop 10 times" in result.stderr.str()


def test_a_skip_reason_is_shown_whole(graded: tuple[pytest.RunResult, dict]) -> None:
    """The install hint of a SKIP row is never cut mid-sentence (it once stopped at 'create the venv with ...')."""
    result, report = graded
    table = " ".join(line.strip() for line in result.stdout.str().split("Practice 9")[1].splitlines())
    reason = next(t["output"] for t in report["tests"] if t["extra_data"]["nodeid"].endswith("test_needs_tensorrt"))
    assert " ".join(reason.split()) in " ".join(table.split())
    assert "section 'Jetson setup (JetPack 6.2)'" in table
