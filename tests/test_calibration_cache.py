"""TensorRT calibration caches: the grader's parser, check(), and Practice 2's cache test.

Real caches are tested in test_real_calibration.py; here, small texts in the same format exercise each
rule, with expected values computed independently (struct) from the text the test writes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from grader.practices.practice2 import calibration_cache
from grader.tools import models
from tests.conftest import checks_by_submission, grade_outside_repo, make_submission

SHARED_CACHE = (
    Path(__file__).resolve().parents[2] / "shared/reference/calibration-caches/trt8510_entropy2_mnistcnn.calib.cache"
)
SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice2" / "data_loader.py"
REAL = Path(__file__).resolve().parents[1] / "real_files" / "calibration"


def bits(scale: float) -> str:
    """TensorRT's hex for a scale (big-endian float32)."""
    return struct.pack(">f", scale).hex()


def _cache_text(input_amax: float, version: int = 100300) -> str:
    """A cache in TensorRT's format with the given input range and two inner tensors."""
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
    assert list(cache.scales) == ["input", "/stem/conv/Conv_output_0", "output"]
    assert cache.zero_scales == [] and cache.nonfinite_scales == [] and cache.warnings == []


def test_bare_zero_and_short_hex() -> None:
    """TensorRT 10 prints the hex without leading zeros: a zero scale is a bare '0'."""
    cache = calibration_cache.parse("TRT-101401-EntropyCalibration2\nimages: 3c010a14\n/ConstantOfShape_output_0: 0\n")
    assert cache.scales["/ConstantOfShape_output_0"] == 0.0
    assert cache.zero_scales == ["/ConstantOfShape_output_0"]
    assert calibration_cache.hex_to_float("800000") == struct.unpack(">f", bytes.fromhex("00800000"))[0]


def test_infinite_and_nan_scales_are_reported_not_used() -> None:
    """7f800000 (+inf) and 7fc00000 (NaN) are listed, warned about, left out of finite_scales, refused by amax."""
    cache = calibration_cache.parse("TRT-101000-EntropyCalibration2\nx: 3c010a14\nmask: 7f800000\nbad: 7fc00000\n")
    assert cache.nonfinite_scales == ["mask", "bad"]
    assert list(cache.finite_scales) == ["x"]
    assert any("7f800000" in warning and "7fc00000" in warning for warning in cache.warnings)
    with pytest.raises(ValueError, match="no usable range"):
        cache.amax("mask")


def test_names_with_colons_and_spaces() -> None:
    """The scale follows the last ': ' (TensorFlow names end in ':0'; unnamed layers hold spaces)."""
    text = "TRT-8401-EntropyCalibration2\nConv__54:0: 3cf5d113\n(Unnamed Layer* 5) [Constant]_output: 3df1ebd4\n"
    cache = calibration_cache.parse(text)
    assert bits(cache.scales["Conv__54:0"]) == "3cf5d113"
    assert bits(cache.scales["(Unnamed Layer* 5) [Constant]_output"]) == "3df1ebd4"


def test_headerless_scales_are_read_with_unknown_version() -> None:
    """Scales without the header: version and algorithm are None (not 0, not ''), with a warning."""
    cache = calibration_cache.parse("x: 3c010204\ny: 3d000000\n")
    assert cache.trt_version is None and cache.algorithm is None and cache.release is None
    assert len(cache.scales) == 2 and any("no TRT-<version>-<Algorithm> header" in w for w in cache.warnings)
    assert not calibration_cache.looks_like_cache("x: 3c010204\n")


def test_duplicates_negative_and_unknown_algorithm_are_warned() -> None:
    """What a hand-edited file may hold is read, and said."""
    text = f"TRT-100300-MyCalibration\nx: 3c010204\nx: 3c010205\nneg: {bits(-0.5)}\n"
    cache = calibration_cache.parse(text)
    assert bits(cache.scales["x"]) == "3c010205"
    assert any("twice" in w for w in cache.warnings) and any("negative" in w for w in cache.warnings)
    assert any("unknown calibration algorithm 'MyCalibration'" in w for w in cache.warnings)


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "empty"), ("hello\nx: 3c010204\n", "first line"), ("TRT-100300-EntropyCalibration2\nx 3c01\n", "line 2")],
)
def test_rejects_what_is_not_a_cache(text: str, error: str) -> None:
    """Anything else is a clear format error."""
    with pytest.raises(calibration_cache.CacheFormatError, match=error):
        calibration_cache.parse(text)


def test_binary_file_is_a_format_error(tmp_path: Path) -> None:
    """An engine or other binary handed in as calib.cache is named as such."""
    path = tmp_path / "calib.cache"
    path.write_bytes(b"ftrt\0\0\x01\x02")
    with pytest.raises(calibration_cache.CacheFormatError, match="binary"):
        calibration_cache.read(path)


@pytest.mark.parametrize(
    ("release", "number"), [("10.3.0", 100300), ("10.3.0.30", 100300), ("8.5.2.2", 8502), ("7.2.1", 7201)]
)
def test_header_version(release: str, number: int) -> None:
    """NV_TENSORRT_VERSION: major*10000+minor*100+patch from 10.0, major*1000+minor*100+patch before."""
    assert calibration_cache.header_version(release) == number
    assert calibration_cache.release_of(number) == ".".join(release.split(".")[:3])


def test_version_check() -> None:
    """Same release: nothing; another release: what the file has, what the board needs, how to fix it."""
    cache = calibration_cache.parse(_cache_text(1.0, version=8501))
    assert calibration_cache.check(cache, trt_version="8.5.1") == []
    assert calibration_cache.check(cache, trt_version="8.5") == []  # patch left open by the caller
    (problem,) = calibration_cache.check(cache, trt_version="10.3.0")
    assert "TensorRT 8.5.1" in problem and "TRT-8501-EntropyCalibration2" in problem
    assert "TensorRT 10.3.0" in problem and "TRT-100300" in problem and "polygraphy convert" in problem
    assert calibration_cache.check(cache) == []  # the board's release unknown: not checked, never guessed
    headerless = calibration_cache.parse("input: 3c010204\n")
    assert "no TRT-<version>-<Algorithm> header" in calibration_cache.check(headerless, trt_version="10.3.0")[0]
    with pytest.raises(ValueError, match="not a TensorRT release"):
        calibration_cache.check(cache, trt_version="latest")


def _small_model() -> onnx.ModelProto:
    """x -> Sub(mean) -> Conv(W) -> Relu -> y, plus a shape branch computed from constants only."""
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["/Sub_output_0"], name="/Sub"),
        helper.make_node("Conv", ["/Sub_output_0", "W"], ["/conv/Conv_output_0"], name="/conv/Conv"),
        helper.make_node("Relu", ["/conv/Conv_output_0"], ["y"], name="/relu/Relu"),
        helper.make_node("Constant", [], ["/Constant_output_0"], value=helper.make_tensor("c", 1, [1], [2.0])),
        helper.make_node("Mul", ["/Constant_output_0", "mean"], ["/Mul_output_0"], name="/Mul"),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor("W", 1, [1, 1, 1, 1], [1.0]), helper.make_tensor("mean", 1, [1], [0.5])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _entries(**scales: float) -> str:
    """A 10.3 cache of the named tensors (keyword names use __ for '/')."""
    lines = [f"{name.replace('__', '/')}: {bits(scale)}" for name, scale in scales.items()]
    return "TRT-100300-EntropyCalibration2\n" + "\n".join(lines) + "\n"


def test_graph_check_accepts_a_complete_cache_with_tensorrt_names() -> None:
    """Graph tensors plus the names TensorRT adds (weights '_output', helpers, unnamed layers) pass."""
    text = _entries(x=1 / 127, __Sub_output_0=0.5 / 127, __conv__Conv_output_0=0.02, y=0.02)
    text += "W_output: 3c010204\n/relu/Relu_output: 3c010204\nONNXTRT_Broadcast_output: 3c010204\n"
    text += "(Unnamed Layer* 3) [Constant]_output: 3c010204\n/Constant_output_0_output: 3c010204\n"
    assert calibration_cache.check(calibration_cache.parse(text), onnx_model=_small_model()) == []


def test_graph_check_names_missing_and_foreign_tensors() -> None:
    """A missing activation, a missing or all-zero input and another model's names are each reported."""
    model = _small_model()
    missing = calibration_cache.check(calibration_cache.parse(_entries(x=1 / 127, y=0.02)), onnx_model=model)
    assert len(missing) == 1 and "/Sub_output_0" in missing[0] and "/conv/Conv_output_0" in missing[0]
    assert "/Mul_output_0" not in missing[0]  # computed from constants only: TensorRT folds it
    no_input = calibration_cache.check(
        calibration_cache.parse(_entries(__Sub_output_0=0.1, __conv__Conv_output_0=0.1, y=0.1)), onnx_model=model
    )
    assert no_input == [no_input[0]] and "no scale for small's input 'x'" in no_input[0]
    zero = calibration_cache.check(
        calibration_cache.parse(_entries(x=0.0, __Sub_output_0=0.1, __conv__Conv_output_0=0.1, y=0.1)), onnx_model=model
    )
    assert len(zero) == 1 and "zero scale" in zero[0]
    foreign = calibration_cache.check(calibration_cache.parse(_entries(data=0.1, conv1=0.1, x=0.1)), onnx_model=model)
    assert "made for another model" in foreign[0] and "'data', 'conv1'" in foreign[0] and len(foreign) == 1


@pytest.mark.skipif(not SHARED_CACHE.exists(), reason="../shared/reference is not present")
def test_real_tensorrt_cache() -> None:
    """A real TensorRT 8.5 cache parses; its input was calibrated on raw 0..255 pixels (amax 255)."""
    cache = calibration_cache.read(SHARED_CACHE)
    assert cache.trt_version == 8510 and cache.algorithm == "EntropyCalibration2" and cache.release == "8.5.10"
    assert cache.scales["x"] == pytest.approx(2.008, abs=1e-3)
    assert cache.amax("x") == pytest.approx(255, rel=1e-3)
    assert len(cache.scales) == 22


def _classifier_cache(input_amax: float) -> str:
    """A 10.3 cache naming every tensor of the lab classifier (its input with the given range)."""
    model = onnx.load(str(models.export_onnx(models.lab_classifier().name)))
    names = [output for node in model.graph.node for output in node.output if output]
    (input_name,) = [value.name for value in model.graph.input]
    lines = [f"{input_name}: {bits(input_amax / 127)}"] + [f"{name}: {bits(4.0 / 127)}" for name in names]
    return "TRT-100300-EntropyCalibration2\n" + "\n".join(lines) + "\n"


def test_practice2_grades_a_handed_in_cache(tmp_path: Path) -> None:
    """A calib.cache next to the loader is graded: a complete cache of [0, 1] data passes; 0..255 data,
    another model's real cache, an infinite scale and garbage fail, each saying why."""
    solution = SOLUTION.read_text(encoding="utf-8")
    good = _classifier_cache(1.0)
    infinite = good + "ONNXTRT_Broadcast_output: 7f800000\n"  # a TensorRT helper tensor, range unbounded
    caches = {
        "good": good,
        "raw_pixels": _classifier_cache(255.0),
        "other_model": (REAL / "trt100300_entropy2_finn_transformers.cache").read_text(encoding="utf-8"),
        "infinite": infinite,
        "garbage": "not a cache",
    }
    for name, cache in caches.items():
        folder = make_submission(tmp_path, name, 2, {"data_loader.py": solution})
        (folder / "calib.cache").write_text(cache, encoding="utf-8")
    make_submission(tmp_path, "absent", 2, {"data_loader.py": solution})
    results = {
        name: tests["p2.calibration_cache.scale"]
        for name, tests in checks_by_submission(grade_outside_repo(tmp_path, "-k", "calibration_cache")).items()
    }
    assert results["good"]["status"] == "passed" and results["good"]["max_score"] == 2
    assert results["raw_pixels"]["status"] == "failed" and "0..255 pixels" in results["raw_pixels"]["output"]
    other = results["other_model"]
    assert other["status"] == "failed" and "made for another model" in other["output"]
    assert "lab_classifier.onnx" in other["output"] and "/emb/emb.0/Transpose_output_0" in other["output"]
    assert results["infinite"]["status"] == "failed" and "7f800000" in results["infinite"]["output"]
    assert (
        results["garbage"]["status"] == "failed" and "not a TensorRT calibration cache" in results["garbage"]["output"]
    )
    assert "status" not in results["absent"] and results["absent"]["max_score"] == 0
