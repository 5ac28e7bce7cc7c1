"""Small ONNX graphs that each break exactly one DLA rule (TensorRT 10.3, Orin DLA).

Every graph is built here with known shapes and attributes, so where each node runs is known
by construction: the node that breaks the rule goes to GPU, every other node stays on DLA
(often a node right at the legal limit sits next to it: kernel 32 beside kernel 33). Each
GPU node lists the keywords its reason must contain (any case; each inner tuple lists
alternatives, all tuples must match).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

OPSET = 17
IR_VERSION = 8


@dataclass(frozen=True)
class Expect:
    """Where one node must run, why, and what its reason must name when on GPU."""

    device: str
    why: str
    keywords: tuple[tuple[str, ...], ...] = ()


@dataclass
class RuleGraph:
    """One synthetic graph: the ONNX model, the expected placement of every node, the build precision."""

    filename: str
    description: str
    model: onnx.ModelProto
    expected: dict[str, Expect] = field(default_factory=dict)
    precision: str = "fp16"

    def save(self, folder: Path) -> Path:
        """Write the model into ``folder`` and return the file's path."""
        path = folder / self.filename
        onnx.save(self.model, str(path))
        return path


class _Builder:
    """Collects nodes and weights of a small graph."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], value: float | None = None) -> str:
        """A float32 initializer (random, or filled with ``value``)."""
        array = (
            np.full(shape, value, dtype=np.float32)
            if value is not None
            else (self.rng.standard_normal(shape) * 0.1).astype(np.float32)
        )
        self.weights.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, name: str, values: list[int]) -> str:
        """An int64 initializer (shapes, split sizes)."""
        self.weights.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def floats(self, name: str, values: list[float]) -> str:
        """A float32 initializer holding ``values`` (Resize scales)."""
        self.weights.append(numpy_helper.from_array(np.array(values, dtype=np.float32), name))
        return name

    def node(self, op: str, name: str, inputs: list[str], **attributes: object) -> str:
        """Append a node named ``name`` whose single output is ``name + '_out'``."""
        self.nodes.append(helper.make_node(op, inputs, [f"{name}_out"], name=name, **attributes))
        return f"{name}_out"

    def model(self, name: str, inputs: list[onnx.ValueInfoProto], outputs: list[str]) -> onnx.ModelProto:
        """The checked model; output shapes come from ONNX shape inference."""
        graph = helper.make_graph(self.nodes, name, inputs, [], initializer=self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
        inferred = {v.name: v for v in shape_inference.infer_shapes(model, strict_mode=True).graph.value_info}
        model.graph.output.extend(inferred[out] for out in outputs)
        onnx.checker.check_model(model, full_check=True)
        return model


def _input(name: str, shape: list[int | str]) -> onnx.ValueInfoProto:
    """A float32 graph input."""
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def conv_kernel() -> RuleGraph:
    """Conv 32x32 (largest DLA kernel), then Conv 33x33 (kernel > 32), then Relu."""
    b = _Builder(1)
    x = b.node("Conv", "conv_k32", ["x", b.weight("w32", (4, 3, 32, 32))], kernel_shape=[32, 32])  # 80 -> 49
    x = b.node("Conv", "conv_k33", [x, b.weight("w33", (4, 4, 33, 33))], kernel_shape=[33, 33])  # 49 -> 17
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "conv_kernel33.onnx",
        "1x3x80x80 -> Conv 32x32 -> Conv 33x33 -> Relu",
        b.model("conv_kernel", [_input("x", [1, 3, 80, 80])], [out]),
        {
            "conv_k32": Expect("DLA", "kernel 32 is within DLA's 1..32"),
            "conv_k33": Expect("GPU", "Conv kernel 33 > 32 (DLA kernels are 1..32)", (("kernel",), ("33",))),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def conv_stride() -> RuleGraph:
    """Conv with stride 9 (DLA strides are 1..8), then Conv with stride 8."""
    b = _Builder(2)
    x = b.node("Conv", "conv_s9", ["x", b.weight("w9", (4, 3, 3, 3))], kernel_shape=[3, 3], strides=[9, 9])
    x = b.node("Conv", "conv_s8", [x, b.weight("w8", (4, 4, 3, 3))], kernel_shape=[3, 3], strides=[8, 8])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "conv_stride9.onnx",
        "1x3x100x100 -> Conv 3x3 stride 9 -> Conv 3x3 stride 8 -> Relu",
        b.model("conv_stride", [_input("x", [1, 3, 100, 100])], [out]),
        {
            "conv_s9": Expect("GPU", "Conv stride 9 > 8 (DLA strides are 1..8)", (("stride",), ("9",))),
            "conv_s8": Expect("DLA", "stride 8 is within DLA's 1..8"),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def pool_window() -> RuleGraph:
    """MaxPool 8x8 (largest DLA window), then MaxPool 9x9."""
    b = _Builder(3)
    x = b.node("MaxPool", "pool_8", ["x"], kernel_shape=[8, 8])  # 40 -> 33
    x = b.node("MaxPool", "pool_9", [x], kernel_shape=[9, 9])  # 33 -> 25
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "pool_window9.onnx",
        "1x4x40x40 -> MaxPool 8x8 -> MaxPool 9x9 -> Relu",
        b.model("pool_window", [_input("x", [1, 4, 40, 40])], [out]),
        {
            "pool_8": Expect("DLA", "window 8 is within DLA's 1..8"),
            "pool_9": Expect(
                "GPU", "MaxPool window 9 > 8 (DLA pooling windows are 1..8)", (("window", "kernel"), ("9",))
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def concat_axis() -> RuleGraph:
    """Two branches concatenated along channels (DLA) and along the width axis (GPU)."""
    b = _Builder(4)
    left = b.node("Relu", "relu", ["x"])
    right = b.node("Sigmoid", "sigmoid", ["x"])
    channels = b.node("Concat", "concat_channels", [left, right], axis=1)
    width = b.node("Concat", "concat_width", [left, right], axis=3)
    return RuleGraph(
        "concat_width.onnx",
        "1x4x8x8 -> Relu, Sigmoid -> Concat(axis=1) and Concat(axis=3)",
        b.model("concat_axis", [_input("x", [1, 4, 8, 8])], [channels, width]),
        {
            "relu": Expect("DLA", "Relu runs on DLA"),
            "sigmoid": Expect("DLA", "Sigmoid runs on DLA"),
            "concat_channels": Expect("DLA", "Concat along the channel axis (1) runs on DLA"),
            "concat_width": Expect(
                "GPU", "Concat along axis 3 (width): DLA concatenates only along channels", (("axis", "channel"),)
            ),
        },
    )


def dynamic_batch() -> RuleGraph:
    """A symbolic batch dimension: DLA needs static shapes, so nothing runs on DLA."""
    b = _Builder(5)
    x = b.node("Conv", "conv", ["x", b.weight("w", (8, 3, 3, 3))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    out = b.node("Relu", "relu", [x])
    why = "input x is Nx3x16x16 (symbolic batch): DLA needs static shapes"
    keywords = (("dynamic",),)
    return RuleGraph(
        "dynamic_batch.onnx",
        "Nx3x16x16 (dynamic batch) -> Conv 3x3 -> Relu",
        b.model("dynamic_batch", [_input("x", ["N", 3, 16, 16])], [out]),
        {"conv": Expect("GPU", why, keywords), "relu": Expect("GPU", why, keywords)},
    )


def division() -> RuleGraph:
    """Mul by a per-channel constant (DLA), then Div by one (GPU in TensorRT 10.3)."""
    b = _Builder(6)
    x = b.node("Mul", "mul", ["x", b.weight("scale", (1, 3, 1, 1), 2.0)])
    x = b.node("Div", "div", [x, b.weight("std", (1, 3, 1, 1), 0.5)])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "div.onnx",
        "1x3x8x8 -> Mul(1x3x1x1 constant) -> Div(1x3x1x1 constant) -> Relu",
        b.model("division", [_input("x", [1, 3, 8, 8])], [out]),
        {
            "mul": Expect("DLA", "Mul with an NC11 constant runs on DLA"),
            "div": Expect("GPU", "Div is not supported on DLA (TensorRT 10.3)", (("div",),)),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def flatten_2d() -> RuleGraph:
    """Reshape 4-D -> 4-D (DLA), Flatten to 2-D (GPU), Gemm with constant weights (DLA)."""
    b = _Builder(7)
    x = b.node("Reshape", "reshape_4d", ["x", b.ints("shape", [1, 8, 2, 8])])
    x = b.node("Flatten", "flatten", [x], axis=1)
    out = b.node("Gemm", "gemm", [x, b.weight("fc", (10, 128)), b.weight("bias", (10,))], transB=1)
    return RuleGraph(
        "flatten_2d.onnx",
        "1x8x4x4 -> Reshape to 1x8x2x8 -> Flatten to 1x128 -> Gemm (constant weights)",
        b.model("flatten_2d", [_input("x", [1, 8, 4, 4])], [out]),
        {
            "reshape_4d": Expect("DLA", "a 4-D -> 4-D Reshape keeping the batch runs on DLA"),
            "flatten": Expect(
                "GPU",
                "Flatten gives a 2-D tensor: DLA reshapes only 4-D -> 4-D",
                (("flatten",), ("2-d", "2d", "4-d", "4d")),
            ),
            "gemm": Expect("DLA", "Gemm with a constant second input runs on DLA (as a 1x1 convolution)"),
        },
    )


def activation() -> RuleGraph:
    """Relu and Sigmoid (DLA) around HardSwish (not a DLA activation)."""
    b = _Builder(8)
    x = b.node("Relu", "relu", ["x"])
    x = b.node("HardSwish", "hardswish", [x])
    out = b.node("Sigmoid", "sigmoid", [x])
    return RuleGraph(
        "hardswish.onnx",
        "1x4x8x8 -> Relu -> HardSwish -> Sigmoid",
        b.model("activation", [_input("x", [1, 4, 8, 8])], [out]),
        {
            "relu": Expect("DLA", "Relu runs on DLA"),
            "hardswish": Expect(
                "GPU",
                "HardSwish is not a DLA activation (DLA: Relu, Sigmoid, Tanh, Clip, LeakyRelu, PRelu)",
                (("hardswish", "activation"),),
            ),
            "sigmoid": Expect("DLA", "Sigmoid runs on DLA"),
        },
    )


def wide_tensor() -> RuleGraph:
    """A 1x2x4x8200 input (width > 8192) pooled to 4100 wide: only the pool touches the wide tensor."""
    b = _Builder(9)
    x = b.node("MaxPool", "pool_wide", ["x"], kernel_shape=[1, 2], strides=[1, 2])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "width8200.onnx",
        "1x2x4x8200 -> MaxPool 1x2 stride 2 -> 1x2x4x4100 -> Relu",
        b.model("wide_tensor", [_input("x", [1, 2, 4, 8200])], [out]),
        {
            "pool_wide": Expect("GPU", "its input is 8200 wide: DLA dims are <= 8192", (("8192",),)),
            "relu": Expect("DLA", "its tensors are 4100 wide, within DLA's 8192"),
        },
    )


def large_batch() -> RuleGraph:
    """Batch 4097 (DLA batches are <= 4096)."""
    b = _Builder(10)
    out = b.node("Relu", "relu_batch", ["x"])
    return RuleGraph(
        "batch4097.onnx",
        "4097x2x2x2 -> Relu",
        b.model("large_batch", [_input("x", [4097, 2, 2, 2])], [out]),
        {"relu_batch": Expect("GPU", "batch 4097 > 4096 (DLA limit)", (("4096",),))},
    )


def legal_network(precision: str) -> RuleGraph:
    """Conv + BatchNormalization + Relu + MaxPool, all DLA layers: the precision alone decides."""
    b = _Builder(11)
    x = b.node("Conv", "conv", ["x", b.weight("w", (8, 3, 3, 3))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    stats = [b.weight("gamma", (8,), 1.0), b.weight("beta", (8,), 0.0), b.weight("mean", (8,), 0.0)]
    x = b.node("BatchNormalization", "bn", [x, *stats, b.weight("var", (8,), 1.0)])
    x = b.node("Relu", "relu", [x])
    out = b.node("MaxPool", "pool", [x], kernel_shape=[2, 2], strides=[2, 2])
    names = ("conv", "bn", "relu", "pool")
    if precision == "fp32":
        expected = {n: Expect("GPU", "an FP32 build: DLA runs FP16/INT8 only", (("fp32",),)) for n in names}
    else:
        expected = {n: Expect("DLA", f"a legal DLA layer in an {precision.upper()} build") for n in names}
    return RuleGraph(
        f"legal_{precision}.onnx",
        f"1x3x16x16 -> Conv 3x3 -> BatchNormalization -> Relu -> MaxPool 2x2, precision={precision!r}",
        b.model("legal", [_input("x", [1, 3, 16, 16])], [out]),
        expected,
        precision,
    )
