"""TensorRT backend (Jetson, TensorRT 10.3): the only module that imports tensorrt or pycuda.

Everything here is real TensorRT code for the course board. Where TensorRT is missing the
suites never reach it: ``grader.core.environment`` probes first and the plugin skips the test
with an install hint. Nothing in the lab imitates TensorRT.

tensorrt and pycuda are imported inside the functions, after a probe, so this module imports
anywhere. The imports are plain ``import tensorrt as trt`` statements so that CI type-checks
every TensorRT call here against TensorRT 10.x stubs (``mypy --config-file mypy-tensorrt.ini``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.backends import TensorSpec, run_logits
from grader.core.cache import ArtifactCache, sha256_file
from grader.core.environment import gpu_name
from grader.core.files import atomic_write

if TYPE_CHECKING:  # annotations only; never imported at run time from here
    import pycuda.driver
    import tensorrt


@dataclass(frozen=True)
class Probe:
    """Whether a module imports for real, its version, and why not otherwise."""

    available: bool
    version: str | None = None
    reason: str = ""


@cache
def probe_tensorrt() -> Probe:
    """Import TensorRT, refusing the empty namespace package that ``tensorrt-stubs`` leaves."""
    spec = importlib.util.find_spec("tensorrt")
    if spec is None:
        return Probe(False, reason="the Python module 'tensorrt' is not installed")
    if spec.origin is None:
        where = ", ".join(spec.submodule_search_locations or [])
        return Probe(
            False,
            reason=f"'tensorrt' at {where} is an empty namespace package (left by tensorrt-stubs?), "
            "not TensorRT: pip uninstall tensorrt-stubs",
        )
    try:
        trt = importlib.import_module("tensorrt")
    except Exception as error:  # a broken install raises anything from OSError to ImportError
        return Probe(False, reason=f"'import tensorrt' failed: {type(error).__name__}: {error}")
    if not hasattr(trt, "Builder"):
        return Probe(False, reason=f"'tensorrt' at {spec.origin} has no Builder: not the real package")
    return Probe(True, version=str(getattr(trt, "__version__", "unknown")))


@cache
def probe_pycuda() -> Probe:
    """Import pycuda and initialise the CUDA driver."""
    if importlib.util.find_spec("pycuda") is None:
        return Probe(False, reason="the Python module 'pycuda' is not installed")
    try:
        cuda = importlib.import_module("pycuda.driver")
        cuda.init()
        count = cuda.Device.count()
    except Exception as error:
        return Probe(False, reason=f"pycuda cannot use the GPU: {type(error).__name__}: {error}")
    if count == 0:
        return Probe(False, reason="pycuda sees no CUDA device")
    return Probe(True, version=str(importlib.import_module("pycuda").VERSION_TEXT))


def _require(probe: Probe, what: str) -> None:
    """RuntimeError with the probe's reason unless ``what`` is usable here."""
    if not probe.available:
        raise RuntimeError(f"{what} is not usable here: {probe.reason}")


@cache
def num_dla_cores() -> int:
    """DLA cores the TensorRT builder sees (0 on Orin Nano and on every desktop GPU)."""
    _require(probe_tensorrt(), "TensorRT")
    import tensorrt as trt

    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    return int(builder.num_DLA_cores)


class EngineBuildError(RuntimeError):
    """TensorRT could not parse, build or deserialize a network."""


@dataclass
class _Parsed:
    """A parsed ONNX network; the parser owns the weights, so it lives as long as the network."""

    builder: tensorrt.Builder
    network: tensorrt.INetworkDefinition
    parser: tensorrt.OnnxParser
    errors: list[str]


def _parse(onnx_path: str | os.PathLike[str], severity: tensorrt.ILogger.Severity | None = None) -> _Parsed:
    """Builder, network and ONNX parser for a file; ``errors`` is empty when it parsed."""
    _require(probe_tensorrt(), "TensorRT")
    import tensorrt as trt

    logger = trt.Logger(severity if severity is not None else trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    errors: list[str] = []
    if not parser.parse_from_file(os.fspath(onnx_path)):
        errors = [str(parser.get_error(index)) for index in range(parser.num_errors)]
    return _Parsed(builder, network, parser, errors)


def parse_onnx_errors(onnx_path: str | os.PathLike[str]) -> list[str]:
    """Parse an ONNX file with TensorRT's ONNX parser; the parser's errors (empty when it parses)."""
    return _parse(onnx_path).errors


def dla_layer_support(onnx_path: str | os.PathLike[str]) -> dict[str, bool]:
    """``config.can_run_on_DLA(layer)`` for every layer, with an FP16 + GPU-fallback config (network order)."""
    _require(probe_tensorrt(), "TensorRT")
    import tensorrt as trt

    parsed = _parse(onnx_path)
    if parsed.errors:
        raise EngineBuildError(f"TensorRT cannot parse {onnx_path}: " + "; ".join(parsed.errors))
    config = parsed.builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.FP16)
    config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    if parsed.builder.num_DLA_cores > 0:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = 0
    layers = [parsed.network.get_layer(index) for index in range(parsed.network.num_layers)]
    return {layer.name: bool(config.can_run_on_DLA(layer)) for layer in layers}


# ---------------------------------------------------------------- engines (TensorRT 10.3 Python API)

PRECISIONS = ("fp32", "fp16", "int8")


def build_engine(
    onnx_path: str | os.PathLike[str],
    engine_path: str | os.PathLike[str],
    precision: str,
    *,
    calibration_cache: str | os.PathLike[str] | None = None,
    workspace_mib: int = 1024,
    dla_core: int | None = None,
    gpu_fallback: bool = False,
    timing_cache: str | os.PathLike[str] | None = None,
) -> None:
    """Parse ONNX, build with the builder config TensorRT 10.3 expects, serialize to ``engine_path``.

    INT8 takes its dynamic ranges from an existing calibration cache (written by Polygraphy or
    trtexec), through a calibrator that only reads that cache. ``dla_core`` builds for that DLA
    core (FP16/INT8 only; ``gpu_fallback`` lets unsupported layers run on the GPU). ``timing_cache``
    is read before and updated after the build, so later builds skip tactic timing they share.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if dla_core is not None and precision == "fp32":
        raise ValueError("DLA runs FP16 or INT8 only: build a DLA engine with precision='fp16' or 'int8'")
    _require(probe_tensorrt(), "TensorRT")
    import tensorrt as trt

    parsed = _parse(onnx_path, trt.Logger.WARNING)
    if parsed.errors:
        raise EngineBuildError(f"TensorRT cannot parse {onnx_path}: " + "; ".join(parsed.errors))
    config = parsed.builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)  # INT8 engines keep unquantizable layers in FP16, like trtexec
    if precision == "int8":
        if calibration_cache is None:
            raise ValueError("an INT8 build needs a calibration cache (placeholder ranges would be meaningless)")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _cache_calibrator(Path(calibration_cache).read_bytes())
    if dla_core is not None:
        cores = parsed.builder.num_DLA_cores
        if not 0 <= dla_core < cores:
            # trtexec's words for the same mistake: "Cannot create DLA engine, N not available".
            raise EngineBuildError(f"Cannot create DLA engine, {dla_core} not available (this board has {cores})")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = dla_core
        if gpu_fallback:
            config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    if timing_cache is not None:
        previous = Path(timing_cache).read_bytes() if Path(timing_cache).is_file() else b""
        config.set_timing_cache(config.create_timing_cache(previous), False)
    serialized = parsed.builder.build_serialized_network(parsed.network, config)
    if serialized is None:
        raise EngineBuildError(f"TensorRT failed to build {onnx_path} ({precision}); see the log above")
    Path(engine_path).write_bytes(bytes(serialized))
    if timing_cache is not None:
        atomic_write(Path(timing_cache), bytes(config.get_timing_cache().serialize()))


def _cache_calibrator(calibration: bytes) -> tensorrt.IInt8EntropyCalibrator2:
    """An IInt8EntropyCalibrator2 that serves an existing cache and never asks for batches."""
    import tensorrt as trt

    class CacheCalibrator(trt.IInt8EntropyCalibrator2):
        """Replays a calibration cache."""

        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names: list[str]) -> Any:  # None: no batches, the cache has every range
            return None

        def read_calibration_cache(self) -> bytes:
            return calibration

        def write_calibration_cache(self, cache: Any) -> None:
            return None

    return CacheCalibrator()


def platform_key() -> dict[str, str | None]:
    """The cache-key parts of what a built artifact depends on beyond its inputs: TensorRT's version and the GPU.

    Engines and timing caches are valid only for the TensorRT and the GPU that made them: every key
    of them (here and in trtexec.py) holds these parts. Their names and values must not change, or
    the artifacts already cached on the students' boards would be built again.
    """
    return {"tensorrt": probe_tensorrt().version, "gpu": gpu_name()}


def timing_cache_path(cache: ArtifactCache | None = None) -> Path:
    """The machine's shared TensorRT timing cache, one per TensorRT version and GPU.

    Tactic timings depend on the layer, TensorRT and the GPU, not on the model, so one file is
    shared by every build here (Python API and trtexec): FP16 after FP32, or the lab classifier
    after resnet18, reuse the timings they have in common (minutes on an Orin Nano).
    """
    return (cache or ArtifactCache()).path("timing-cache", platform_key(), suffix=".cache")


def cached_engine(
    onnx_path: str | os.PathLike[str],
    precision: str,
    *,
    calibration_cache: str | os.PathLike[str] | None = None,
    dla_core: int | None = None,
    gpu_fallback: bool = False,
    cache: ArtifactCache | None = None,
) -> Path:
    """``build_engine`` once per ONNX content, settings, TensorRT version and GPU (artifact cache)."""
    store = cache or ArtifactCache()
    parts = {
        "onnx": sha256_file(onnx_path),
        "precision": precision,
        "calibration_cache": sha256_file(calibration_cache) if calibration_cache else None,
        "dla_core": dla_core,
        "gpu_fallback": gpu_fallback,
        **platform_key(),
    }

    def build(tmp: Path) -> None:
        build_engine(
            onnx_path,
            tmp,
            precision=precision,
            calibration_cache=calibration_cache,
            dla_core=dla_core,
            gpu_fallback=gpu_fallback,
            timing_cache=timing_cache_path(store),
        )

    return store.get_or_build("engine", parts, build, suffix=".engine")


# ---------------------------------------------------------------- inspecting engines and buffers (Practice 4)


@dataclass(frozen=True)
class IOTensor:
    """One I/O tensor of an engine, as TensorRT 10 names it."""

    name: str
    is_input: bool
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


def is_cuda_engine(value: object) -> bool:
    """Whether ``value`` is a deserialized TensorRT engine (``trt.ICudaEngine``)."""
    _require(probe_tensorrt(), "TensorRT")
    import tensorrt as trt

    return isinstance(value, trt.ICudaEngine)


def io_tensors(engine: tensorrt.ICudaEngine) -> list[IOTensor]:
    """The engine's I/O tensors in engine order: name, direction, shape, numpy dtype."""
    import tensorrt as trt

    names = [engine.get_tensor_name(index) for index in range(engine.num_io_tensors)]
    return [
        IOTensor(
            name,
            engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT,
            tuple(engine.get_tensor_shape(name)),
            np.dtype(trt.nptype(engine.get_tensor_dtype(name))),
        )
        for name in names
    ]


def is_pagelocked(array: object) -> bool:
    """Whether a numpy array lives in pycuda page-locked memory (``cuda.pagelocked_empty`` or a view of it)."""
    _require(probe_pycuda(), "pycuda")
    import pycuda.driver as cuda

    base = array
    while base is not None:
        if isinstance(base, cuda.PagelockedHostAllocation):
            return True
        base = getattr(base, "base", None)
    return False


# ---------------------------------------------------------------- running engines (pycuda)


@contextmanager
def _pushed(context: pycuda.driver.Context) -> Iterator[None]:
    """``context`` current on this thread for the block."""
    context.push()
    try:
        yield
    finally:
        context.pop()


class TensorRTRunner:
    """Runs a serialized engine with pycuda: page-locked host buffers, device buffers, one stream.

    Work happens in the GPU's primary CUDA context, the one TensorRT's runtime and torch use,
    pushed only while the runner works, so runners and student code share the GPU in one process.
    Input shapes may change between calls (dynamic engines): buffers are re-made when they do.
    """

    def __init__(self, engine_path: str | os.PathLike[str]) -> None:
        _require(probe_tensorrt(), "TensorRT")
        _require(probe_pycuda(), "pycuda")
        import pycuda.driver as cuda
        import tensorrt as trt

        cuda.init()
        self._context = cuda.Device(0).retain_primary_context()  # held: it keeps our allocations alive
        with _pushed(self._context):
            runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
            engine = runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
            if engine is None:
                raise EngineBuildError(f"cannot deserialize {engine_path} (built by another TensorRT version?)")
            self.engine = engine
            self.execution = engine.create_execution_context()
            self.stream = cuda.Stream()
        self.names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self._is_input = {name: engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT for name in self.names}
        self._dtypes = {name: np.dtype(trt.nptype(engine.get_tensor_dtype(name))) for name in self.names}
        self.host: dict[str, np.ndarray] = {}
        self.device: dict[str, pycuda.driver.DeviceAllocation] = {}
        shapes = {name: tuple(engine.get_tensor_shape(name)) for name in self.names if self._is_input[name]}
        if all(dim >= 0 for shape in shapes.values() for dim in shape):
            with _pushed(self._context):
                self._allocate(shapes)

    def _allocate(self, input_shapes: Mapping[str, tuple[int, ...]]) -> None:
        """Buffers for these input shapes; output shapes follow from them (context current)."""
        import pycuda.driver as cuda

        for name, shape in input_shapes.items():
            self.execution.set_input_shape(name, shape)
        for name in self.names:
            shape = input_shapes[name] if self._is_input[name] else tuple(self.execution.get_tensor_shape(name))
            self.host[name] = cuda.pagelocked_empty(shape, self._dtypes[name])
            self.device[name] = cuda.mem_alloc(max(self.host[name].nbytes, 1))
            self.execution.set_tensor_address(name, int(self.device[name]))

    def _spec(self, name: str) -> TensorSpec:
        """Name, shape (-1 where dynamic and not allocated yet) and dtype of one I/O tensor."""
        shape = self.host[name].shape if name in self.host else tuple(self.engine.get_tensor_shape(name))
        return TensorSpec(name, tuple(int(dim) for dim in shape), self._dtypes[name])

    def input_specs(self) -> list[TensorSpec]:
        """The engine's inputs, in order."""
        return [self._spec(name) for name in self.names if self._is_input[name]]

    def output_specs(self) -> list[TensorSpec]:
        """The engine's outputs, in order."""
        return [self._spec(name) for name in self.names if not self._is_input[name]]

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Copy inputs in, execute_async_v3, copy outputs out, synchronize."""
        import pycuda.driver as cuda

        inputs = [name for name in self.names if self._is_input[name]]
        missing = [name for name in inputs if name not in feed]
        if missing:
            raise KeyError(f"the engine's inputs are {inputs}; missing {missing}")
        values = {name: np.ascontiguousarray(feed[name], dtype=self._dtypes[name]) for name in inputs}
        with _pushed(self._context):
            if any(name not in self.host or self.host[name].shape != values[name].shape for name in inputs):
                self._allocate({name: values[name].shape for name in inputs})
            for name in inputs:
                self.host[name][...] = values[name]
                cuda.memcpy_htod_async(self.device[name], self.host[name], self.stream)
            if not self.execution.execute_async_v3(self.stream.handle):
                raise RuntimeError("execute_async_v3 failed (see TensorRT's log above)")
            outputs = [name for name in self.names if not self._is_input[name]]
            for name in outputs:
                cuda.memcpy_dtoh_async(self.host[name], self.device[name], self.stream)
            self.stream.synchronize()
            return {name: np.array(self.host[name]) for name in outputs}


def run_engine(engine_path: str | os.PathLike[str], feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Deserialize an engine and run it once on ``feed``; outputs by name."""
    return TensorRTRunner(engine_path).infer(feed)


def logits(engine_path: str | os.PathLike[str], images: np.ndarray) -> np.ndarray:
    """First output for each image of an Nx... batch (batch-1 engines)."""
    return run_logits(TensorRTRunner(engine_path), images)
