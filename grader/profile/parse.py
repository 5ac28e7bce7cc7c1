"""The grader's own reader of trtexec output (after NVIDIA's trt-engine-explorer, "trex").

Four sources, all written by trtexec of TensorRT 10.3 (and read the same for 8.6 and 11):

* ``--exportProfile`` JSON: ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs",
  "percentage"}, ...]``; ``timeMs`` is summed over the N profiled iterations.
* ``--exportLayerInfo`` JSON with ``--profilingVerbosity=detailed``: ``{"Layers": [...],
  "Bindings": [...]}`` (TensorRT 11: ``"I/O Tensors"``); each tensor's ``Format/Datatype``
  string carries its precision.
* ``--dumpProfile`` stdout: a fixed-width table closed by a ``Total`` row.
* the ``=== Performance summary ===`` block of stdout.

This code is independent of the Practice 5 reference solution: the suite trusts it for
expected values on real exports, and ``python -m grader profile`` uses it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# trtexec prints names unescaped; TensorRT >= 8.6 puts raw ASCII separators (\x1e, \x1f)
# into layer names and Metadata, so strict JSON parsing rejects real files.
SEPARATORS = ("\x1e", "\x1f")

# Data-type words inside "Format/Datatype" strings, both the long engine-inspector form
# ("Channel major FP16 format where channel % 8 == 0") and TensorRT 10's short kgen form ("Half").
PRECISION_WORDS: dict[str, str] = {
    "fp32": "FP32",
    "float": "FP32",
    "float32": "FP32",
    "fp16": "FP16",
    "half": "FP16",
    "bf16": "BF16",
    "bfloat16": "BF16",
    "fp8": "FP8",
    "e4m3": "FP8",
    "fp4": "FP4",
    "int8": "INT8",
    "int4": "INT4",
    "uint8": "UINT8",
    "int32": "INT32",
    "int64": "INT64",
    "bool": "BOOL",
    "double": "FP64",
}

METRICS: dict[str, str] = {
    "Latency": "latency",
    "Enqueue Time": "enqueue",
    "H2D Latency": "h2d",
    "GPU Compute Time": "gpu_compute",
    "D2H Latency": "d2h",
    "End-to-End Host Latency": "end_to_end",  # TensorRT 8.x only
}


class ProfileFormatError(ValueError):
    """A file or text is not the trtexec output it was given as."""


class NotDetailedError(ProfileFormatError):
    """Layer information exported without ``--profilingVerbosity=detailed``."""


@dataclass(frozen=True)
class LayerTime:
    """One layer of a profile; times in ms, ``percent`` on trtexec's 0-100 scale."""

    name: str
    total_ms: float
    average_ms: float
    median_ms: float
    percent: float


@dataclass(frozen=True)
class LayerInfo:
    """One engine layer: name, TensorRT layer type and the precision of its first input/output."""

    name: str
    layer_type: str
    input_precision: str | None
    output_precision: str | None
    input_formats: tuple[str, ...] = ()
    output_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """An ``--exportProfile`` file: profiled iterations and the layers in execution order."""

    count: int | None
    layers: list[LayerTime]


@dataclass(frozen=True)
class LayerFile:
    """An ``--exportLayerInfo`` file: its layers and I/O tensor names."""

    layers: list[LayerInfo]
    bindings: list[str]
    bindings_key: str | None


@dataclass
class ProfileTable:
    """One ``--dumpProfile`` table of stdout; ``total`` is None when the table was cut short."""

    iterations: int | None
    rows: list[LayerTime] = field(default_factory=list)
    total: LayerTime | None = None


def load_json(path: str | os.PathLike[str]) -> Any:
    """A trtexec JSON file, tolerating the raw control characters TensorRT writes into names."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ProfileFormatError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        raise ProfileFormatError(f"{path.name} is not valid JSON ({error})") from None


def precision_of(format_string: str | None) -> str | None:
    """``FP32``/``FP16``/``INT8``/... from a ``Format/Datatype`` string, None if it names none."""
    if not format_string:
        return None
    for word in re.findall(r"[A-Za-z0-9]+", format_string):
        found = PRECISION_WORDS.get(word.lower())
        if found:
            return found
    return None


def read_profile(path: str | os.PathLike[str]) -> Profile:
    """Parse an ``--exportProfile`` JSON file."""
    data = load_json(path)
    name = Path(path).name
    if not isinstance(data, list):
        raise ProfileFormatError(f"{name}: an --exportProfile file is a JSON array, found {type(data).__name__}")
    count: int | None = None
    layers: list[LayerTime] = []
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise ProfileFormatError(f"{name}: record {index} is {type(record).__name__}, expected an object")
        if "name" not in record:
            if "count" in record:
                count = int(record["count"])
                continue
            raise ProfileFormatError(f"{name}: record {index} has neither 'name' nor 'count': {record}")
        try:
            layers.append(
                LayerTime(
                    name=str(record["name"]),
                    total_ms=float(record["timeMs"]),
                    average_ms=float(record["averageMs"]),
                    median_ms=float(record.get("medianMs", record["averageMs"])),
                    percent=float(record["percentage"]),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProfileFormatError(f"{name}: layer record {index} lacks a number: {error!r}") from None
    return Profile(count, layers)


def _tensor_formats(layer: dict[str, Any], key: str) -> tuple[str, ...]:
    """The ``Format/Datatype`` strings of a layer's ``Inputs`` or ``Outputs``."""
    tensors = layer.get(key) or []
    return tuple(str(t.get("Format/Datatype", "")) for t in tensors if isinstance(t, dict))


def read_layer_file(path: str | os.PathLike[str]) -> LayerFile:
    """Parse an ``--exportLayerInfo`` JSON file (TensorRT 8.x-11 layouts)."""
    data = load_json(path)
    name = Path(path).name
    if not isinstance(data, dict) or not isinstance(data.get("Layers"), list):
        raise ProfileFormatError(f"{name}: an --exportLayerInfo file is an object with a 'Layers' list")
    key = next((k for k in ("Bindings", "I/O Tensors") if k in data), None)
    bindings = [str(b) for b in data.get(key, [])] if key else []
    layers: list[LayerInfo] = []
    for index, layer in enumerate(data["Layers"]):
        if isinstance(layer, str):
            raise NotDetailedError(
                f"{name} holds layer names only (layer {index} is the string {layer!r}): the engine was built "
                "or profiled without --profilingVerbosity=detailed, so it has no types or precisions. "
                "Rebuild with trtexec ... --profilingVerbosity=detailed and export again."
            )
        if not isinstance(layer, dict) or "Name" not in layer:
            raise ProfileFormatError(f"{name}: layer {index} is not an object with a 'Name'")
        inputs, outputs = _tensor_formats(layer, "Inputs"), _tensor_formats(layer, "Outputs")
        layers.append(
            LayerInfo(
                name=str(layer["Name"]),
                layer_type=str(layer.get("LayerType", "Unknown")),
                input_precision=precision_of(inputs[0]) if inputs else None,
                output_precision=precision_of(outputs[0]) if outputs else None,
                input_formats=inputs,
                output_formats=outputs,
            )
        )
    return LayerFile(layers, bindings, key)


def read_layer_info(path: str | os.PathLike[str]) -> list[LayerInfo]:
    """The layers of an ``--exportLayerInfo`` file."""
    return read_layer_file(path).layers


# "[01/20/2024-20:25:39] [I] " (and "[TRT] " after it in library messages).
_LOG_PREFIX = re.compile(r"^\[[^\]]*\]\s\[[A-Z]\]\s?")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_ROW = re.compile(rf"^\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+(\S.*)$")
_TABLE_START = re.compile(r"=== Profile \((\d+) iterations \) ===")


def strip_log_prefix(line: str) -> str:
    """A stdout line without its ``[date-time] [I] `` prefix (and without a trailing CR)."""
    return _LOG_PREFIX.sub("", line.rstrip("\r"), count=1)


def log_lines(text: str) -> list[str]:
    """Lines of a log; only ``\\n`` ends one (``str.splitlines`` also splits at ``\\x1e``)."""
    return [strip_log_prefix(line) for line in text.split("\n")]


def read_profile_log(text: str) -> list[ProfileTable]:
    """Every ``--dumpProfile`` table in a trtexec stdout text, in order."""
    tables: list[ProfileTable] = []
    current: ProfileTable | None = None
    for line in log_lines(text):
        start = _TABLE_START.search(line)
        if start:
            current = ProfileTable(int(start.group(1)))
            tables.append(current)
            continue
        if current is None or current.total is not None:
            continue
        if "Time(ms)" in line and "Layer" in line:
            continue
        row = _ROW.match(line)
        if not row:
            if current.rows and line.strip():
                current = None  # the table ended without a Total row (a cut excerpt)
            continue
        total, average, median, percent = (float(row.group(i)) for i in range(1, 5))
        entry = LayerTime(row.group(5).rstrip(), total, average, median, percent)
        if entry.name == "Total":
            current.total = entry
        else:
            current.rows.append(entry)
    return tables


_PERCENTILE = re.compile(r"percentile\(\s*(" + _NUMBER + r")\s*%\)")
_STAT = re.compile(r"(min|max|mean|median|percentile\([^)]*\))\s*=\s*(" + _NUMBER + r"|[-+]?inf|nan)\s*ms")


def percentile_key(label: str) -> str:
    """``p90`` for ``percentile(90%)``, ``p99.9`` for ``percentile(99.9%)``."""
    match = _PERCENTILE.fullmatch(label)
    if not match:
        raise ProfileFormatError(f"not a percentile label: {label!r}")
    return "p" + format(float(match.group(1)), "g")


def read_perf_summary(text: str) -> dict[str, Any]:
    """The ``=== Performance summary ===`` block: throughput and per-metric statistics (ms)."""
    lines = log_lines(text)
    starts = [i for i, line in enumerate(lines) if "=== Performance summary ===" in line]
    if not starts:
        raise ProfileFormatError("no '=== Performance summary ===' block in this text")
    summary: dict[str, Any] = {}
    for line in lines[starts[-1] + 1 :]:
        if line.startswith("==="):
            break
        head, _, rest = line.partition(":")
        head = head.strip()
        if head == "Throughput":
            match = re.match(rf"\s*({_NUMBER})\s*qps", rest)
            if match:
                summary["throughput_qps"] = float(match.group(1))
        elif head in METRICS:
            stats: dict[str, float] = {}
            for label, value in _STAT.findall(rest):
                key = percentile_key(label) if label.startswith("percentile") else label
                stats[key] = float(value)
            summary[METRICS[head]] = stats
        elif head in ("Total Host Walltime", "Total GPU Compute Time"):
            match = re.match(rf"\s*({_NUMBER})\s*s\b", rest)
            if match:
                summary[head.lower().replace(" ", "_") + "_s"] = float(match.group(1))
    if "throughput_qps" not in summary:
        raise ProfileFormatError("the performance summary has no 'Throughput: ... qps' line")
    return summary


def display_name(name: str, width: int = 0) -> str:
    """A layer name fit for a terminal or a plot: separators shown as ``+``, cut to ``width``."""
    for separator in SEPARATORS:
        name = name.replace(separator, "+")
    if width and len(name) > width:
        return name[: width - 3] + "..."
    return name
