"""Helpers for the grader's self-tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.commands.selfcheck import REPO, FolderGrade, grade_folder


def mutate(text: str, old: str, new: str) -> str:
    """Replace ``old`` (which must occur exactly once) by ``new``: one deliberate mistake."""
    count = text.count(old)
    assert count == 1, f"mutation target occurs {count} times, expected once: {old!r}"
    return text.replace(old, new)


def make_submission(root: Path, name: str, practice: int, files: dict[str, str]) -> Path:
    """A practice folder ``root/name/practiceN`` holding ``files`` and the pristine test entry."""
    folder = root / name / f"practice{practice}"
    folder.mkdir(parents=True)
    entry = REPO / "solutions" / f"practice{practice}" / f"test_practice{practice}.py"
    shutil.copy(entry, folder / entry.name)
    for filename, text in files.items():
        (folder / filename).write_text(text, encoding="utf-8")
    return folder


def run_batch(subs: Path, out: Path, *options: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python -m grader batch SUBS --out OUT OPTIONS`` from the repository, output captured."""
    command = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), *options]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


def grade_outside_repo(root: Path, *extra_args: str) -> FolderGrade:
    """Grade every practice folder under ``root`` in one pytest process (the lab's config)."""
    return grade_folder(root, "-c", str(REPO / "pyproject.toml"), "--rootdir", str(root), *extra_args, quiet=True)


def checks_by_submission(grade: FolderGrade) -> dict[str, dict[str, dict]]:
    """``{submission name: {check id: results.json test entry}}``: tests by their stable id (``@pytest.mark.check``),
    which a renamed test function keeps."""
    out: dict[str, dict[str, dict]] = {}
    for test in grade.report["tests"]:
        submission = test["extra_data"]["nodeid"].split("/")[0]
        check = test["extra_data"]["check"]
        assert check not in out.get(submission, {}), f"two tests of {submission} share the check id {check}"
        out.setdefault(submission, {})[check] = test
    return out


def function_name(test: dict) -> str:
    """The suite function behind a results.json test entry (``test_rule_table_row`` for ``...[conv_pads]``)."""
    return test["extra_data"]["nodeid"].split("::")[-1].split("[")[0]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


def grade_variants(
    root: Path,
    practice: int,
    reference: Path,
    variants: dict[str, list[tuple[str, str]]],
    stub: Path | None = None,
) -> dict[str, dict[str, dict]]:
    """The reference file, the stub (when given) and each variant of the reference, graded in one run.

    A variant is a list of (old, new) mutations applied to the reference's text; every submission
    is named after its variant ("reference" and "stub" for the untouched files). Each submission's tests
    are keyed by their check ids.
    """
    text = reference.read_text(encoding="utf-8")
    make_submission(root, "reference", practice, {reference.name: text})
    if stub is not None:
        make_submission(root, "stub", practice, {reference.name: stub.read_text(encoding="utf-8")})
    for name, mutations in variants.items():
        mutated = text
        for old, new in mutations:
            mutated = mutate(mutated, old, new)
        make_submission(root, name, practice, {reference.name: mutated})
    return checks_by_submission(grade_outside_repo(root))


def failed(tests: dict[str, dict]) -> set[str]:
    """Keys (check ids) of the graded tests that failed."""
    return {name for name, test in tests.items() if test.get("status") == "failed"}


def assert_loses_exactly(tests: dict[str, dict], expected: set[str], messages: str | dict[str, str]) -> None:
    """Exactly ``expected`` fail, each scoring 0, no other points lost, and each message names the problem.

    ``messages`` is one phrase every failure must contain, or a phrase per test.
    """
    assert failed(tests) == expected
    phrases = messages if isinstance(messages, dict) else dict.fromkeys(expected, messages)
    for name in expected:
        assert tests[name]["score"] == 0
    for name, phrase in phrases.items():
        assert phrase in tests[name]["output"], tests[name]["output"]
    lost = sum(t["max_score"] - t["score"] for t in tests.values())
    assert lost == sum(tests[name]["max_score"] for name in expected)


def assert_stub_earns_nothing(tests: dict[str, dict]) -> None:
    """Every gradable test fails on the stub, each saying what is not implemented yet."""
    gradable = {name for name, test in tests.items() if test["max_score"] > 0}
    assert gradable and failed(tests) == gradable
    for name in gradable:
        assert "not implemented yet" in tests[name]["output"], (name, tests[name]["output"])


def assert_release_cut_keeps_the_visible_suite(
    graded_reference: dict[str, dict], tmp_path: Path, practice: int, hidden: set[str], solution: Path
) -> None:
    """The release cuts exactly the ``hidden`` checks' functions from the practice's suite, and what is left, on its
    own (as the test entry), grades ``solution`` with every visible test passing."""
    from grader.commands import release

    suites = tmp_path / "grader" / "practices"
    shutil.copytree(REPO / "grader" / "practices" / f"practice{practice}", suites / f"practice{practice}")
    removed = release.strip_hidden(suites)
    functions = {function_name(graded_reference[check]) for check in hidden}
    assert sorted(line.split("::")[1].split()[0] for line in removed) == sorted(functions)
    text = (suites / f"practice{practice}" / "suite.py").read_text(encoding="utf-8")
    assert not [name for name in functions | hidden if name in text]
    # The cut suite as the test entry itself: nothing of the hidden tests is left to import.
    folder = make_submission(tmp_path / "subs", "cut", practice, {solution.name: solution.read_text(encoding="utf-8")})
    (folder / f"test_practice{practice}.py").write_text(text, encoding="utf-8")
    tests = checks_by_submission(grade_outside_repo(tmp_path / "subs"))["cut"]
    assert set(tests) == set(graded_reference) - hidden
    assert failed(tests) == set()
    assert all(test.get("visibility") == "visible" for test in tests.values())


def suite_after_release_cut(tmp_path: Path, practice: int) -> tuple[list[str], set[str]]:
    """The release's ``strip_hidden`` on a copy of the grader: what it removed, and the test functions the cut
    ``grader.practices.practiceN`` still defines when imported on its own (in a fresh interpreter)."""
    from grader.commands import release

    shutil.copytree(REPO / "grader", tmp_path / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    removed = release.strip_hidden(tmp_path / "grader" / "practices")
    names = subprocess.run(
        [sys.executable, "-c", f"import grader.practices.practice{practice}.suite as m; print(' '.join(sorted(dir(m))))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return removed, {name for name in names if name.startswith("test_")}
