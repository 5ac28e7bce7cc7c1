"""Reading TensorRT's DLA messages: verbose build logs and trtexec's failure on boards without DLA.

A DLA build with GPU fallback logs (TensorRT 10.3, ``trtexec --verbose`` or a VERBOSE logger):

    [V] [TRT] Number of DLA node candidates offloaded : 2 out of 2
    [V] [TRT] {ForeignNode[/conv1/Conv.../layer4/layer4.2/relu_2/Relu]} successfully offloaded to DLA.
    [W] [TRT] Layer '/avgpool/GlobalAveragePool' (REDUCE): Unsupported on DLA. Switching ... to GPU.

and on a board with fewer cores than ``--useDLACore=N`` asks for, trtexec stops with
``Cannot create DLA engine, N not available``. Pure text: usable on every machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CANDIDATES = re.compile(r"Number of DLA node candidates offloaded\s*:\s*(\d+)\s+out of\s+(\d+)")
_OFFLOADED = re.compile(r"\{ForeignNode\[(.*?)\]\}\s+successfully offloaded to DLA")
_SWITCHED = re.compile(r"Layer '(.+?)' \((\w+)\): Unsupported on DLA")
_GPU_LAYER = re.compile(r"\[GpuLayer\]\s+(\w+):\s+(\S.*?)\s*$")
_NO_DLA = re.compile(r"Cannot create DLA engine,\s*(-?\d+)\s+not available")
_SUFFIX = re.compile(r"_\d+$")


@dataclass
class DlaLog:
    """What a verbose DLA build log says about placement."""

    candidates: tuple[int, int] | None = None  # (offloaded, candidates)
    offloaded: list[str] = field(default_factory=list)  # DLA subgraphs, as "first...last" layer names
    switched_to_gpu: list[tuple[str, str]] = field(default_factory=list)  # (layer, TensorRT layer type)
    gpu_layers: list[tuple[str, str]] = field(default_factory=list)  # [GpuLayer] (type, name), internal ones too

    @property
    def dla_subgraphs(self) -> int:
        """Number of DLA loadables the build made."""
        return self.candidates[0] if self.candidates else len(self.offloaded)


def parse(text: str) -> DlaLog:
    """The DLA placement facts in a TensorRT/trtexec log."""
    log = DlaLog()
    for line in text.splitlines():
        if match := _CANDIDATES.search(line):
            log.candidates = (int(match.group(1)), int(match.group(2)))
        elif match := _OFFLOADED.search(line):
            log.offloaded.append(match.group(1))
        elif match := _SWITCHED.search(line):
            log.switched_to_gpu.append((match.group(1), match.group(2)))
        elif match := _GPU_LAYER.search(line):
            log.gpu_layers.append((match.group(1), match.group(2)))
    return log


def op_type_of(layer_name: str) -> str:
    """The ONNX op type in an exported layer name: ``/avgpool/GlobalAveragePool`` -> ``GlobalAveragePool``."""
    return _SUFFIX.sub("", layer_name.rstrip("/").rsplit("/", 1)[-1])


def explain_trtexec_dla(output: str, command: str = "trtexec --useDLACore=0") -> str | None:
    """A student-facing explanation of a known trtexec DLA failure in ``output``, or None."""
    if match := _NO_DLA.search(output):
        core = match.group(1)
        return (
            f"`{command}` stopped with 'Cannot create DLA engine, {core} not available': this board has no "
            f"DLA core {core}. That is expected on a Jetson Orin Nano, which has no DLA at all (AGX Orin and "
            "Orin NX 16GB have 2 cores, Orin NX 8GB has 1). Nothing is wrong with your model or command. "
            "On this board, study DLA with dla_placement() (the simulator) and build_dla_engine(), which "
            "applies the DLA constraints (FP16, GPU fallback) on the GPU; run the same trtexec command on a "
            "board with DLA to see the real placement."
        )
    if "Unknown option" in output:
        option = re.search(r"Unknown option:?\s*(\S+)", output)
        return (
            f"trtexec (TensorRT 10.3) rejected {option.group(1) if option else 'an option'}: --buildOnly, "
            "--workspace and --explicitBatch were removed in TensorRT 10 (use --skipInference and "
            "--memPoolSize=workspace:N)."
        )
    return None
