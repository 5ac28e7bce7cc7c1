"""The real Polygraphy command line, run as students run it (subprocesses).

Every command takes an optional ``launcher``: a process made ready earlier that runs the command once
(in a batch worker, the practice's worker setup forks one with Polygraphy imported, which saves ~2 s
of imports). Without one, or once it is used, the command starts as a new program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Launcher(Protocol):
    """Runs ``program ARGS`` once in a separate process (``grader.core.prefork.PreforkedRun``)."""

    used: bool

    def run(
        self, program: str, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]: ...


WRAPPER = '''"""Grader wrapper: the student's data loader with the grader's settings, for Polygraphy."""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("student_data_loader", {student!r})
_module = importlib.util.module_from_spec(_spec)
sys.modules["student_data_loader"] = _module
_spec.loader.exec_module(_module)
_module.CALIB_DIR = Path({calib_dir!r})
_module.NUM_IMAGES = {num_images!r}
load_data = _module.load_data
'''

MISMATCH_WARNING = "does not match expected input name"
# `polygraphy run` quietly transposes or reshapes such buffers; calibration would not.
SHAPE_WARNING = "does not match expected input shape"


def loader_script(student_file: Path, calib_dir: Path, num_images: int, target: Path) -> Path:
    """A --data-loader-script that imports the student's file and sets CALIB_DIR / NUM_IMAGES on it."""
    target.write_text(
        WRAPPER.format(student=str(student_file.resolve()), calib_dir=str(calib_dir.resolve()), num_images=num_images),
        encoding="utf-8",
    )
    return target


def executable() -> str:
    """The ``polygraphy`` command of this Python's environment (it has no ``python -m`` entry)."""
    beside = Path(sys.executable).with_name("polygraphy")
    return str(beside) if beside.exists() else (shutil.which("polygraphy") or "polygraphy")


def main_in_this_process(args: list[str]) -> int:
    """What the ``polygraphy`` script runs (its ``main()``, argv ``polygraphy ARGS``), in this process."""
    from polygraphy.tools import main

    sys.argv = [executable(), *args]
    return int(main() or 0)


def _polygraphy(
    args: list[str], cwd: Path, timeout: float, launcher: Launcher | None
) -> subprocess.CompletedProcess[str]:
    """Run ``polygraphy ARGS`` as a student would: through ``launcher`` while it is unused, else a new program."""
    if launcher is not None and not launcher.used:
        return launcher.run(executable(), args, cwd, os.environ.copy(), timeout)
    command = [executable(), *args]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=os.environ.copy()
    )


def run_onnxrt(
    model: Path, script: Path, cwd: Path, timeout: float = 300, *, launcher: Launcher | None = None
) -> subprocess.CompletedProcess[str]:
    """``polygraphy run MODEL --onnxrt --data-loader-script SCRIPT`` (no TensorRT needed)."""
    args = ["run", str(model), "--onnxrt", "--data-loader-script", str(script)]
    return _polygraphy(args, cwd, timeout, launcher)


def calibrate_int8(
    model: Path,
    script: Path,
    cache: Path,
    engine: Path,
    cwd: Path,
    timeout: float = 3600,
    *,
    launcher: Launcher | None = None,
) -> subprocess.CompletedProcess[str]:
    """The course text's INT8 calibration (Jetson): ``polygraphy convert --int8 ... --calibration-cache``."""
    args = ["convert", str(model), "--int8", "--data-loader-script", str(script)]
    return _polygraphy([*args, "--calibration-cache", str(cache), "-o", str(engine)], cwd, timeout, launcher)
