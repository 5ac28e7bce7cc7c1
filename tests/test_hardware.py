"""Capability probes: honest about what is missing, never fooled by a stub package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import hardware


def test_missing_capabilities_say_what_to_install() -> None:
    """Every capability missing on this CPU machine skips with an install hint."""
    for name in hardware.REQUIREMENTS:
        capability = hardware.capability(name)
        if not capability.available:
            reason = capability.skip_reason()
            assert reason.startswith("not graded on this machine")
            assert hardware.INSTALL_HINTS[name] in reason


def test_empty_tensorrt_namespace_package_is_not_tensorrt(tmp_path: Path) -> None:
    """An empty 'tensorrt/' folder (what tensorrt-stubs installs) is detected as not TensorRT."""
    (tmp_path / "tensorrt").mkdir()
    code = (
        "from grader.backends.tensorrt import probe_tensorrt\n"
        "probe = probe_tensorrt()\n"
        "print(probe.available, probe.reason)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("False") and "empty namespace package" in out


def test_fingerprint_fields() -> None:
    """The fingerprint names the OS, Python, packages, TensorRT, GPU and DLA cores."""
    fingerprint = hardware.fingerprint()
    assert {"os", "machine", "python", "packages", "tensorrt", "gpu", "dla_cores", "pycuda", "trtexec"} <= set(
        fingerprint
    )
    assert fingerprint["packages"]["onnx"]


def test_reference_data_is_part_of_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """../shared/reference appearing (or changing) changes the fingerprint, so a batch reruns its trusted run and
    regrades every student alike, never one student's maximum alone (issue 12, item 3)."""
    monkeypatch.setattr(hardware, "SHARED_REFERENCE", tmp_path / "shared")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    before = hardware.fingerprint()["reference_data"]
    assert before == {"shared_reference": None, "hub_models": None}
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "resnet18.profile.json").write_text("[]")
    (tmp_path / "hf" / "hub" / "models--timm--resnet50.a1_in1k").mkdir(parents=True)
    after = hardware.fingerprint()["reference_data"]
    assert after["shared_reference"]["entries"] == 1 and after["hub_models"]["entries"] == 1
    (tmp_path / "shared" / "resnet18.profile.json").write_text("[1]")
    assert hardware.fingerprint()["reference_data"] != after
