"""FP32-vs-INT8 accuracy from logits, whatever backend produced them (ORT here, TensorRT on the Jetson)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def top_k(logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest logits per row, largest first."""
    return np.argsort(-logits, axis=1, kind="stable")[:, :k]


@dataclass(frozen=True)
class Int8Accuracy:
    """How an INT8 model compares with its FP32 original."""

    fp32_top1: float  # labelled photos
    fp32_top5: float
    int8_top1: float
    int8_top5: float
    agreement: float  # held-out photos: INT8 top-1 == FP32 top-1
    top5_overlap: float  # held-out photos: shared top-5 classes / 5
    labelled: int
    held_out: int

    @property
    def top1_drop(self) -> float:
        """FP32 top-1 minus INT8 top-1 on the labelled photos."""
        return self.fp32_top1 - self.int8_top1

    def as_dict(self) -> dict[str, float]:
        """Plain numbers for reports."""
        return {**asdict(self), "top1_drop": self.top1_drop}

    def summary(self) -> str:
        """One line for the student."""
        return (
            f"labelled photos ({self.labelled}): FP32 top-1 {self.fp32_top1:.2f} top-5 {self.fp32_top5:.2f}, "
            f"INT8 top-1 {self.int8_top1:.2f} top-5 {self.int8_top5:.2f}; held-out photos ({self.held_out}): "
            f"INT8-vs-FP32 top-1 agreement {self.agreement:.2f}, top-5 overlap {self.top5_overlap:.2f}"
        )


def compare(
    fp32_labelled: np.ndarray,
    int8_labelled: np.ndarray,
    labels: np.ndarray,
    fp32_held_out: np.ndarray,
    int8_held_out: np.ndarray,
) -> Int8Accuracy:
    """Accuracy on labelled photos and agreement on held-out photos."""

    def hits(logits: np.ndarray, k: int) -> float:
        return float(np.mean([label in row for label, row in zip(labels, top_k(logits, k), strict=True)]))

    fp32_top5, int8_top5 = top_k(fp32_held_out, 5), top_k(int8_held_out, 5)
    overlap = [len(set(a) & set(b)) / 5 for a, b in zip(fp32_top5, int8_top5, strict=True)]
    return Int8Accuracy(
        fp32_top1=hits(fp32_labelled, 1),
        fp32_top5=hits(fp32_labelled, 5),
        int8_top1=hits(int8_labelled, 1),
        int8_top5=hits(int8_labelled, 5),
        agreement=float(np.mean(fp32_top5[:, 0] == int8_top5[:, 0])),
        top5_overlap=float(np.mean(overlap)),
        labelled=len(labels),
        held_out=len(fp32_held_out),
    )
