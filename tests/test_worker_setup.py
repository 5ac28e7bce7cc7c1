"""What a batch worker takes from each practice: the zygote's preload list and the worker setup, whose result
reaches the practice's tests through pytest's ``config.stash`` and an argument, never a module global."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from grader.backends import polygraphy_cli
from grader.commands.batch import zygote
from grader.commands.batch.sandbox import run_worker_setups
from grader.core.practice import Practice
from grader.core.prefork import PreforkedRun
from grader.practices import PRACTICES

pytest_plugins = ["pytester"]

MARKER = object()


def _returns_marker(close_fds: tuple[int, ...]) -> object:
    """A worker setup that hands its tests one object."""
    return MARKER


def _returns_nothing(close_fds: tuple[int, ...]) -> None:
    """A worker setup with nothing to hand over."""


def _raises(close_fds: tuple[int, ...]) -> object:
    """A broken worker setup."""
    raise RuntimeError("setup bug")


def _practice(number: int, setup: str = "") -> Practice:
    """A throwaway practice with ``setup`` as its worker setup."""
    return Practice(number, f"practice {number}", "answer.py", worker_setup=setup)


def test_zygote_preloads_every_practice_declaration() -> None:
    """The zygote imports its own libraries and each practice's ``preload``; Practice 2's modules are its own."""
    names = zygote.preload_modules()
    assert names[: len(zygote.PRELOAD)] == list(zygote.PRELOAD)
    for practice in PRACTICES.values():
        assert set(practice.preload) <= set(names), practice.number
    assert len(names) == len(set(names))
    assert "polygraphy.tools" in PRACTICES[2].preload
    assert not any(name.startswith("polygraphy") for name in zygote.PRELOAD)


def test_a_practice_without_worker_setup_gets_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """No setup declared: nothing is called, nothing is handed over, nothing is printed."""
    assert run_worker_setups([_practice(9)], close_fds=()) == {}
    assert capfd.readouterr().err == ""


def test_setups_results_by_practice_number(capfd: pytest.CaptureFixture[str]) -> None:
    """What a setup returns is kept under its practice's number; None is left out; a broken setup is
    reported and grading goes on without it."""
    practices = [
        _practice(7, f"{__name__}:_returns_marker"),
        _practice(8, f"{__name__}:_returns_nothing"),
        _practice(9, f"{__name__}:_raises"),
    ]
    assert run_worker_setups(practices, close_fds=()) == {7: MARKER}
    assert f"{__name__}:_raises failed: RuntimeError: setup bug" in capfd.readouterr().err


@pytest.mark.parametrize("setup", ["no_function", "module:", ":function", "module:not a name"])
def test_worker_setup_must_name_a_function(setup: str) -> None:
    """``worker_setup`` is ``module:function`` or empty."""
    with pytest.raises(ValueError, match="module:function"):
        _practice(9, setup)


def _grader_globals() -> dict[tuple[str, str], int]:
    """The identity of every global of every grader module loaded now."""
    return {
        (name, attr): id(value)
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "grader" and isinstance(module, types.ModuleType)
        for attr, value in list(vars(module).items())
    }


def test_practice2_setup_forks_a_polygraphy_launcher() -> None:
    """Practice 2's setup, where Polygraphy is preloaded, forks the helper that runs `polygraphy` once, and
    hands it back: no module global changes."""
    pytest.importorskip("polygraphy.tools")
    import grader.practices.practice2.worker  # noqa: F401 - loaded before the comparison, as in the zygote

    before = _grader_globals()
    resources = run_worker_setups(PRACTICES.values(), close_fds=())
    assert _grader_globals() == before
    helper = resources.pop(2)
    try:
        assert isinstance(helper, PreforkedRun)
        assert isinstance(helper, polygraphy_cli.Launcher)
        assert not helper.used
    finally:
        helper.close()
    for resource in resources.values():  # any other practice's, as the worker would leave them
        getattr(resource, "close", lambda: None)()


class _Recorder:
    """A launcher that records the command instead of running it."""

    def __init__(self) -> None:
        self.used = False
        self.calls: list[tuple[str, list[str], Path]] = []

    def run(
        self, program: str, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Record, answer as a program that printed ``from the launcher``."""
        self.used = True
        self.calls.append((program, args, cwd))
        return subprocess.CompletedProcess([program, *args], 0, "from the launcher", "")


def test_polygraphy_commands_use_the_launcher_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher is an argument: used once while unused, then (and without one) a new program starts."""
    assert not hasattr(polygraphy_cli, "PREFORKED")
    started: list[list[str]] = []

    def new_program(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Stands in for subprocess.run: record the command."""
        started.append(command)
        return subprocess.CompletedProcess(command, 0, "a new program", "")

    monkeypatch.setattr(subprocess, "run", new_program)
    launcher = _Recorder()
    model, script = tmp_path / "m.onnx", tmp_path / "s.py"
    first = polygraphy_cli.run_onnxrt(model, script, cwd=tmp_path, launcher=launcher)
    assert first.stdout == "from the launcher"
    assert launcher.calls == [
        (polygraphy_cli.executable(), ["run", str(model), "--onnxrt", "--data-loader-script", str(script)], tmp_path)
    ]
    cache, engine = tmp_path / "c.cache", tmp_path / "e.engine"
    assert polygraphy_cli.calibrate_int8(model, script, cache, engine, cwd=tmp_path, launcher=launcher).stdout == (
        "a new program"
    )
    assert polygraphy_cli.run_onnxrt(model, script, cwd=tmp_path).stdout == "a new program"
    assert len(launcher.calls) == 1
    program = polygraphy_cli.executable()
    assert [command[:2] for command in started] == [[program, "convert"], [program, "run"]]


CONFTEST = """
import subprocess
from grader.commands.batch.sandbox import WorkerResources


class Recorder:
    used = False
    calls = []

    def run(self, program, args, cwd, env, timeout):
        self.used = True
        self.calls.append(args)
        return subprocess.CompletedProcess([program, *args], 0, "from the launcher", "")


def pytest_configure(config):
    config.pluginmanager.register(WorkerResources({2: Recorder(), 1: "not a launcher"}))
"""

PRACTICE2_TEST = """
from pathlib import Path
from grader.backends import polygraphy_cli
from grader.core import student
from grader.practices.practice2.suite import polygraphy_launcher


def test_launcher_reaches_polygraphy(polygraphy_launcher, tmp_path):
    assert type(polygraphy_launcher).__name__ == "Recorder"
    completed = polygraphy_cli.run_onnxrt(Path("m.onnx"), Path("s.py"), cwd=tmp_path, launcher=polygraphy_launcher)
    assert completed.stdout == "from the launcher"
    assert polygraphy_launcher.calls == [["run", "m.onnx", "--onnxrt", "--data-loader-script", "s.py"]]


def test_paths_are_shown_from_the_start_dir():
    path = Path.cwd() / "assignments" / "practice2" / "data_loader.py"
    assert student.display_path(path) == "practice2/data_loader.py"
"""

PRACTICE1_TEST = """
from grader.practices.practice2.suite import polygraphy_launcher


def test_each_practice_gets_its_own(worker_resource, polygraphy_launcher):
    assert worker_resource == "not a launcher"
    assert polygraphy_launcher is None
"""

PRACTICE3_TEST = """
def test_a_practice_without_setup_gets_none(worker_resource):
    assert worker_resource is None
"""


def test_worker_resources_reach_the_tests_through_the_stash(pytester: pytest.Pytester) -> None:
    """The batch worker's plugin object puts the setups' results in ``config.stash``; the ``worker_resource``
    fixture gives each practice its own, and Practice 2's suite passes its launcher to polygraphy_cli;
    ``--start-dir`` sets where messages show paths from."""
    pytester.makeconftest(CONFTEST)
    for number, text in ((1, PRACTICE1_TEST), (2, PRACTICE2_TEST), (3, PRACTICE3_TEST)):
        folder = pytester.mkdir(f"practice{number}")
        (folder / f"test_practice{number}.py").write_text(text, encoding="utf-8")
    (pytester.path / "assignments").mkdir()
    start = pytester.path / "assignments"
    result = pytester.runpytest_subprocess("--start-dir", str(start), "-q")
    result.assert_outcomes(passed=4)


def test_without_the_worker_plugin_there_is_no_resource(pytester: pytest.Pytester) -> None:
    """A student's own run: no resource, Practice 2's suite starts `polygraphy` as a new program; paths are
    shown from where pytest started."""
    folder = pytester.mkdir("practice2")
    (folder / "test_practice2.py").write_text(
        "from pathlib import Path\n"
        "from grader.core import student\n"
        "from grader.practices.practice2.suite import polygraphy_launcher\n\n\n"
        "def test_none(worker_resource, polygraphy_launcher):\n"
        "    assert worker_resource is None and polygraphy_launcher is None\n"
        "    assert student.display_path(Path.cwd() / 'practice2' / 'x.py') == 'practice2/x.py'\n",
        encoding="utf-8",
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)
