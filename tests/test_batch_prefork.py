"""The pre-forked helper that runs Practice 2's `polygraphy run` in a batch worker: a subprocess in all
the test can see (argv, folder, environment, output, exit code, timeout), and grading as strict as the
real program's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.paths import REPO
from grader.core.prefork import PreforkedRun
from tests.conftest import run_batch


def _entry(args: list[str]) -> int:
    """A stand-in program: prints what it sees, then behaves as its first argument says."""
    print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "marker": os.environ.get("TRTLAB_MARKER")}))
    print("to stderr", file=sys.stderr)
    action = args[0]
    if action == "exit3":
        raise SystemExit(3)
    if action == "raise":
        raise ValueError("the program's own error")
    if action == "hang":
        import time

        time.sleep(60)
    return 0


def test_runs_once_with_argv_cwd_env_and_output(tmp_path: Path) -> None:
    """The helper sees the request's argv, folder and environment; stdout and stderr come back apart."""
    helper = PreforkedRun(_entry)
    env = {**os.environ, "TRTLAB_MARKER": "from-the-request"}
    completed = helper.run("prog", ["ok", "--flag"], tmp_path, env, timeout=30)
    seen = json.loads(completed.stdout)
    assert completed.returncode == 0
    assert completed.args == ["prog", "ok", "--flag"]
    assert seen == {"argv": ["prog", "ok", "--flag"], "cwd": str(tmp_path), "marker": "from-the-request"}
    assert completed.stderr.strip() == "to stderr"
    assert "TRTLAB_MARKER" not in os.environ  # the request's environment stays in the helper
    assert helper.used


@pytest.mark.parametrize(("action", "code", "in_stderr"), [("exit3", 3, ""), ("raise", 1, "the program's own error")])
def test_exit_codes_and_tracebacks(tmp_path: Path, action: str, code: int, in_stderr: str) -> None:
    """SystemExit's code and an uncaught exception (traceback on stderr, code 1) as a real program's."""
    completed = PreforkedRun(_entry).run("prog", [action], tmp_path, dict(os.environ), timeout=30)
    assert completed.returncode == code
    assert in_stderr in completed.stderr


def test_timeout_kills_the_helper(tmp_path: Path) -> None:
    """A program that hangs is killed and reported as subprocess.run would report it."""
    helper = PreforkedRun(_entry)
    with pytest.raises(subprocess.TimeoutExpired):
        helper.run("prog", ["hang"], tmp_path, dict(os.environ), timeout=0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(helper.pid, 0)


def test_unused_helper_exits(tmp_path: Path) -> None:
    """A worker that never asks leaves no process behind; closed descriptors are closed in the helper."""
    read_end, write_end = os.pipe()
    helper = PreforkedRun(_entry, close_fds=(write_end,))
    os.close(write_end)
    assert os.read(read_end, 1) == b""  # EOF: the helper holds no copy of the write end
    os.close(read_end)
    helper.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Practice 2 graded by the batch (so through the helper): the solution and two loader mistakes."""
    root = tmp_path_factory.mktemp("prefork")
    source = (REPO / "solutions" / "practice2" / "data_loader.py").read_text(encoding="utf-8")
    variants = {
        "solution": source,
        "wrong_key": source.replace('INPUT_NAME = "input"', 'INPUT_NAME = "images"'),
        "hwc": source.replace("array.transpose(2, 0, 1)[np.newaxis]", "array[np.newaxis]"),
    }
    for name, text in variants.items():
        assert text != source or name == "solution", name
        folder = root / "subs" / name / "practice2"
        folder.mkdir(parents=True)
        (folder / "data_loader.py").write_text(text, encoding="utf-8")
    out = root / "out"
    completed = run_batch(root / "subs", out, "--practices", "2", timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    shutil.rmtree(root / "subs")
    return out


def _polygraphy_test(out: Path, student: str) -> dict[str, str]:
    """The student's `polygraphy run` test result."""
    result = json.loads((out / student / "result.json").read_text(encoding="utf-8"))
    (test,) = [t for t in result["tests"] if t["name"].startswith("`polygraphy run")]
    return test


@pytest.mark.parametrize(
    ("student", "status", "message"),
    [
        ("solution", "passed", ""),
        ("wrong_key", "failed", "does not match the model's input"),
        ("hwc", "failed", "transposes them itself"),
    ],
)
def test_batch_polygraphy_grades_as_the_program_does(batch: Path, student: str, status: str, message: str) -> None:
    """Polygraphy's warnings reach the grade from the helper exactly as from a new `polygraphy` process."""
    test = _polygraphy_test(batch, student)
    assert test["status"] == status
    assert message in test.get("output", "")
