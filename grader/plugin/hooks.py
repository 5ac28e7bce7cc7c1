"""The pytest hooks of the lab's grading plugin (registered as the ``trtlab`` entry point).

Markers: ``points(n)``, ``visibility(v)``, ``requires(*capabilities)``. Option:
``--grade-report PATH`` (Gradescope results.json). Every graded run ends with a points
table per practice folder. A test that cannot run on this machine is reported "not graded
on this machine" and left out of max_score, never scored 0.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Generator
from pathlib import Path

import pytest

from grader import hardware, offline
from grader.plugin import report
from grader.plugin.scoring import FAILED, NOT_GRADED, PASSED, VISIBILITIES, TestResult, group
from grader.practices import PRACTICES, practice_of_module
from grader.student import StudentCodeError

MARKERS = (
    "points(n): points a graded test is worth (partial credit through the `grade` fixture)",
    "visibility(v): Gradescope visibility: visible, hidden, after_due_date or after_published",
    f"requires(*capabilities): skip unless this machine has them ({', '.join(hardware.REQUIREMENTS)})",
)


class GradingSession:
    """Everything the plugin keeps for one pytest session."""

    def __init__(self, report_path: str | None) -> None:
        self.report_path = Path(report_path) if report_path else None
        self.started = time.monotonic()
        self.results: dict[str, TestResult] = {}
        self.scratch = Path(tempfile.mkdtemp(prefix="trtlab-"))
        self.previous_env = offline.apply(self.scratch)

    @property
    def hidden_collected(self) -> bool:
        """Whether hidden tests are part of this run (never true in the student release)."""
        return any(r.visibility == "hidden" for r in self.results.values())

    def groups(self) -> list:
        """Results grouped per practice folder."""
        titles = {number: practice.title for number, practice in PRACTICES.items()}
        return group(list(self.results.values()), titles)


SESSION = pytest.StashKey[GradingSession]()
AWARD = pytest.StashKey["Grade"]()


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
    """``--grade-report PATH``."""
    group_ = parser.getgroup("trtlab", "TensorRT lab grading")
    group_.addoption(
        "--grade-report",
        metavar="PATH",
        default=None,
        help="write the grade as Gradescope results.json (score, tests[], extra_data) to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register markers; go offline before any suite imports a hub client."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    config.stash[SESSION] = GradingSession(config.getoption("--grade-report"))


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


def _display_name(item: pytest.Item) -> str:
    """The test docstring's first line (what the student reads), else the test name."""
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Create a result for every graded test; refuse suite tests without points."""
    session = config.stash[SESSION]
    for item in items:
        marker = item.get_closest_marker("points")
        if marker is None:
            function_module = getattr(getattr(item, "function", None), "__module__", "") or ""
            if function_module.startswith("grader.suites."):
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
            unknown = [name for name in requires.args if name not in hardware.REQUIREMENTS]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement(s) {unknown}")
        session.results[item.nodeid] = TestResult(
            nodeid=item.nodeid,
            name=_display_name(item),
            practice=_practice_number(item) or 0,
            folder=_folder(item),
            max_score=float(value),
            visibility=visibility,
        )
    if items and all(item.nodeid in session.results for item in items):
        _table_only(config)


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
            capability = hardware.capability(name)
            if not capability.available:
                pytest.skip(capability.skip_reason())


@pytest.fixture(scope="module")
def student_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded: the one holding the test entry that imported the suite."""
    return request.path.parent


@pytest.fixture
def grade(request: pytest.FixtureRequest) -> Grade:
    """Notes and partial credit for the current graded test."""
    handle = Grade()
    request.node.stash[AWARD] = handle
    return handle


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show student failures as their message only, and record each graded outcome."""
    report_ = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, StudentCodeError):
        report_.longrepr = str(call.excinfo.value)
    result = item.config.stash[SESSION].results.get(item.nodeid)
    if result is not None:
        _record(result, item, report_, call)
    return report_


def _record(result: TestResult, item: pytest.Item, report_: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """Fold one phase's report into the test's result."""
    result.duration += report_.duration
    handle = item.stash.get(AWARD, None)
    notes = "\n".join(handle.notes) if handle else ""
    if report_.skipped:
        reason = report_.longrepr[2] if isinstance(report_.longrepr, tuple) else str(report_.longrepr)
        result.status, result.score = NOT_GRADED, 0.0
        result.output = reason.removeprefix("Skipped: ")
    elif report_.failed:
        result.status, result.score = FAILED, 0.0
        text = report_.longreprtext.strip()
        if report_.when != "call":
            text = f"Internal grader error during {report_.when} (not your code; tell your instructor):\n{text}"
        result.output = "\n".join(part for part in (text, notes) if part)
    elif report_.when == "call":
        fraction = handle.fraction if handle else 1.0
        result.status = PASSED if fraction >= 1.0 else FAILED
        result.score = result.max_score * fraction
        result.output = notes


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The points table, when this run graded anything."""
    session = terminalreporter.config.stash[SESSION]
    if not session.results:
        return
    terminalreporter.write_line("")
    for line in report.table(session.groups(), session.hidden_collected):
        terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write ``--grade-report`` (atomically: a reader never sees half a file)."""
    grading = session.config.stash[SESSION]
    if grading.report_path is None:
        return
    data = report.gradescope(
        grading.groups(), time.monotonic() - grading.started, hardware.fingerprint(), grading.hidden_collected
    )
    grading.report_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = grading.report_path.with_name(f".{grading.report_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, grading.report_path)
