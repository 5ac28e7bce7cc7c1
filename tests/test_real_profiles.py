"""Practice 5 readers on real trtexec files (real_files/profiles and real_files/logs).

Every file there was written by someone else's TensorRT (7.1.3 to 10.16, Jetson and desktop); the
manifests say where each comes from and hold the values a person read off the file (``expect``, the
subset of ``grader inspect --json``, and ``spot``: layer names and times, statistics). Both the
reference solution (solutions/practice5/profile_parser.py) and the grader's readers
(grader.practices.practice5.profile.parse) must give those values on every file; nothing here is marked xfail.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from grader.practices.practice5.profile import parse

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "real_files"
FOLDERS = ("profiles", "logs")
# spot keys of a statistics block -> the key both readers use in their summary dict
METRIC_KEYS = {"latency": "latency", "gpu_compute": "gpu_compute", "enqueue": "enqueue", "h2d": "h2d", "d2h": "d2h"}


def _reference():
    """The reference solution, imported by path as the Practice 5 tests do."""
    path = REPO / "solutions" / "practice5" / "profile_parser.py"
    spec = importlib.util.spec_from_file_location("real_corpus_reference_profile_parser", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


REF = _reference()


def _entries() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for folder in FOLDERS:
        for entry in json.loads((CORPUS / folder / "manifest.json").read_text(encoding="utf-8")):
            found.append((CORPUS / folder / entry["file"], entry))
    return found


ENTRIES = _entries()


def _of_kind(*kinds: str) -> list[Any]:
    return [
        pytest.param(path, entry, id=f"{path.parent.name}/{path.name}")
        for path, entry in ENTRIES
        if entry["expect"]["kind"] in kinds
    ]


def close(got: Any, want: float) -> bool:
    return isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


def check_layer(got: Any, want: dict[str, Any], where: str) -> None:
    """A LayerTime (reference or grader) against a spot layer: name, times, median (None = no median)."""
    if "name" in want:
        assert got.name == want["name"], f"{where}: name {got.name!r}"
    if "name_endswith" in want:
        assert got.name.endswith(want["name_endswith"]), f"{where}: name {got.name!r}"
    for key in ("total_ms", "average_ms", "percent"):
        if key in want:
            assert close(getattr(got, key), want[key]), (
                f"{where}: {key} {getattr(got, key)!r}, the file says {want[key]}"
            )
    if "median_ms" in want:
        if want["median_ms"] is None:
            assert got.median_ms is None, f"{where}: the file has no median, the reader says {got.median_ms!r}"
        else:
            assert close(got.median_ms, want["median_ms"]), f"{where}: median_ms {got.median_ms!r}"


def check_layers(layers: list[Any], spot: dict[str, Any], who: str) -> None:
    if "first_layer" in spot:
        check_layer(layers[0], spot["first_layer"], f"{who} first layer")
    if "last_layer" in spot:
        check_layer(layers[-1], spot["last_layer"], f"{who} last layer")
    if "slowest_layer" in spot:
        check_layer(max(layers, key=lambda layer: layer.average_ms), spot["slowest_layer"], f"{who} slowest layer")
    if "zero_time_layers" in spot:
        assert sum(1 for layer in layers if layer.average_ms == 0) == spot["zero_time_layers"]


def test_the_manifests_cover_the_practice5_kinds_and_versions() -> None:
    """Every file is listed, with provenance; profile JSON, layer info (both kinds) and logs of 7.x-10.x."""
    for folder in FOLDERS:
        listed = {entry["file"] for path, entry in ENTRIES if path.parent.name == folder}
        present = {p.name for p in (CORPUS / folder).iterdir() if p.name != "manifest.json"}
        assert listed == present, f"{folder}: unlisted {present - listed}, missing {listed - present}"
    for path, entry in ENTRIES:
        for key in ("source", "tensorrt", "tensorrt_evidence", "device", "licence", "excerpt", "expect", "spot"):
            assert key in entry, f"{path.name}: no {key!r}"
    kinds = Counter(entry["expect"]["kind"] for _, entry in ENTRIES)
    assert kinds["profile"] >= 3 and kinds["layer_info"] >= 2 and kinds["log"] >= 6, kinds
    majors = {entry["tensorrt"][0] for _, entry in ENTRIES if entry["tensorrt"][0].isdigit()}
    assert {"7", "8"} <= majors and any(entry["tensorrt"].startswith("10") for _, entry in ENTRIES)


# ---------------------------------------------------------------- --exportProfile JSON


@pytest.mark.parametrize(("path", "entry"), _of_kind("profile"))
def test_reference_parse_profile(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"]["profile"]
    layers = REF.parse_profile(path)
    assert len(layers) == want["layers"]
    assert close(sum(layer.average_ms for layer in layers), want["total_ms"])
    check_layers(layers, entry["spot"], "reference")


@pytest.mark.parametrize(("path", "entry"), _of_kind("profile"))
def test_grader_read_profile(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"]["profile"]
    profile = parse.read_profile(path)
    assert profile.count == want["count"]
    assert len(profile.layers) == want["layers"]
    assert close(sum(layer.average_ms for layer in profile.layers), want["total_ms"])
    check_layers(profile.layers, entry["spot"], "grader")


# ---------------------------------------------------------------- --exportLayerInfo JSON


@pytest.mark.parametrize(("path", "entry"), _of_kind("layer_info"))
def test_reference_parse_layer_info(path: Path, entry: dict[str, Any]) -> None:
    want, spot = entry["expect"]["layer_info"], entry["spot"]
    if not want["detailed"]:
        # The raw file: a list of names, which the reference refuses with the way to fix it.
        names = json.loads(path.read_text(encoding="utf-8"), strict=False)["Layers"]
        assert len(names) == want["layers"] and all(isinstance(name, str) for name in names)
        with pytest.raises(ValueError, match="profilingVerbosity=detailed"):
            REF.parse_layer_info(path)
        return
    layers = REF.parse_layer_info(path)
    assert len(layers) == want["layers"]
    if "precisions" in want:
        counts = Counter(layer.input_precision for layer in layers if layer.input_precision is not None)
        assert dict(counts) == want["precisions"]
    for key, layer in (("first_layer", layers[0]), ("last_layer", layers[-1])):
        for field, value in spot.get(key, {}).items():
            assert getattr(layer, field) == value, f"{key}.{field}: {getattr(layer, field)!r}"


@pytest.mark.parametrize(("path", "entry"), _of_kind("layer_info"))
def test_grader_read_layer_file(path: Path, entry: dict[str, Any]) -> None:
    want, spot = entry["expect"]["layer_info"], entry["spot"]
    if not want["detailed"]:
        with pytest.raises(parse.NotDetailedError):
            parse.read_layer_file(path)
        return
    layer_file = parse.read_layer_file(path)
    assert len(layer_file.layers) == want["layers"]
    if "bindings" in spot:
        assert layer_file.bindings == spot["bindings"]
    if "precisions" in want:
        counts = Counter(layer.input_precision for layer in layer_file.layers if layer.input_precision is not None)
        assert dict(counts) == want["precisions"]
    for key, layer in (("first_layer", layer_file.layers[0]), ("last_layer", layer_file.layers[-1])):
        for field, value in spot.get(key, {}).items():
            assert getattr(layer, field) == value, f"{key}.{field}: {getattr(layer, field)!r}"


# ---------------------------------------------------------------- trtexec stdout


@pytest.mark.parametrize(("path", "entry"), _of_kind("log"))
def test_reference_parse_profile_log(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"].get("profile", "unchecked")
    if want == "unchecked":
        pytest.skip("the manifest does not say")
    rows = REF.parse_profile_log(path.read_text(encoding="utf-8"))
    if want is None:
        assert rows == [], "the log has no --dumpProfile table"
        return
    assert len(rows) == want["layers"]
    check_layers(rows, entry["spot"], "reference")


@pytest.mark.parametrize(("path", "entry"), _of_kind("log"))
def test_grader_read_profile_log(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"].get("profile", "unchecked")
    if want == "unchecked":
        pytest.skip("the manifest does not say")
    tables = parse.read_profile_log(path.read_text(encoding="utf-8"))
    if want is None:
        assert tables == [], "the log has no --dumpProfile table"
        return
    table = tables[-1]
    assert table.iterations == want["count"]
    assert len(table.rows) == want["layers"]
    if want["total_ms"] is None:
        assert table.total is None and table.cut_short
    else:
        assert table.total is not None and close(table.total.average_ms, want["total_ms"])
        if "total" in entry["spot"]:
            check_layer(table.total, entry["spot"]["total"], "grader Total row")
    check_layers(table.rows, entry["spot"], "grader")


def check_summary(summary: dict[str, Any], want: dict[str, Any], spot: dict[str, Any], who: str) -> None:
    """A summary dict (the two readers share its layout) against the manifest; None = not in the file."""
    expected = {
        "throughput_qps": want["throughput_qps"],
        "latency": want["latency_mean_ms"],
        "gpu_compute": want["gpu_compute_mean_ms"],
    }
    for key, value in expected.items():
        got = summary.get(key)
        if key != "throughput_qps":
            got = (got or {}).get("mean")
        if value is None:
            assert got is None, f"{who}: {key} is not in the file, the reader says {got!r}"
        else:
            assert close(got, value), f"{who}: {key} {got!r}, the file says {value}"
    for spot_key, key in METRIC_KEYS.items():
        for statistic, value in spot.get(spot_key, {}).items():
            got = summary.get(key, {}).get(statistic)
            assert close(got, value), f"{who}: {key}.{statistic} {got!r}, the file says {value}"


@pytest.mark.parametrize(("path", "entry"), _of_kind("log"))
def test_reference_parse_perf_summary(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"].get("perf_summary", "unchecked")
    if want == "unchecked":
        pytest.skip("the manifest does not say")
    summary = REF.parse_perf_summary(path.read_text(encoding="utf-8"))
    if want is None:
        assert not {"throughput_qps", "latency", "gpu_compute"} & set(summary), summary
        return
    check_summary(summary, want, entry["spot"], "reference")


@pytest.mark.parametrize(("path", "entry"), _of_kind("log"))
def test_grader_read_perf_summary(path: Path, entry: dict[str, Any]) -> None:
    want = entry["expect"].get("perf_summary", "unchecked")
    if want == "unchecked":
        pytest.skip("the manifest does not say")
    text = path.read_text(encoding="utf-8")
    if want is None:
        with pytest.raises(parse.ProfileFormatError):
            parse.read_perf_summary(text)
        return
    check_summary(parse.read_perf_summary(text), want, entry["spot"], "grader")
