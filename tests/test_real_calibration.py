"""The calibration-cache reader and check() on real caches that TensorRT 7.2 to 10.14 wrote (real_files/calibration/).

Every expected value comes from the manifest, where it was read off the file with grep (counts) and with
struct on the file's own hex (spot scales), never from the reader under test.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from grader.practices.practice2 import calibration_cache
from grader.tools import models

FOLDER = Path(__file__).resolve().parents[1] / "real_files" / "calibration"
ENTRIES: list[dict[str, Any]] = json.loads((FOLDER / "manifest.json").read_text(encoding="utf-8"))
IDS = [entry["file"] for entry in ENTRIES]
BOARD = "10.3.0"  # the course's Jetson (JetPack 6.2)


def _cache(entry: dict[str, Any]) -> calibration_cache.CalibrationCache:
    """The reader's result for one corpus file."""
    return calibration_cache.read(FOLDER / entry["file"])


def test_the_corpus_spans_tensorrt_7_to_10() -> None:
    """At least 8 real caches, TensorRT 7, 8 and 10, every algorithm header seen, zero and infinite scales."""
    assert len(ENTRIES) >= 8
    assert {entry["tensorrt"].split(".")[0] for entry in ENTRIES} >= {"7", "8", "10"}
    assert {entry["expect"]["calibration"]["algorithm"] for entry in ENTRIES} >= {
        "EntropyCalibration2",
        "MinMaxCalibration",
    }
    assert any(entry["expect"]["calibration"]["zero_scales"] for entry in ENTRIES)
    assert any(entry["expect"]["calibration"]["nonfinite_scales"] for entry in ENTRIES)
    assert {path.name for path in FOLDER.glob("*.cache")} == set(IDS)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_reads_what_the_file_holds(entry: dict[str, Any]) -> None:
    """Header, tensor count, zero and non-finite scales are the ones counted off the file."""
    cache = _cache(entry)
    want = entry["expect"]["calibration"]
    assert cache.trt_version == want["trt_version"] and cache.algorithm == want["algorithm"]
    assert len(cache.scales) == want["tensors"]
    assert len(cache.zero_scales) == want["zero_scales"]
    assert len(cache.nonfinite_scales) == want["nonfinite_scales"]
    assert bool(cache.nonfinite_scales) == any("infinite" in warning for warning in cache.warnings)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_header_names_the_release(entry: dict[str, Any]) -> None:
    """TRT-8501 is 8.5.1 and TRT-100300 is 10.3.0: the two NV_TENSORRT_VERSION formats, both ways."""
    cache = _cache(entry)
    assert cache.release == entry["tensorrt"]
    assert calibration_cache.header_version(entry["tensorrt"]) == entry["expect"]["calibration"]["trt_version"]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_spot_scales(entry: dict[str, Any]) -> None:
    """The tensors the manifest names have the scale computed by hand from the file's hex."""
    cache = _cache(entry)
    for spot in entry["spot"]["tensors"]:
        scale = cache.scales[spot["name"]]
        assert struct.pack(">f", scale).hex() == spot["hex"].zfill(8)
        if spot["scale"] == "inf":
            assert math.isinf(scale) and spot["name"] in cache.nonfinite_scales
            with pytest.raises(ValueError, match="no usable range"):
                cache.amax(spot["name"])
        else:
            assert scale == pytest.approx(spot["scale"], rel=1e-6)
            assert (scale == 0.0) == (spot["name"] in cache.zero_scales)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_sniffed_by_content(entry: dict[str, Any]) -> None:
    """Every real cache is recognised by its header, whatever its file name (calib_cache.bin included)."""
    assert calibration_cache.looks_like_cache((FOLDER / entry["file"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "data 2.640000104904175\nresnetv24_batchnorm0_fwd 2.2047784328460693\n",  # ONNX Runtime's TensorRT EP cache
        '[{"count": 10}, {"name": "conv1", "timeMs": 1.0}]',
        "[12/02/2026-14:00:00] [I] === Profile (10 iterations ) ===\n",
        "",
    ],
)
def test_other_files_are_not_caches(text: str) -> None:
    """Files that are not TensorRT calibration caches are not taken for one."""
    assert not calibration_cache.looks_like_cache(text)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_windows_newlines_and_trailing_blank_lines(entry: dict[str, Any]) -> None:
    """The same cache saved with CRLF, a BOM and blank lines at the end reads the same."""
    text = (FOLDER / entry["file"]).read_text(encoding="utf-8")
    variant = calibration_cache.parse("\ufeff" + text.replace("\n", "\r\n") + "\r\n\r\n")
    original = _cache(entry)
    assert variant.trt_version == original.trt_version and variant.algorithm == original.algorithm
    assert [struct.pack(">f", s) for s in variant.scales.values()] == [
        struct.pack(">f", s) for s in original.scales.values()
    ]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_version_against_the_board(entry: dict[str, Any]) -> None:
    """A cache passes for the release that wrote it and is reported for any other, naming both."""
    cache = _cache(entry)
    assert not [p for p in calibration_cache.check(cache, trt_version=entry["tensorrt"]) if "release" in p]
    board = calibration_cache.check(cache, trt_version=BOARD)
    mismatch = [p for p in board if "written by TensorRT" in p]
    if entry["tensorrt"] == BOARD:
        assert not mismatch
    else:
        assert len(mismatch) == 1 and entry["tensorrt"] in mismatch[0] and BOARD in mismatch[0]
        assert "polygraphy convert" in mismatch[0]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_infinite_scales_are_a_problem(entry: dict[str, Any]) -> None:
    """check() reports infinite scales (a student must hear about them) and only where the file has them."""
    problems = calibration_cache.check(_cache(entry))
    assert bool(problems) == bool(entry["expect"]["calibration"]["nonfinite_scales"])
    if problems:
        assert "7f800000" in problems[0] and "finite" in problems[0]


@pytest.fixture(scope="module")
def lab_classifier() -> Path:
    """The lab classifier's ONNX file (exported by the grader, cached)."""
    return models.export_onnx(models.lab_classifier().name)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_another_models_cache_is_named_as_such(entry: dict[str, Any], lab_classifier: Path) -> None:
    """A real cache of another network, checked against the lab classifier, is reported as made for another
    model, and lacks the classifier's input: what a student who hands in the wrong file must hear."""
    problems = calibration_cache.check(_cache(entry), onnx_model=lab_classifier)
    assert any("made for another model" in p for p in problems)
    has_input = "\ninput: " in (FOLDER / entry["file"]).read_text(encoding="utf-8")  # the classifier's input name
    assert any("no scale for" in p and "'input'" in p for p in problems) != has_input
