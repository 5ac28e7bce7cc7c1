"""trtexec backend (Jetson): finding the binary; builds and profiles come with Practices 4-5."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

JETPACK_TRTEXEC = Path("/usr/src/tensorrt/bin/trtexec")


def find_trtexec() -> Path | None:
    """trtexec on PATH, else JetPack's ``/usr/src/tensorrt/bin/trtexec``, else None."""
    found = shutil.which("trtexec")
    if found:
        return Path(found)
    if JETPACK_TRTEXEC.is_file() and os.access(JETPACK_TRTEXEC, os.X_OK):
        return JETPACK_TRTEXEC
    return None


class TrtexecError(RuntimeError):
    """trtexec did not end with ``&&&& PASSED``."""


def run(args: list[str], timeout: float = 1800) -> str:
    """Run trtexec (TensorRT 10.3 options only) and return its output; raise unless it PASSED."""
    binary = find_trtexec()
    if binary is None:
        raise TrtexecError("trtexec not found (PATH or /usr/src/tensorrt/bin)")
    completed = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout, check=False)
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 or "&&&& PASSED" not in output:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise TrtexecError(f"trtexec {' '.join(args)} failed (exit {completed.returncode}):\n{tail}")
    return output


def build_engine(
    onnx_path: str | os.PathLike[str],
    engine_path: str | os.PathLike[str],
    *,
    fp16: bool = False,
    int8: bool = False,
    calibration_cache: str | os.PathLike[str] | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """``trtexec --onnx --saveEngine [--fp16] [--int8 --calib=cache] --skipInference`` (10.x flags)."""
    args = [f"--onnx={os.fspath(onnx_path)}", f"--saveEngine={os.fspath(engine_path)}", "--skipInference"]
    if fp16:
        args.append("--fp16")
    if int8:
        args.append("--int8")
        if calibration_cache is not None:  # without it trtexec uses placeholder ranges: speed only
            args.append(f"--calib={os.fspath(calibration_cache)}")
    return run([*args, *extra])
