"""The machine, as the grader's bottom floor sees it: GPU name, packages, Jetson state, reference data.

It imports no backend: the capabilities a test can require (TensorRT, pycuda, trtexec, DLA) are
probed by ``grader.backends.requirements`` on top of these facts. Every missing capability comes
with a reason that says what to install (``INSTALL_HINTS``), because a skipped test must tell the
student why it was not graded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.core.paths import SHARED_REFERENCE

JETSON_RELEASE = Path("/etc/nv_tegra_release")
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")

SETUP_HINT = "see README.md, section 'Jetson setup (JetPack 6.2)'"

# What to install for each capability a test can require.
INSTALL_HINTS = {
    "tensorrt": "TensorRT 10.3 Python bindings: on the Jetson they come with JetPack 6.2 "
    "(sudo apt install python3-libnvinfer; create the venv with --system-site-packages). "
    "TensorRT cannot be installed on x86 CPU machines",
    "gpu": "an NVIDIA GPU with its driver (the Jetson's integrated GPU, or a desktop GPU with nvidia-smi)",
    "pycuda": "pycuda built on the board: export PATH=/usr/local/cuda/bin:$PATH && pip install pycuda",
    "trtexec": "trtexec: on JetPack it is /usr/src/tensorrt/bin/trtexec (export PATH=$PATH:/usr/src/tensorrt/bin)",
    "dla": "a board with DLA cores (AGX Orin, Orin NX); the Orin Nano has none, "
    "so DLA placement is graded with the simulator instead",
    # Python packages the lab installs (pyproject's cpu and jetson extras), and files beside the repository.
    "timm": "the timm package: pip install timm",
    "ultralytics": "the Ultralytics package: pip install ultralytics-opencv-headless "
    "(on the Jetson: pip install --no-deps ultralytics)",
    "reference_exports": "NVIDIA's real trtexec exports, kept in <repo>/../shared/reference/trtexec-exports "
    "on the course machines",
    "reference_logs": "real trtexec logs, kept in <repo>/../shared/reference/trtexec-logs on the course machines",
}

REQUIREMENTS = tuple(INSTALL_HINTS)


@dataclass(frozen=True)
class Capability:
    """One capability: present or not, with what was found or why not."""

    name: str
    available: bool
    detail: str = ""

    def skip_reason(self) -> str:
        """Why a test needing this capability is not graded here, and what to install."""
        return f"not graded on this machine: {self.detail}. Needs {INSTALL_HINTS[self.name]}; {SETUP_HINT}"


@cache
def gpu_name() -> str | None:
    """Name of the CUDA GPU: nvidia-smi on desktops, the device-tree model on a Jetson."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            return out.splitlines()[0].strip()
    if JETSON_RELEASE.exists():
        try:
            return DEVICE_TREE_MODEL.read_text(errors="replace").strip("\x00\n ") or "NVIDIA Jetson"
        except OSError:
            return "NVIDIA Jetson"
    return None


def package_version(dist: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None




def _listing_digest(folder: Path, pattern: str) -> dict[str, object] | None:
    """Names and sizes of what ``folder`` holds (a digest and a count), or None when it is absent."""
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    count = 0
    for path in sorted(folder.glob(pattern)):
        try:
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\n".encode())
        count += 1
    return {"entries": count, "sha256": digest.hexdigest()[:16]}


def reference_data() -> dict[str, object]:
    """What the suites may read besides the student's files: NVIDIA's real trtexec files beside the repository,
    and the models in the Hugging Face cache (resnet50's weights). Tests skip for the machine without them,
    so they belong to the environment a grade was computed in: a batch regrades everyone when they change."""
    hub = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface") / "hub"
    return {
        "shared_reference": _listing_digest(SHARED_REFERENCE, "**/*"),
        "hub_models": _listing_digest(hub, "models--*"),
    }


def machine_facts() -> dict[str, object]:
    """The machine a grade was computed in, without any backend's probes (see ``grader.backends.requirements``)."""
    gpu = gpu_name()
    return {
        "os": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "packages": {
            dist: package_version(dist)
            for dist in ("torch", "torchvision", "timm", "onnx", "onnxruntime", "polygraphy", "numpy")
        },
        "ultralytics": package_version("ultralytics") or package_version("ultralytics-opencv-headless"),
        "gpu": gpu,
        "reference_data": reference_data(),
        "jetson": jetson_state(),
    }


SYSFS = Path("/sys")
_L4T = re.compile(r"#\s*R(?P<major>\d+)\s*\(release\),\s*REVISION:\s*(?P<revision>[\d.]+)")
_POWER_MODE = re.compile(r"NV Power Mode:\s*(?P<name>\S+)\s*\n\s*(?P<id>\d+)")
# The GPU's devfreq node: ga10b (Orin), gv11b (Xavier), gp10b (TX2), gpu (JetPack 6 platform name).
_GPU_DEVFREQ = re.compile(r"ga10b|gv11b|gp10b|gpu", re.IGNORECASE)


def l4t_release(path: Path = JETSON_RELEASE) -> str | None:
    """``R36.4.3`` from ``/etc/nv_tegra_release`` (``# R36 (release), REVISION: 4.3, ...``); None if absent."""
    try:
        match = _L4T.search(path.read_text(errors="replace"))
    except OSError:
        return None
    return f"R{match['major']}.{match['revision']}" if match else None


def power_mode() -> str | None:
    """The nvpmodel power mode (``MAXN (0)``), from ``nvpmodel -q``; None where nvpmodel is absent or says nothing."""
    if not shutil.which("nvpmodel"):
        return None
    try:
        out = subprocess.run(["nvpmodel", "-q"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _POWER_MODE.search(out)
    return f"{match['name']} ({match['id']})" if match else None


def _pinned(minimum: Path, maximum: Path) -> bool | None:
    """Whether a clock's floor equals its ceiling (what jetson_clocks sets); None if unreadable."""
    try:
        return int(minimum.read_text().split()[0]) == int(maximum.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def clocks_fixed(sysfs: Path | None = None) -> bool | None:
    """Whether ``jetson_clocks`` pinned the CPU and GPU clocks (floor = ceiling in sysfs); None if unreadable.

    ``jetson_clocks --show`` needs root, so this reads what it writes: each CPU's cpufreq
    ``scaling_min_freq``/``scaling_max_freq`` and the GPU devfreq ``min_freq``/``max_freq``.
    """
    root = sysfs or SYSFS
    cpus = [
        _pinned(cpu / "scaling_min_freq", cpu / "scaling_max_freq")
        for cpu in sorted(root.glob("devices/system/cpu/cpu[0-9]*/cpufreq"))
    ]
    gpus = [
        _pinned(node / "min_freq", node / "max_freq")
        for node in sorted(root.glob("class/devfreq/*"))
        if _GPU_DEVFREQ.search(node.name)
    ]
    if not cpus or not gpus or None in cpus + gpus:
        return None  # part of it could not be read: unknown, not "not fixed"
    return all(cpus + gpus)


def jetson_state() -> dict[str, object]:
    """What a board's result depends on beyond its packages: L4T release, power mode, fixed clocks.

    Each is probed for real and is None (unknown) where the probe finds nothing, e.g. on x86.
    """
    release = l4t_release()
    return {
        "l4t_release": release,
        "power_mode": power_mode(),
        "clocks_fixed": clocks_fixed() if release else None,
    }
