"""The pytest hooks of the lab's grading plugin (registered as the ``trtlab`` entry point).

Markers: ``points(n)``, ``visibility(v)``, ``requires(*capabilities)``. Options:
``--grade-report PATH`` (Gradescope results.json), ``--start-dir DIR`` (messages show the student's
paths relative to DIR; by default where pytest started), ``--grade-tier cpu|gpu`` (run one tier only: a
batch worker of a cluster; a test is of the GPU tier when it ``requires`` one of the board's capabilities). Every graded run ends with a points
table per practice folder. A test that cannot run on this machine is reported "not graded
on this machine" and left out of max_score, never scored 0; a test that did not run at all
(``-k``, ``--deselect``, after ``-x`` stopped the run) is in no table, total or report.

Every graded test has a time limit (pytest-timeout's settings; by default ``CPU_TIME_LIMIT_S``,
or ``GPU_TIME_LIMIT_S`` for tests that need TensorRT or a GPU): the timer raises
``grader.core.student.TimeLimitExceeded`` in the test, which fails that test with the student's
"did not return" message and lets the others run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from grader.backends import requirements
from grader.core import offline, report
from grader.core.files import atomic_write
from grader.core.scoring import VISIBILITIES, Outcome, PracticeScore, TestResult, TestSpec, group, score
from grader.core.student import StudentCodeError, TimeLimitExceeded, set_start_dir
from grader.practices import PRACTICES, practice_of_module

CPU_TIME_LIMIT_S = 120.0  # a test of the CPU tier; the slowest takes about 10 s here, cold
GPU_TIME_LIMIT_S = 1800.0  # a TensorRT engine build on an Orin Nano takes minutes
REARM_S = 1.0  # after the limit, the alarm repeats: student code that catches it once still stops
SWALLOWED_ALARMS = 10  # code that catches every alarm (a bare `except:` in a loop) ends the run after these

MARKERS = (
    "points(n): points a graded test is worth (partial credit through the `grade` fixture)",
    "visibility(v): Gradescope visibility: visible, hidden, after_due_date or after_published",
    f"requires(*capabilities): skip unless this machine has them ({', '.join(requirements.REQUIREMENTS)})",
    "check(id, title=''): the test's stable id, 'pN.words.in.dots' (unique in practice N, needed on every suite "
    "test; results.json and the self-tests name tests by it); title: the name shown instead of the docstring",
)
# A stable id: the practice, then dotted lower-case words ("p3.rule.conv_kernel").
CHECK_ID = re.compile(r"^p\d+(\.[a-z0-9][a-z0-9_-]*)+$")


class GradingSession:
    """Everything the plugin keeps for one pytest session."""

    def __init__(self, report_path: str | None) -> None:
        self.report_path = Path(report_path) if report_path else None
        self.started = time.monotonic()
        self.specs: dict[str, TestSpec] = {}  # every graded test collected, before -k/--deselect
        self.selected: set[str] = set()  # the graded tests pytest was asked to run
        self.outcomes: dict[str, Outcome] = {}  # the graded tests that reported
        self.lab_time_limits = False  # whether graded tests get the lab's default limits (resolved at configure)
        self.scratch = Path(tempfile.mkdtemp(prefix="trtlab-"))
        self.previous_env = offline.apply(self.scratch)

    def results(self) -> list[TestResult]:
        """The graded tests that ran or were skipped for the machine, in run order."""
        return [score(self.specs[nodeid], outcome) for nodeid, outcome in self.outcomes.items()]

    @property
    def left_out(self) -> report.LeftOut:
        """Graded tests collected but not run: deselected, or left when -x or a Ctrl-C stopped the run."""
        return report.LeftOut(len(set(self.specs) - self.selected), len(self.selected - set(self.outcomes)))

    def groups(self) -> list[PracticeScore]:
        """Results grouped per practice folder."""
        titles = {number: practice.title for number, practice in PRACTICES.items()}
        return group(self.results(), titles)

    @property
    def hidden_collected(self) -> bool:
        """Whether hidden tests ran (never true in the student release)."""
        return any(self.specs[nodeid].visibility == "hidden" for nodeid in self.outcomes)


SESSION = pytest.StashKey[GradingSession]()
AWARD = pytest.StashKey["Grade"]()
# In a batch worker: what each practice's worker setup returned, by practice number (``Practice.worker_setup``).
WORKER_RESOURCES = pytest.StashKey[dict[int, object]]()
TIERS = ("cpu", "gpu")
TIER = pytest.StashKey[str]()  # "cpu", "gpu", or "" (every test): resolved once at configure


def tier_of(item: pytest.Item) -> str:
    """``gpu`` when the test requires one of the board's capabilities (TensorRT, a GPU, pycuda, trtexec, DLA)."""
    board = any(name in requirements.BOARD for mark in item.iter_markers("requires") for name in mark.args)
    return "gpu" if board else "cpu"


class Grade:
    """Per-test handle (fixture ``grade``): notes for the student and partial credit."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.fraction = 1.0

    def note(self, text: str) -> None:
        """Show ``text`` with this test's result (terminal table and results.json)."""
        self.notes.append(text)

    def award(self, fraction: float, reason: str) -> None:
        """Give ``fraction`` (0..1) of the test's points when it otherwise passes."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, got {fraction}")
        self.fraction = fraction
        self.notes.append(reason)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--grade-report PATH``, ``--start-dir DIR`` and ``--grade-tier cpu|gpu``."""
    group_ = parser.getgroup("trtlab", "TensorRT lab grading")
    group_.addoption(
        "--grade-report",
        metavar="PATH",
        default=None,
        help="write the grade as Gradescope results.json (score, tests[], extra_data) to PATH",
    )
    group_.addoption(
        "--start-dir",
        metavar="DIR",
        default=None,
        help="show the student's file paths relative to DIR in messages (default: where pytest started)",
    )
    group_.addoption(
        "--grade-tier",
        choices=TIERS,
        default=None,
        help="run only one tier's tests (gpu: those that require TensorRT, a GPU, pycuda, trtexec or DLA; cpu: "
        "the others), as a cluster's batch worker does; the other tier's tests are deselected",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register markers; fix where paths are shown from; go offline before any suite imports a hub client."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    # Resolved once, before collection: a batch worker runs in its workspace, its student ran in assignments/.
    set_start_dir(config.invocation_params.dir / (config.getoption("--start-dir") or "."))
    config.stash[SESSION] = GradingSession(config.getoption("--grade-report"))
    config.stash[SESSION].lab_time_limits = _lab_time_limits(config)
    config.stash[TIER] = config.getoption("--grade-tier") or ""


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the environment and remove the scratch folder."""
    session = config.stash.get(SESSION, None)
    if session is not None:
        offline.restore(session.previous_env)
        shutil.rmtree(session.scratch, ignore_errors=True)


def _practice_number(item: pytest.Item) -> int | None:
    """The practice a test belongs to: its suite module, else a ``practiceN`` folder."""
    function = getattr(item, "function", None)
    practice = practice_of_module(getattr(function, "__module__", "") or "")
    if practice is not None:
        return practice.number
    folder = item.path.parent.name
    return int(folder[len("practice") :]) if folder.startswith("practice") and folder[8:].isdigit() else None


def _check_marker(item: pytest.Item) -> pytest.Mark | None:
    """The test's ``check`` marker: a parametrized case's own (``suite_tools.case``) before its function's."""
    callspec = getattr(item, "callspec", None)
    own = [mark for mark in (callspec.marks if callspec is not None else []) if mark.name == "check"]
    return own[-1] if own else item.get_closest_marker("check")


def _display_name(item: pytest.Item) -> str:
    """The case's ``check`` title, else the test docstring's first line (what the student reads), else its name."""
    check = _check_marker(item)
    if check is not None and check.kwargs.get("title"):
        return str(check.kwargs["title"])
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    name = doc[0].strip() if doc else item.name
    callspec = getattr(item, "callspec", None)
    return f"{name} [{callspec.id}]" if callspec is not None else name


def _folder(item: pytest.Item) -> str:
    """The graded folder, relative to the rootdir when possible."""
    folder = item.path.parent
    try:
        return str(folder.relative_to(item.config.rootpath))
    except ValueError:
        return str(folder)


def _in_suite(item: pytest.Item) -> bool:
    """Whether the test is defined in a practice's package (not in a test entry or a self-test)."""
    function_module = getattr(getattr(item, "function", None), "__module__", "") or ""
    return function_module.startswith("grader.practices.")


def _check(item: pytest.Item, practice: int) -> str:
    """The test's stable id, validated: needed on every suite test, ``p<practice>.`` then dotted words."""
    marker = _check_marker(item)
    if marker is None:
        if _in_suite(item):
            raise pytest.UsageError(
                f"{item.nodeid}: every suite test needs @pytest.mark.check('p{practice}.<id>'), its stable id "
                "(each case of a parametrized test its own: grader.plugin.suite_tools.case)"
            )
        return ""
    value = marker.args[0] if len(marker.args) == 1 else None
    prefix = f"p{practice}." if practice else "p"
    if not isinstance(value, str) or not CHECK_ID.match(value) or not value.startswith(prefix):
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.check needs one id such as '{prefix}export_model.opset' "
            f"(lower case, dotted), got {marker.args!r}"
        )
    if value == _display_name(item):
        raise pytest.UsageError(f"{item.nodeid}: the check id {value!r} must not be the test's display name")
    return value


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A spec for every graded test (before -k deselects any: numbers stay stable); refuse tests without points."""
    session = config.stash[SESSION]
    positions: dict[tuple[int, str], int] = {}
    checks: dict[tuple[int, str, str], str] = {}  # (practice, folder, check) -> the test that has it
    for item in items:
        marker = item.get_closest_marker("points")
        if marker is None:
            if _in_suite(item):
                raise pytest.UsageError(f"{item.nodeid}: every suite test needs @pytest.mark.points(n)")
            continue
        value = marker.args[0] if marker.args else None
        if not isinstance(value, (int, float)) or value <= 0:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.points needs a positive number, got {value!r}")
        visibility_marker = item.get_closest_marker("visibility")
        visibility = visibility_marker.args[0] if visibility_marker else "visible"
        if visibility not in VISIBILITIES:
            raise pytest.UsageError(f"{item.nodeid}: visibility must be one of {VISIBILITIES}, got {visibility!r}")
        for requires in item.iter_markers("requires"):
            unknown = [name for name in requires.args if name not in requirements.REQUIREMENTS]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement(s) {unknown}")
        practice, folder = _practice_number(item) or 0, _folder(item)
        positions[(practice, folder)] = positions.get((practice, folder), 0) + 1
        check = _check(item, practice)
        if check and checks.setdefault((practice, folder, check), item.nodeid) != item.nodeid:
            raise pytest.UsageError(
                f"{item.nodeid}: check id {check!r} is already {checks[(practice, folder, check)]}'s; "
                "each test of a practice needs its own"
            )
        session.specs[item.nodeid] = TestSpec(
            nodeid=item.nodeid,
            name=_display_name(item),
            practice=practice,
            folder=folder,
            points=float(value),
            visibility=visibility,
            number=f"{practice}.{positions[(practice, folder)]}",
            check=check,
        )
        if session.lab_time_limits and item.get_closest_marker("timeout") is None:
            # The board's capabilities get the board's limit: TensorRT engine builds there take minutes.
            item.add_marker(pytest.mark.timeout(GPU_TIME_LIMIT_S if tier_of(item) == "gpu" else CPU_TIME_LIMIT_S))
    if items and all(item.nodeid in session.specs for item in items):
        _table_only(config)
    _keep_tier(config, items)


def _keep_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--grade-tier``, deselect the other tier's tests (after every spec is made: numbers stay stable)."""
    tier = config.stash[TIER]
    if not tier:
        return
    dropped = [item for item in items if tier_of(item) != tier]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if tier_of(item) == tier]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Which graded tests this run was asked to run (after -k and --deselect)."""
    grading = session.config.stash[SESSION]
    grading.selected = {item.nodeid for item in session.items if item.nodeid in grading.specs}


def _lab_time_limits(config: pytest.Config) -> bool:
    """Whether graded tests get the lab's default limits: pytest-timeout is loaded and the user set no limit
    of their own (--timeout, PYTEST_TIMEOUT or the ini file), which pytest-timeout then applies itself."""
    manager = config.pluginmanager
    if not (manager.hasplugin("timeout") or manager.hasplugin("pytest_timeout")):
        return False
    return not (config.getoption("timeout", None) or os.environ.get("PYTEST_TIMEOUT") or config.getini("timeout"))


TIMER = pytest.StashKey[Callable[[], None]]()


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's limit for a graded test: an alarm that raises TimeLimitExceeded inside the test.

    pytest-timeout's own signal method dumps every stack to the terminal and fails with "Timeout >Ns";
    this keeps its settings and gives the student one message instead. Elsewhere (threads, other
    tests) pytest-timeout's own timer runs.
    """
    if item.nodeid not in item.config.stash[SESSION].specs or threading.current_thread() is not threading.main_thread():
        return None
    seconds = float(settings.timeout)

    alarms = 0

    def alarm(signum: int, frame: object) -> None:
        nonlocal alarms
        alarms += 1
        if alarms > SWALLOWED_ALARMS:
            _stop_the_run(item, seconds)
        raise TimeLimitExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, REARM_S)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    item.stash[TIMER] = cancel
    return True


def _stop_the_run(item: pytest.Item, seconds: float) -> None:
    """The last resort, as pytest-timeout's thread method: the code caught every alarm, so the run ends."""
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # fd 2 is pytest's capture file until this: the message must reach the terminal
        capture.suspend_global_capture(in_=True)
    os.write(
        2,
        (
            f"\n\ntrtlab: {item.nodeid} ran past its time limit of {seconds:g} s, and the code it ran caught the "
            f"grader's stop {SWALLOWED_ALARMS} times (a bare `except:` or `except BaseException:` inside a loop?). "
            "The run cannot go on: catch `Exception` only, fix the loop, and run the tests again.\n"
        ).encode(),
    )
    os._exit(3)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool | None:
    """Stop the alarm of ``pytest_timeout_set_timer``."""
    cancel = item.stash.get(TIMER, None)
    if cancel is None:
        return None
    cancel()
    del item.stash[TIMER]
    return True


def _table_only(config: pytest.Config) -> None:
    """In a pure grading run the points table is the report: drop pytest's duplicate sections.

    An explicit ``--tb`` or ``-r`` from the user is kept.
    """
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "no"
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and config.option.reportchars == "fE":  # pytest's default
        reporter.reportchars = reporter.reportchars.replace("f", "").replace("E", "")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, with what to install, a test whose hardware or software is missing here."""
    for requires in item.iter_markers("requires"):
        for name in requires.args:
            capability = requirements.capability(name)
            if not capability.available:
                pytest.skip(capability.skip_reason())


@pytest.fixture(scope="module")
def student_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded: the one holding the test entry that imported the suite."""
    return request.path.parent


@pytest.fixture
def worker_resource(request: pytest.FixtureRequest) -> object | None:
    """What the test's practice's worker setup returned in this batch worker; None elsewhere."""
    number = _practice_number(request.node)
    return request.config.stash.get(WORKER_RESOURCES, {}).get(number) if number is not None else None


@pytest.fixture
def grade(request: pytest.FixtureRequest) -> Grade:
    """Notes and partial credit for the current graded test."""
    handle = Grade()
    request.node.stash[AWARD] = handle
    return handle


def fold(item: pytest.Item, report_: pytest.TestReport, excinfo: Any, outcomes: dict[str, Outcome]) -> Outcome:
    """Fold one phase of ``item`` into its outcome in ``outcomes`` (the batch worker calls this too)."""
    outcome = outcomes.setdefault(item.nodeid, Outcome(item.nodeid))
    handle = item.stash.get(AWARD, None)
    outcome.fold(report_, excinfo, handle.notes if handle else [], handle.fraction if handle else 1.0)
    return outcome


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show student failures as their message only, and record each graded outcome."""
    report_ = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, (StudentCodeError, TimeLimitExceeded)):
        report_.longrepr = str(error)
    session = item.config.stash[SESSION]
    if item.nodeid in session.specs:
        fold(item, report_, call.excinfo, session.outcomes)
    return report_


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The points table, when this run graded anything."""
    session = terminalreporter.config.stash[SESSION]
    if not session.specs:
        return
    terminalreporter.write_line("")
    for line in report.table(session.groups(), session.hidden_collected, session.left_out):
        terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write ``--grade-report`` (atomically: a reader never sees half a file)."""
    grading = session.config.stash[SESSION]
    if grading.report_path is None:
        return
    data = report.gradescope(
        grading.groups(),
        time.monotonic() - grading.started,
        requirements.fingerprint(),
        grading.hidden_collected,
        grading.left_out,
    )
    atomic_write(grading.report_path, json.dumps(data, indent=2, ensure_ascii=False))
