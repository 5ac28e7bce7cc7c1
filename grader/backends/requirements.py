"""What a test may require of this machine (``@pytest.mark.requires``), probed lazily and once per process.

The probes that need TensorRT, pycuda or trtexec live in their backends; this module puts them
together with the backend-free facts of ``grader.core.environment`` into capabilities and the
fingerprint that goes into every report.
"""

from __future__ import annotations

from functools import cache

from grader.backends import tensorrt as trt_backend
from grader.backends.trtexec import find_trtexec
from grader.core.environment import INSTALL_HINTS, REQUIREMENTS, Capability, gpu_name, machine_facts

__all__ = ["INSTALL_HINTS", "REQUIREMENTS", "Capability", "capability", "fingerprint"]


@cache
def capability(name: str) -> Capability:
    """Probe one capability (``tensorrt``, ``gpu``, ``pycuda``, ``trtexec`` or ``dla``)."""
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
