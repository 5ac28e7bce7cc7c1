"""The content-hashed artifact cache: built once, keyed by content, safe under concurrency."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

from grader.core.cache import ArtifactCache, hash_key, sha256_file


def test_built_once_and_reused(tmp_path: Path) -> None:
    """The second request returns the same file without building."""
    cache = ArtifactCache(tmp_path)
    calls: list[Path] = []

    def build(target: Path) -> None:
        calls.append(target)
        target.write_text("artifact")

    first = cache.get_or_build("thing", {"a": 1}, build, suffix=".txt")
    second = cache.get_or_build("thing", {"a": 1}, build, suffix=".txt")
    assert first == second and first.read_text() == "artifact" and len(calls) == 1
    assert first.with_name(first.name + ".json").exists()  # the key explains the entry


def test_key_depends_on_every_part(tmp_path: Path) -> None:
    """Different key parts give different entries; order of keys does not matter."""
    assert hash_key({"a": 1, "b": 2}) == hash_key({"b": 2, "a": 1})
    assert hash_key({"a": 1}) != hash_key({"a": 2})
    cache = ArtifactCache(tmp_path)
    assert cache.path("x", {"a": 1}) != cache.path("x", {"a": 2})


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    """A build that raises publishes nothing and leaves no temporary file."""
    cache = ArtifactCache(tmp_path)

    def broken(target: Path) -> None:
        target.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.get_or_build("thing", {"a": 1}, broken)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_arrays_round_trip(tmp_path: Path) -> None:
    """Named arrays come back equal, dtype and shape kept, empty ones too, and read-only: no caller can change
    the cached values in place."""
    cache = ArtifactCache(tmp_path)
    built = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "labels": np.array([3, 1], dtype=np.int64)}
    built["empty"] = np.zeros((0, 3), dtype=np.float32)
    arrays = cache.arrays("ref", {"seed": 0}, lambda: built)
    again = cache.arrays("ref", {"seed": 0}, lambda: pytest.fail("rebuilt"))
    assert sorted(again) == sorted(built)
    for name, array in built.items():
        for got in (arrays[name], again[name]):
            np.testing.assert_array_equal(got, array)
            assert (got.dtype, got.shape) == (array.dtype, array.shape)
            assert not got.flags.writeable
    with pytest.raises(ValueError):
        again["x"][0, 0] = 1.0
    with pytest.raises(ValueError, match="identifier"):
        cache.arrays("ref", {"seed": 1}, lambda: {"../x": np.zeros(1)})


def test_json_round_trip(tmp_path: Path) -> None:
    """A JSON value is built once per key and comes back equal."""
    cache = ArtifactCache(tmp_path)
    value = cache.json("placement", {"rules": "a"}, lambda: {"nodes": [["conv", "Conv"]], "n": 1})
    assert cache.json("placement", {"rules": "a"}, lambda: pytest.fail("rebuilt")) == value
    assert cache.json("placement", {"rules": "b"}, lambda: {"n": 2}) == {"n": 2}


def test_sha256_file(tmp_path: Path) -> None:
    """File hashes follow content."""
    (tmp_path / "a").write_bytes(b"abc")
    assert sha256_file(tmp_path / "a") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def _slow_writer(root: str, index: int) -> str:
    """Build the same key slowly, in chunks, from several processes at once."""

    def build(target: Path) -> None:
        with open(target, "wb") as handle:
            for _ in range(20):
                handle.write(bytes([65 + index]) * 50_000)
                time.sleep(0.005)

    return str(ArtifactCache(root).get_or_build("race", {"k": 1}, build))


def test_concurrent_writers_never_corrupt(tmp_path: Path) -> None:
    """Writers racing on one key all get one complete file, and no temporary file is left."""
    # fork, not spawn: a spawned worker must import this module by name, which plain `pytest`
    # (unlike `python -m pytest`) does not make possible, and a Pool whose workers cannot load
    # their task waits forever. The timeout turns any such hang into a failure.
    with multiprocessing.get_context("fork").Pool(4) as pool:
        paths = pool.starmap_async(_slow_writer, [(str(tmp_path), i) for i in range(4)]).get(timeout=120)
    assert len(set(paths)) == 1
    data = Path(paths[0]).read_bytes()
    assert len(data) == 20 * 50_000 and len(set(data)) == 1  # one writer's complete content
    assert not [p for p in tmp_path.rglob("*.tmp")]
