"""``python -m grader <command>`` leaves nothing behind in the temporary folder (it once left a folder per run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grader.core.paths import REPO

PROFILE = REPO / "real_files" / "profiles" / "trt10_rtx3060laptop_alexnet_fp16.profile.json"


def test_a_command_removes_its_scratch_folder(tmp_path: Path) -> None:
    """The offline scratch folder (ultralytics settings, onnxruntime cache) goes away with the command."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "grader", "inspect", str(PROFILE)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), "inspect printed nothing"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
