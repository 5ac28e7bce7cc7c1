"""``python -m grader inspect FILE [FILE ...] [--json]``: what a TensorRT/trtexec file holds, read by content.

Each FILE is recognised by what it contains, never by its name:

* an ``--exportProfile`` JSON (per-layer times),
* an ``--exportLayerInfo`` JSON (layers, precisions, tensor sizes when detailed),
* a trtexec stdout log (``--dumpProfile`` tables, the performance summary, DLA placement, device memory),
* an INT8 calibration cache (``TRT-<version>-<Algorithm>`` then one scale per tensor).

It prints what each holds for a person, or with ``--json`` one object per FILE, in order. What a file
does not say stays ``null`` with a warning: never 0. Exit status 0 when every file was read, 2 otherwise,
with one line per unreadable file on stderr. The readers are the grader's own, the same that
``python -m grader profile`` and the Practice 2, 3 and 5 suites use.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.practices.practice2 import calibration_cache
from grader.practices.practice3.dla import orin_log
from grader.practices.practice5.profile import memory, parse

KINDS = ("profile", "layer_info", "log", "calibration_cache", "unknown")
PROG = "python -m grader inspect"


@dataclass
class Inspection:
    """What one file holds, in the shape of one object of ``--json``."""

    path: str
    kind: str = "unknown"
    error: str | None = None
    profile: dict[str, Any] | None = None
    layer_info: dict[str, Any] | None = None
    perf_summary: dict[str, Any] | None = None
    dla: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object (keys in the documented order)."""
        return asdict(self)


def kind_of(path: Path) -> str:
    """``profile`` | ``layer_info`` | ``log`` | ``calibration_cache`` | ``unknown``, from the content."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return "unknown"
    if b"\x00" in head:
        return "unknown"  # binary: a serialized engine or timing cache, not a text TensorRT writes for people
    if calibration_cache.looks_like_cache(head.decode("utf-8", errors="replace")):
        return "calibration_cache"
    kind = parse.sniff(path)
    if kind == "unknown" and orin_log.parse(path.read_text(encoding="utf-8", errors="replace")).found:
        return "log"  # an application's log of a DLA build, without trtexec's or the logger's markers
    return kind


def _profile_json(path: Path, found: Inspection) -> None:
    """An ``--exportProfile`` file: layers, profiled iterations, the sum of per-inference averages."""
    profile = parse.read_profile(path)
    layers = profile.layers
    found.profile = {
        "layers": len(layers),
        "count": profile.count,
        "total_ms": sum(layer.average_ms for layer in layers) if layers else None,
    }
    if profile.count is None:
        found.warnings.append('no {"count": N} record: how many iterations were profiled is unknown')
    if not layers:
        found.warnings.append("the profile holds no layer records")
    if any(layer.median_ms is None for layer in layers):
        found.warnings.append("no medianMs in this export (TensorRT 7 and early 8.x write none): medians are unknown")


def _layer_json(path: Path, found: Inspection) -> None:
    """An ``--exportLayerInfo`` file: layers, detailed or not, precisions, tensor bytes."""
    raw = parse.load_json(path)
    count = len(raw["Layers"]) if isinstance(raw, dict) and isinstance(raw.get("Layers"), list) else 0
    try:
        layers = parse.read_layer_file(path).layers
    except parse.NotDetailedError:
        found.layer_info = {"layers": count, "detailed": False, "precisions": {}, "tensor_bytes": None}
        found.warnings.append(
            "layer names only (built without --profilingVerbosity=detailed): no types, precisions or tensor sizes"
        )
        return
    precisions = Counter(layer.input_precision for layer in layers if layer.input_precision)
    tensors = memory.read_tensor_memory(path)
    found.layer_info = {
        "layers": len(layers),
        "detailed": True,
        "precisions": dict(sorted(precisions.items())),
        "tensor_bytes": tensors.total_bytes,
    }
    found.warnings.extend(tensors.warnings)


def _log_profile(text: str, found: Inspection) -> None:
    """The last ``--dumpProfile`` table of a log (rows without Total), flagged when cut short."""
    tables = [table for table in parse.read_profile_log(text) if table.rows or table.total is not None]
    if not tables:
        return
    table = tables[-1]
    found.profile = {
        "layers": len(table.rows),
        "count": table.iterations,
        "total_ms": table.total.average_ms if table.total is not None else None,
    }
    if table.total is None:
        found.warnings.append(
            f"the --dumpProfile table stops after {len(table.rows)} rows without its Total row: "
            "the log was cut short, so the total is unknown"
        )
    if len(tables) > 1:
        found.warnings.append(f"{len(tables)} --dumpProfile tables: the last one is described")


def _log_summary(text: str, found: Inspection) -> None:
    """Throughput, mean latency and mean GPU compute time of the performance summary."""
    try:
        summary = parse.read_perf_summary(text)
    except parse.ProfileFormatError:
        if parse.NO_E2E_TIMING in text:
            found.warnings.append(
                "no performance summary: trtexec profiled without --separateProfileRun, so it did not time "
                "the whole network (add --separateProfileRun to get both)"
            )
        return
    found.perf_summary = {
        "throughput_qps": summary.get("throughput_qps"),
        "latency_mean_ms": (summary.get("latency") or {}).get("mean"),
        "gpu_compute_mean_ms": (summary.get("gpu_compute") or {}).get("mean"),
    }
    unknown = [key for key, value in found.perf_summary.items() if value is None]
    if unknown:
        found.warnings.append(f"the performance summary does not state {', '.join(unknown)}: unknown")


def _log(path: Path, found: Inspection) -> None:
    """A trtexec stdout log: its profile table, performance summary, DLA placement, device memory."""
    text = path.read_text(encoding="utf-8", errors="replace")
    _log_profile(text, found)
    _log_summary(text, found)
    dla = orin_log.parse(text)
    if dla.found:
        found.dla = {"dla_subgraphs": dla.dla_subgraphs, "gpu_layers": dla.gpu_layer_count}
    found.warnings.extend(dla.warnings)
    device_memory = memory.device_memory_bytes(text)
    # Like dla: null when the log does not state the engine's device memory (most runs' logs don't).
    found.memory = {"device_memory_bytes": device_memory} if device_memory is not None else None
    if not (found.profile or found.perf_summary or found.dla or found.memory):
        found.warnings.append(
            "a TensorRT log, but it holds no --dumpProfile table, performance summary, DLA placement "
            "or device memory size"
        )


def _calibration(path: Path, found: Inspection) -> None:
    """An INT8 calibration cache: header, tensors, zero and non-finite scales."""
    cache = calibration_cache.read(path)
    found.calibration = {
        "trt_version": cache.trt_version,  # as the header writes it: 8501 is 8.5.1, 100300 is 10.3.0
        "algorithm": cache.algorithm,
        "tensors": len(cache.scales),
        "zero_scales": len(cache.zero_scales),
        "nonfinite_scales": len(cache.nonfinite_scales),
    }
    found.warnings.extend(cache.warnings)


READERS = {"profile": _profile_json, "layer_info": _layer_json, "log": _log, "calibration_cache": _calibration}
READ_ERRORS = (parse.ProfileFormatError, calibration_cache.CacheFormatError, OSError, UnicodeDecodeError)


def inspect_file(path: str | Path) -> Inspection:
    """Recognise one file by its content and read what it holds."""
    path = Path(path)
    found = Inspection(str(path))
    if not path.is_file():
        found.error = "no such file" if not path.exists() else "not a file"
        return found
    found.kind = kind_of(path)
    if found.kind == "unknown":
        found.error = (
            "not a file this lab reads: expected a trtexec --exportProfile or --exportLayerInfo JSON, a trtexec "
            "log, or a TensorRT calibration cache (recognised by content, not by name)"
        )
        return found
    try:
        READERS[found.kind](path, found)
    except READ_ERRORS as error:
        # The readers name the file for their other callers; here the path already leads every line.
        found.error = str(error).removeprefix(f"{path.name}: ")
    return found


TITLES = {
    "profile": "trtexec --exportProfile JSON",
    "layer_info": "trtexec --exportLayerInfo JSON",
    "log": "trtexec log",
    "calibration_cache": "TensorRT INT8 calibration cache",
}


def _known(value: Any, unit: str = "", digits: int = 4) -> str:
    """A value for a person; ``unknown`` for None."""
    if value is None:
        return "unknown"
    return f"{value:.{digits}g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _bytes(value: int | None) -> str:
    """``119,148,216 bytes (113.6 MiB)``; ``unknown`` for None."""
    return "unknown" if value is None else f"{value:,} bytes ({value / 2**20:.1f} MiB)"


def _profile_lines(profile: dict[str, Any]) -> list[str]:
    """The profile part of the description."""
    return [
        f"profile: {profile['layers']} layers, {_known(profile['count'])} profiled iterations, "
        f"{_known(profile['total_ms'], ' ms')} per inference in all"
    ]


def _layer_lines(info: dict[str, Any]) -> list[str]:
    """The layer-information part of the description."""
    if not info["detailed"]:
        return [f"layer info: {info['layers']} layer names (not detailed)"]
    precisions = ", ".join(f"{name} {count}" for name, count in info["precisions"].items()) or "none stated"
    return [
        f"layer info: {info['layers']} layers (detailed); first-input precisions: {precisions}",
        f"tensors: {_bytes(info['tensor_bytes'])}, every distinct tensor of the engine counted once",
    ]


def _other_lines(found: Inspection) -> list[str]:
    """Summary, DLA, memory and calibration parts of the description."""
    lines = []
    if found.perf_summary:
        s = found.perf_summary
        lines.append(
            f"performance: {_known(s['throughput_qps'], ' qps', 6)}, mean latency "
            f"{_known(s['latency_mean_ms'], ' ms')}, mean GPU compute {_known(s['gpu_compute_mean_ms'], ' ms')}"
        )
    if found.dla:
        lines.append(f"DLA: {_known(found.dla['dla_subgraphs'])} DLA subgraphs, {_known(found.dla['gpu_layers'])} GPU layers")
    if found.memory:
        lines.append(f"device memory: {_bytes(found.memory['device_memory_bytes'])}")
    if found.calibration:
        c = found.calibration
        lines.append(
            f"calibration: {_known(c['algorithm'])} by TensorRT "
            f"{calibration_cache.release_of(c['trt_version']) if c['trt_version'] is not None else 'unknown'}, "
            f"{c['tensors']} tensors, "
            f"{c['zero_scales']} zero scales, {c['nonfinite_scales']} non-finite scales"
        )
    return lines


def describe(found: Inspection) -> str:
    """What one file holds, for a person."""
    if found.error:
        return f"{found.path}: {found.error}"
    lines = [f"{found.path}: {TITLES[found.kind]}"]
    if found.profile:
        lines += _profile_lines(found.profile)
    if found.layer_info:
        lines += _layer_lines(found.layer_info)
    lines += _other_lines(found)
    lines += [f"warning: {warning}" for warning in found.warnings]
    return "\n  ".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``inspect`` subcommand's arguments."""
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="any file trtexec or TensorRT wrote")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one object per FILE, in order")


def run(args: argparse.Namespace) -> int:
    """Inspect every FILE; 0 when all were read, 2 otherwise."""
    found = [inspect_file(path) for path in args.files]
    if args.json:
        print(json.dumps([item.to_json() for item in found], indent=2, ensure_ascii=False))
    else:
        read = [describe(item) for item in found if not item.error]
        if read:
            print("\n\n".join(read))
    sys.stdout.flush()  # what was read comes before the errors on a terminal that shows both
    for item in found:
        if item.error:
            print(f"{PROG}: {item.path}: {item.error}", file=sys.stderr)
    return 2 if any(item.error for item in found) else 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m grader.commands.inspect``)."""
    parser = argparse.ArgumentParser(prog=PROG, description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
