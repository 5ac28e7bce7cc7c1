"""Measure how well CPU INT8 accuracy separates good and bad calibration data (Practice 2 thresholds).

    .venv/bin/python benchmarks/int8_thresholds.py [--json out.json]

Calibrates the lab classifier with ONNX Runtime (the grader's own path: grader.practices.practice2.int8_accuracy) on
variants of the first 100 calibration photos and prints agreement / accuracy per variant. The
results and the thresholds chosen from them are written down in benchmarks/int8_thresholds.md.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from grader.core import images, offline
from grader.practices.practice2 import int8_accuracy
from grader.tools import datasets, models

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)


def variants(correct: np.ndarray) -> dict[str, np.ndarray]:
    """Calibration data sets: the contract's tensors and the mistakes students make."""
    rng = np.random.default_rng(0)
    return {
        "correct (/255, RGB, NCHW)": correct,
        "no /255 (0..255)": correct * 255,
        "BGR": np.ascontiguousarray(correct[:, ::-1]),
        "ImageNet mean/std on top of /255": ((correct - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32),
        "only 10 images": correct[:10],
        "shuffled order": correct[rng.permutation(len(correct))],
        "uniform noise": rng.random(correct.shape, dtype=np.float32),
        "all zeros": np.zeros_like(correct),
    }


def main() -> None:
    """Print (and optionally save) the measurement table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    offline.apply()
    model = models.lab_classifier()
    path = models.export_onnx(model.name)
    photos = images.image_files(datasets.CALIB_DIR)[:100]
    correct = images.reference_batch(photos)
    rows = []
    print(
        f"{'calibration data':36s} {'agree':>6s} {'top5 ovl':>8s} {'FP32 top1':>9s} {'INT8 top1':>9s} {'drop':>6s} {'time':>6s}"
    )
    for name, data in variants(correct).items():
        start = time.perf_counter()
        result = int8_accuracy.measure(path, [{model.contract.name: x[None]} for x in data])
        seconds = time.perf_counter() - start
        rows.append({"variant": name, "seconds": seconds, **result.as_dict()})
        print(
            f"{name:36s} {result.agreement:6.2f} {result.top5_overlap:8.2f} {result.fp32_top1:9.2f} "
            f"{result.int8_top1:9.2f} {result.top1_drop:6.2f} {seconds:5.1f}s"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"model": model.name, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
