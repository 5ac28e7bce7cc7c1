"""Summaries of a parsed profile: where the time goes, per layer, per layer type, per precision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from grader.practices.practice5.profile.parse import LayerInfo, LayerTime, display_name

UNKNOWN_TYPE = "Unknown"
REFORMAT_TYPE = "Reformat"


def summarize(profile: Sequence[LayerTime], layers: Sequence[LayerInfo], top_k: int = 5) -> dict[str, Any]:
    """Practice 5's summary: total, slowest layers, time per type, precision counts, reformat share.

    Times are per inference (``average_ms``); layers are joined to the profile by name, and a
    profiled layer without layer information counts under ``"Unknown"``.
    """
    types = {layer.name: layer.layer_type for layer in layers}
    total = sum(entry.average_ms for entry in profile)
    ranked = sorted(profile, key=lambda entry: entry.average_ms, reverse=True)  # stable: file order on ties
    by_type: dict[str, float] = {}
    for entry in profile:
        kind = types.get(entry.name, UNKNOWN_TYPE)
        by_type[kind] = by_type.get(kind, 0.0) + entry.average_ms
    reformat = by_type.get(REFORMAT_TYPE, 0.0)
    return {
        "total_ms": total,
        "top_layers": [(entry.name, entry.average_ms) for entry in ranked[: max(top_k, 0)]],
        "time_by_type": by_type,
        "precision_counts": dict(Counter(x.input_precision for x in layers if x.input_precision is not None)),
        "reformat_percent": 100.0 * reformat / total if total > 0 else 0.0,
    }


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """A plain text table with aligned columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right, strict=False)]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def report(
    profile: Sequence[LayerTime],
    layers: Sequence[LayerInfo],
    *,
    top_k: int = 10,
    perf: dict[str, Any] | None = None,
    title: str = "",
) -> str:
    """The text ``python -m grader profile`` prints: summary, slowest layers, types, precisions."""
    summary = summarize(profile, layers, top_k)
    out: list[str] = []
    if title:
        out += [title, "=" * min(len(title), 100)]
    out += _overview(profile, layers, summary, perf)
    out += _slowest(layers, summary)
    if layers:
        out += _per_type(profile, layers, summary)
        out += _per_precision(layers, summary)
    return "\n".join(out)


def _overview(
    profile: Sequence[LayerTime], layers: Sequence[LayerInfo], summary: dict[str, Any], perf: dict[str, Any] | None
) -> list[str]:
    """Layer count and total, trtexec's own timings when given, the reformat share when layers are known."""
    total = summary["total_ms"]
    zero = sum(1 for entry in profile if entry.average_ms == 0)
    out = [
        f"{len(profile)} profiled layers ({zero} with zero time), "
        f"sum of per-layer averages = {total:.4f} ms per inference"
    ]
    if perf:
        gpu = perf.get("gpu_compute", {})
        latency = perf.get("latency", {})
        out.append(
            f"trtexec: throughput {perf.get('throughput_qps', float('nan')):.2f} qps, "
            f"GPU compute mean {gpu.get('mean', float('nan')):.4f} ms, latency mean {latency.get('mean', float('nan')):.4f} ms"
        )
        if gpu.get("mean"):
            out.append(
                f"  per-layer sum / GPU compute mean = {total / gpu['mean']:.2f} "
                "(per-layer profiling adds a little time to every layer)"
            )
    if layers:
        out.append(f"Reformat layers: {summary['reformat_percent']:.1f} % of the time")
    return out


def _slowest(layers: Sequence[LayerInfo], summary: dict[str, Any]) -> list[str]:
    """The slowest layers with their share, type and input precision."""
    total = summary["total_ms"]
    info = {layer.name: layer for layer in layers}
    rows = []
    for rank, (name, average) in enumerate(summary["top_layers"], 1):
        layer = info.get(name)
        share = 100.0 * average / total if total else 0.0
        rows.append(
            [
                str(rank),
                f"{average:.4f}",
                f"{share:.1f}",
                layer.layer_type if layer else "-",
                (layer.input_precision or "-") if layer else "-",
                display_name(name, 70),
            ]
        )
    header = ["", f"Slowest {len(summary['top_layers'])} layers:"]
    return header + _rows(["#", "avg ms", "%", "type", "in", "layer"], rows, [True, True, True, False, False, False])


def _per_type(profile: Sequence[LayerTime], layers: Sequence[LayerInfo], summary: dict[str, Any]) -> list[str]:
    """Time and layer count per layer type, most time first."""
    total = summary["total_ms"]
    info = {layer.name: layer for layer in layers}
    by_type = sorted(summary["time_by_type"].items(), key=lambda item: item[1], reverse=True)
    counts = Counter(info[e.name].layer_type if e.name in info else UNKNOWN_TYPE for e in profile)
    type_rows = [
        [kind, str(counts[kind]), f"{ms:.4f}", f"{100.0 * ms / total if total else 0.0:.1f}"] for kind, ms in by_type
    ]
    return ["", "Time per layer type:", *_rows(["type", "layers", "avg ms", "%"], type_rows, [False, True, True, True])]


def _per_precision(layers: Sequence[LayerInfo], summary: dict[str, Any]) -> list[str]:
    """Layers per input precision, most first; layers without an input last."""
    precisions = sorted(summary["precision_counts"].items(), key=lambda item: item[1], reverse=True)
    no_input = sum(1 for layer in layers if layer.input_precision is None)
    precision_rows = [[p, str(n)] for p, n in precisions] + ([["(no input)", str(no_input)]] if no_input else [])
    return ["", "Layers per input precision:", *_rows(["precision", "layers"], precision_rows, [False, True])]
