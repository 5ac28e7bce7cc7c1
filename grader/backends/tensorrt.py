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
