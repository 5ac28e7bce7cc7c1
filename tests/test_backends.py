"""Self-tests of what the backends share: the Runner interface, the precision parameter, the cache keys, trtexec lines.

TensorRT never runs here. What is checked is what runs without it: run_logits on a real ONNX
Runtime session, the signatures every caller relies on, the cache keys of engines and timing
caches (pinned: a changed key would rebuild every engine already cached on a student's board)
and the trtexec command lines the builds run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, save_model

from grader.backends import onnxruntime as ort_backend
from grader.backends import run_logits, trtexec
from grader.backends import tensorrt as trt_backend
from grader.core.cache import ArtifactCache, hash_key
from grader.core.environment import gpu_name

TRTEXEC = "/usr/src/tensorrt/bin/trtexec"
ONNX_SHA = "9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4"  # sha256(b"model")
CALIB_SHA = "47da8304ae5945372119768b390e2019d0098e86dff5eae86709cb7717bd3fd2"  # sha256(b"ranges")
PLATFORM = {"tensorrt": "10.3.0", "gpu": "Orin (nvgpu)"}


def _two_output_model(path: Path) -> Path:
    """A batch-1 ONNX model with two outputs: ``first = x + 1`` then ``second = x * 2``."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["first"]), helper.make_node("Mul", ["x", "two"], ["second"])],
        "two_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [
            helper.make_tensor_value_info("first", TensorProto.FLOAT, [1, 3]),
            helper.make_tensor_value_info("second", TensorProto.FLOAT, [1, 3]),
        ],
        initializer=[one, two],
    )
    save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


def test_run_logits_is_the_first_output_per_image(tmp_path: Path) -> None:
    """run_logits feeds a batch-1 runner one image at a time and stacks its first output."""
    model = _two_output_model(tmp_path / "two.onnx")
    images = np.arange(12, dtype=np.float32).reshape(4, 3)
    expected = images + 1
    np.testing.assert_array_equal(run_logits(ort_backend.OnnxRuntimeRunner(model, threads=1), images), expected)
    np.testing.assert_array_equal(ort_backend.logits(model, images), expected)


def test_precision_is_required_and_follows_the_paths() -> None:
    """Both build_engine and both cached_engine take ``precision`` the same way, with no default to differ on."""
    for function, after in (
        (trt_backend.build_engine, 2),
        (trtexec.build_engine, 2),
        (trtexec.build_command, 2),
        (trt_backend.cached_engine, 1),
        (trtexec.cached_engine, 1),
    ):
        parameters = list(inspect.signature(function).parameters.values())
        precision = parameters[after]
        assert precision.name == "precision", function
        assert precision.default is inspect.Parameter.empty, function
        assert precision.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, function


# ---------------------------------------------------------------- cache keys (pinned)


@pytest.fixture
def board(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed TensorRT version and GPU name, so the keys below are the same on every machine."""
    monkeypatch.setattr(trt_backend, "probe_tensorrt", lambda: trt_backend.Probe(True, PLATFORM["tensorrt"]))
    monkeypatch.setattr(trt_backend, "gpu_name", lambda: PLATFORM["gpu"])


@pytest.fixture
def recorded_keys(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """The (kind, parts) of every ArtifactCache.get_or_build call; nothing is built."""
    keys: list[tuple[str, dict]] = []

    def get_or_build(
        self: ArtifactCache, kind: str, parts: dict, build: Callable[[Path], object], suffix: str = ""
    ) -> Path:
        """Record the key; where the artifact would be."""
        keys.append((kind, dict(parts)))
        return self.path(kind, parts, suffix)

    monkeypatch.setattr(ArtifactCache, "get_or_build", get_or_build)
    return keys


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, ArtifactCache]:
    """An ONNX file, a calibration cache and an artifact cache with known content."""
    onnx, calib = tmp_path / "m.onnx", tmp_path / "calib.cache"
    onnx.write_bytes(b"model")
    calib.write_bytes(b"ranges")
    return onnx, calib, ArtifactCache(tmp_path / "cache")


def test_platform_key_is_tensorrt_and_gpu() -> None:
    """One function builds the TensorRT-version + GPU part of every key, with this machine's facts."""
    assert trt_backend.platform_key() == {"tensorrt": trt_backend.probe_tensorrt().version, "gpu": gpu_name()}


@pytest.mark.usefixtures("board")
def test_timing_cache_key_is_unchanged(inputs: tuple[Path, Path, ArtifactCache]) -> None:
    """The shared timing cache's file name, as the boards have it cached."""
    cache = inputs[2]
    assert trt_backend.timing_cache_path(cache) == cache.root / "timing-cache/02c6a3d42e0854195211294a59676351.cache"


@pytest.mark.usefixtures("board")
def test_engine_keys_are_unchanged(
    inputs: tuple[Path, Path, ArtifactCache], recorded_keys: list[tuple[str, dict]]
) -> None:
    """Python-API engine keys: same parts, same hashes as before the backends shared platform_key()."""
    onnx, calib, cache = inputs
    trt_backend.cached_engine(onnx, "fp16", cache=cache)
    trt_backend.cached_engine(onnx, "int8", calibration_cache=calib, dla_core=0, gpu_fallback=True, cache=cache)
    trt_backend.cached_engine(onnx, precision="fp32", cache=cache)
    plain = {"calibration_cache": None, "dla_core": None, "gpu_fallback": False}
    calibrated_dla = {"calibration_cache": CALIB_SHA, "dla_core": 0, "gpu_fallback": True}
    assert recorded_keys == [
        ("engine", {"onnx": ONNX_SHA, "precision": "fp16", **plain, **PLATFORM}),
        ("engine", {"onnx": ONNX_SHA, "precision": "int8", **calibrated_dla, **PLATFORM}),
        ("engine", {"onnx": ONNX_SHA, "precision": "fp32", **plain, **PLATFORM}),
    ]
    assert [hash_key(parts) for _, parts in recorded_keys] == [
        "8ace0a42134710b4acac540b2ce97bbc",
        "133464db078d832fdf48f598f3e062cd",
        "5067ebeb06092d962e7d2377954cc3db",
    ]


@pytest.mark.usefixtures("board")
def test_trtexec_engine_keys_are_unchanged(
    inputs: tuple[Path, Path, ArtifactCache], recorded_keys: list[tuple[str, dict]]
) -> None:
    """trtexec engine keys (flags, calibration cache, TensorRT, GPU): same hashes as before."""
    onnx, calib, cache = inputs
    for precision in trtexec.PRECISION_FLAGS:
        trtexec.cached_engine(onnx, precision, cache=cache)
    trtexec.cached_engine(onnx, precision="int8", calibration_cache=calib, cache=cache)
    assert {kind for kind, _ in recorded_keys} == {"trtexec-engine"}
    assert all(parts.items() >= PLATFORM.items() for _, parts in recorded_keys)
    assert recorded_keys[-1][1]["flags"] == [
        "--int8",
        "--fp16",
        "--calib=calib.cache",
        "--profilingVerbosity=detailed",
        "--skipInference",
    ]
    assert [hash_key(parts) for _, parts in recorded_keys] == [
        "07594f94378115add101eb85766e01eb",
        "63047e9eb61c09b37864f4a33722608c",
        "eac65b08dd8c25b620c0b626c6177b84",
        "51771af403d98d504f689ef1e76726b6",
    ]


# ---------------------------------------------------------------- the trtexec lines the builds run


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every trtexec line trtexec.run is given; each run fails as a missing board would, so nothing is built."""
    seen: list[list[str]] = []

    def run(command: list[str], timeout_s: float) -> str:
        """Record the line; trtexec is not run."""
        seen.append(command)
        raise trtexec.TrtexecFailed("not run in the self-tests")

    monkeypatch.setattr(trtexec, "run", run)
    monkeypatch.setattr(trtexec, "find_trtexec", lambda: Path(TRTEXEC))
    return seen


def test_practice2_int8_build_line(tmp_path: Path, commands: list[list[str]]) -> None:
    """Practice 2's calibrated build is the README's ``trtexec --int8 --calib=...``: INT8 without --fp16."""
    engine = tmp_path / "int8.engine"
    with pytest.raises(trtexec.TrtexecFailed):
        trtexec.build_engine("m.onnx", engine, precision="int8-fp32", calibration_cache="c.cache")
    assert commands == [
        [
            TRTEXEC,
            "--onnx=m.onnx",
            f"--saveEngine={engine}",
            "--int8",
            "--calib=c.cache",
            "--profilingVerbosity=detailed",
            "--skipInference",
        ]
    ]


@pytest.mark.usefixtures("board")
@pytest.mark.parametrize(
    ("precision", "calibrated", "flags"),
    [
        ("fp32", False, []),
        ("fp16", False, ["--fp16"]),
        ("int8", False, ["--int8", "--fp16"]),
        ("int8", True, ["--int8", "--fp16", "--calib=CALIB"]),
    ],
)
def test_cached_engine_build_line(
    precision: str,
    calibrated: bool,
    flags: list[str],
    inputs: tuple[Path, Path, ArtifactCache],
    commands: list[list[str]],
) -> None:
    """A cached trtexec build: the precision's flags and a private copy of the shared timing cache."""
    onnx, calib, cache = inputs
    shared = trt_backend.timing_cache_path(cache)
    shared.parent.mkdir(parents=True)
    shared.write_bytes(b"timings")
    with pytest.raises(trtexec.TrtexecFailed):
        trtexec.cached_engine(onnx, precision, calibration_cache=calib if calibrated else None, cache=cache)
    (command,) = commands
    engine = command[2].removeprefix("--saveEngine=")
    assert command == [
        TRTEXEC,
        f"--onnx={onnx}",
        f"--saveEngine={engine}",
        *(flag.replace("CALIB", str(calib)) for flag in flags),
        f"--timingCacheFile={engine}.timing",
        "--profilingVerbosity=detailed",
        "--skipInference",
    ]
    assert Path(engine).parent == cache.root / "trtexec-engine"
    assert shared.read_bytes() == b"timings", "a failed build leaves the shared timing cache as it was"
    assert not Path(engine + ".timing").exists(), "the private copy is removed"
