"""The grader's own reader of trtexec output (after NVIDIA's trt-engine-explorer, "trex").

Four sources, as trtexec of TensorRT 7 to 10 writes them (each layout is checked on the real files of
real_files/profiles and real_files/logs):

* ``--exportProfile`` JSON: ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs",
  "percentage"}, ...]``; ``timeMs`` is summed over the N profiled iterations. TensorRT 7 writes no
  ``medianMs``: the median is then unknown (None), never a copy of the average.
* ``--exportLayerInfo`` JSON with ``--profilingVerbosity=detailed``: ``{"Layers": [...],
  "Bindings": [...]}`` (TensorRT 11: ``"I/O Tensors"``); each tensor's ``Format/Datatype``
  string carries its precision. Without detailed verbosity ``Layers`` is a list of names.
* ``--dumpProfile`` stdout: a fixed-width table after ``=== Profile (N iterations ) ===``, closed by
  a ``Total`` row. Two layouts: TensorRT <= 8.5 puts the layer name first (``Layer   Time (ms)
  Avg. Time (ms)   [Median Time (ms)]   Time %``, the median column from 8.x on); 8.6 and later put it
  last (``Time(ms)   Avg.(ms)   Median(ms)   Time(%)   Layer``).
* the ``=== Performance summary ===`` block of stdout (TensorRT 8-10; ``--verbose`` adds an
  "Explanations of the performance metrics" block after it, which is not data), and TensorRT 7.1's
  older multi-line statistics (``Host Latency`` / ``min: X ms`` / ``percentile: X ms at 99%``).

This code is independent of the Practice 5 reference solution: the suite trusts it for
expected values on real exports, and ``python -m grader profile`` and ``inspect`` use it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# TensorRT >= 8.6 joins fused layer names and Metadata with ASCII separators (\x1e, \x1f). TensorRT 10
# escapes them in its JSON (\u001e); raw control characters were seen in 8.6 EA files, which strict JSON
# parsing rejects, so every JSON file is read with strict=False.
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


# trtexec 10.x prints this instead of the performance summary when a profiled run had no --separateProfileRun
# (NVIDIA/TensorRT v10.3.0 samples/trtexec/trtexec.cpp, main).
NO_E2E_TIMING = "The e2e network timing is not reported"


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
    median_ms: float | None  # None where trtexec reports no median (TensorRT 7)
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
    layout: str = "unknown"  # "name-first" (TensorRT <= 8.5) or "name-last" (8.6 and later)

    @property
    def cut_short(self) -> bool:
        """The table has no Total row: the log ends (or was excerpted) before it."""
        return self.total is None


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
                    median_ms=float(record["medianMs"]) if "medianMs" in record else None,
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


# "[01/20/2024-20:25:39] [I] " before each trtexec line, "[TRT] " after it in library messages; logs
# pasted into issues often keep only "[I] ".
_LOG_PREFIX = re.compile(r"^(?:\[\d[^\]]*\]\s)?\[[A-Z]\]\s?")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# 8.6+: "   Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer", then numbers first, the name last.
_ROW_NAME_LAST = re.compile(rf"^\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+(\S.*?)\s*$")
# <= 8.5: "Layer   Time (ms)   Avg. Time (ms)   [Median Time (ms)]   Time %", the name right-aligned first;
# the header says how many number columns follow (7.x has no median), so a name ending in a number is safe.
_ROW_NAME_FIRST = {
    3: re.compile(rf"^\s*(\S.*?)\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s*$"),
    4: re.compile(rf"^\s*(\S.*?)\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s*$"),
}
_TABLE_START = re.compile(r"=== Profile \((\d+) iterations \) ===")


def strip_log_prefix(line: str) -> str:
    """A stdout line without its ``[date-time] [I] `` prefix (and without a trailing CR)."""
    return _LOG_PREFIX.sub("", line.rstrip("\r"), count=1)


def log_lines(text: str) -> list[str]:
    """Lines of a log; only ``\\n`` ends one (``str.splitlines`` also splits at ``\\x1e``)."""
    return [strip_log_prefix(line) for line in text.split("\n")]


def _header_layout(line: str) -> tuple[str, int] | None:
    """(layout, number columns) of a ``--dumpProfile`` header line, or None if ``line`` is not one."""
    words = line.split()
    if not words or "Time" not in line:
        return None
    if words[0] == "Layer":
        return "name-first", 4 if "Median" in line else 3
    if words[-1] == "Layer" and "Time(ms)" in line:
        return "name-last", 4
    return None


def _row(line: str, layout: str, columns: int) -> LayerTime | None:
    """One row of a table in ``layout``, or None if ``line`` is not a row."""
    if layout == "name-last":
        match = _ROW_NAME_LAST.match(line)
        if not match:
            return None
        total, average, median, percent = (float(match.group(i)) for i in range(1, 5))
        return LayerTime(match.group(5), total, average, median, percent)
    match = _ROW_NAME_FIRST[columns].match(line)
    if not match:
        return None
    numbers = [float(match.group(i)) for i in range(2, columns + 2)]
    median_or_none = numbers[2] if columns == 4 else None  # TensorRT 7 prints no median column
    return LayerTime(match.group(1), numbers[0], numbers[1], median_or_none, numbers[-1])


def read_profile_log(text: str) -> list[ProfileTable]:
    """Every ``--dumpProfile`` table in a trtexec stdout text, in order; a cut table has ``total`` None."""
    tables: list[ProfileTable] = []
    current: ProfileTable | None = None
    columns = 4
    for line in log_lines(text):
        start = _TABLE_START.search(line)
        if start:
            current = ProfileTable(int(start.group(1)))
            tables.append(current)
            continue
        if current is None or current.total is not None:
            continue
        if current.layout == "unknown":
            header = _header_layout(line)
            if header:
                current.layout, columns = header
            elif line.strip():
                current = None  # a "=== Profile" line without a table header: nothing to read
            continue
        entry = _row(line, current.layout, columns)
        if entry is None:
            if line.strip():
                current = None  # the table ended without a Total row (a cut excerpt)
            continue
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


def _summary_line(head: str, rest: str, summary: dict[str, Any]) -> None:
    """Fold one ``Label: values`` line of a TensorRT 8-10 performance summary into ``summary``."""
    if head == "Throughput":
        match = re.match(rf"\s*({_NUMBER})\s*qps", rest)
        if match:
            summary["throughput_qps"] = float(match.group(1))
    elif head in METRICS:
        stats: dict[str, float] = {}
        for label, value in _STAT.findall(rest):
            key = percentile_key(label) if label.startswith("percentile") else label
            stats[key] = float(value)
        if stats:  # a line naming a metric without numbers (an explanation) is not data
            summary[METRICS[head]] = stats
    elif head in ("Total Host Walltime", "Total GPU Compute Time"):
        match = re.match(rf"\s*({_NUMBER})\s*s\b", rest)
        if match:
            summary[head.lower().replace(" ", "_") + "_s"] = float(match.group(1))


def read_perf_summary(text: str) -> dict[str, Any]:
    """The ``=== Performance summary ===`` block: throughput and per-metric statistics (ms).

    The last block of the text is read, up to the next ``===`` line: ``--verbose`` follows it with
    ``=== Explanations of the performance metrics ===`` and one sentence per metric. TensorRT 7.1's
    summary (no ``===`` block) is read by ``_read_trt7_summary``.
    """
    lines = log_lines(text)
    starts = [i for i, line in enumerate(lines) if "=== Performance summary ===" in line]
    if not starts:
        # An excerpt may start below the heading: its last "Throughput: X qps" line opens the block.
        starts = [i - 1 for i, line in enumerate(lines) if re.match(rf"Throughput:\s*{_NUMBER}\s*qps", line.strip())]
    if not starts:
        return _read_trt7_summary(lines)
    summary: dict[str, Any] = {}
    for line in lines[starts[-1] + 1 :]:
        if line.strip().startswith("===") or line.startswith("Explanations of the performance metrics"):
            break
        head, _, rest = line.partition(":")
        _summary_line(head.strip(), rest, summary)
    if "throughput_qps" not in summary:
        raise ProfileFormatError("the performance summary has no 'Throughput: ... qps' line")
    return summary


# TensorRT 7.1 (JetPack 4.4-4.6): a heading line, then "min: X ms", ..., "percentile: X ms at 99%".
_TRT7_SECTIONS = {"Host Latency": "latency", "Enqueue Time": "enqueue", "GPU Compute": "gpu_compute"}
_TRT7_STAT = re.compile(rf"^(min|max|mean|median):\s*({_NUMBER})\s*ms")
_TRT7_PERCENTILE = re.compile(rf"^percentile:\s*({_NUMBER})\s*ms at\s*({_NUMBER})%")
_TRT7_THROUGHPUT = re.compile(rf"^throughput:\s*({_NUMBER})\s*qps")


def _read_trt7_summary(lines: list[str]) -> dict[str, Any]:
    """TensorRT 7's statistics: ``Host Latency`` / ``GPU Compute`` headings, each followed by its lines."""
    summary: dict[str, Any] = {}
    section: dict[str, float] | None = None
    for line in (line.strip() for line in lines):
        if line in _TRT7_SECTIONS:
            section = summary.setdefault(_TRT7_SECTIONS[line], {})
        elif match := _TRT7_THROUGHPUT.match(line):
            summary["throughput_qps"] = float(match.group(1))
        elif section is not None and (match := _TRT7_STAT.match(line)):
            section[match.group(1)] = float(match.group(2))
        elif section is not None and (match := _TRT7_PERCENTILE.match(line)):
            section["p" + format(float(match.group(2)), "g")] = float(match.group(1))
    if not any(summary.get(key) for key in _TRT7_SECTIONS.values()):
        raise ProfileFormatError("no '=== Performance summary ===' block in this text")
    return {key: value for key, value in summary.items() if value != {}}


def display_name(name: str, width: int = 0) -> str:
    """A layer name fit for a terminal or a plot: separators shown as ``+``, cut to ``width``."""
    for separator in SEPARATORS:
        name = name.replace(separator, "+")
    if width and len(name) > width:
        return name[: width - 3] + "..."
    return name


# What marks a text as a TensorRT/trtexec log: trtexec's "&&&& RUNNING" and "===" sections, the logger's
# "[I]"/"[W]"/"[V]" severity at the start of a line (trtexec), or the "[TRT]" tag of library messages through
# any application's logger (DeepStream's "WARNING: [TRT]:" included). A text that merely names TensorRT
# (a README) is not a log; DLA messages without any of these are recognised by grader.practices.practice3.dla.orin_log.
_LOG_MARKERS = re.compile(
    r"&&&& (?:RUNNING|PASSED|FAILED)|=== Profile \(|=== Performance summary ===|\[TRT\]"
    r"|^\s*(?:\[\d[^\]]*\]\s*)?\[[IWEVF]\]\s",
    re.MULTILINE,
)


def _json_kind(data: Any) -> str:
    """``profile`` or ``layer_info`` for parsed trtexec JSON, else ``unknown``."""
    if isinstance(data, dict) and isinstance(data.get("Layers"), list):
        return "layer_info"
    if isinstance(data, list) and data and all(isinstance(record, dict) for record in data):
        layers = [record for record in data if "name" in record]
        if layers and all("averageMs" in record or "timeMs" in record for record in layers):
            return "profile"
        if not layers and all(set(record) == {"count"} for record in data):
            return "profile"  # an export of an engine whose profile recorded no layer
    return "unknown"


def sniff(path: str | os.PathLike[str]) -> str:
    """``profile`` | ``layer_info`` | ``log`` | ``unknown``: what trtexec file this is, from its content."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        try:
            return _json_kind(json.loads(stripped, strict=False))
        except json.JSONDecodeError:
            pass  # a log line such as "[01/20/2024-20:25:39] [I] ..." also starts with "["
    return "log" if _LOG_MARKERS.search(text) else "unknown"
