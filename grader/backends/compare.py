"""One comparison of a model's outputs against the grader's truth, after Polygraphy's comparator.

Polygraphy's ``CompareFunc.simple`` checks two outputs elementwise within ``atol``/``rtol`` and reports
the largest absolute and relative errors. The lab's suites bound the error by the output's scale instead
(the largest ``|expected|``): a logit of 0.001 next to logits of 10 need not match to 1e-4 of itself, and
every export or inference mistake the suites catch moves outputs by a good share of that scale. So here
``allowed = atol + rtol * max(min_scale, scale)``, and ``min_scale`` keeps outputs close to zero from
being held to nothing. Each suite words its own message from the fields; ``describe()`` is the plain one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """How far ``actual`` is from ``expected``, and how far it may be."""

    max_abs: float  # the largest |actual - expected| (NaN when either holds NaN there)
    where: tuple[int, ...]  # the index of that element
    scale: float  # the largest |expected|
    bound_scale: float  # the scale the error is bounded by: max(min_scale, scale)
    allowed: float  # the largest |actual - expected| that passes

    @property
    def max_rel(self) -> float:
        """The largest error as a share of the scale (0 for an all-zero ``expected`` matched exactly)."""
        return self.max_abs / self.scale if self.scale > 0 else (0.0 if self.max_abs == 0 else float("inf"))

    @property
    def passed(self) -> bool:
        """Whether every element is within the allowed error (never with a NaN)."""
        return self.max_abs <= self.allowed

    def describe(self) -> str:
        """``max |diff| 0.012 at [0, 7] (relative to the output scale 9.8: 0.0012; allowed 0.098)``."""
        index = ", ".join(map(str, self.where))
        return (
            f"max |diff| {self.max_abs:.3g} at [{index}] (relative to the output scale {self.scale:.3g}: "
            f"{self.max_rel:.2g}; allowed {self.allowed:.2g})"
        )


def compare(
    actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float = 0.0, min_scale: float = 1.0
) -> Comparison:
    """Compare two arrays of one shape in float64: the error allowed is ``atol + rtol * max(min_scale, scale)``."""
    got = np.asarray(actual, dtype=np.float64)
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"cannot compare arrays of shapes {got.shape} and {want.shape}")
    if got.size == 0:
        return Comparison(0.0, (), 0.0, min_scale, atol + rtol * min_scale)
    diff = np.abs(got - want)
    flat = int(np.argmax(diff))  # NaN counts as the largest, as in np.max
    scale = float(np.max(np.abs(want)))
    where = tuple(int(i) for i in np.unravel_index(flat, diff.shape))
    bound_scale = max(min_scale, scale)
    return Comparison(float(np.max(diff)), where, scale, bound_scale, atol + rtol * bound_scale)
