"""Inference backends behind one small interface (after Polygraphy's runners).

``onnxruntime`` runs everywhere (the CPU tier); ``tensorrt`` and ``trtexec`` run on the
Jetson and are the only modules that touch TensorRT, pycuda or the trtexec binary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (``None`` or a string for symbolic dimensions) and dtype of a model I/O."""

    name: str
    shape: tuple[int | str | None, ...]
    dtype: np.dtype

    @property
    def is_static(self) -> bool:
        """True when every dimension is a fixed integer."""
        return all(isinstance(dim, int) for dim in self.shape)


class Runner(Protocol):
    """What every backend offers the suites."""

    def input_specs(self) -> list[TensorSpec]:
        """The model's inputs, in order."""
        ...

    def output_specs(self) -> list[TensorSpec]:
        """The model's outputs, in order."""
        ...

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; outputs by name."""
        ...


def run_logits(runner: Runner, images: np.ndarray) -> np.ndarray:
    """First output for each image of an Nx... batch, run one image at a time (batch-1 models)."""
    name = runner.input_specs()[0].name
    return np.concatenate([next(iter(runner.infer({name: images[i : i + 1]}).values())) for i in range(len(images))])
