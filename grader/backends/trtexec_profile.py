"""trtexec builds and profiles for Practice 5. JETSON ONLY: needs trtexec, TensorRT 10.3 and a GPU.

Command lines are TensorRT 10.3's (``--skipInference``, not the removed ``--buildOnly``; no
``--workspace`` or ``--explicitBatch``). Nothing here imitates trtexec: where it is missing the
functions raise ``TrtexecUnavailable`` and the suites, which probe first, skip.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader.backends.trtexec import find_trtexec

JETSON_ONLY = True
PRECISION_FLAGS: dict[str, tuple[str, ...]] = {
    "fp32": (),
    "fp16": ("--fp16",),
    # No calibration cache: placeholder dynamic ranges, right for timing, meaningless for accuracy.
    "int8": ("--int8", "--fp16"),
}
PROFILE_FLAGS = ("--dumpProfile", "--dumpLayerInfo", "--profilingVerbosity=detailed")
PASSED = "&&&& PASSED TensorRT.trtexec"
BUILD_TIMEOUT_S = 1800  # an Orin Nano builds a ResNet-50 in minutes
PROFILE_TIMEOUT_S = 600


class TrtexecUnavailable(RuntimeError):
    """trtexec is not installed on this machine."""


class TrtexecFailed(RuntimeError):
    """trtexec ran and failed; the message ends with the tail of its output."""


@dataclass(frozen=True)
class ProfileRun:
    """One ``trtexec --loadEngine ... --dumpProfile --exportProfile ...`` run and its files."""

    engine: Path
    profile_json: Path
    layer_json: Path
    stdout: str
    command: tuple[str, ...]


def _trtexec(trtexec: str | os.PathLike[str] | None) -> str:
    """The trtexec binary to run, or TrtexecUnavailable."""
    found = Path(trtexec) if trtexec else find_trtexec()
    if found is None:
        raise TrtexecUnavailable(
            "trtexec not found: on JetPack it is /usr/src/tensorrt/bin/trtexec "
            "(export PATH=$PATH:/usr/src/tensorrt/bin)"
        )
    return str(found)


def build_command(
    onnx: str | os.PathLike[str],
    engine: str | os.PathLike[str],
    precision: str = "fp16",
    trtexec: str | os.PathLike[str] | None = None,
) -> list[str]:
    """trtexec line building ``engine`` from ``onnx`` with detailed layer information kept."""
    if precision not in PRECISION_FLAGS:
        raise ValueError(f"precision must be one of {sorted(PRECISION_FLAGS)}, got {precision!r}")
    return [
        _trtexec(trtexec),
        f"--onnx={os.fspath(onnx)}",
        f"--saveEngine={os.fspath(engine)}",
        *PRECISION_FLAGS[precision],
        # Detailed verbosity is stored in the engine: without it layer info holds names only.
        "--profilingVerbosity=detailed",
        "--skipInference",
    ]


def profile_command(
    engine: str | os.PathLike[str],
    profile_json: str | os.PathLike[str],
    layer_json: str | os.PathLike[str],
    trtexec: str | os.PathLike[str] | None = None,
) -> list[str]:
    """trtexec line profiling ``engine``: per-layer table on stdout and both JSON exports."""
    return [
        _trtexec(trtexec),
        f"--loadEngine={os.fspath(engine)}",
        *PROFILE_FLAGS,
        f"--exportProfile={os.fspath(profile_json)}",
        f"--exportLayerInfo={os.fspath(layer_json)}",
    ]


def run(command: list[str], timeout_s: float) -> str:
    """Run trtexec; its stdout and stderr together, or TrtexecFailed with the tail of them."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise TrtexecFailed(f"trtexec ran past {timeout_s:.0f} s: {' '.join(command)}") from None
    output = done.stdout + done.stderr
    if done.returncode != 0 or PASSED not in output:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise TrtexecFailed(f"trtexec failed (exit {done.returncode}): {' '.join(command)}\n{tail}")
    return output


def build_engine(
    onnx: str | os.PathLike[str],
    engine: str | os.PathLike[str],
    precision: str = "fp16",
    trtexec: str | os.PathLike[str] | None = None,
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """Build ``engine`` from ``onnx`` with trtexec; returns trtexec's output."""
    Path(engine).parent.mkdir(parents=True, exist_ok=True)
    return run(build_command(onnx, engine, precision, trtexec), timeout_s)


def profile_engine(
    engine: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    trtexec: str | os.PathLike[str] | None = None,
    timeout_s: float = PROFILE_TIMEOUT_S,
) -> ProfileRun:
    """Profile ``engine``; writes ``<stem>.profile.json`` and ``<stem>.layer.json`` in ``out_dir``."""
    engine = Path(engine)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    profile_json, layer_json = out / f"{engine.stem}.profile.json", out / f"{engine.stem}.layer.json"
    command = profile_command(engine, profile_json, layer_json, trtexec)
    stdout = run(command, timeout_s)
    for path in (profile_json, layer_json):
        if not path.is_file():
            raise TrtexecFailed(f"trtexec passed but wrote no {path.name}: {' '.join(command)}")
    return ProfileRun(engine, profile_json, layer_json, stdout, tuple(command))
