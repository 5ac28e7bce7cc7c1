"""Self-tests of the TensorRT backend's contract: one module touches TensorRT, trtexec lines are 10.3's.

TensorRT itself never runs here; these tests check what can be checked without it: who imports
tensorrt/pycuda, the trtexec command lines, the cache keys, and honest failures where TensorRT
is missing.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from grader.backends import tensorrt as trt_backend
from grader.backends import trtexec
from grader.core.cache import ArtifactCache
from grader.core.paths import REPO

TRTEXEC = "/usr/src/tensorrt/bin/trtexec"
GPU_PACKAGES = ("tensorrt", "pycuda")


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports (statements and importlib.import_module("...") calls)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value).split(".")[0])
    return found


def test_only_the_backend_imports_tensorrt_or_pycuda() -> None:
    """No module of grader/ but grader/backends/tensorrt.py imports tensorrt or pycuda."""
    importers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "grader").rglob("*.py")
        if _imported_packages(path) & set(GPU_PACKAGES)
    )
    assert importers == ["grader/backends/tensorrt.py"]


def test_duplicate_backends_are_gone() -> None:
    """Practice 3's and Practice 5's former TensorRT/trtexec modules were merged into the two backends."""
    for name in ("tensorrt_dla", "trtexec_profile"):
        assert not (REPO / "grader" / "backends" / f"{name}.py").exists()
    assert callable(trt_backend.dla_layer_support) and callable(trt_backend.run_engine)
    assert callable(trtexec.trtexec_dla_build) and callable(trtexec.profile_engine)


def test_backend_imports_without_tensorrt_and_says_why_it_cannot_run() -> None:
    """Every entry point fails with the probe's reason where TensorRT is missing, never with a fake result."""
    if trt_backend.probe_tensorrt().available:
        pytest.skip("TensorRT is installed here: the GPU tiers exercise the backend for real")
    reason = trt_backend.probe_tensorrt().reason
    for call in (
        lambda: trt_backend.parse_onnx_errors("m.onnx"),
        lambda: trt_backend.build_engine("m.onnx", "m.engine", "fp32"),
        lambda: trt_backend.dla_layer_support("m.onnx"),
        lambda: trt_backend.TensorRTRunner("m.engine"),
        lambda: trt_backend.is_cuda_engine(object()),
        lambda: trt_backend.num_dla_cores(),
    ):
        with pytest.raises(RuntimeError, match="TensorRT is not usable here") as raised:
            call()
        assert reason in str(raised.value)


def test_build_engine_rejects_bad_settings_before_touching_tensorrt() -> None:
    """Unknown precisions and FP32 on DLA are refused with the rule, on any machine."""
    with pytest.raises(ValueError, match="precision"):
        trt_backend.build_engine("m.onnx", "m.engine", precision="fp64")
    with pytest.raises(ValueError, match="DLA runs FP16 or INT8 only"):
        trt_backend.build_engine("m.onnx", "m.engine", precision="fp32", dla_core=0)


def test_engine_cache_key_covers_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Engines are cached per ONNX content, precision, calibration cache, DLA settings, TensorRT and GPU."""
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"model")
    cache = ArtifactCache(tmp_path / "cache")
    keys: list[dict] = []

    def get_or_build(self: ArtifactCache, kind: str, parts: dict, build: object, suffix: str = "") -> Path:
        keys.append({"kind": kind, **parts})
        return self.path(kind, parts, suffix)

    monkeypatch.setattr(ArtifactCache, "get_or_build", get_or_build)
    trt_backend.cached_engine(onnx, precision="fp16", cache=cache)
    trt_backend.cached_engine(onnx, precision="fp16", dla_core=0, gpu_fallback=True, cache=cache)
    assert keys[0]["kind"] == "engine"
    assert {"onnx", "precision", "calibration_cache", "dla_core", "gpu_fallback", "tensorrt", "gpu"} <= set(keys[0])
    assert keys[0]["dla_core"] is None and keys[1]["dla_core"] == 0 and keys[1]["gpu_fallback"] is True
    assert cache.path("engine", keys[0]) != cache.path("engine", keys[1])


def test_timing_cache_is_shared_per_tensorrt_and_gpu(tmp_path: Path) -> None:
    """One timing cache per TensorRT version and GPU, inside the artifact cache."""
    cache = ArtifactCache(tmp_path)
    path = trt_backend.timing_cache_path(cache)
    assert path.parent == tmp_path / "timing-cache" and path.suffix == ".cache"
    assert trt_backend.timing_cache_path(cache) == path


# ---------------------------------------------------------------- trtexec command lines (TensorRT 10.3)


@pytest.mark.parametrize(
    ("kwargs", "flags"),
    [
        ({"precision": "fp32"}, []),
        ({"precision": "fp16"}, ["--fp16"]),
        ({"precision": "int8", "calibration_cache": "calib.cache"}, ["--int8", "--fp16", "--calib=calib.cache"]),
        ({"precision": "int8-fp32", "calibration_cache": "c.cache"}, ["--int8", "--calib=c.cache"]),
        (
            {"precision": "fp16", "dla_core": 1, "allow_gpu_fallback": True},
            ["--fp16", "--useDLACore=1", "--allowGPUFallback"],
        ),
        ({"precision": "fp16", "timing_cache": "t.cache"}, ["--fp16", "--timingCacheFile=t.cache"]),
    ],
)
def test_build_command(kwargs: dict, flags: list[str]) -> None:
    """Build lines carry the requested settings and only options TensorRT 10.3's trtexec accepts."""
    command = trtexec.build_command("m.onnx", "m.engine", trtexec=TRTEXEC, **kwargs)
    assert command == [
        TRTEXEC,
        "--onnx=m.onnx",
        "--saveEngine=m.engine",
        *flags,
        "--profilingVerbosity=detailed",
        "--skipInference",
    ]
    assert not [arg for arg in command if arg.startswith(trtexec.REMOVED_IN_10)]


def test_build_command_takes_the_precision_by_name_only() -> None:
    """A precision name and fp16/int8 switches together would be ambiguous: the switches do not exist."""
    with pytest.raises(TypeError, match="int8"):
        trtexec.build_command("m.onnx", "m.engine", "fp16", int8=True, trtexec=TRTEXEC)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="fp16"):
        trtexec.build_engine("m.onnx", "m.engine", "int8", fp16=True, trtexec=TRTEXEC)  # type: ignore[call-arg]


def test_dla_build_runs_the_course_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """trtexec_dla_build: --useDLACore=N --allowGPUFallback --fp16 --skipInference --verbose, whole output kept."""
    seen: list[list[str]] = []

    def execute(command: list[str], timeout_s: float) -> trtexec.TrtexecRun:
        seen.append(command)
        return trtexec.TrtexecRun(
            command, 1, "[E] Cannot create DLA engine, 0 not available\n&&&& FAILED TensorRT.trtexec"
        )

    monkeypatch.setattr(trtexec, "find_trtexec", lambda: Path(TRTEXEC))
    monkeypatch.setattr(trtexec, "execute", execute)
    run = trtexec.trtexec_dla_build("m.onnx", dla_core=0)
    assert not run.passed and "Cannot create DLA engine" in run.output
    (command,) = seen
    assert command[:2] == [TRTEXEC, "--onnx=m.onnx"]
    assert {"--fp16", "--useDLACore=0", "--allowGPUFallback", "--skipInference", "--verbose"} <= set(command)
    assert not any(arg.startswith("--saveEngine") for arg in command)


def test_trtexec_run_verdict() -> None:
    """Only exit 0 with trtexec's PASSED line counts as passed."""
    assert trtexec.TrtexecRun([], 0, "...\n&&&& PASSED TensorRT.trtexec [TensorRT v100300] # trtexec").passed
    assert not trtexec.TrtexecRun([], 0, "no verdict line").passed
    assert not trtexec.TrtexecRun([], 1, "&&&& PASSED TensorRT.trtexec").passed


def test_practice_suites_use_the_backends() -> None:
    """Practice 3 and 5 call the consolidated backends (their suites import without TensorRT)."""
    for practice in (3, 5):
        importlib.import_module(f"grader.practices.practice{practice}.suite")
    for path in (REPO / "grader").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "tensorrt_dla" not in text and "trtexec_profile" not in text, path
