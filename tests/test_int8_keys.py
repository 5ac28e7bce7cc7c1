"""The INT8 results' cache keys: ``data_hash`` hashes exactly what it always hashed, so no cached result is lost.

``data_hash`` now reads an array's buffer instead of copying it with ``tobytes()`` (the 60 MB calibration set
and the 72 MB evaluation set of every submission); the digest must be the one the copy gave, for every
dtype and memory layout a student's loader can yield, empty and scalar arrays included.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from grader.practices.practice2.int8_accuracy import data_hash

ARRAYS = {
    "float32 NCHW": np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5),
    "a strided view": np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, ::2],
    "Fortran order": np.asfortranarray(np.arange(24, dtype=np.float32).reshape(4, 6)),
    "big-endian": np.arange(6, dtype=">f4"),
    "float16": np.ones((2, 2), dtype=np.float16),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "0-d": np.array(3.0, dtype=np.float32),
    "object": np.array([1, "a"], dtype=object),
    "datetime": np.array(["2020-01-01"], dtype="datetime64[D]"),
    "unicode": np.array(["ab", "c"]),
}


def _copying_hash(batches: list[dict[str, np.ndarray]]) -> str:
    """The definition: SHA-256 of ``name|dtype|shape|`` and ``tobytes()`` of each C-ordered array, in order."""
    digest = hashlib.sha256()
    for batch in batches:
        for name in sorted(batch):
            array = np.ascontiguousarray(batch[name])
            digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("kind", sorted(ARRAYS))
def test_data_hash_is_the_copying_hash(kind: str) -> None:
    """Same digest as hashing ``tobytes()``, for this kind of array."""
    batches = [{"input": ARRAYS[kind], "extra": np.float32(1)}, {"input": ARRAYS[kind]}]
    assert data_hash(batches) == _copying_hash(batches)


def test_data_hash_follows_the_data() -> None:
    """One changed value, a reordered batch or another shape of the same bytes gives another digest."""
    first, second = np.zeros((1, 3, 2, 2), np.float32), np.ones((1, 3, 2, 2), np.float32)
    base = data_hash([{"input": first}, {"input": second}])
    changed = first.copy()
    changed[0, 0, 0, 0] = 1e-7
    assert data_hash([{"input": changed}, {"input": second}]) != base
    assert data_hash([{"input": second}, {"input": first}]) != base
    assert data_hash([{"input": first.reshape(1, 3, 4)}, {"input": second}]) != base
