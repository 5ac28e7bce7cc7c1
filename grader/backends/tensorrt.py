"""TensorRT backend (Jetson, TensorRT 10.3): the only module that imports tensorrt or pycuda.

Everything here is real TensorRT code for the course board. Where TensorRT is missing the
suites never reach it: ``grader.hardware`` probes first and the plugin skips the test
with an install hint. Nothing in the lab imitates TensorRT.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


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


def _trt() -> Any:
    """The tensorrt module, after a successful probe."""
    probe = probe_tensorrt()
    if not probe.available:
        raise RuntimeError(f"TensorRT is not usable here: {probe.reason}")
    return importlib.import_module("tensorrt")


@cache
def num_dla_cores() -> int:
    """DLA cores the TensorRT builder sees (0 on Orin Nano and on every desktop GPU)."""
    trt = _trt()
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    return int(builder.num_DLA_cores)


def parse_onnx_errors(onnx_path: str | os.PathLike[str]) -> list[str]:
    """Parse an ONNX file with TensorRT's ONNX parser; the parser's errors (empty when it parses)."""
    trt = _trt()
    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if parser.parse_from_file(os.fspath(onnx_path)):
        return []
    return [str(parser.get_error(index)) for index in range(parser.num_errors)]


# ---------------------------------------------------------------- engines (TensorRT 10.3 Python API)

PRECISIONS = ("fp32", "fp16", "int8")


class EngineBuildError(RuntimeError):
    """TensorRT could not parse or build a network."""


def build_engine(
    onnx_path: str | os.PathLike[str],
    engine_path: str | os.PathLike[str],
    *,
    precision: str = "fp32",
    calibration_cache: str | os.PathLike[str] | None = None,
    workspace_mib: int = 1024,
) -> None:
    """Parse ONNX, build with the builder config TensorRT 10.3 expects, serialize to ``engine_path``.

    INT8 takes its dynamic ranges from an existing calibration cache (written by Polygraphy or
    trtexec), through a calibrator that only reads that cache.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    trt = _trt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(os.fspath(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise EngineBuildError(f"TensorRT cannot parse {onnx_path}: " + "; ".join(errors))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    if precision == "int8":
        if calibration_cache is None:
            raise ValueError("an INT8 build needs a calibration cache (placeholder ranges would be meaningless)")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _cache_calibrator(trt, Path(calibration_cache).read_bytes())
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineBuildError(f"TensorRT failed to build {onnx_path} ({precision}); see the log above")
    Path(engine_path).write_bytes(bytes(serialized))


def _cache_calibrator(trt: Any, cache: bytes) -> Any:
    """An IInt8EntropyCalibrator2 that serves an existing cache and never asks for batches."""

    class CacheCalibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[misc,name-defined]
        """Replays a calibration cache."""

        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names: list[str]) -> None:
            return None

        def read_calibration_cache(self) -> bytes:
            return cache

        def write_calibration_cache(self, data: bytes) -> None:
            return None

    return CacheCalibrator()


def cached_engine(
    onnx_path: str | os.PathLike[str],
    *,
    precision: str = "fp32",
    calibration_cache: str | os.PathLike[str] | None = None,
    cache: Any = None,
) -> Path:
    """``build_engine`` once per ONNX content, settings, TensorRT version and GPU (artifact cache)."""
    from grader.cache import ArtifactCache, sha256_file
    from grader.hardware import gpu_name

    parts = {
        "onnx": sha256_file(onnx_path),
        "precision": precision,
        "calibration_cache": sha256_file(calibration_cache) if calibration_cache else None,
        "tensorrt": probe_tensorrt().version,
        "gpu": gpu_name(),
    }
    return (cache or ArtifactCache()).get_or_build(
        "engine",
        parts,
        lambda tmp: build_engine(onnx_path, tmp, precision=precision, calibration_cache=calibration_cache),
        suffix=".engine",
    )


class TensorRTRunner:
    """Runs a serialized engine with pycuda: page-locked host buffers, device buffers, one stream."""

    def __init__(self, engine_path: str | os.PathLike[str]) -> None:
        trt = _trt()
        cuda = importlib.import_module("pycuda.driver")
        cuda.init()
        # The primary context is the one torch uses too, so both can share the GPU in one process.
        self._context = cuda.Device(0).retain_primary_context()
        self._context.push()
        try:
            runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
            self.engine = runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
            if self.engine is None:
                raise EngineBuildError(f"cannot deserialize {engine_path} (built by another TensorRT version?)")
            self.execution = self.engine.create_execution_context()
            self.stream = cuda.Stream()
            self.names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
            self.host: dict[str, Any] = {}
            self.device: dict[str, Any] = {}
            for name in self.names:
                shape = tuple(self.engine.get_tensor_shape(name))
                dtype = trt.nptype(self.engine.get_tensor_dtype(name))
                self.host[name] = cuda.pagelocked_empty(shape, dtype)
                self.device[name] = cuda.mem_alloc(self.host[name].nbytes)
                self.execution.set_tensor_address(name, int(self.device[name]))
            self._is_input = {name: self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT for name in self.names}
        finally:
            self._context.pop()

    def input_specs(self) -> list[Any]:
        """The engine's inputs, in order."""
        from grader.backends import TensorSpec

        return [TensorSpec(n, self.host[n].shape, self.host[n].dtype) for n in self.names if self._is_input[n]]

    def output_specs(self) -> list[Any]:
        """The engine's outputs, in order."""
        from grader.backends import TensorSpec

        return [TensorSpec(n, self.host[n].shape, self.host[n].dtype) for n in self.names if not self._is_input[n]]

    def infer(self, feed: Any) -> dict[str, Any]:
        """Copy inputs in, execute_async_v3, copy outputs out, synchronize."""
        import numpy as np

        cuda = importlib.import_module("pycuda.driver")
        self._context.push()
        try:
            for name in self.names:
                if self._is_input[name]:
                    self.host[name][...] = np.asarray(feed[name], dtype=self.host[name].dtype)
                    cuda.memcpy_htod_async(self.device[name], self.host[name], self.stream)
            self.execution.execute_async_v3(self.stream.handle)
            outputs = {}
            for name in self.names:
                if not self._is_input[name]:
                    cuda.memcpy_dtoh_async(self.host[name], self.device[name], self.stream)
            self.stream.synchronize()
            for name in self.names:
                if not self._is_input[name]:
                    outputs[name] = np.array(self.host[name])
            return outputs
        finally:
            self._context.pop()


def logits(engine_path: str | os.PathLike[str], images: Any) -> Any:
    """First output for each image of an Nx... batch (batch-1 engines)."""
    import numpy as np

    runner = TensorRTRunner(engine_path)
    name = runner.input_specs()[0].name
    return np.concatenate([next(iter(runner.infer({name: images[i : i + 1]}).values())) for i in range(len(images))])
