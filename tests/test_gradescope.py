"""``python -m grader gradescope``: the autograder zip is laid out as Gradescope asks, and its run_autograder,
run in a temporary root laid out like ``/autograder/``, writes the batch's own results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.commands import gradescope
from grader.core.paths import REPO
from tests.conftest import make_submission, run_batch

ADDED = {"setup.sh", "run_autograder", "gradescope.json"}  # the files at the zip's root that are not the lab's
REFERENCE = REPO / "solutions" / "practice5" / "profile_parser.py"
STUB = REPO / "assignments" / "practice5" / "profile_parser.py"


def _git(*args: str, repo: Path = REPO) -> bytes:
    """``git -C repo ARGS``'s output."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip for Practice 5, written by the command."""
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    command = [sys.executable, "-m", "grader", "gradescope", str(out), "--practices", "5"]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out


def _unpack(archive: Path, root: Path) -> Path:
    """``root`` laid out like ``/autograder/``: the zip in source/ (modes kept, as Gradescope does), results/."""
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            path = Path(opened.extract(info, root / "source"))
            os.chmod(path, (info.external_attr >> 16) & 0o777)
    (root / "results").mkdir()
    return root


def _run_autograder(root: Path, python: str = sys.executable) -> dict[str, Any]:
    """``ROOT/source/run_autograder`` with ROOT and the lab's venv Python given by environment; its results.json."""
    env = {**os.environ, "TRTLAB_AUTOGRADER_ROOT": str(root), "TRTLAB_AUTOGRADER_PYTHON": python}
    command = [str(root / "source" / "run_autograder")]
    completed = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def batch_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The batch's own results.json for the reference and the stub (Practice 5)."""
    subs = tmp_path_factory.mktemp("subs")
    out = tmp_path_factory.mktemp("out")
    for name, path in (("reference", REFERENCE), ("stub", STUB)):
        make_submission(subs, name, 5, {path.name: path.read_text(encoding="utf-8")})
    completed = run_batch(subs, out, "--practices", "5", "--jobs", "1", timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {
        name: json.loads((out / name / "results.json").read_text(encoding="utf-8")) for name in ("reference", "stub")
    }


def _same_text(value: Any, shared: list[str]) -> Any:
    """Strings with the reference folder's location as ``<shared>`` and whitespace (line wrapping) collapsed."""
    if isinstance(value, str):
        for folder in shared:
            value = value.replace(folder, "<shared>")
        return " ".join(value.split())
    if isinstance(value, list):
        return [_same_text(item, shared) for item in value]
    if isinstance(value, dict):
        return {key: _same_text(item, shared) for key, item in value.items()}
    return value


def _comparable(results: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """A results.json without what differs from run to run (times, the student's id) or by where the grader
    sits: a skip reason names the absent ``../shared/reference`` by its path, which for the autograder is
    ROOT/shared and for the batch the repository's parent (wrapped differently by their lengths)."""
    shared = [str(REPO.parent / "shared")] + ([str(root / "shared")] if root is not None else [])
    data = _same_text(json.loads(json.dumps(results)), shared)
    data.pop("execution_time", None)
    data["extra_data"].pop("student", None)
    for test in data["tests"]:
        test["extra_data"].pop("duration_s", None)
    return data


def test_the_zip_is_laid_out_as_gradescope_asks(autograder_zip: Path) -> None:
    """setup.sh and an executable run_autograder at the root, the hidden tests and the reference inside, only
    committed files, nothing of the checkout beyond the lab."""
    with zipfile.ZipFile(autograder_zip) as opened:
        infos = {info.filename: info for info in opened.infolist()}
        assert {"setup.sh", "run_autograder"} <= {name for name in infos if "/" not in name}
        assert (infos["run_autograder"].external_attr >> 16) & 0o111 == 0o111
        assert opened.read("run_autograder").startswith(b"#!")
        setup = opened.read("setup.sh").decode()
        assert "@TORCH@" not in setup and "torch==" in setup and '-e ".[cpu]"' in setup
        assert json.loads(opened.read("gradescope.json"))["practices"] == [5]
        for script in ("setup.sh", "run_autograder"):  # Gradescope runs them with bash: they must parse
            check = subprocess.run(["bash", "-n"], input=opened.read(script), capture_output=True, check=False)
            assert check.returncode == 0, (script, check.stderr)
        suite = opened.read("grader/practices/practice5/suite.py").decode()
        assert '@pytest.mark.visibility("hidden")' in suite  # the hidden tests ship (release cuts them)
        for needed in ("solutions/practice5/profile_parser.py", "assignments/practice5/test_practice5.py"):
            assert needed in infos
        assert any(name.startswith("calib_images/") for name in infos)
        committed = set(_git("ls-tree", "-r", "--name-only", "HEAD").decode().splitlines())
        shared = {name for name in infos if name.startswith("shared/reference/")}
        beside = REPO.parent / "shared" / "reference"  # the real trtexec files the suites read, not in git
        assert shared == {
            f"shared/reference/{p.relative_to(beside).as_posix()}" for p in beside.rglob("*") if p.is_file()
        }
        lab = [name for name in infos if name not in ADDED | shared]
        assert not [name for name in lab if name.split("/")[0] in ("tests", ".git", ".venv", "benchmarks")]
        assert not [name for name in lab if name not in committed]
        changed = [name for name in lab if opened.read(name) != _git("show", f"HEAD:{name}")]
        assert not changed, f"working-tree versions in the zip: {changed[:5]}"


def test_working_tree_changes_never_ship(tmp_path: Path) -> None:
    """In a clone with an edited suite and an untracked file, the zip holds the commit, and says what it left out."""
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True)
    suite = clone / "grader" / "practices" / "practice5" / "suite.py"
    suite.write_text(suite.read_text(encoding="utf-8") + "\nTRIED_HERE = 1\n", encoding="utf-8")
    (clone / "solutions" / "practice5" / "scratch.py").write_text("ANSWER = 42\n", encoding="utf-8")
    names, left_out = gradescope.build(clone, tmp_path / "a.zip", [5])
    assert "solutions/practice5/scratch.py" not in names
    with zipfile.ZipFile(tmp_path / "a.zip") as opened:
        assert b"TRIED_HERE" not in opened.read("grader/practices/practice5/suite.py")
    assert any(line.startswith("grader/practices/practice5/suite.py (changed") for line in left_out)
    assert any(line.startswith("solutions/practice5/scratch.py (untracked") for line in left_out)


@pytest.mark.parametrize("name", ["reference", "stub"])
def test_run_autograder_writes_the_batchs_results(
    autograder_zip: Path, batch_results: dict[str, dict[str, Any]], tmp_path: Path, name: str
) -> None:
    """Same tests, points, maxima, visibility and outputs as the batch; the reference earns all, the stub loses."""
    root = _unpack(autograder_zip, tmp_path / "autograder")
    path = REFERENCE if name == "reference" else STUB
    make_submission(root, "submission", 5, {path.name: path.read_text(encoding="utf-8")})
    results = _run_autograder(root)
    expected = batch_results[name]
    assert _comparable(results, root) == _comparable(expected)
    maximum = sum(test["max_score"] for test in results["tests"])
    assert maximum > 0 and len(results["tests"]) > 10
    assert results["score"] == (maximum if name == "reference" else 0)
    assert any(test["visibility"] == "hidden" for test in results["tests"])


def test_a_failure_still_writes_a_clear_results_json(autograder_zip: Path, tmp_path: Path) -> None:
    """No Python, no submission folder, no config, a batch that stops: each gives a results.json saying why, never a
    bare traceback."""
    root = _unpack(autograder_zip, tmp_path / "autograder")
    no_python = _run_autograder(root, python=str(tmp_path / "missing" / "python"))
    assert no_python["score"] == 0 and no_python["output"].startswith("Not graded:")
    assert "setup.sh" in no_python["output"] and "Traceback" not in no_python["output"]
    no_upload = _run_autograder(root)  # ROOT/submission was never made
    assert no_upload["score"] == 0 and "submission does not exist" in no_upload["output"]
    (root / "submission").mkdir()
    (root / "source" / "gradescope.json").unlink()
    no_config = _run_autograder(root)
    assert "gradescope.json is missing" in no_config["output"] and "Traceback" not in no_config["output"]
    (root / "source" / "gradescope.json").write_text('{"practices": [99]}', encoding="utf-8")
    batch_refused = _run_autograder(root)  # the batch itself stops: its own one line is passed on
    assert batch_refused["score"] == 0 and "--practices: no suite for [99]" in batch_refused["output"]


def test_the_command_refuses_a_name_that_is_no_zip(tmp_path: Path) -> None:
    """One clear line, and nothing written."""
    command = [sys.executable, "-m", "grader", "gradescope", str(tmp_path / "autograder.tar")]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode != 0 and "must be a .zip file" in completed.stderr
    assert not list(tmp_path.iterdir())
