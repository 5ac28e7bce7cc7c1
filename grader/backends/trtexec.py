"""trtexec backend (Jetson, TensorRT 10.3): every trtexec command line of the lab lives here.

Builds (FP32/FP16/INT8, calibration caches, DLA, timing caches), DLA placement runs (Practice 3)
and profiles (Practice 5). Command lines are TensorRT 10.3's: ``--skipInference``, not the
removed ``--buildOnly``; ``--memPoolSize=workspace:N``, not ``--workspace``; no
``--explicitBatch``. Nothing here imitates trtexec: where it is missing the functions raise
``TrtexecUnavailable`` and the suites, which probe first, skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader.backends.tensorrt import platform_key, timing_cache_path
from grader.core.cache import ArtifactCache, sha256_file
from grader.core.files import atomic_write

JETPACK_TRTEXEC = Path("/usr/src/tensorrt/bin/trtexec")
PASSED = "&&&& PASSED TensorRT.trtexec"
# The lab's three precisions (Practice 5 profiles an engine of each).
PRECISION_FLAGS: dict[str, tuple[str, ...]] = {
    "fp32": (),
    "fp16": ("--fp16",),
    # INT8 with FP16 for the layers INT8 cannot take, as TensorRT's samples build it. Without
    # --calib the ranges are placeholders: right for timing, meaningless for accuracy.
    "int8": ("--int8", "--fp16"),
}
# INT8 with FP32 for the layers INT8 cannot take: Practice 2's README command, `trtexec --int8 --calib=...`.
INT8_FP32 = "int8-fp32"
BUILD_FLAGS: dict[str, tuple[str, ...]] = {**PRECISION_FLAGS, INT8_FP32: ("--int8",)}
# --separateProfileRun: without it, a run with --dumpProfile/--exportProfile prints "The e2e network timing is
# not reported ..." instead of the performance summary (NVIDIA/TensorRT v10.3.0 samples/trtexec/trtexec.cpp,
# function main: printPerformanceReport runs only when `!(profilerEnabled && !options.inference.rerun)`, and
# samples/common/sampleOptions.cpp, InferenceOptions::parse, maps --separateProfileRun to `rerun`). With it,
# the benchmark runs without the profiler (summary printed) and a second run attaches it (table and export).
PROFILE_FLAGS = ("--dumpProfile", "--separateProfileRun", "--dumpLayerInfo", "--profilingVerbosity=detailed")
REMOVED_IN_10 = ("--workspace", "--buildOnly", "--explicitBatch")  # trtexec 10.x: "Unknown option"
BUILD_TIMEOUT_S = 1800  # an Orin Nano builds a ResNet-50 in minutes
PROFILE_TIMEOUT_S = 600


def find_trtexec() -> Path | None:
    """trtexec on PATH, else JetPack's ``/usr/src/tensorrt/bin/trtexec``, else None."""
    found = shutil.which("trtexec")
    if found:
        return Path(found)
    if JETPACK_TRTEXEC.is_file() and os.access(JETPACK_TRTEXEC, os.X_OK):
        return JETPACK_TRTEXEC
    return None


class TrtexecError(RuntimeError):
    """trtexec is missing or did not end with ``&&&& PASSED``."""


class TrtexecUnavailable(TrtexecError):
    """trtexec is not installed on this machine."""


class TrtexecFailed(TrtexecError):
    """trtexec ran and failed; the message ends with the tail of its output."""


@dataclass(frozen=True)
class TrtexecRun:
    """One trtexec run: the command line, its exit status and its whole output."""

    command: list[str]
    returncode: int
    output: str

    @property
    def passed(self) -> bool:
        """trtexec's own verdict: exit 0 and its ``&&&& PASSED`` line."""
        return self.returncode == 0 and PASSED in self.output


@dataclass(frozen=True)
class ProfileRun:
    """One ``trtexec --loadEngine ... --dumpProfile --separateProfileRun --exportProfile ...`` run and its files.

    ``stdout`` holds the performance summary (benchmark run) and the ``=== Profile`` table (profiled run).
    """

    engine: Path
    profile_json: Path
    layer_json: Path
    stdout: str
    command: tuple[str, ...]


def binary(trtexec: str | os.PathLike[str] | None = None) -> str:
    """The trtexec binary to run, or TrtexecUnavailable."""
    found = Path(trtexec) if trtexec else find_trtexec()
    if found is None:
        raise TrtexecUnavailable(
            "trtexec not found: on JetPack it is /usr/src/tensorrt/bin/trtexec "
            "(export PATH=$PATH:/usr/src/tensorrt/bin)"
        )
    return str(found)


def _precision_flags(precision: str) -> tuple[str, ...]:
    """trtexec's precision flags for a precision name of BUILD_FLAGS."""
    if precision not in BUILD_FLAGS:
        raise ValueError(f"precision must be one of {sorted(BUILD_FLAGS)}, got {precision!r}")
    return BUILD_FLAGS[precision]


def build_command(
    onnx: str | os.PathLike[str],
    engine: str | os.PathLike[str] | None,
    precision: str,
    *,
    calibration_cache: str | os.PathLike[str] | None = None,
    timing_cache: str | os.PathLike[str] | None = None,
    dla_core: int | None = None,
    allow_gpu_fallback: bool = False,
    extra: tuple[str, ...] = (),
    trtexec: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The trtexec line building ``engine`` from ``onnx`` (no ``--saveEngine`` when engine is None).

    ``precision`` is a name of BUILD_FLAGS: ``"fp32"``, ``"fp16"``, ``"int8"`` or ``"int8-fp32"``.
    Detailed profiling verbosity is stored in the engine: without it, layer information holds
    names only. ``--skipInference`` makes it a build only.
    """
    command = [binary(trtexec), f"--onnx={os.fspath(onnx)}"]
    if engine is not None:
        command.append(f"--saveEngine={os.fspath(engine)}")
    command += _precision_flags(precision)
    if calibration_cache is not None:
        command.append(f"--calib={os.fspath(calibration_cache)}")
    if dla_core is not None:
        command.append(f"--useDLACore={dla_core}")
        if allow_gpu_fallback:
            command.append("--allowGPUFallback")
    if timing_cache is not None:
        command.append(f"--timingCacheFile={os.fspath(timing_cache)}")
    command += ["--profilingVerbosity=detailed", "--skipInference", *extra]
    return command


def profile_command(
    engine: str | os.PathLike[str],
    profile_json: str | os.PathLike[str],
    layer_json: str | os.PathLike[str],
    trtexec: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The trtexec line profiling ``engine``: performance summary, per-layer table and both JSON exports.

    One run gives both because of ``--separateProfileRun`` (see PROFILE_FLAGS): the summary comes from
    the benchmark run, the ``=== Profile`` table and ``--exportProfile`` from the profiled second run.
    """
    return [
        binary(trtexec),
        f"--loadEngine={os.fspath(engine)}",
        *PROFILE_FLAGS,
        f"--exportProfile={os.fspath(profile_json)}",
        f"--exportLayerInfo={os.fspath(layer_json)}",
    ]


def execute(command: list[str], timeout_s: float) -> TrtexecRun:
    """Run a trtexec command line and keep everything it printed; never raises for a failed run."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as error:
        partial = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout or ""
        return TrtexecRun(command, 124, partial + f"\n(timed out after {timeout_s:.0f} s)")
    return TrtexecRun(command, done.returncode, done.stdout + done.stderr)


def run(command: list[str], timeout_s: float) -> str:
    """Run trtexec; its stdout and stderr together, or TrtexecFailed with the tail of them."""
    result = execute(command, timeout_s)
    if not result.passed:
        tail = "\n".join(result.output.strip().splitlines()[-25:])
        raise TrtexecFailed(f"trtexec failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result.output


def build_engine(
    onnx: str | os.PathLike[str],
    engine: str | os.PathLike[str],
    precision: str,
    *,
    calibration_cache: str | os.PathLike[str] | None = None,
    timing_cache: str | os.PathLike[str] | None = None,
    dla_core: int | None = None,
    allow_gpu_fallback: bool = False,
    extra: tuple[str, ...] = (),
    trtexec: str | os.PathLike[str] | None = None,
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """Build ``engine`` from ``onnx`` with trtexec (``build_command``'s options); trtexec's output."""
    Path(engine).parent.mkdir(parents=True, exist_ok=True)
    command = build_command(
        onnx,
        engine,
        precision,
        calibration_cache=calibration_cache,
        timing_cache=timing_cache,
        dla_core=dla_core,
        allow_gpu_fallback=allow_gpu_fallback,
        extra=extra,
        trtexec=trtexec,
    )
    return run(command, timeout_s)


def cached_engine(
    onnx: str | os.PathLike[str],
    precision: str,
    *,
    calibration_cache: str | os.PathLike[str] | None = None,
    cache: ArtifactCache | None = None,
) -> Path:
    """A trtexec build once per ONNX content, flags, TensorRT version and GPU (artifact cache).

    Builds share the machine's timing cache with the Python-API builds; trtexec gets a private
    copy that replaces the shared file in one step afterwards, so concurrent graders never read a
    half-written cache.
    """
    store = cache or ArtifactCache()
    calib = "calib.cache" if calibration_cache else None
    parts = {
        "onnx": sha256_file(onnx),
        "flags": build_command("m.onnx", "m.engine", precision, calibration_cache=calib, trtexec="trtexec")[3:],
        "calibration_cache": sha256_file(calibration_cache) if calibration_cache else None,
        **platform_key(),
    }
    shared = timing_cache_path(store)

    def build(tmp: Path) -> None:
        private = tmp.with_name(tmp.name + ".timing")
        if shared.is_file():
            shutil.copyfile(shared, private)
        try:
            build_engine(onnx, tmp, precision=precision, calibration_cache=calibration_cache, timing_cache=private)
            if private.is_file():
                atomic_write(shared, private.read_bytes())
        finally:
            private.unlink(missing_ok=True)

    return store.get_or_build("trtexec-engine", parts, build, suffix=".engine")


def profile_engine(
    engine: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    trtexec: str | os.PathLike[str] | None = None,
    timeout_s: float = PROFILE_TIMEOUT_S,
) -> ProfileRun:
    """Profile ``engine``; writes ``<stem>.profile.json`` and ``<stem>.layer.json`` in ``out_dir``.

    The returned stdout holds both the performance summary and the profile table (``profile_command``).
    """
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


def trtexec_dla_build(
    onnx_path: str | os.PathLike[str], dla_core: int = 0, timeout_s: float = BUILD_TIMEOUT_S
) -> TrtexecRun:
    """``trtexec --onnx=... --fp16 --useDLACore=N --allowGPUFallback --skipInference --verbose``.

    Returns the whole run, passed or not: on a board without that core trtexec fails with
    "Cannot create DLA engine, N not available", which the suites explain rather than report.
    The verbose log names the layers that fell back to the GPU.
    """
    command = build_command(onnx_path, None, "fp16", dla_core=dla_core, allow_gpu_fallback=True, extra=("--verbose",))
    return execute(command, timeout_s)
