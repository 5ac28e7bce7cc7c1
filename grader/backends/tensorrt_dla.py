"""TensorRT-facing code for Practice 3's GPU tier (Jetson, TensorRT 10.3): real builds, runs and trtexec.

This module is TensorRT code like ``grader.backends.tensorrt`` and meant to be merged into it
(and the trtexec runner into ``grader.backends.trtexec``); it lives apart only while another
change owns those files. It imports tensorrt and pycuda lazily, inside the functions, through
``grader.backends.tensorrt``'s probes, so importing it never needs TensorRT. The suites call
it only from tests marked ``@pytest.mark.requires("tensorrt", ...)``, which skip where
TensorRT is missing. Nothing here imitates TensorRT.
"""

from __future__ import annotations

import importlib
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.backends import tensorrt as trt_backend
from grader.backends.trtexec import find_trtexec


def _trt() -> Any:
    """The real tensorrt module (RuntimeError with the probe's reason where it is unusable)."""
    probe = trt_backend.probe_tensorrt()
    if not probe.available:
        raise RuntimeError(f"TensorRT is not usable here: {probe.reason}")
    return importlib.import_module("tensorrt")


def _parse(trt: Any, onnx_path: str | os.PathLike[str]) -> tuple[Any, Any, Any]:
    """Builder, network and logger for an ONNX file (RuntimeError with the parser's errors)."""
    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(os.fspath(onnx_path)):
        errors = "\n".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}:\n{errors}")
    return builder, network, logger


def build_engine(
    onnx_path: str | os.PathLike[str], engine_path: str | os.PathLike[str], precision: str = "fp32"
) -> Path:
    """The grader's own GPU engine of an ONNX file ("fp32" or "fp16"), serialized to ``engine_path``."""
    trt = _trt()
    builder, network, _ = _parse(trt, onnx_path)
    config = builder.create_builder_config()
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision != "fp32":
        raise ValueError(f"precision must be 'fp32' or 'fp16', got {precision!r}")
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT could not build {onnx_path} ({precision})")
    path = Path(engine_path)
    path.write_bytes(bytes(serialized))
    return path


def cached_engine(onnx_path: str | os.PathLike[str], precision: str = "fp32") -> Path:
    """``build_engine`` once per ONNX content, precision, TensorRT version and GPU (artifact cache)."""
    from grader.cache import ArtifactCache, sha256_file
    from grader.hardware import gpu_name

    parts = {
        "onnx": sha256_file(onnx_path),
        "precision": precision,
        "tensorrt": trt_backend.probe_tensorrt().version,
        "gpu": gpu_name(),
    }
    return ArtifactCache().get_or_build(
        "engine", parts, lambda tmp: build_engine(onnx_path, tmp, precision), suffix=".engine"
    )


def dla_layer_support(onnx_path: str | os.PathLike[str]) -> dict[str, bool]:
    """``config.can_run_on_DLA(layer)`` for every layer, with an FP16 + GPU-fallback config (network order)."""
    trt = _trt()
    builder, network, _ = _parse(trt, onnx_path)
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.FP16)
    config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    if builder.num_DLA_cores > 0:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = 0
    return {
        network.get_layer(i).name: bool(config.can_run_on_DLA(network.get_layer(i))) for i in range(network.num_layers)
    }


def run_engine(engine_path: str | os.PathLike[str], feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Deserialize an engine and run it once on ``feed`` (pycuda, ``execute_async_v3``); outputs by name."""
    trt = _trt()
    pycuda_probe = trt_backend.probe_pycuda()
    if not pycuda_probe.available:
        raise RuntimeError(f"pycuda is not usable here: {pycuda_probe.reason}")
    cuda = importlib.import_module("pycuda.driver")
    cuda.init()
    # The device's primary context (the one torch and the other runners use), pushed only for this call.
    context = cuda.Device(0).retain_primary_context()
    context.push()
    try:
        return _run_in_context(trt, cuda, engine_path, feed)
    finally:
        context.pop()


def _run_in_context(
    trt: Any, cuda: Any, engine_path: str | os.PathLike[str], feed: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``run_engine``'s work, with a CUDA context current."""
    runtime = trt.Runtime(trt.Logger(trt.Logger.ERROR))
    engine = runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
    if engine is None:
        raise RuntimeError(f"TensorRT could not deserialize {engine_path}")
    execution = engine.create_execution_context()
    stream = cuda.Stream()
    keep: list[Any] = []
    outputs: dict[str, tuple[np.ndarray, Any]] = {}
    names = [engine.get_tensor_name(index) for index in range(engine.num_io_tensors)]
    inputs = [name for name in names if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT]
    # Inputs first: output shapes are known once every input shape is set.
    for name in inputs + [name for name in names if name not in inputs]:
        dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(name)))
        if name in inputs:
            value = np.asarray(feed[name], dtype=dtype)
            # Async copies need page-locked host memory.
            host = cuda.pagelocked_empty(value.shape, dtype)
            host[...] = value
            execution.set_input_shape(name, host.shape)
            device = cuda.mem_alloc(host.nbytes)
            cuda.memcpy_htod_async(device, host, stream)
            keep.append(host)
        else:
            host = cuda.pagelocked_empty(tuple(execution.get_tensor_shape(name)), dtype)
            device = cuda.mem_alloc(max(host.nbytes, 1))
            outputs[name] = (host, device)
        keep.append(device)
        execution.set_tensor_address(name, int(device))
    if not execution.execute_async_v3(stream.handle):
        raise RuntimeError(f"execute_async_v3 failed for {engine_path}")
    for host, device in outputs.values():
        cuda.memcpy_dtoh_async(host, device, stream)
    stream.synchronize()
    return {name: np.array(host) for name, (host, _) in outputs.items()}


@dataclass(frozen=True)
class TrtexecRun:
    """One trtexec run: the command line, its exit status and its whole output."""

    command: list[str]
    returncode: int
    output: str

    @property
    def passed(self) -> bool:
        """trtexec's own verdict: exit 0 and its ``&&&& PASSED`` line."""
        return self.returncode == 0 and "&&&& PASSED" in self.output


def trtexec_dla_build(onnx_path: str | os.PathLike[str], dla_core: int = 0, timeout_s: float = 1800) -> TrtexecRun:
    """``trtexec --onnx=... --useDLACore=N --allowGPUFallback --fp16 --skipInference --verbose``."""
    binary = find_trtexec()
    if binary is None:
        raise RuntimeError("trtexec not found (on JetPack: /usr/src/tensorrt/bin/trtexec)")
    command = [
        str(binary),
        f"--onnx={os.fspath(onnx_path)}",
        f"--useDLACore={dla_core}",
        "--allowGPUFallback",
        "--fp16",
        "--skipInference",
        "--verbose",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout
        return TrtexecRun(command, 124, (output or "") + f"\n(timed out after {timeout_s:.0f} s)")
    return TrtexecRun(command, done.returncode, done.stdout + done.stderr)
