"""Both ways a person starts pytest work at the repository root: ``pytest`` and ``python -m pytest``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.paths import REPO

# The self-tests that start processes of their own: the ones that once hung under plain `pytest`
# (a spawned worker could not import the test module that `python -m pytest` puts on sys.path).
PROCESS_TESTS = ["tests/test_cache.py"]


@pytest.mark.parametrize("how", ["pytest", "python -m pytest"])
def test_both_ways_of_starting_pytest_run_to_the_end(how: str) -> None:
    """Each way finishes (no hang: a time limit here) and passes."""
    program = Path(sys.executable).with_name("pytest")
    command = [str(program)] if how == "pytest" else [sys.executable, "-m", "pytest"]
    completed = subprocess.run(
        [*command, *PROCESS_TESTS, "-q", "-p", "no:randomly"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout
