"""Practice 5 (reference solution): read what trtexec says about an engine, and show where the time goes.

Inputs come from one trtexec run on the Jetson (TensorRT 10.3):

    trtexec --loadEngine=m.engine --dumpProfile --separateProfileRun --dumpLayerInfo --profilingVerbosity=detailed \\
            --exportProfile=m.profile.json --exportLayerInfo=m.layer.json > m.log

Check your work:  pytest solutions/practice5
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LayerTime:
    """One layer of a trtexec profile; times in ms, ``percent`` on trtexec's 0-100 scale."""

    name: str
    total_ms: float  # "timeMs": summed over every profiled iteration
    average_ms: float  # "averageMs": one inference
    median_ms: float | None  # "medianMs"; None where trtexec reports no median (TensorRT 7, early 8.x)
    percent: float  # "percentage": share of the summed layer time, 0-100


@dataclass
class LayerInfo:
    """One engine layer: its name, TensorRT layer type and the precision of its first input/output."""

    name: str
    layer_type: str
    input_precision: str | None  # "FP32", "FP16", "INT8", "BF16", "FP8", "INT32", "BOOL"; None without inputs
    output_precision: str | None


# The data-type word inside a "Format/Datatype" string, e.g. "Channel major FP16 format where
# channel % 8 == 0" or, for TensorRT 10's kgen layers, just "Half".
DATATYPE_WORDS = {
    "FP32": "FP32",
    "Float": "FP32",
    "FP16": "FP16",
    "Half": "FP16",
    "BF16": "BF16",
    "BFloat16": "BF16",
    "FP8": "FP8",
    "Int8": "INT8",
    "INT8": "INT8",
    "Int32": "INT32",
    "INT32": "INT32",
    "Int64": "INT64",
    "UInt8": "UINT8",
    "BOOL": "BOOL",
    "Bool": "BOOL",
}

# "[01/20/2024-20:25:39] [I] " before each line; logs pasted into issues often keep only "[I] ".
LOG_PREFIX = re.compile(r"^(?:\[\d[^\]]*\] )?\[[A-Z]\] ?")
NUMBER = r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"
# The --dumpProfile table has two layouts. TensorRT 8.6 and later put the numbers first:
#      Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer
#        123.33       0.0061       0.0061       8.4   node_conv2d + node_relu
# TensorRT <= 8.5 (JetPack 4 and 5) puts the layer name first, and 7.x has no median column:
#      Layer   Time (ms)   Avg. Time (ms)   Median Time (ms)   Time %
#       prob       91.72           0.0186             0.0170      1.7
ROW_NAME_LAST = re.compile(rf"^\s*({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+(\S.*?)\s*$")
ROW_NAME_FIRST = {
    3: re.compile(rf"^\s*(\S.*?)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$"),  # no median (7.x)
    4: re.compile(rf"^\s*(\S.*?)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s*$"),
}
METRICS = {
    "Latency": "latency",
    "Enqueue Time": "enqueue",
    "H2D Latency": "h2d",
    "GPU Compute Time": "gpu_compute",
    "D2H Latency": "d2h",
}
STATISTIC = re.compile(rf"(min|max|mean|median|percentile\(({NUMBER})%\)) = ({NUMBER}|inf|nan) ms")


def _read_json(path: str | Path) -> Any:
    """A trtexec JSON file."""
    text = Path(path).read_text(encoding="utf-8")
    # trtexec writes names unescaped, and TensorRT >= 8.6 puts raw \x1e / \x1f separators into
    # them: strict JSON rejects those control characters.
    return json.loads(text, strict=False)


def _lines(text: str) -> list[str]:
    """Log lines without the logger's ``[date-time] [I] `` prefix."""
    # split("\n"), not splitlines(): splitlines() also splits at \x1e, which names may contain.
    return [LOG_PREFIX.sub("", line.rstrip("\r")) for line in text.split("\n")]


def precision_of(format_string: str) -> str | None:
    """The precision named in a ``Format/Datatype`` string (None when it names none)."""
    for word in re.findall(r"[A-Za-z0-9]+", format_string):
        if word in DATATYPE_WORDS:
            return DATATYPE_WORDS[word]
    return None


def parse_profile(path: str | Path) -> list[LayerTime]:
    """Per-layer times from an ``--exportProfile`` JSON file, in execution order."""
    profile = []
    for record in _read_json(path):
        if "name" not in record:
            continue  # {"count": N}: how many iterations were profiled, not a layer
        profile.append(
            LayerTime(
                name=record["name"],
                total_ms=float(record["timeMs"]),
                average_ms=float(record["averageMs"]),
                # TensorRT 7 (and early 8.x) exports have no "medianMs": unknown, not 0 and not the average.
                median_ms=float(record["medianMs"]) if "medianMs" in record else None,
                percent=float(record["percentage"]),
            )
        )
    return profile


def _table_layout(header: str) -> int | None:
    """How to read the rows under a table header: 0 for numbers first (8.6+), else the number of
    number columns after the name (<= 8.5: 4, or 3 without a median); None if ``header`` is no header."""
    words = header.split()
    if words and words[-1] == "Layer":
        return 0
    if words and words[0] == "Layer":
        return 4 if "Median" in header else 3
    return None


def _profile_row(line: str, layout: int) -> LayerTime | None:
    """One table row as a LayerTime, or None if ``line`` is not a row of this layout."""
    if layout == 0:
        match = ROW_NAME_LAST.match(line)
        if not match:
            return None
        total, average, median, percent, name = match.groups()
        return LayerTime(name, float(total), float(average), float(median), float(percent))
    match = ROW_NAME_FIRST[layout].match(line)
    if not match:
        return None
    name, *numbers = match.groups()
    median = float(numbers[2]) if layout == 4 else None
    return LayerTime(name, float(numbers[0]), float(numbers[1]), median, float(numbers[-1]))


def parse_profile_log(text: str) -> list[LayerTime]:
    """Per-layer times from the last ``--dumpProfile`` table in trtexec's stdout (Total row excluded).

    Reads both layouts (see ROW_NAME_LAST / ROW_NAME_FIRST). A table cut short (no Total row, as in
    an excerpt pasted into an issue) still gives the rows it has.
    """
    rows: list[LayerTime] = []
    layout = None  # None: not inside a table (or its header is still to come)
    in_table = False
    for line in _lines(text):
        if line.startswith("=== Profile ("):
            rows, layout, in_table = [], None, True  # a new table: keep only the last one
            continue
        if not in_table:
            continue
        if layout is None:
            layout = _table_layout(line)
            in_table = layout is not None or not line.strip()  # the header follows the "=== Profile" line
            continue
        entry = _profile_row(line, layout)
        if entry is None:
            in_table = not line.strip()  # anything else ends the table
        elif entry.name == "Total":
            in_table = False  # the Total row sums the table and closes it
        else:
            rows.append(entry)
    return rows


def _first_precision(tensors: list[dict[str, Any]]) -> str | None:
    """Precision of the first tensor of a layer's Inputs or Outputs."""
    return precision_of(tensors[0]["Format/Datatype"]) if tensors else None


def parse_layer_info(path: str | Path) -> list[LayerInfo]:
    """Layers of an ``--exportLayerInfo`` JSON file (TensorRT 10 "Bindings" or TensorRT 11 "I/O Tensors")."""
    data = _read_json(path)
    if not isinstance(data, dict) or "Layers" not in data:
        raise ValueError(f"{path} is not an --exportLayerInfo file (no 'Layers')")
    if "Bindings" not in data and "I/O Tensors" not in data:
        raise ValueError(f"{path} has neither 'Bindings' (TensorRT 10) nor 'I/O Tensors' (TensorRT 11)")
    layers = []
    for layer in data["Layers"]:
        if isinstance(layer, str):
            raise ValueError(
                f"{path} holds layer names only: the engine was built without --profilingVerbosity=detailed. "
                "Rebuild it with trtexec ... --profilingVerbosity=detailed, then export the layer info again."
            )
        layers.append(
            LayerInfo(
                name=layer["Name"],
                layer_type=layer["LayerType"],
                input_precision=_first_precision(layer.get("Inputs", [])),
                output_precision=_first_precision(layer.get("Outputs", [])),
            )
        )
    return layers


# TensorRT 7.1 (JetPack 4.4-4.6) prints each statistic on a line of its own under a heading:
#   GPU Compute / min: 3.60278 ms / max: ... / mean: 3.68068 ms / median: ... / percentile: 3.87695 ms at 99%
TRT7_HEADINGS = {"Host Latency": "latency", "Enqueue Time": "enqueue", "GPU Compute": "gpu_compute"}
TRT7_STATISTIC = re.compile(rf"^(min|max|mean|median): ({NUMBER}) ms")
TRT7_PERCENTILE = re.compile(rf"^percentile: ({NUMBER}) ms at ({NUMBER})%")


def parse_perf_summary(text: str) -> dict:
    """Throughput (qps) and latency statistics (ms) from trtexec's ``=== Performance summary ===``.

    ``--verbose`` runs print "=== Explanations of the performance metrics ===" after the summary,
    with lines such as "Throughput: the observed throughput ..." that hold no numbers: the summary
    ends there. A line naming a metric without any statistic is not data and is skipped.
    """
    summary: dict[str, Any] = {}
    trt7_section: dict[str, float] | None = None
    for line in _lines(text):
        line = line.strip()
        if line.startswith("=== Explanations of the performance metrics"):
            break
        label, _, rest = line.partition(": ")
        if label == "Throughput":
            match = re.match(rf"({NUMBER}) qps", rest)
            if match:
                summary["throughput_qps"] = float(match.group(1))
        elif label in METRICS:
            stats = {}
            for match in STATISTIC.finditer(rest):
                statistic, percentile, value = match.groups()
                key = f"p{percentile}" if percentile else statistic
                stats[key] = float(value)
            if stats:
                summary[METRICS[label]] = stats
        elif line in TRT7_HEADINGS:
            trt7_section = summary.setdefault(TRT7_HEADINGS[line], {})
        elif trt7_section is not None and (match := TRT7_STATISTIC.match(line)):
            trt7_section[match.group(1)] = float(match.group(2))
        elif trt7_section is not None and (match := TRT7_PERCENTILE.match(line)):
            trt7_section[f"p{match.group(2)}"] = float(match.group(1))
        elif line.startswith("throughput: "):  # TensorRT 7.1
            match = re.match(rf"throughput: ({NUMBER}) qps", line)
            if match:
                summary["throughput_qps"] = float(match.group(1))
    return summary


def summarize(profile: list[LayerTime], layers: list[LayerInfo], top_k: int = 5) -> dict:
    """Where the time goes: total, slowest layers, time per layer type, precisions, reformat share."""
    layer_type = {layer.name: layer.layer_type for layer in layers}
    total_ms = sum(entry.average_ms for entry in profile)
    slowest = sorted(profile, key=lambda entry: entry.average_ms, reverse=True)[:top_k]
    time_by_type: dict[str, float] = defaultdict(float)
    for entry in profile:
        time_by_type[layer_type.get(entry.name, "Unknown")] += entry.average_ms
    precision_counts = Counter(layer.input_precision for layer in layers if layer.input_precision is not None)
    reformat_ms = time_by_type.get("Reformat", 0.0)
    return {
        "total_ms": total_ms,
        "top_layers": [(entry.name, entry.average_ms) for entry in slowest],
        "time_by_type": dict(time_by_type),
        "precision_counts": dict(precision_counts),
        "reformat_percent": 100.0 * reformat_ms / total_ms if total_ms > 0 else 0.0,
    }


PRECISION_COLORS = {"FP32": "tab:blue", "FP16": "tab:green", "BF16": "tab:cyan", "INT8": "tab:red", "FP8": "tab:purple"}


def plot_profile(profile: list[LayerTime], layers: list[LayerInfo], out_png: str | Path) -> None:
    """One PNG: per-layer latency coloured by input precision (left), time per layer type (right)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on the Jetson over ssh, nor in CI
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    precision = {layer.name: layer.input_precision or "?" for layer in layers}
    shown = [entry for entry in profile if entry.average_ms > 0] or list(profile)
    labels = [entry.name.replace("\x1e", "+").replace("\x1f", "+")[:45] for entry in shown]
    colors = [PRECISION_COLORS.get(precision.get(entry.name, "?"), "tab:gray") for entry in shown]
    by_type = summarize(profile, layers)["time_by_type"]

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, max(4.0, 0.3 * len(shown) + 1.5)), width_ratios=[3, 2])
    left.barh(range(len(shown)), [entry.average_ms for entry in shown], color=colors)
    left.set_yticks(range(len(shown)), labels, fontsize=7)
    left.invert_yaxis()  # execution order, top to bottom
    left.set_xlabel("average ms per inference")
    left.set_title("Per-layer latency")
    seen = sorted({precision.get(entry.name, "?") for entry in shown})
    left.legend(handles=[Patch(color=PRECISION_COLORS.get(p, "tab:gray"), label=p) for p in seen], title="precision")
    right.barh(list(by_type), list(by_type.values()), color="tab:orange")
    right.set_xlabel("average ms per inference")
    right.set_title("Time per layer type")
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)


def layer_memory(path: str | Path) -> dict[str, int]:
    """Bytes of each layer's outputs in a detailed ``--exportLayerInfo`` file, vector padding included."""
    import math

    element_bytes = {
        "FP32": 4, "Float": 4, "Int32": 4, "INT32": 4, "Int64": 8, "INT64": 8,
        "FP16": 2, "Half": 2, "BF16": 2, "BFloat16": 2,
        "Int8": 1, "INT8": 1, "UInt8": 1, "FP8": 1, "BOOL": 1, "Bool": 1,
    }  # fmt: skip
    vector_words = {"two": 2, "four": 4, "eight": 8, "sixteen": 16, "thirty-two": 32}
    data = json.loads(Path(path).read_text(encoding="utf-8"), strict=False)
    memory: dict[str, int] = {}
    for layer in data["Layers"]:
        if not isinstance(layer, dict):  # a names-only file
            raise ValueError("this layer file lists names only: rebuild with --profilingVerbosity=detailed")
        total: int | None = 0
        for tensor in layer.get("Outputs") or []:
            fmt = tensor.get("Format/Datatype", "")
            dims = list(tensor.get("Dimensions") or [])
            size = next((element_bytes[w] for w in re.findall(r"[A-Za-z0-9]+", fmt) if w in element_bytes), None)
            if total is None or size is None or any(d < 0 for d in dims):
                total = None  # a dynamic (-1) dimension or an unknown type: the size is unknown
                continue
            # Vectorized formats store the channel (third-to-last dimension) rounded up to the vector width.
            wide = re.search(r"(\w+(?:-\w+)?) wide channel vectorized", fmt)
            modulo = re.search(r"channel % (\d+) == 0", fmt)
            width = vector_words.get(wide.group(1).lower(), 1) if wide else int(modulo.group(1)) if modulo else 1
            if width > 1 and len(dims) >= 3:
                channel = len(dims) - 3
                dims[channel] = math.ceil(dims[channel] / width) * width
            total += math.prod(dims) * size
        if total is not None:
            memory[layer["Name"]] = total
    return memory
