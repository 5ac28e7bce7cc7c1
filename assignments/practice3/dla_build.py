"""Practice 3: the DLA deployment flow, simulated on the GPU, plus a DLA placement simulator.

The Jetson Orin Nano has no DLA (Deep Learning Accelerator). This practice walks through the
DLA flow anyway, on three levels:
- configure_dla / build_dla_engine: the TensorRT 10.3 builder settings for DLA (a real DLA
  build where the board has a core, the same constraints on the GPU where it has none);
- dla_placement / dla_report: a simulator that predicts, per ONNX node, what TensorRT 10.3
  would run on an Orin DLA and why not (runs everywhere, no TensorRT needed).

Check your work:  pytest assignments/practice3
TensorRT: use the stub's `t = _trt()` or the course text's `import tensorrt as trt` (in the function
or at the top of this file); both are graded on the same settings. On machines without TensorRT the
top of this file may import tensorrt but must not create TensorRT objects (trt.Logger, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path  # noqa: F401 - for build_dla_engine
from typing import Any

import numpy as np  # noqa: F401 - handy for constant tensors (onnx.numpy_helper.to_array)
import onnx  # noqa: F401
from onnx import numpy_helper, shape_inference  # noqa: F401

# The tensorrt module, imported on first use by _trt(). While configure_dla is graded, the grader
# sets `trt` to its recording stand-in (it only records which settings you ask for; it builds
# nothing), then restores it. `import tensorrt as trt` (the course text's way) works too: on a
# machine without TensorRT it gives the same stand-in, only while configure_dla is graded.
trt: Any = None


def _trt() -> Any:
    """The tensorrt module (imported on first use, so this file imports without TensorRT)."""
    global trt
    if trt is None:
        import tensorrt

        trt = tensorrt
    return trt


@dataclass
class Placement:
    """Where one ONNX node would run on an Orin with DLA, and why not on DLA."""

    node: str  # the ONNX node's name
    op_type: str  # the ONNX op type, e.g. "Conv"
    device: str  # "DLA" or "GPU"
    reason: str = ""  # empty on DLA; on GPU the violated rule, e.g. "Conv kernel 35 > 32"


def configure_dla(builder: Any, config: Any, *, dla_core: int = 0, allow_gpu_fallback: bool = True) -> str:
    """Set up ``config`` for DLA core ``dla_core``; return "DLA", or "GPU" on a board without DLA.

    Contract (TensorRT 10.3; ``t = _trt()`` or ``import tensorrt as t``, both graded the same):
    - ``builder.num_DLA_cores`` says how many DLA cores the board has
      (AGX Orin 2, Orin NX 16GB 2, Orin NX 8GB 1, Orin Nano 0);
    - ``dla_core < 0``, or a board WITH DLA cores where ``dla_core >= builder.num_DLA_cores``:
      raise ValueError naming the core and how many exist (never ignore a core that does not
      exist), before changing anything;
    - always ``config.set_flag(t.BuilderFlag.FP16)`` (DLA computes FP16 or INT8 only) and, when
      ``allow_gpu_fallback``, ``config.set_flag(t.BuilderFlag.GPU_FALLBACK)``;
    - the board has the core: ``config.default_device_type = t.DeviceType.DLA`` and
      ``config.DLA_core = dla_core``, return "DLA";
    - the board has no DLA at all (``num_DLA_cores == 0``, Orin Nano): keep the GPU as the
      device (the simulation: same FP16 and fallback settings), return "GPU".
    Only configure: do not create networks or build here.
    """
    # TODO 1: t = _trt()（或課本的 import tensorrt as t）；cores = builder.num_DLA_cores
    # TODO 2: dla_core < 0，或 cores > 0 且 dla_core >= cores：raise ValueError（寫出核心編號與有幾個核心）。
    # TODO 3: config.set_flag(t.BuilderFlag.FP16)；allow_gpu_fallback 時再設 t.BuilderFlag.GPU_FALLBACK。
    # TODO 4: cores == 0（Orin Nano）：維持 GPU，回傳 "GPU"。
    # TODO 5: 否則 config.default_device_type = t.DeviceType.DLA、config.DLA_core = dla_core，回傳 "DLA"。
    raise NotImplementedError


def dla_placement(onnx_path: str | os.PathLike[str], *, precision: str = "fp16") -> list[Placement]:
    """One Placement per node of the ONNX graph, in graph order, by TensorRT 10.3's Orin DLA rules.

    ``precision`` is the build precision: "fp16" (default) or "int8" let DLA run; "fp32" puts
    every node on GPU (DLA never runs FP32 layers). Anything else: ValueError.

    Order of the checks for each node (the first rule that fails gives the reason):
    1. global: precision "fp32" -> every node GPU, reason "FP32: DLA runs FP16/INT8 only";
       a graph input with a symbolic/unknown dim -> every node GPU, reason naming "dynamic" shapes;
    2. a node whose inputs are all constants (initializers, Constant outputs, outputs of such
       nodes; a Constant node has no inputs; a Shape of a tensor whose dims are all known) is folded
       by TensorRT into the node it feeds: it takes the device of its first consumer in graph order
       (DLA with reason "" when that consumer is on DLA or there is none; GPU with a reason naming
       the consumer otherwise), so a folded constant is never a DLA subgraph of its own;
    3. dimension limits on the node's activation tensors (inputs and outputs that are not
       constants): batch (dim 0) <= 4096, every other dim <= 8192;
    4. the node's own rule (table in README.md; TENSORRT_FACTS section 4), e.g.
       Conv kernel 1..32, stride 1..8, pads 0..31 and < kernel; MaxPool/AveragePool window 1..8;
       GlobalAveragePool/ReduceMean -> GPU; Div/Pow/Exp/Log/Sqrt -> GPU; Concat only on the
       channel axis of 4-D tensors; Reshape/Transpose 4-D in and out, Flatten -> GPU; a Reshape
       fed by or feeding a Slice/Split/Concat -> GPU; the Mul/Add right after an
       InstanceNormalization (GroupNorm's scale and bias, through Reshapes) -> GPU;
       activations other than Relu/Sigmoid/Tanh/Clip/LeakyRelu/PRelu -> GPU; an op the table
       does not list -> GPU.
    Use ``onnx.shape_inference.infer_shapes`` for tensor dims; a dim it cannot tell (None, or a
    name such as 'unk__3' on an intermediate tensor) counts as fine.

    Reasons are graded by keywords (any case), so name the rule and the value:
    "FP32: ..." | "dynamic shapes: input ... is Nx3x224x224" | "dimension 8400 > 8192" |
    "batch 5000 > 4096" | "Conv kernel 35 > 32" | "Conv stride 9 > 8" | "MaxPool window 9 > 8" |
    "Concat on axis 3, not the channel axis" | "Div: not supported on DLA" |
    "Flatten to 2-D: DLA needs 4-D" | "HardSwish: activation not supported on DLA" |
    "GlobalAveragePool: DLA cannot do average reduce".
    """
    # TODO 1: 檢查 precision；model = shape_inference.infer_shapes(onnx.load(str(onnx_path)))
    # TODO 2: 收集形狀：graph.input / value_info / output 的 dims（dim_value，否則 None），
    #         以及常數：initializer 名稱（numpy_helper.to_array 取得數值）。
    # TODO 3: 全域規則：fp32 → 全部 GPU；輸入有符號維度（dim_param）→ 全部 GPU（dynamic）。
    # TODO 4: 依圖的順序走訪 graph.node：全部輸入皆為常數 → 折疊成權重（DLA，並把輸出記為常數）；
    #         否則先檢查維度上限，再依 op_type 套用 DLA 規則表，寫出 reason。
    raise NotImplementedError


def dla_report(placements: list[Placement]) -> dict[str, Any]:
    """Summarise a placement along graph order.

    Keys: "dla_nodes" and "gpu_nodes" (counts), "dla_subgraphs" (number of maximal runs of
    consecutive DLA nodes), "transitions" (number of neighbouring pairs whose devices differ,
    DLA->GPU and GPU->DLA: each costs a copy), "gpu_op_types" (sorted list, no repeats, of
    the op types placed on GPU). An empty list gives zeros and [].
    """
    # TODO 1: devices = [p.device for p in placements]
    # TODO 2: 子圖數 = 連續 DLA 區段的個數；轉換次數 = 相鄰兩個節點 device 不同的次數。
    # TODO 3: gpu_op_types = sorted(set(...))
    raise NotImplementedError


def build_dla_engine(
    onnx_path: str | os.PathLike[str],
    engine_path: str | os.PathLike[str],
    *,
    dla_core: int = 0,
    precision: str = "fp16",
) -> dict[str, Any]:
    """Build a DLA engine with TensorRT 10.3 (Jetson), serialize it to ``engine_path``, report placements.

    Builder, network (``builder.create_network(0)``), ``trt.OnnxParser`` (raise RuntimeError with
    the parser's errors when it fails), config set up by ``configure_dla(builder, config,
    dla_core=dla_core)``; precision "fp16" or "int8" (ValueError otherwise; "int8" also sets
    ``BuilderFlag.INT8``). Before building, ask TensorRT about every network layer:
    ``config.can_run_on_DLA(layer)``. Build with ``builder.build_serialized_network`` (None
    means failure: RuntimeError) and write the bytes to ``engine_path``.

    Returns {"device": configure_dla's answer ("DLA" or "GPU"), "engine_path": Path,
    "precision": precision, "tensorrt": {layer name: "DLA" or "GPU"} in network order,
    "predicted": {node name: device} from dla_placement(onnx_path, precision=precision)}.
    """
    # TODO 1: t = _trt()；logger、builder、network = builder.create_network(0)、
    #         parser = t.OnnxParser(network, logger)；parser.parse_from_file(...) 失敗時列出錯誤。
    # TODO 2: config = builder.create_builder_config()；device = configure_dla(builder, config, dla_core=dla_core)
    # TODO 3: for i in range(network.num_layers): layer = network.get_layer(i)；config.can_run_on_DLA(layer)
    # TODO 4: builder.build_serialized_network(network, config) → 寫入 engine_path；回傳上面說明的 dict。
    raise NotImplementedError
