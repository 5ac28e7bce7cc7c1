"""The two plots people look at first: per-layer latency by precision, and time per layer type."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from grader.practices.practice5.profile.parse import LayerInfo, LayerTime, display_name
from grader.practices.practice5.profile.table import summarize

MAX_BARS = 40  # more layers than this make unreadable labels: the slowest are shown
COLORS = {
    "FP32": "#1f77b4",
    "FP16": "#2ca02c",
    "BF16": "#17becf",
    "INT8": "#d62728",
    "FP8": "#9467bd",
    "INT32": "#8c564b",
    "BOOL": "#e377c2",
}
OTHER_COLOR = "#7f7f7f"


def plot(
    profile: Sequence[LayerTime],
    layers: Sequence[LayerInfo],
    out_png: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """Write one PNG: per-layer average latency coloured by input precision, and ms per layer type."""
    # The object API (no pyplot): no global figure state, no GUI backend, safe in tests.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    info = {layer.name: layer for layer in layers}
    shown = sorted(profile, key=lambda entry: entry.average_ms, reverse=True)[:MAX_BARS]
    order = {entry.name: index for index, entry in enumerate(profile)}
    shown.sort(key=lambda entry: order[entry.name])  # execution order reads like the network
    precisions = [info[e.name].input_precision if e.name in info else None for e in shown]
    colors = [COLORS.get(p or "", OTHER_COLOR) for p in precisions]
    by_type = sorted(summarize(profile, layers)["time_by_type"].items(), key=lambda item: item[1])

    height = max(4.0, 0.28 * max(len(shown), len(by_type)) + 1.5)
    figure = Figure(figsize=(15, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    per_layer, per_type = figure.subplots(1, 2, width_ratios=[3, 2])
    labels = [display_name(entry.name, 48) for entry in shown]
    positions = list(range(len(shown)))
    per_layer.barh(positions, [entry.average_ms for entry in shown], color=colors)
    per_layer.set_yticks(positions, labels, fontsize=7)
    per_layer.invert_yaxis()
    per_layer.set_xlabel("average ms per inference")
    extra = f" (slowest {len(shown)} of {len(profile)})" if len(shown) < len(profile) else ""
    per_layer.set_title("Per-layer latency" + extra)
    legend = [Patch(color=COLORS.get(p, OTHER_COLOR), label=p) for p in dict.fromkeys(x or "?" for x in precisions)]
    if legend:
        per_layer.legend(handles=legend, title="input precision", fontsize=8, loc="lower right")

    type_positions = list(range(len(by_type)))
    per_type.barh(type_positions, [ms for _, ms in by_type], color="#ff7f0e")
    per_type.set_yticks(type_positions, [kind for kind, _ in by_type], fontsize=8)
    per_type.set_xlabel("average ms per inference")
    per_type.set_title("Time per layer type")
    if title:
        figure.suptitle(title)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png")
    return out
