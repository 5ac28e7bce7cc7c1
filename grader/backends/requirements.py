"""What a test may require of this machine (``@pytest.mark.requires``), probed lazily and once per process.

The probes that need TensorRT, pycuda or trtexec live in their backends; this module puts them
together with the backend-free facts of ``grader.core.environment`` into capabilities and the
fingerprint that goes into every report. Besides the board's (``BOARD``), a test may require a
Python package the lab installs (found without importing it) or reference files beside the repository.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from grader.backends import tensorrt as trt_backend
from grader.backends.trtexec import find_trtexec
from grader.core import paths
from grader.core.environment import INSTALL_HINTS, REQUIREMENTS, Capability, gpu_name, machine_facts, package_version

__all__ = ["BOARD", "INSTALL_HINTS", "REQUIREMENTS", "Capability", "capability", "fingerprint", "reference_folder"]

# The Jetson's capabilities: a test that requires one gets the board's time limit (engine builds take minutes).
BOARD = ("tensorrt", "gpu", "pycuda", "trtexec", "dla")
# Capability -> (module to find, distributions that install it).
PACKAGES = {"timm": ("timm", ("timm",)), "ultralytics": ("ultralytics", ("ultralytics", "ultralytics-opencv-headless"))}
# Capability -> its folder of ``<repo>/../shared/reference``.
REFERENCE_FOLDERS = {"reference_exports": "trtexec-exports", "reference_logs": "trtexec-logs"}


def reference_folder(name: str) -> Path:
    """Where the reference files of capability ``name`` are (``reference_exports`` or ``reference_logs``)."""
    return paths.SHARED_REFERENCE / REFERENCE_FOLDERS[name]


@cache
def capability(name: str) -> Capability:
    """Probe one capability (one of ``REQUIREMENTS``)."""
    if name in PACKAGES:
        return _package(name)
    if name in REFERENCE_FOLDERS:
        folder = reference_folder(name)
        if not folder.is_dir():
            return Capability(name, False, f"the real trtexec files are not here ({folder} is absent)")
        return Capability(name, True, str(folder))
    if name == "tensorrt":
        probe = trt_backend.probe_tensorrt()
        return Capability(name, probe.available, probe.version or probe.reason)
    if name == "gpu":
        gpu = gpu_name()
        return Capability(name, gpu is not None, gpu or "no NVIDIA GPU found")
    if name == "pycuda":
        probe = trt_backend.probe_pycuda()
        return Capability(name, probe.available, probe.version or probe.reason)
    if name == "trtexec":
        path = find_trtexec()
        return Capability(name, path is not None, str(path) if path else "trtexec not found")
    if name == "dla":
        for needed in ("tensorrt", "gpu"):
            if not capability(needed).available:
                return Capability(name, False, f"DLA needs TensorRT and a GPU ({capability(needed).detail})")
        cores = trt_backend.num_dla_cores()
        return Capability(name, cores > 0, f"{cores} DLA cores" if cores else "this board has 0 DLA cores")
    raise ValueError(f"unknown capability {name!r}; known: {', '.join(REQUIREMENTS)}")


def _package(name: str) -> Capability:
    """A Python package, found on the path without importing it (an import can take seconds, or fail)."""
    module, distributions = PACKAGES[name]
    if importlib.util.find_spec(module) is None:
        return Capability(name, False, f"the '{module}' package is not installed")
    version = next((v for v in map(package_version, distributions) if v), None)
    return Capability(name, True, f"{module} {version}" if version else f"{module} (version unknown)")


def fingerprint() -> dict[str, object]:
    """The environment a grade was computed in (goes into every report)."""
    tensorrt = capability("tensorrt")
    gpu = capability("gpu")
    facts = machine_facts()
    return {
        **{key: facts[key] for key in ("os", "machine", "python", "packages", "ultralytics")},
        "tensorrt": tensorrt.detail if tensorrt.available else None,
        "tensorrt_missing_reason": None if tensorrt.available else tensorrt.detail,
        "gpu": gpu.detail if gpu.available else None,
        "dla_cores": trt_backend.num_dla_cores() if tensorrt.available and gpu.available else 0,
        "pycuda": capability("pycuda").available,
        "trtexec": str(find_trtexec()) if find_trtexec() else None,
        "reference_data": facts["reference_data"],
        "jetson": facts["jetson"],
    }
