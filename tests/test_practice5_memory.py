"""Memory readers (grader/practices/practice5/profile/memory.py) on real files, the profile command of trtexec 10.3, the stdout fixture.

Expected values come from the manifest of real_files/memory (worked out by hand from the files)
or are computed here by hand in the comments; never from the reader under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.backends import trtexec
from grader.practices.practice5 import samples as fx
from grader.practices.practice5.profile import memory

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "real_files" / "memory"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
LAYER_FILES = [entry for entry in MANIFEST if entry["expect"]["kind"] == "layer_info"]
LOG_FILES = [entry for entry in MANIFEST if entry["expect"]["kind"] == "log"]


def test_profile_command_asks_for_a_separate_profile_run() -> None:
    """trtexec 10.3 prints the performance summary in a profiled run only with --separateProfileRun."""
    command = trtexec.profile_command("m.engine", "m.profile.json", "m.layer.json", trtexec="trtexec")
    assert command[0] == "trtexec"
    for flag in ("--loadEngine=m.engine", "--dumpProfile", "--separateProfileRun", "--dumpLayerInfo"):
        assert flag in command
    assert "--profilingVerbosity=detailed" in command
    assert "--exportProfile=m.profile.json" in command and "--exportLayerInfo=m.layer.json" in command
    assert not any(part.split("=")[0] in trtexec.REMOVED_IN_10 for part in command)


def test_stdout_fixture_follows_trtexec_main() -> None:
    """The stdout fixture's sections come in trtexec.cpp main's order (v10.3.0, --separateProfileRun)."""
    text = fx.trtexec_stdout(fx.MOBILENET_INT8, fx.SUMMARY_DEFAULT)
    marks = [
        "Created execution context with device memory size",
        "Layer Information:",
        "Starting inference",
        "=== Trace details ===",
        "=== Performance summary ===",
        "=== Profile (",
        "&&&& PASSED",
    ]
    positions = [text.index(mark) for mark in marks]
    assert positions == sorted(positions)
    assert "--separateProfileRun" in text.splitlines()[0]
    assert "e2e network timing is not reported" not in text


@pytest.mark.parametrize(
    ("fmt", "dims", "expected"),
    [
        ("Row major linear FP16 format", [1, 3, 224, 224], 301056),  # 150528 elements x 2
        ("Channel major FP16 format where channel % 4 == 0", [1, 3, 224, 224], 401408),  # C 3 -> 4: 200704 x 2
        ("Channel major FP16 format where channel % 8 == 0", [1, 64, 55, 55], 387200),  # 193600 x 2
        ("Thirty-two wide channel vectorized row major Int8 format.", [16, 512, 28, 28], 6422528),  # 16*512*784
        ("Thirty-two wide channel vectorized row major Int8 format", [1, 16, 112, 112], 401408),  # C 16 -> 32
        ("Four wide channel vectorized row major Int8 format", [1, 3, 224, 224], 200704),  # C 3 -> 4, 1 byte
        ("Two wide channel vectorized row major FP16 format", [1, 5, 4, 4], 192),  # C 5 -> 6: 96 x 2
        ("Channel major FP32 format", [1, 3, 8, 8], 768),  # kHWC is unpadded: 192 x 4
        ("Row major linear Int32", [1, 1], 4),
        ("Half", [9216, 4096], 75497472),  # TensorRT 10 Myelin weights: 37748736 x 2
        ("Float", [1], 4),
        ("Row major linear BFloat16 format", [1, 4, 8, 8], 512),  # BFloat16 is 2 bytes, not Float's 4
    ],
)
def test_tensor_bytes(fmt: str, dims: list[int], expected: int) -> None:
    """Element size x elements, the channel padded to the vector width of a vectorized format."""
    assert memory.tensor_bytes(fmt, dims) == expected


@pytest.mark.parametrize(
    ("fmt", "dims"),
    [
        ("Float", [-1, 16]),  # dynamic batch (a real TensorRT 10 file shows [-1,16])
        ("Row major linear Int4 format", [1, 64]),  # sub-byte: no whole-byte size
        ("Some DLA format", [1, 16, 8, 8]),  # a layout this reader does not know
        ("Channel major FP16 format where channel % 8 == 0", [1, 9216]),  # vectorized needs >= 3 dims
    ],
)
def test_tensor_bytes_unknown_is_none(fmt: str, dims: list[int]) -> None:
    """A size the file does not determine is None, never 0."""
    assert memory.tensor_bytes(fmt, dims) is None


@pytest.mark.parametrize("entry", LAYER_FILES, ids=[entry["file"] for entry in LAYER_FILES])
def test_real_layer_info_memory(entry: dict[str, Any]) -> None:
    """Total bytes of the distinct tensors and per-layer output bytes match the manifest's hand count."""
    path = CORPUS / entry["file"]
    want = entry["expect"]["layer_info"]
    layers = json.loads(path.read_text(encoding="utf-8"), strict=False)["Layers"]
    assert len(layers) == want["layers"]
    assert all(isinstance(layer, dict) for layer in layers) == want["detailed"]
    got = memory.read_tensor_memory(path)
    assert got.total_bytes == want["tensor_bytes"]
    assert got.unknown == []
    for name, size in entry["spot"]["per_layer"].items():
        assert got.per_layer[name] == size
    for key in ("tensor", "padded_tensor"):
        spot = entry["spot"][key]
        assert memory.tensor_bytes(spot["format"], spot["dimensions"]) == spot["bytes"]


@pytest.mark.parametrize("entry", LOG_FILES, ids=[entry["file"] for entry in LOG_FILES])
def test_real_log_device_memory(entry: dict[str, Any]) -> None:
    """The device memory each real log states, as the manifest reads it off the file."""
    text = (CORPUS / entry["file"]).read_text(encoding="utf-8")
    assert memory.device_memory_bytes(text) == entry["expect"]["memory"]["device_memory_bytes"]


def test_device_memory_trtexec_10_line() -> None:
    """trtexec 10.3's own line (sampleInference.cpp allocateContextMemory): MiB to bytes, 12.25 MiB = 12845056."""
    line = "[11/25/2025-10:12:00] [I] Created execution context with device memory size: 12.25 MiB"
    result = memory.device_memory(line)
    assert result.bytes == 12845056
    assert result.source == "Created execution context with device memory size"


def test_device_memory_unstated_is_none() -> None:
    """A log without any device-memory line says nothing: None with a warning, not 0."""
    result = memory.device_memory("[I] Starting inference\n&&&& PASSED TensorRT.trtexec [TensorRT v100300]\n")
    assert result.bytes is None and result.warnings


def test_not_detailed_file_has_no_tensor_memory(tmp_path: Path) -> None:
    """A names-only layer file gives total_bytes None and a warning naming --profilingVerbosity=detailed."""
    path = tmp_path / "names.layer.json"
    path.write_text(fx.layer_json_text(fx.RESNET_FP32, detailed=False), encoding="utf-8")
    got = memory.read_tensor_memory(path)
    assert got.total_bytes is None and got.per_layer == {}
    assert any("profilingVerbosity=detailed" in warning for warning in got.warnings)


def test_memory_fixture_agrees_with_the_grader_reader(tmp_path: Path) -> None:
    """The Practice 5 memory fixture's hand-worked bytes are what the grader's own reader finds."""
    path = tmp_path / fx.MEMORY_FILE
    path.write_text(fx.memory_layer_json_text(), encoding="utf-8")
    got = memory.read_tensor_memory(path)
    assert got.per_layer == fx.expected_layer_memory()
    assert got.unknown == ["dyn"]  # the dynamic (-1) tensor
    assert any("dyn" in warning or "Reshape" in warning for warning in got.warnings)
