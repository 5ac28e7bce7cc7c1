"""The fast INT8 path quantizes exactly as ORT's one call did (issue: the INT8 check in a third of the time).

Old path: ``quantize_static`` calibrates itself (its own calibrator, its own session). Fast path: ORT's
calibrator class on the grader's threads collects the ranges, ORT's calibration cache hands them to the
quantizer, and ORT's own weight scales come back to it as overrides (``grader/backends/onnxruntime.py``).
The two must give the same Q/DQ model, byte for byte, on a correct calibration set and on a wrong one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from grader.backends import onnxruntime as ort_backend
from grader.core import images
from grader.tools import datasets

pytest.importorskip("timm", reason="the lab classifier is exported from timm")
if not ort_backend.has_calibration_cache():
    pytest.skip(
        "this onnxruntime's quantize_static takes no calibration cache (onnxruntime >= 1.27, which needs Python "
        ">= 3.11): the grader quantizes in one call here, the old path, so there is no fast path to compare",
        allow_module_level=True,
    )

NUM_IMAGES = 100  # the course's calibration set


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The lab classifier, ORT's pre-processed copy of it and its weight parameters."""
    from grader.tools import models

    model = models.export_onnx(models.lab_classifier().name)
    folder = tmp_path_factory.mktemp("int8-fast")
    ort_backend.prepare_for_quantization(model, folder / "prepared.onnx")
    ort_backend.weight_parameters(folder / "prepared.onnx", folder / "weights.json")
    return model, folder / "prepared.onnx", folder / "weights.json"


def _correct() -> list[dict[str, np.ndarray]]:
    """What a correct loader yields: RGB in [0, 1], NCHW, the grader's own preprocessing."""
    paths = images.image_files(datasets.CALIB_DIR)[:NUM_IMAGES]
    return [{"input": images.reference_tensor(path, 224)} for path in paths]


def _wrong() -> list[dict[str, np.ndarray]]:
    """The classic wrong loader: BGR channel order and pixels left in [0, 255]."""
    return [{"input": np.ascontiguousarray(batch["input"][:, ::-1] * np.float32(255))} for batch in _correct()]


def _quant_params(path: Path) -> dict[str, np.ndarray]:
    """Every scale and zero point of a Q/DQ model, by initializer name."""
    model = onnx.load(str(path))
    inits = {init.name: init for init in model.graph.initializer}
    params = {}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            for name in node.input[1:3]:
                params[name] = numpy_helper.to_array(inits[name])
    return params


LOADERS = {"correct-loader": _correct, "wrong-loader": _wrong}


@pytest.fixture(scope="module")
def quantized(prepared: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """Each calibration set quantized three ways, once: old path, fast path, fast path without weights."""
    model, source, weights = prepared
    done: dict[str, dict[str, Path]] = {}

    def get(kind: str) -> dict[str, Path]:
        if kind not in done:
            folder = tmp_path_factory.mktemp(kind)
            batches = LOADERS[kind]()
            paths = {name: folder / f"{name}.onnx" for name in ("old", "fast", "unweighted")}
            ort_backend.quantize_int8(model, batches, paths["old"], prepared=source, fast=False)
            ort_backend.quantize_int8(model, batches, paths["fast"], prepared=source, weights=weights)
            ort_backend.quantize_int8(model, batches, paths["unweighted"], prepared=source)
            done[kind] = paths
        return done[kind]

    return get


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_fast_path_quantizes_as_ort_did(kind: str, quantized: Callable[[str], dict]) -> None:
    """The same model bytes, so the same scales and zero points for every tensor, old path and fast path."""
    paths = quantized(kind)
    want, got = _quant_params(paths["old"]), _quant_params(paths["fast"])
    assert len(want) > 100, "the old path's model has no Q/DQ parameters to compare"
    assert sorted(got) == sorted(want)
    differ = [name for name in want if got[name].dtype != want[name].dtype or not np.array_equal(got[name], want[name])]
    assert not differ, f"{len(differ)} scales or zero points differ, first {differ[:3]}"
    assert paths["fast"].read_bytes() == paths["old"].read_bytes()
    assert paths["unweighted"].read_bytes() == paths["old"].read_bytes()


def test_the_two_calibration_sets_give_different_models(quantized: Callable[[str], dict]) -> None:
    """Not vacuous: a wrong loader's data really changes the activation scales the comparison above checks."""
    correct, wrong = (_quant_params(quantized(kind)["fast"]) for kind in ("correct-loader", "wrong-loader"))
    assert sum(not np.array_equal(correct[name], wrong[name]) for name in correct) > 50


def test_weight_parameters_cover_every_weight(prepared: tuple[Path, Path, Path]) -> None:
    """Every Conv and Gemm weight has ORT's per-channel parameters (a rename in ORT would leave none: slower)."""
    import json

    _, source, weights = prepared
    graph = onnx.load(str(source), load_external_data=False).graph
    names = {init.name for init in graph.initializer}
    expected = {node.input[1] for node in graph.node if node.op_type in ("Conv", "Gemm") and node.input[1] in names}
    found = json.loads(weights.read_text(encoding="utf-8"))
    assert set(found) == expected
    assert all(len(p["scale"]) == len(p["zero_point"]) > 1 for p in found.values())
