"""`python -m grader inspect` on every real TensorRT file of the corpus (real_files/).

The expected values are the manifest's, read off each file by a person; the readers' own tests
(test_real_profiles.py, test_real_dla.py, test_real_calibration.py, test_practice5_memory.py) check the
kind-specific details. Here: every file is recognised by its content and read, nothing that holds data
reads as empty or zero, and the command's JSON, text and exit status are what the README documents.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.commands import inspect

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "real_files"
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
REQUIRED = ("file", "source", "tensorrt", "tensorrt_evidence", "device", "licence", "excerpt", "expect")
KEYS = ("path", "kind", "error", "profile", "layer_info", "perf_summary", "dla", "calibration", "memory", "warnings")


def _entries() -> list[tuple[Path, dict[str, Any]]]:
    """(file, manifest entry) for every file of every folder's manifest."""
    found = []
    for manifest in sorted(CORPUS.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            found.append((manifest.parent / entry["file"], entry))
    return found


ENTRIES = _entries()
IDS = [f"{path.parent.name}/{path.name}" for path, _ in ENTRIES]


def _matches(want: Any, got: Any, where: str) -> list[str]:
    """Where ``got`` differs from the subset ``want`` (floats to a relative 1e-6)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object {want}, got {got!r}"]
        return [problem for key, value in want.items() for problem in _matches(value, got.get(key), f"{where}.{key}")]
    if isinstance(want, float) or (isinstance(want, int) and isinstance(got, float) and not isinstance(want, bool)):
        ok = isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)
        return [] if ok else [f"{where}: expected {want}, got {got!r}"]
    return [] if want == got and type(want) is type(got) else [f"{where}: expected {want!r}, got {got!r}"]


def test_the_corpus_is_real_and_large_enough() -> None:
    """At least 30 files, every kind the lab reads, several TensorRT versions, each with its provenance."""
    assert len(ENTRIES) >= 30, f"only {len(ENTRIES)} real files in {CORPUS}"
    kinds = {entry["expect"]["kind"] for _, entry in ENTRIES}
    assert {"profile", "layer_info", "log", "calibration_cache"} <= kinds
    majors = {m.group(1) for _, entry in ENTRIES if (m := re.match(r"(\d+)\.", entry["tensorrt"]))}
    assert len(majors) >= 3, f"TensorRT major versions in the corpus: {sorted(majors)}"
    for path, entry in ENTRIES:
        missing = [key for key in REQUIRED if key not in entry]
        assert not missing, f"{path.name}: manifest entry lacks {missing}"
        assert path.is_file(), f"{path} is listed in its manifest but absent"
        assert entry["source"].startswith("https://"), f"{path.name}: source must be a URL"
    listed = {path.resolve() for path, _ in ENTRIES}
    on_disk = {p.resolve() for p in CORPUS.glob("*/*") if p.is_file() and p.name != "manifest.json"}
    assert on_disk <= listed, f"files without a manifest entry: {sorted(p.name for p in on_disk - listed)}"


def test_the_corpus_is_not_the_shared_reference() -> None:
    """The project's corpus is collected by the project: no file is a copy of ../shared/reference."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"{SHARED_REFERENCE} is absent on this machine")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    shared = {digest(p) for p in SHARED_REFERENCE.rglob("*") if p.is_file()}
    copies = [path.name for path, _ in ENTRIES if digest(path) in shared]
    assert not copies, f"copied from ../shared/reference: {copies}"


@pytest.mark.parametrize(("path", "entry"), ENTRIES, ids=IDS)
def test_inspect_reads_each_real_file(path: Path, entry: dict[str, Any]) -> None:
    """The kind is recognised by content and every value the manifest states is what inspect reports."""
    found = inspect.inspect_file(path).to_json()
    assert found["error"] is None, f"{path.name}: {found['error']}"
    problems = _matches(entry["expect"], found, path.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("path", "entry"), ENTRIES, ids=IDS)
def test_no_reader_reads_data_as_empty(path: Path, entry: dict[str, Any]) -> None:
    """A file that holds data never reads as empty or zero: what is unknown is None, with a warning."""
    found = inspect.inspect_file(path)
    if found.kind == "profile":
        assert found.profile and found.profile["layers"] > 0
    elif found.kind == "layer_info":
        assert found.layer_info and found.layer_info["layers"] > 0
    elif found.kind == "calibration_cache":
        assert found.calibration and found.calibration["tensors"] > 0
    elif found.kind == "log":
        said = [found.profile, found.perf_summary, found.dla, found.memory]
        if all(value is None for value in said):
            # A real log that holds no results (the manifest says so): inspect must say it read nothing.
            assert all(entry["expect"].get(key, None) is None for key in ("profile", "perf_summary", "dla", "memory"))
            assert any("holds no" in warning for warning in found.warnings), found.warnings
        if found.profile is not None:
            assert found.profile["layers"] > 0
    for part in (found.profile, found.layer_info, found.dla, found.perf_summary, found.calibration, found.memory):
        for key, value in (part or {}).items():
            if value is None:
                assert found.warnings, f"{path.name}: {key} is unknown but no warning says so"


def _inspect(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m grader inspect ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "grader", "inspect", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_prints_one_object_per_file_in_order() -> None:
    """``--json`` over the whole corpus: one object per FILE in order, the documented keys, exit 0."""
    paths = [path for path, _ in ENTRIES]
    done = _inspect("--json", *paths)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [item["path"] for item in printed] == [str(path) for path in paths]
    assert all(tuple(item) == KEYS for item in printed)
    assert [item["kind"] for item in printed] == [entry["expect"]["kind"] for _, entry in ENTRIES]
    assert all(item["kind"] in inspect.KINDS for item in printed)


def test_the_kind_comes_from_content_not_from_the_name(tmp_path: Path) -> None:
    """A profile JSON named ``x.profile`` (as --exportProfile=x.profile writes it) or ``x.txt`` is still a profile;
    a log named ``.json`` is still a log; a cache named ``.json`` is still a cache."""
    by_kind: dict[str, Path] = {}
    for path, entry in ENTRIES:
        by_kind.setdefault(entry["expect"]["kind"], path)
    for kind, path in by_kind.items():
        for name in ("x.profile", "x.txt", "x.json", "x"):
            renamed = tmp_path / kind / name
            renamed.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, renamed)
            assert inspect.inspect_file(renamed).kind == kind, f"{path.name} renamed {name}"


def test_unreadable_files_get_one_line_each_and_exit_2(tmp_path: Path) -> None:
    """A missing file, a binary engine-like file and a Python file: exit 2, one stderr line per file, and the
    readable ones are still printed."""
    good = ENTRIES[0][0]
    binary = tmp_path / "model.engine"
    binary.write_bytes(b"ftrt\x00\x00\x01" * 100)
    other = tmp_path / "notes.py"
    other.write_text("print('hello')\n")
    done = _inspect("--json", good, tmp_path / "absent.json", binary, other)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3, done.stderr
    assert all(line.startswith("python -m grader inspect: ") for line in lines)
    printed = json.loads(done.stdout)
    assert [item["kind"] for item in printed][1:] == ["unknown"] * 3
    assert printed[0]["error"] is None and all(item["error"] for item in printed[1:])


def test_the_text_output_is_for_a_person() -> None:
    """Without --json: one block per file naming what it is and what it holds, 'unknown' never a zero."""
    paths = [path for path, _ in ENTRIES]
    done = _inspect(*paths)
    assert done.returncode == 0, done.stderr
    for path in paths:
        assert f"{path}: " in done.stdout
    for title in inspect.TITLES.values():
        assert title in done.stdout


def test_the_readme_example_is_what_the_command_prints() -> None:
    """The README's `grader inspect` example is the command's real output on those files (a line the README
    shortens with '...' must start the real one)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ python -m grader inspect ", 1)[1].split("```", 1)[0]
    command, _, shown = block.partition("\n      ")
    files_part, _, shown = shown.partition("\n")
    files = (command.rstrip(" \\") + " " + files_part).split()
    done = _inspect(*files)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip().splitlines()
    expected = shown.strip().splitlines()
    assert len(printed) == len(expected), done.stdout
    for want, got in zip(expected, printed, strict=True):
        if want.endswith("..."):
            assert got.startswith(want[:-3]), (want, got)
        else:
            assert got == want
