"""Memory that trtexec's files state: tensor bytes from detailed layer info, device memory from the log.

trtexec reports no per-layer memory: ``--dumpProfile`` (``Profiler::print``) prints times only. What
can be read is

* each layer's input/output ``Dimensions`` and ``Format/Datatype`` in a detailed ``--exportLayerInfo``
  file: bytes = elements x element size, the channel dimension padded up to the vector width of a
  vectorized format (``tensor_bytes``, ``read_tensor_memory``);
* the engine's device memory (activations and scratch of one execution context) in the build/run log
  (``device_memory_bytes``).

This is the grader's own reader, written independently of the Practice 5 reference solution.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 1 << 20

# Bytes per element of each data-type word found in a "Format/Datatype" string. Sizes: NVIDIA/TensorRT
# v10.3.0 samples/common/common.h, getElementSize (INT64 8; INT32, FLOAT 4; BF16, HALF 2; BOOL, UINT8,
# INT8, FP8 1; INT4 "not implemented for sub-byte data-types"), and the DataType docs of
# include/NvInferRuntimeBase.h. Words: "FP32"/"FP16"/"Int8"/"Int32"/"BFloat16"/"FP8"/"BOOL" in the long
# format strings, "Float"/"Half"/"Bool"/"Int8" alone in TensorRT 10's Myelin (kgen, gemm) layers: both
# seen in real files (real_files/memory/, and the TensorRT 8.x exports of trt-engine-explorer).
ELEMENT_BYTES: dict[str, int] = {
    "fp32": 4,
    "float": 4,
    "int32": 4,
    "int64": 8,
    "fp16": 2,
    "half": 2,
    "bf16": 2,
    "bfloat16": 2,
    "int8": 1,
    "uint8": 1,
    "fp8": 1,
    "bool": 1,
}
SUB_BYTE = {"int4", "fp4"}  # no whole-byte size: unknown, never guessed

# "<N> wide channel vectorized row major ..." are TensorRT's vector-major formats kCHW2/kCHW4/kCHW16/
# kCHW32; "Channel major ... where channel % N == 0" are the vector-minor kHWC8/kHWC16 (and the internal
# %2/%4 variants real files show). NvInferRuntimeBase.h (v10.3.0), enum TensorFormat: for both kinds the
# vectorized dimension C is stored as ceil(C/V)*V ("[M][N][ceil(C/V)][H][W][V]", "[M][N][H][W][ceil(C/V)*V]"),
# and for these formats it is the third-to-last dimension, which needs at least three dimensions.
WIDE_WORDS = {"two": 2, "four": 4, "eight": 8, "sixteen": 16, "thirty-two": 32}
WIDE = re.compile(r"\b(two|four|eight|sixteen|thirty-two) wide channel vectorized\b", re.IGNORECASE)
MODULO = re.compile(r"\bchannel\s*%\s*(\d+)\s*==\s*0", re.IGNORECASE)
# Layouts that store every element once, unpadded: kLINEAR ("Row major linear ...", "Row major Int8
# format") and kHWC ("Channel major FP32 format", NvInferRuntimeBase.h: "channel dimension ... unpadded").
PLAIN = re.compile(r"^\s*(row major\b|channel major\b)", re.IGNORECASE)

# trtexec 10.3: NVIDIA/TensorRT v10.3.0 samples/common/sampleInference.cpp, allocateContextMemory, prints
# getDeviceMemorySize() / 1 MiB through a default ostream (6 significant digits). The line first appears in
# tag v10.0.0; v8.6.1 and v9.0.0 trtexec do not print it.
CONTEXT_LINE = re.compile(r"Created execution context with device memory size: ([0-9.eE+-]+) MiB")
# The builder's own line (TensorRT 8.x and 10.x logs: "Total Activation Memory: 88883200" in 8.6.1,
# "... 8228864 bytes" in 10.x); exact bytes, the same size trtexec reports for the context.
ACTIVATION_LINE = re.compile(r"Total Activation Memory: (\d+)(?: bytes)?\s*$", re.MULTILINE)
# Older trtexec (8.x) prints no context line; the runtime's [MemUsageChange] line gives the GPU memory
# TensorRT allocated when it created the context, in whole MiB.
MEMUSAGE_LINE = re.compile(r"TensorRT-managed allocation in IExecutionContext creation: CPU [+-]?\d+, GPU \+(\d+)")


def element_bytes(format_string: str) -> int | None:
    """Bytes per element of the one data type a ``Format/Datatype`` string names, None if unknown."""
    words = {word.lower() for word in re.findall(r"[A-Za-z0-9]+", format_string)}
    if words & SUB_BYTE:
        return None
    sizes = {ELEMENT_BYTES[word] for word in words if word in ELEMENT_BYTES}
    return sizes.pop() if len(sizes) == 1 else None


def vector_width(format_string: str) -> int | None:
    """The vector width a format pads the channel to (1 when unpadded), None for a layout we do not know."""
    wide = WIDE.search(format_string)
    if wide:
        return WIDE_WORDS[wide.group(1).lower()]
    modulo = MODULO.search(format_string)
    if modulo:
        return int(modulo.group(1))
    if PLAIN.match(format_string):
        return 1
    # A bare data-type word ("Half", "Float"): TensorRT 10's Myelin layers state no layout; they are
    # counted as dense, which is what a bare type means in those files.
    if re.fullmatch(r"\s*[A-Za-z0-9]+\s*", format_string):
        return 1
    return None  # e.g. DLA formats: their line-stride padding is not in the string


def tensor_bytes(format_string: str, dimensions: list[int]) -> int | None:
    """Bytes of one tensor: elements (channel padded to the vector width) x element size; None if unknown.

    None when the format names no known whole-byte type or layout, when a dimension is dynamic (-1),
    or when a vectorized format meets a tensor of fewer than three or more than four dimensions
    (where its vector dimension is not the channel we can name).
    """
    size = element_bytes(format_string)
    width = vector_width(format_string)
    if size is None or width is None or not isinstance(dimensions, list):
        return None
    if any(not isinstance(d, int) or isinstance(d, bool) or d < 0 for d in dimensions):
        return None
    dims = list(dimensions)
    if width > 1:
        if not 3 <= len(dims) <= 4:
            return None
        channel = len(dims) - 3
        dims[channel] = math.ceil(dims[channel] / width) * width
    return math.prod(dims) * size


@dataclass
class TensorMemory:
    """What a detailed layer-info file says about tensor memory (bytes); None where it does not say."""

    total_bytes: int | None
    per_layer: dict[str, int] = field(default_factory=dict)  # bytes of each layer's outputs
    unknown: list[str] = field(default_factory=list)  # tensors that could not be sized
    warnings: list[str] = field(default_factory=list)


def _layers(path: Path) -> list[Any] | None:
    """The ``Layers`` list of a layer-info file (raw \\x1e/\\x1f tolerated), None if it has none."""
    data = json.loads(path.read_text(encoding="utf-8", errors="replace"), strict=False)
    layers = data.get("Layers") if isinstance(data, dict) else None
    return layers if isinstance(layers, list) else None


def _size(tensor: Any) -> tuple[str, int | None]:
    """A tensor object's name and bytes (None when it cannot be sized)."""
    if not isinstance(tensor, dict):
        return "", None
    name = str(tensor.get("Name", ""))
    fmt, dims = tensor.get("Format/Datatype"), tensor.get("Dimensions")
    return name, tensor_bytes(fmt, dims) if isinstance(fmt, str) and isinstance(dims, list) else None


def read_tensor_memory(path: str | Path) -> TensorMemory:
    """Bytes of every distinct tensor (by name) and of each layer's outputs, from ``--exportLayerInfo``."""
    path = Path(path)
    layers = _layers(path)
    if layers is None or any(not isinstance(layer, dict) for layer in layers):
        what = "has no 'Layers' list" if layers is None else "lists layer names only"
        hint = "export it from an engine built with --profilingVerbosity=detailed"
        return TensorMemory(None, warnings=[f"{path.name} {what}: no tensor dimensions ({hint})"])
    sizes: dict[str, int | None] = {}
    result = TensorMemory(None)
    for layer in layers:
        outputs = [_size(t) for t in layer.get("Outputs") or []]
        for name, size in [_size(t) for t in layer.get("Inputs") or []] + outputs:
            if name in sizes and sizes[name] is not None and size is not None and sizes[name] != size:
                result.warnings.append(f"tensor {name!r} has two sizes ({sizes[name]} and {size} bytes); first kept")
            if sizes.get(name) is None:
                sizes[name] = size
        _add_layer(result, str(layer.get("Name", "")), outputs)
    result.unknown = [name for name, size in sizes.items() if size is None]
    known = [size for size in sizes.values() if size is not None]
    result.total_bytes = sum(known) if known else None
    if result.unknown:
        result.warnings.append(
            f"{len(result.unknown)} tensor(s) could not be sized (dynamic dimensions or unknown format), "
            f"e.g. {result.unknown[0]!r}: total_bytes counts only the others"
        )
    return result


def _add_layer(result: TensorMemory, name: str, outputs: list[tuple[str, int | None]]) -> None:
    """Record a layer's output bytes, or a warning when one of its outputs cannot be sized."""
    if any(size is None for _, size in outputs):
        result.warnings.append(f"layer {name!r}: an output could not be sized, its bytes are unknown")
    elif name in result.per_layer:
        result.warnings.append(f"layer name {name!r} appears twice; the first is kept")
    else:
        result.per_layer[name] = sum(size for _, size in outputs if size is not None)


@dataclass(frozen=True)
class DeviceMemory:
    """The engine's device memory as a log states it: bytes (None if unstated), which line, caveats."""

    bytes: int | None
    source: str | None
    warnings: tuple[str, ...] = ()


def device_memory(log_text: str) -> DeviceMemory:
    """The device memory of one execution context, from the first line of the kind a log holds."""
    context = CONTEXT_LINE.search(log_text)
    if context:
        value = round(float(context.group(1)) * MIB)
        note = "trtexec prints this size in MiB to 6 significant digits: bytes are rounded"
        return DeviceMemory(value, "Created execution context with device memory size", (note,))
    activation = ACTIVATION_LINE.search(log_text)
    if activation:
        return DeviceMemory(int(activation.group(1)), "Total Activation Memory")
    memusage = MEMUSAGE_LINE.search(log_text)
    if memusage:
        note = "from the [MemUsageChange] line at context creation, in whole MiB: an approximation"
        return DeviceMemory(int(memusage.group(1)) * MIB, "[MemUsageChange] IExecutionContext creation", (note,))
    return DeviceMemory(
        None, None, ("the log states no device memory (no context, activation or MemUsageChange line)",)
    )


def device_memory_bytes(log_text: str) -> int | None:
    """Bytes of device memory of the engine's execution context as the log states it; None if it does not."""
    return device_memory(log_text).bytes
