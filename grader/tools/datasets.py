"""The lab's image sets: calibration photos and the evaluation photos that are never calibrated on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.core import images
from grader.core.cache import ArtifactCache, sha256_file
from grader.core.paths import REPO

CALIB_DIR = REPO / "calib_images"
EVAL_DIR = REPO / "eval_images"
LABELLED_DIR = EVAL_DIR / "labelled"


@dataclass(frozen=True)
class EvalSet:
    """Reference tensors of the held-out photos and of the labelled ImageNet photos."""

    held_out: np.ndarray
    labelled: np.ndarray
    labels: np.ndarray


def imagenet_label(path: Path) -> int:
    """The ImageNet class in foolbox's file names ``imagenet_<index>_<label>.jpg``."""
    return int(path.stem.rsplit("_", 1)[1])


def eval_set(size: int = 224, cache: ArtifactCache | None = None) -> EvalSet:
    """The evaluation tensors, preprocessed once per machine (keyed by the photos' content)."""
    held_out = images.image_files(EVAL_DIR)
    labelled = images.image_files(LABELLED_DIR)
    parts = {"size": size, "photos": [sha256_file(p) for p in held_out + labelled]}

    def build() -> dict[str, np.ndarray]:
        return {
            "held_out": images.reference_batch(held_out, size),
            "labelled": images.reference_batch(labelled, size),
            "labels": np.array([imagenet_label(p) for p in labelled], dtype=np.int64),
        }

    arrays = (cache or ArtifactCache()).arrays("eval-set", parts, build)
    return EvalSet(arrays["held_out"], arrays["labelled"], arrays["labels"])
