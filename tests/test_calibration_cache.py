"""TensorRT calibration caches: the grader's parser and Practice 2's cache check."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from grader import calibration_cache
from tests.conftest import grade_outside_repo, make_submission, results_by_submission

SHARED_CACHE = (
    Path(__file__).resolve().parents[2] / "shared/reference/calibration-caches/trt8510_entropy2_mnistcnn.calib.cache"
)
SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice2" / "data_loader.py"


def _cache_text(input_amax: float, version: int = 100300) -> str:
    """A cache in TensorRT's format with the given input range and two inner tensors."""

    def bits(scale: float) -> str:
        return struct.pack(">f", scale).hex()

    return (
        f"TRT-{version}-EntropyCalibration2\n"
        f"input: {bits(input_amax / 127)}\n"
        f"/stem/conv/Conv_output_0: {bits(3.5 / 127)}\n"
        f"output: {bits(12.0 / 127)}\n"
    )


def test_parses_scales_as_big_endian_float_bits() -> None:
    """'3c010204' is 1/127, the scale of [0, 1] data; amax = scale x 127."""
    cache = calibration_cache.parse(_cache_text(1.0))
    assert cache.trt_version == 100300 and cache.algorithm == "EntropyCalibration2"
    assert calibration_cache.hex_to_float("3c010204") == pytest.approx(1 / 127, rel=1e-6)
    assert cache.amax("input") == pytest.approx(1.0, rel=1e-6)
    assert set(cache.scales) == {"input", "/stem/conv/Conv_output_0", "output"}


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "empty"), ("hello\nx: 3c010204\n", "first line"), ("TRT-100300-EntropyCalibration2\nx 3c01\n", "line 2")],
)
def test_rejects_what_is_not_a_cache(text: str, error: str) -> None:
    """Anything else is a clear format error."""
    with pytest.raises(calibration_cache.CacheFormatError, match=error):
        calibration_cache.parse(text)


@pytest.mark.skipif(not SHARED_CACHE.exists(), reason="../shared/reference is not present")
def test_real_tensorrt_cache() -> None:
    """A real TensorRT 8.5 cache parses; its input was calibrated on raw 0..255 pixels (amax 255)."""
    cache = calibration_cache.read(SHARED_CACHE)
    assert cache.trt_version == 8510 and cache.algorithm == "EntropyCalibration2"
    assert cache.scales["x"] == pytest.approx(2.008, abs=1e-3)
    assert cache.amax("x") == pytest.approx(255, rel=1e-3)
    assert len(cache.scales) == 22


def test_practice2_grades_a_handed_in_cache(tmp_path: Path) -> None:
    """A calib.cache next to the loader is graded: [0, 1] data pass, 0..255 data and garbage fail."""
    solution = SOLUTION.read_text(encoding="utf-8")
    for name, cache in {"good": _cache_text(1.0), "raw_pixels": _cache_text(255.0), "garbage": "not a cache"}.items():
        folder = make_submission(tmp_path, name, 2, {"data_loader.py": solution})
        (folder / "calib.cache").write_text(cache, encoding="utf-8")
    make_submission(tmp_path, "absent", 2, {"data_loader.py": solution})
    results = {
        name: tests["test_calibration_cache_scale"]
        for name, tests in results_by_submission(grade_outside_repo(tmp_path, "-k", "calibration_cache")).items()
    }
    assert results["good"]["status"] == "passed" and results["good"]["max_score"] == 2
    assert results["raw_pixels"]["status"] == "failed" and "0..255 pixels" in results["raw_pixels"]["output"]
    assert (
        results["garbage"]["status"] == "failed" and "not a TensorRT calibration cache" in results["garbage"]["output"]
    )
    assert "status" not in results["absent"] and results["absent"]["max_score"] == 0
