"""The grading plugin: points, partial credit, visibility, not-graded skips, report and table."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.paths import REPO

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


# ---------------------------------------------------------------- stable check ids (issue 14, item 7)

CHECKED = '''
import pytest
from grader.plugin.suite_tools import case

@pytest.mark.points(1)
@pytest.mark.check("p9.first")
def test_first():
    """the first check"""

@pytest.mark.points(1)
@pytest.mark.parametrize("value", [case("p9.cases.one", 1, title="the case one"), case("p9.cases.two", 2)])
def test_cases(value):
    """a parametrized check"""
'''


def test_check_ids_and_case_titles_reach_results_json(pytester: pytest.Pytester) -> None:
    """Every test's check id is in its extra_data; a case's title replaces the docstring, else ``[id]`` follows it."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(CHECKED)
    pytester.runpytest_subprocess("practice9", "--grade-report", "report.json")
    report = json.loads((pytester.path / "report.json").read_text())
    names = {t["extra_data"]["check"]: t["name"] for t in report["tests"]}
    assert names == {
        "p9.first": "the first check",
        "p9.cases.one": "the case one",
        "p9.cases.two": "a parametrized check [two]",
    }


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ("@pytest.mark.points(1)\n@pytest.mark.check('p3.x')\ndef test_x():\n    pass\n", "needs one id such as 'p9."),
        ("@pytest.mark.points(1)\n@pytest.mark.check('p9.Big Name')\ndef test_x():\n    pass\n", "lower case, dotted"),
        (
            "@pytest.mark.points(1)\n@pytest.mark.check('p9.same')\ndef test_x():\n    pass\n"
            "@pytest.mark.points(1)\n@pytest.mark.check('p9.same')\ndef test_y():\n    pass\n",
            "check id 'p9.same' is already",
        ),
        (
            "@pytest.mark.points(1)\n@pytest.mark.check('p9.shared')\n@pytest.mark.parametrize('v', [1, 2])\n"
            "def test_x(v):\n    pass\n",
            "each test of a practice needs its own",
        ),
    ],
)
def test_bad_check_ids_are_usage_errors(pytester: pytest.Pytester, entry: str, error: str) -> None:
    """A check id of another practice, a malformed one, or one used twice (two cases of one test too) stops the run."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(f"import pytest\n{entry}")
    result = pytester.runpytest_subprocess("practice9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.stderr.str()


def test_a_package_requirement_keeps_the_cpu_time_limit(pytester: pytest.Pytester) -> None:
    """Only the board's capabilities give a test the board's long limit; a Python package (timm) does not.

    The limits are read at collection (a last hook writes them down), so the check holds whether timm is
    installed (the test runs) or not (it is skipped: the Python 3.10 compatibility run has no timm)."""
    folder = pytester.mkdir("practice9")
    (folder / "test_practice9.py").write_text(
        "import pytest\n"
        "@pytest.mark.points(1)\n@pytest.mark.requires('timm')\ndef test_t():\n    'package'\n"
        "@pytest.mark.points(1)\n@pytest.mark.requires('tensorrt')\ndef test_g():\n    'board'\n"
    )
    pytester.makeconftest(
        "import pytest\n"
        "@pytest.hookimpl(trylast=True)\n"
        "def pytest_collection_modifyitems(items):\n"
        "    with open('limits.txt', 'w') as handle:\n"
        "        for item in items:\n"
        "            handle.write(item.name + ' ' + repr(item.get_closest_marker('timeout').args) + '\\n')\n"
    )
    pytester.runpytest_subprocess("practice9")
    limits = (pytester.path / "limits.txt").read_text().splitlines()
    assert limits == ["test_t (120.0,)", "test_g (1800.0,)"]


# What each practice's suite checks, collected by the real plugin (``{practice: {check id: function name}}``).
COLLECT_CHECKS = """
import json, sys
import pytest
from grader.plugin import hooks

class Checks:
    def pytest_collection_finish(self, session):
        found = {}
        for nodeid, spec in session.config.stash[hooks.SESSION].specs.items():
            found.setdefault(str(spec.practice), {})[spec.check] = nodeid.split("::")[-1].split("[")[0]
        print("CHECKS " + json.dumps(found))

pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[Checks()])
"""


def collected_checks(lab: Path, *folders: str) -> dict[int, dict[str, str]]:
    """The check ids of the suites that grade ``folders`` of the lab at ``lab`` (its own grader first on the path)."""
    done = subprocess.run(
        [sys.executable, "-c", COLLECT_CHECKS, *folders],
        cwd=lab,
        env={**os.environ, "PYTHONPATH": str(lab)},
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((line for line in done.stdout.splitlines() if line.startswith("CHECKS ")), None)
    assert line is not None, done.stdout[-2000:] + done.stderr[-2000:]
    return {int(practice): checks for practice, checks in json.loads(line.removeprefix("CHECKS ")).items()}


def table_ids(practice: int) -> set[str]:
    """Every test a practice's mistakes self-test names: what must fail, whose message it reads, HIDDEN."""
    module = importlib.import_module(f"tests.test_practice{practice}_mistakes")
    named: set[str] = set(getattr(module, "HIDDEN", set()))
    for _, failing, messages in module.MISTAKES.values():
        named |= set(failing) | (set(messages) if isinstance(messages, dict) else set())
    return named


def test_mistake_tables_name_checks_that_survive_a_rename(tmp_path: Path) -> None:
    """The mistake tables name tests by check id only, every id exists in its suite, and renaming every suite
    function (a copy of the grader where each ``def test_x`` is ``def test_x_renamed``) changes no check id."""
    folders = [f"solutions/practice{n}" for n in range(1, 6)]
    before = collected_checks(REPO, *folders)
    for practice in range(1, 6):
        named = table_ids(practice)
        assert named and named <= set(before[practice]), sorted(named - set(before[practice]))
        assert not named & set(before[practice].values()), "a mistake table names a function, not a check id"
    lab = tmp_path / "lab"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("grader", "solutions", "calib_images", "eval_images", "real_files"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, lab / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", lab / "pyproject.toml")
    for suite in (lab / "grader" / "practices").glob("practice*/suite.py"):
        suite.write_text(re.sub(r"^def (test_\w+)\(", r"def \1_renamed(", suite.read_text(), flags=re.M))
    after = collected_checks(lab, *folders)
    assert {n: set(checks) for n, checks in after.items()} == {n: set(checks) for n, checks in before.items()}
    assert all(function.endswith("_renamed") for checks in after.values() for function in checks.values())
