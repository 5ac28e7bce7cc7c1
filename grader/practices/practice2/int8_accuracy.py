"""INT8 accuracy of a calibration data set, measured for real with ONNX Runtime on the CPU.

Calibrate the lab classifier with the batches a student's loader yielded (static QDQ
quantization), then compare INT8 with FP32 on photos never used for calibration. Results
are cached by the calibration data's content: the same tensors always give the same model.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from grader.backends import onnxruntime as ort_backend
from grader.core.cache import ArtifactCache, sha256_file
from grader.core.environment import package_version
from grader.practices.practice2 import accuracy
from grader.tools import datasets

RECIPE = 1  # bump when quantization or evaluation changes


def data_hash(batches: list[dict[str, np.ndarray]]) -> str:
    """SHA-256 of the calibration data: names, dtypes, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for batch in batches:
        for name in sorted(batch):
            array = np.ascontiguousarray(batch[name])
            digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
            digest.update(_bytes_of(array))
    return digest.hexdigest()


def _bytes_of(array: np.ndarray) -> bytes | memoryview:
    """The bytes ``array.tobytes()`` gives: a view of them where the buffer allows (no 60-72 MB copy)."""
    try:
        return memoryview(array.data).cast("B")
    except (TypeError, ValueError):  # an empty shape, or a dtype a buffer cannot describe (object, datetime)
        return array.tobytes()


def eval_hash(evaluation: datasets.EvalSet) -> str:
    """The evaluation photos' tensors' ``data_hash`` (72 MB: computed once per measurement)."""
    return data_hash([{"held_out": evaluation.held_out, "labelled": evaluation.labelled}])


def fp32_logits(
    model_path: Path, evaluation: datasets.EvalSet, evaluation_hash: str, cache: ArtifactCache
) -> dict[str, np.ndarray]:
    """FP32 logits on the evaluation photos, once per model and machine."""
    parts = {
        "model": sha256_file(model_path),
        "eval": evaluation_hash,
        "onnxruntime": package_version("onnxruntime"),
    }
    return cache.arrays(
        "fp32-logits",
        parts,
        lambda: {
            "held_out": ort_backend.logits(model_path, evaluation.held_out),
            "labelled": ort_backend.logits(model_path, evaluation.labelled),
        },
    )


def measure(
    model_path: Path, batches: list[dict[str, np.ndarray]], cache: ArtifactCache | None = None
) -> accuracy.Int8Accuracy:
    """Quantize ``model_path`` with ``batches`` and compare INT8 with FP32 (cached by content)."""
    cache = cache or ArtifactCache()
    evaluation = datasets.eval_set(cache=cache)
    model_hash = sha256_file(model_path)
    # Independent of the data (2 s and 0.4 s of every quantization): once per model and machine. Looked up
    # here, not in build(), so the batch's trusted run leaves them in the cache every worker reads.
    machine = {"model": model_hash, "onnxruntime": package_version("onnxruntime"), "recipe": RECIPE}
    prepared = cache.get_or_build(
        "int8-prepared", machine, lambda tmp: ort_backend.prepare_for_quantization(model_path, tmp), suffix=".onnx"
    )
    # ORT's own weight scales, which the quantizer would otherwise compute again for every calibration set.
    weights = (
        cache.get_or_build(
            "int8-weights", machine, lambda tmp: ort_backend.weight_parameters(prepared, tmp), suffix=".json"
        )
        if ort_backend.has_calibration_cache()
        else None
    )
    evaluation_hash = eval_hash(evaluation)
    parts = {
        "model": model_hash,
        "calibration": data_hash(batches),
        "eval": evaluation_hash,
        "onnxruntime": package_version("onnxruntime"),
        "recipe": RECIPE,
    }

    def build(target: Path) -> None:
        reference = fp32_logits(model_path, evaluation, evaluation_hash, cache)
        with tempfile.TemporaryDirectory(prefix="trtlab-int8-") as scratch:
            int8_path = Path(scratch) / "int8.onnx"
            ort_backend.quantize_int8(model_path, batches, int8_path, prepared=prepared, weights=weights)
            result = accuracy.compare(
                reference["labelled"],
                ort_backend.logits(int8_path, evaluation.labelled),
                evaluation.labels,
                reference["held_out"],
                ort_backend.logits(int8_path, evaluation.held_out),
            )
        target.write_text(json.dumps(result.as_dict()), encoding="utf-8")

    stored = json.loads(cache.get_or_build("int8-accuracy", parts, build, suffix=".json").read_text(encoding="utf-8"))
    stored.pop("top1_drop", None)
    return accuracy.Int8Accuracy(**stored)
