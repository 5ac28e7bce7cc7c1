"""Capability probes: honest about what is missing, never fooled by a stub package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.backends import requirements
from grader.core import environment


def test_missing_capabilities_say_what_to_install() -> None:
    """Every capability missing on this CPU machine skips with an install hint."""
    for name in requirements.REQUIREMENTS:
        capability = requirements.capability(name)
        if not capability.available:
            reason = capability.skip_reason()
            assert reason.startswith("not graded on this machine")
            assert requirements.INSTALL_HINTS[name] in reason


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
    fingerprint = requirements.fingerprint()
    assert {"os", "machine", "python", "packages", "tensorrt", "gpu", "dla_cores", "pycuda", "trtexec"} <= set(
        fingerprint
    )
    assert fingerprint["packages"]["onnx"]


def test_reference_data_is_part_of_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """../shared/reference appearing (or changing) changes the fingerprint, so a batch reruns its trusted run and
    regrades every student alike, never one student's maximum alone (issue 12, item 3)."""
    monkeypatch.setattr(environment, "SHARED_REFERENCE", tmp_path / "shared")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    before = requirements.fingerprint()["reference_data"]
    assert before == {"shared_reference": None, "hub_models": None}
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "resnet18.profile.json").write_text("[]")
    (tmp_path / "hf" / "hub" / "models--timm--resnet50.a1_in1k").mkdir(parents=True)
    after = requirements.fingerprint()["reference_data"]
    assert after["shared_reference"]["entries"] == 1 and after["hub_models"]["entries"] == 1
    (tmp_path / "shared" / "resnet18.profile.json").write_text("[1]")
    assert requirements.fingerprint()["reference_data"] != after


def test_jetson_state_is_unknown_off_the_board() -> None:
    """On a machine without /etc/nv_tegra_release and nvpmodel, every board fact is None (unknown), never a guess."""
    if environment.JETSON_RELEASE.exists():
        pytest.skip("this is a Jetson")
    assert requirements.fingerprint()["jetson"] == {"l4t_release": None, "power_mode": None, "clocks_fixed": None}


def test_l4t_release_from_the_real_file_layout(tmp_path: Path) -> None:
    """/etc/nv_tegra_release as an Orin Nano Super on JetPack 6 printed it (a benchmark report's environment
    section, found with the search tool: first lines quoted as published) gives R36.4.7."""
    release = tmp_path / "nv_tegra_release"
    release.write_text(
        "# R36 (release), REVISION: 4.7, GCID: 42132812, BOARD: generic, EABI: aarch64, DATE: Thu Sep 18 22:54:44 UTC 2025\n"
        "# KERNEL_VARIANT: oot\nTARGET_USERSPACE_LIB_DIR=nvidia\n"
    )
    assert environment.l4t_release(release) == "R36.4.7"
    release.write_text("garbage\n")
    assert environment.l4t_release(release) is None
    assert environment.l4t_release(tmp_path / "absent") is None


def _clock(folder: Path, low: str, high: str, names: tuple[str, str]) -> None:
    folder.mkdir(parents=True)
    (folder / names[0]).write_text(low + "\n")
    (folder / names[1]).write_text(high + "\n")


def test_clocks_fixed_reads_what_jetson_clocks_writes(tmp_path: Path) -> None:
    """Floors equal to ceilings on every CPU and the GPU: fixed; one CPU free: not fixed; no GPU node: unknown."""
    cpu = ("scaling_min_freq", "scaling_max_freq")
    gpu = ("min_freq", "max_freq")
    for n in (0, 1):
        _clock(tmp_path / f"devices/system/cpu/cpu{n}/cpufreq", "1728000", "1728000", cpu)
    assert environment.clocks_fixed(tmp_path) is None  # no GPU devfreq node: cannot tell
    _clock(tmp_path / "class/devfreq/17000000.gpu", "1020000000", "1020000000", gpu)
    assert environment.clocks_fixed(tmp_path) is True
    (tmp_path / "devices/system/cpu/cpu1/cpufreq/scaling_min_freq").write_text("115200\n")
    assert environment.clocks_fixed(tmp_path) is False
    (tmp_path / "devices/system/cpu/cpu1/cpufreq/scaling_min_freq").write_text("")
    assert environment.clocks_fixed(tmp_path) is None
