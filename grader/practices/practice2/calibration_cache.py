"""TensorRT INT8 calibration caches (the text that IInt8EntropyCalibrator2, MinMax and Legacy write).

Layout, as real caches of TensorRT 7.2 to 10.14 show (real_files/calibration/):

    TRT-<version>-<Algorithm>          e.g. TRT-8501-EntropyCalibration2, TRT-101303-MinMaxCalibration
    <tensor name>: <hex>               the big-endian float32 bits of the tensor's scale = amax / 127

* ``<version>`` is NV_TENSORRT_VERSION of the TensorRT that wrote the cache. Up to 8.x it is
  major * 1000 + minor * 100 + patch (NvInferRuntimeCommon.h, tag 8.5.1: kNV_TENSORRT_VERSION_IMPL), so
  8501 = 8.5.1 and 8510 = 8.5.10; from 10.0 it is major * 10000 + minor * 100 + patch
  (NvInferRuntimeBase.h, tag v10.3.0: NV_TENSORRT_VERSION_INT), so 100300 = 10.3.0.
* The hex is printed without leading zeros: TensorRT 10 writes a zero scale as a bare ``0``.
* Real caches hold infinite scales (``7f800000``): a tensor whose range TensorRT could not bound.
* Tensor names may hold spaces and colons (``(Unnamed Layer* 5) [Constant]_output``, ``Conv__54:0``);
  the scale is what follows the last ``": "``.
"""

from __future__ import annotations

import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # onnx is imported only when a graph is checked
    import onnx

_HEADER = re.compile(r"^TRT-(?P<version>\d+)-(?P<algorithm>[A-Za-z0-9_]+)$")
_ENTRY = re.compile(r"^(?P<tensor>.+): (?P<hex>[0-9a-fA-F]{1,8})$")
# The algorithms TensorRT names in the header (CalibrationAlgoType, NvInfer.h v10.3.0).
KNOWN_ALGORITHMS = ("EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration")


class CacheFormatError(ValueError):
    """The file is not a TensorRT calibration cache."""


@dataclass(frozen=True)
class CalibrationCache:
    """A parsed calibration cache.

    ``scales`` holds every tensor the file lists, in file order, as the file writes it; the infinite or NaN
    ones are also named in ``nonfinite_scales`` and in ``warnings`` (``amax`` refuses them), the zero ones
    in ``zero_scales``. What the file does not state (no header) is None, with a warning.
    """

    trt_version: int | None
    algorithm: str | None
    scales: dict[str, float]
    zero_scales: list[str] = field(default_factory=list)
    nonfinite_scales: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def release(self) -> str | None:
        """The TensorRT release the header names (``8.5.1``, ``10.3.0``), or None."""
        return None if self.trt_version is None else release_of(self.trt_version)

    @property
    def finite_scales(self) -> dict[str, float]:
        """The scales that are numbers a quantizer can use (infinite and NaN ones left out)."""
        return {name: scale for name, scale in self.scales.items() if math.isfinite(scale)}

    def amax(self, tensor: str) -> float:
        """The calibrated dynamic range of ``tensor`` (scale x 127); a non-finite scale is an error."""
        scale = self.scales[tensor]
        if not math.isfinite(scale):
            raise ValueError(f"the cache gives '{tensor}' the scale {scale} ({_bits(scale)}): it has no usable range")
        return scale * 127.0


def hex_to_float(text: str) -> float:
    """Big-endian float32 bits in hex, as TensorRT writes them (``0`` and other short forms left-padded)."""
    return struct.unpack(">f", bytes.fromhex(text.zfill(8)))[0]


def _bits(scale: float) -> str:
    """The float32 bits of ``scale`` as TensorRT would write them (for messages)."""
    return struct.pack(">f", scale).hex()


def release_of(version: int) -> str:
    """``8501`` -> ``8.5.1``, ``100300`` -> ``10.3.0`` (the two NV_TENSORRT_VERSION formats, see the module)."""
    if version >= 100000:
        return f"{version // 10000}.{version // 100 % 100}.{version % 100}"
    return f"{version // 1000}.{version // 100 % 10}.{version % 100}"


def header_version(release: str) -> int | None:
    """The number TensorRT ``release`` (``10.3.0``, ``10.3.0.30``, ``8.5.2.2``) writes in its header."""
    parts = re.findall(r"\d+", release)
    if len(parts) < 2:
        return None
    major, minor = int(parts[0]), int(parts[1])
    patch = int(parts[2]) if len(parts) > 2 else 0
    return major * 10000 + minor * 100 + patch if major >= 10 else major * 1000 + minor * 100 + patch


def looks_like_cache(text: str) -> bool:
    """Whether ``text`` opens with a calibration cache's ``TRT-<version>-<Algorithm>`` header."""
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return _HEADER.match(line.strip()) is not None
    return False


def parse(text: str) -> CalibrationCache:
    """Parse the text of a calibration cache (CRLF, blank lines and a BOM are tolerated: real files have them)."""
    lines = [(number, line.strip()) for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        raise CacheFormatError("the calibration cache is empty")
    warnings: list[str] = []
    header = _HEADER.match(lines[0][1])
    if header is not None:
        version: int | None = int(header["version"])
        algorithm: str | None = header["algorithm"]
        entries = lines[1:]
        if algorithm not in KNOWN_ALGORITHMS:
            warnings.append(
                f"unknown calibration algorithm '{algorithm}' (TensorRT writes {', '.join(KNOWN_ALGORITHMS)})"
            )
    elif _ENTRY.match(lines[0][1]):
        # Scales without the header: still readable, but which TensorRT and algorithm wrote them is unknown.
        version, algorithm, entries = None, None, lines
        warnings.append(
            "no TRT-<version>-<Algorithm> header (TensorRT writes it as the first line): the TensorRT version "
            "and the calibration algorithm are unknown"
        )
    else:
        raise CacheFormatError(f"the first line should read TRT-<version>-<Algorithm>, not {lines[0][1][:60]!r}")
    scales = _entries(entries, warnings)
    return _with_findings(CalibrationCache(version, algorithm, scales, warnings=warnings))


def _entries(lines: list[tuple[int, str]], warnings: list[str]) -> dict[str, float]:
    """``{tensor: scale}`` from the ``tensor: hex`` lines; anything else is a format error."""
    scales: dict[str, float] = {}
    for number, line in lines:
        entry = _ENTRY.match(line)
        if entry is None:
            raise CacheFormatError(f"line {number} is not 'tensor: <hex scale>': {line[:60]!r}")
        name = entry["tensor"]
        if name in scales:
            warnings.append(f"'{name}' is listed twice (again on line {number}); the last scale is kept")
        scales[name] = hex_to_float(entry["hex"])
    if not scales:
        warnings.append("the cache has a header but no tensor scales")
    return scales


def _with_findings(cache: CalibrationCache) -> CalibrationCache:
    """The cache with its zero, non-finite and negative scales listed and warned about."""
    zero = [name for name, scale in cache.scales.items() if scale == 0.0]
    nonfinite = [name for name, scale in cache.scales.items() if not math.isfinite(scale)]
    negative = [name for name, scale in cache.scales.items() if scale < 0]
    warnings = list(cache.warnings)
    if nonfinite:
        warnings.append(
            f"{len(nonfinite)} tensor(s) have an infinite or NaN scale, no usable INT8 range: "
            + _examples(nonfinite, cache.scales)
        )
    if negative:
        warnings.append(
            f"{len(negative)} tensor(s) have a negative scale (a scale is amax / 127 >= 0): "
            + _examples(negative, cache.scales)
        )
    return CalibrationCache(cache.trt_version, cache.algorithm, cache.scales, zero, nonfinite, warnings)


def _examples(names: list[str], scales: dict[str, float], limit: int = 3) -> str:
    """``'a' (7f800000), 'b' (7f800000) and 3 more`` for messages."""
    shown = ", ".join(f"'{name}' ({_bits(scales[name])})" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def read(path: str | os.PathLike[str]) -> CalibrationCache:
    """Parse a calibration cache file (text; names may be UTF-8; undecodable bytes are a format error)."""
    data = Path(path).read_bytes()
    if b"\0" in data:
        raise CacheFormatError(f"{Path(path).name} is binary, not a text calibration cache")
    try:
        return parse(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise CacheFormatError(f"{Path(path).name} is not a text calibration cache ({error})") from None


# ---------------------------------------------------------------- what a student must hear about


def check(
    cache: CalibrationCache,
    *,
    trt_version: str | None = None,
    onnx_model: onnx.ModelProto | str | os.PathLike[str] | None = None,
) -> list[str]:
    """Problems with ``cache`` for its use: TensorRT ``trt_version`` building ``onnx_model`` (each where known).

    ``onnx_model`` is an ``onnx.ModelProto`` or a path. Each message says what was expected, what the file
    has and how to fix it; an empty list means nothing to report.
    """
    model, label = _load_model(onnx_model) if onnx_model is not None else (None, "<model.onnx>")
    problems = _version_problems(cache, trt_version, label) if trt_version is not None else []
    problems += _nonfinite_problems(cache)
    if model is not None:
        problems += _graph_problems(cache, model, label)
    return problems


def _remake(label: str) -> str:
    """How the lab makes a cache (Polygraphy, on the board)."""
    return (
        f"make it again on the board: polygraphy convert {label} --int8 --data-loader-script ./data_loader.py "
        "--calibration-cache calib.cache -o model_int8.engine (delete the old calib.cache first: an existing "
        "cache is reused, not rewritten)"
    )


def _version_problems(cache: CalibrationCache, trt_version: str, label: str) -> list[str]:
    """The header against the board's TensorRT.

    TensorRT's cache reader is closed source; the public facts are: the header records NV_TENSORRT_VERSION of
    the writer (see the module docstring), TensorRT skips a cache it finds incompatible and calibrates again
    (NVIDIA's answer in NVIDIA/TensorRT#1378), and NVIDIA requires new calibration files after a TensorRT
    upgrade (DeepStream 6.2 "Readme First": TensorRT 8.5.2.2 needs updated calibration files for 7.x models).
    So the only cache known to be used is one written by the same release: anything else is reported.
    """
    want = header_version(trt_version)
    if want is None:
        raise ValueError(f"not a TensorRT release: {trt_version!r} (expected e.g. '10.3.0')")
    if cache.trt_version is None:
        return [
            f"the cache has no TRT-<version>-<Algorithm> header; TensorRT {trt_version} writes "
            f"'TRT-{want}-<Algorithm>' first and uses only a cache it recognises: {_remake(label)}"
        ]
    # A release given as major.minor only ('10.3') leaves the patch open: compare major and minor then.
    minor_only = len(re.findall(r"\d+", trt_version)) == 2
    if cache.trt_version == want or (minor_only and cache.trt_version // 100 == want // 100):
        return []
    return [
        f"the cache was written by TensorRT {cache.release} (header TRT-{cache.trt_version}-{cache.algorithm}); "
        f"this board has TensorRT {trt_version}, whose caches read TRT-{want}-...: TensorRT does not use a cache "
        f"from another release (it ignores it and calibrates again, or builds without your ranges): " + _remake(label)
    ]


def _nonfinite_problems(cache: CalibrationCache) -> list[str]:
    """Infinite or NaN scales: ranges TensorRT could not bound."""
    if not cache.nonfinite_scales:
        return []
    return [
        f"expected a finite scale for every tensor; the cache has {len(cache.nonfinite_scales)} infinite or NaN "
        f"scale(s): {_examples(cache.nonfinite_scales, cache.scales)}. TensorRT met values it could not bound "
        "(inf or NaN in the calibration data, or a tensor that overflows float32): check that load_data() "
        "yields finite float32 arrays, then make the cache again"
    ]


# Names TensorRT gives tensors the ONNX graph does not have: its parser's helpers (ONNXTRT_Broadcast_12_output,
# ONNXTRT_flattenTensor_output, ONNXTRT_ShapeShuffle_287_output), unnamed layers ("(Unnamed Layer* 5)
# [Constant]_output") and refit weights (tmp_refittable_weight_output), all seen in the real caches.
_TRT_INTERNAL = re.compile(r"^(ONNXTRT_|\(Unnamed Layer\* \d+\) |tmp_refittable_weight)")
_FLOAT_TYPES = {1, 10, 11, 16}  # onnx.TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16


def _load_model(onnx_model: onnx.ModelProto | str | os.PathLike[str]) -> tuple[onnx.ModelProto, str]:
    """(ModelProto, a name for messages) from a ModelProto or a path."""
    import onnx

    if isinstance(onnx_model, onnx.ModelProto):
        return onnx_model, onnx_model.graph.name or "the ONNX model"
    path = Path(onnx_model)
    return onnx.load(str(path), load_external_data=False), path.name


def _graph_names(model: Any) -> tuple[list[str], set[str], set[str]]:
    """(graph inputs, every activation name, names of weights and nodes) of an ONNX model."""
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    inputs = [value.name for value in graph.input if value.name not in weights]
    activations = set(inputs) | {output for node in graph.node for output in node.output if output}
    # TensorRT names a weight's tensor '<initializer or Constant output>_output' and a layer's internal
    # output '<node name>_output' (bert.pooler.dense.weight_output, /model.23/dfl/Softmax_output).
    other = weights | {node.name for node in graph.node if node.name}
    return inputs, activations, other


def _accounted(name: str, activations: set[str], other: set[str]) -> bool:
    """Whether a cache's tensor name belongs to this graph (its own name or a name TensorRT derives)."""
    if name in activations or _TRT_INTERNAL.match(name):
        return True
    return name.endswith("_output") and (name[: -len("_output")] in activations | other)


def _float_activations(model: Any) -> list[str]:
    """Node outputs TensorRT calibrates: float-typed (type known) and not computed from constants alone."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph
    except Exception:  # a model shape inference cannot handle: types unknown, nothing is claimed missing
        return []
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.value_info, *inferred.output, *inferred.input]}
    constant = {init.name for init in inferred.initializer}
    wanted = []
    for node in inferred.node:
        if all(name in constant for name in node.input if name):  # Constant, or folded from constants
            constant.update(output for output in node.output if output)
            continue
        wanted += [output for output in node.output if output and types.get(output) in _FLOAT_TYPES]
    return wanted


def _graph_problems(cache: CalibrationCache, model: Any, label: str) -> list[str]:
    """Cache names against the graph it claims to calibrate."""
    inputs, activations, other = _graph_names(model)
    problems = []
    unknown = [name for name in cache.scales if not _accounted(name, activations, other)]
    if unknown:
        shown = ", ".join(f"'{name}'" for name in unknown[:3]) + (
            f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        )
        problems.append(
            f"expected the tensor names of {label} (its input is '{inputs[0] if inputs else '?'}'); "
            f"{len(unknown)} of the cache's {len(cache.scales)} tensors are not in it: {shown}. The cache was "
            f"made for another model or another export of it: " + _remake(label)
        )
    for name in inputs:
        if name not in cache.scales:
            problems.append(
                f"the cache has no scale for {label}'s input '{name}' (it has {len(cache.scales)} "
                "tensors): TensorRT cannot quantize the input; " + _remake(label)
            )
        elif name in cache.zero_scales:
            problems.append(
                f"the cache gives {label}'s input '{name}' a zero scale (amax 0): it was calibrated "
                "on all-zero data; check load_data(), then " + _remake(label)
            )
    missing = [name for name in _float_activations(model) if name not in cache.scales and name not in inputs]
    if missing and not unknown:
        problems.append(
            f"the cache has no scale for {len(missing)} float tensor(s) of {label}: "
            + ", ".join(f"'{name}'" for name in missing[:3])
            + ("..." if len(missing) > 3 else "")
            + ". TensorRT then runs the layers that read or write them outside INT8 ('Missing scale and "
            "zero-point for tensor ...'): the cache is incomplete or older than the model; " + _remake(label)
        )
    return problems
