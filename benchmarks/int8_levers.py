"""What each lever of Practice 2's INT8 step is worth, and whether it keeps ORT's ranges bit for bit.

    .venv/bin/python benchmarks/int8_levers.py [--json out.json]

Measured on the lab classifier with the reference loader's 100 calibration images and the 120
evaluation photos, one thread unless a row says otherwise (a batch worker has one). Rows:

* range collection through ORT's calibration graph (the model plus a ReduceMin and a ReduceMax per
  tensor) in batches of 1, 4, 10 and 25 images: a copy with a batch dimension (min/max over a batch
  equals min/max over its images); ORT's own calibrator runs batches of 1;
* the same graph at each ONNX Runtime optimization level and with 2 threads, and whether each image's
  minima and maxima equal, bit for bit, those of ORT's calibrator setting (unoptimized, any threads);
* quantize_static on collected ranges, with and without ORT's weight scales given back as overrides;
* the INT8 evaluation one photo per run and through a batch-dimension copy, and whether the logits equal.

Run it on an otherwise idle machine; the conclusions are in benchmarks/int8_speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BATCHES = (1, 4, 10, 25)
LEVELS = ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL")


def batch_copy(source: Path, target: Path) -> None:
    """``source`` with a symbolic batch dimension: inputs and outputs N, a flattening Reshape's 1 -> 0 (copy)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    del model.graph.value_info[:]
    inits = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Reshape" and node.input[1] in inits:
            shape = numpy_helper.to_array(inits[node.input[1]]).copy()
            if shape[0] == 1:
                shape[0] = 0
                inits[node.input[1]].CopyFrom(numpy_helper.from_array(shape, node.input[1]))
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and dims[0].dim_value == 1:
            dims[0].dim_param = "N"
    onnx.save(model, str(target))


def session(path: Path, level: str = "ORT_DISABLE_ALL", threads: int = 1) -> object:
    """A CPU session at ``level`` on ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_all(sess: object, images: np.ndarray, size: int) -> list[list[np.ndarray]]:
    """Every output of ``sess`` for ``images``, ``size`` images per run."""
    name = sess.get_inputs()[0].name  # type: ignore[attr-defined]
    return [sess.run(None, {name: images[i : i + size]}) for i in range(0, len(images), size)]  # type: ignore[attr-defined]


def best_of(work: Callable[[], object], repeats: int = 2) -> tuple[float, object]:
    """The fastest of ``repeats`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return round(best, 2), result


def calibration_rows(augmented: Path, batched: Path, images: np.ndarray) -> dict[str, object]:
    """Range collection: batch sizes, optimization levels, threads; bit equality with ORT's setting."""

    def extremes(outputs: list[list[np.ndarray]]) -> np.ndarray:
        return np.array([[np.asarray(v).ravel()[0] for v in run[1:]] for run in outputs])

    rows: dict[str, object] = {}
    seconds, reference = best_of(lambda: extremes(run_all(session(augmented), images, 1)))
    rows["calibration graph, 1 image per run, unoptimized (ORT's calibrator)"] = seconds
    for size in BATCHES[1:]:
        rows[f"calibration graph, {size} images per run"] = best_of(
            lambda size=size: run_all(session(batched), images, size), repeats=1
        )[0]
    for level, threads in [*((level, 1) for level in LEVELS[1:]), ("ORT_DISABLE_ALL", 2)]:
        seconds, got = best_of(
            lambda level=level, threads=threads: extremes(run_all(session(augmented, level, threads), images, 1))
        )
        same = bool(np.array_equal(got, reference))  # type: ignore[arg-type]
        relative = float(np.max(np.abs(got - reference) / np.maximum(np.abs(reference), 1e-30)))  # type: ignore[operator]
        rows[f"calibration graph, {level}, {threads} thread(s)"] = {
            "s": seconds,
            "same ranges bit for bit": same,
            "largest relative difference": relative,
        }
    return rows


def quantizer_rows(prepared: Path, batches: list[dict[str, np.ndarray]], folder: Path) -> dict[str, object]:
    """quantize_static on collected ranges, with and without ORT's weight scales as overrides."""
    from grader.backends import onnxruntime as ort_backend

    ranges = ort_backend.collect_ranges(prepared, batches, folder)
    weights = folder / "weights.json"
    rows: dict[str, object] = {}
    rows["weight parameters (once per machine)"] = best_of(lambda: ort_backend.weight_parameters(prepared, weights), 1)[
        0
    ]
    plain, given = folder / "plain.onnx", folder / "given.onnx"
    rows["quantize_static on the ranges"] = best_of(lambda: ort_backend.quantize_with_ranges(prepared, ranges, plain))[
        0
    ]
    rows["quantize_static on the ranges, weight scales given back"] = best_of(
        lambda: ort_backend.quantize_with_ranges(prepared, ranges, given, weights=weights)
    )[0]
    rows["same model bytes"] = plain.read_bytes() == given.read_bytes()
    return {**rows, "int8": str(given)}


def evaluation_rows(int8: Path, batched: Path, photos: np.ndarray) -> dict[str, object]:
    """The INT8 evaluation one photo per run against a batch-dimension copy."""
    rows: dict[str, object] = {}
    seconds, reference = best_of(
        lambda: np.concatenate([r[0] for r in run_all(session(int8, "ORT_ENABLE_ALL"), photos, 1)])
    )
    rows["INT8 evaluation, 1 photo per run"] = seconds
    for size in (4, 20, len(photos)):
        seconds, got = best_of(
            lambda size=size: np.concatenate([r[0] for r in run_all(session(batched, "ORT_ENABLE_ALL"), photos, size)])
        )
        rows[f"INT8 evaluation, {size} photos per run"] = {
            "s": seconds,
            "same logits": bool(np.array_equal(got, reference)),
        }  # type: ignore[arg-type]
    return rows


def main() -> int:
    """Measure every lever and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from onnxruntime.quantization.calibrate import CalibrationMethod, create_calibrator

    from grader.backends import onnxruntime as ort_backend
    from grader.core.environment import package_version
    from grader.core.images import image_files
    from grader.tools import datasets, models

    os.environ[ort_backend.THREADS_ENV] = "1"
    sys.path.insert(0, str(REPO / "solutions" / "practice2"))
    import data_loader  # the reference loader

    model = models.export_onnx(models.lab_classifier().name)
    images = np.concatenate(
        [data_loader.preprocess(p) for p in image_files(datasets.CALIB_DIR)[: data_loader.NUM_IMAGES]]
    )
    evaluation = datasets.eval_set()
    photos = np.concatenate([evaluation.held_out, evaluation.labelled])
    with tempfile.TemporaryDirectory(prefix="trtlab-levers-") as scratch:
        folder = Path(scratch)
        ort_backend.prepare_for_quantization(model, folder / "prepared.onnx")
        create_calibrator(
            folder / "prepared.onnx",
            [],
            augmented_model_path=str(folder / "augmented.onnx"),
            calibrate_method=CalibrationMethod.MinMax,
        )
        batch_copy(folder / "augmented.onnx", folder / "augmented-batched.onnx")
        rows = calibration_rows(folder / "augmented.onnx", folder / "augmented-batched.onnx", images)
        batches = [{"input": images[i : i + 1]} for i in range(len(images))]
        quantizer = quantizer_rows(folder / "prepared.onnx", batches, folder)
        int8 = Path(str(quantizer.pop("int8")))
        batch_copy(int8, folder / "int8-batched.onnx")
        rows.update(quantizer)
        rows.update(evaluation_rows(int8, folder / "int8-batched.onnx", photos))
    for key, value in rows.items():
        print(f"{key}: {value}")
    if args.json:
        meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "onnxruntime": package_version("onnxruntime")}
        args.json.write_text(json.dumps({**meta, "rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
