"""The hidden tests' one-rule graphs: more rows of the README's DLA rule table (TensorRT 10.3, Orin DLA).

Built like ``graphs.py``: each graph breaks exactly one rule, the node at fault goes to GPU and a
legal node beside it stays on DLA, all known by construction (the self-tests check each graph
against the grader's own predictor). The student release empties this module
(``grader/commands/release.py``), together with the hidden tests that use it.
"""

from __future__ import annotations

import pytest

from grader.practices.practice3.graphs import Expect, RuleGraph, _Builder, _input

# The release cuts hidden tests out of the suites and empties a module marked as a whole.
pytestmark = pytest.mark.visibility("hidden")


def conv_pads() -> RuleGraph:
    """Conv 3x3 with pads 2 (< kernel, DLA), then Conv 3x3 with pads 3 (not < kernel, GPU)."""
    b = _Builder(21)
    x = b.node("Conv", "conv_p2", ["x", b.weight("w2", (4, 3, 3, 3))], kernel_shape=[3, 3], pads=[2, 2, 2, 2])
    x = b.node("Conv", "conv_p3", [x, b.weight("w3", (4, 4, 3, 3))], kernel_shape=[3, 3], pads=[3, 3, 3, 3])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "conv_pads3.onnx",
        "1x3x16x16 -> Conv 3x3 pads 2 -> Conv 3x3 pads 3 -> Relu",
        b.model("conv_pads", [_input("x", [1, 3, 16, 16])], [out]),
        {
            "conv_p2": Expect("DLA", "pads 2 are within 0..31 and smaller than the kernel 3"),
            "conv_p3": Expect(
                "GPU", "Conv pads 3 are not smaller than the kernel 3 (DLA: 0..31 and < kernel)", (("pad",),)
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def conv_transpose_pads() -> RuleGraph:
    """ConvTranspose 2x2 stride 2 without pads (DLA), then ConvTranspose 3x3 with pads 1 (GPU)."""
    b = _Builder(22)
    x = b.node("ConvTranspose", "deconv_p0", ["x", b.weight("w0", (4, 4, 2, 2))], kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("ConvTranspose", "deconv_p1", [x, b.weight("w1", (4, 4, 3, 3))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "deconv_pads1.onnx",
        "1x4x8x8 -> ConvTranspose 2x2 stride 2 -> ConvTranspose 3x3 pads 1 -> Relu",
        b.model("deconv_pads", [_input("x", [1, 4, 8, 8])], [out]),
        {
            "deconv_p0": Expect("DLA", "a 2x2 stride-2 ConvTranspose without pads runs on DLA"),
            "deconv_p1": Expect("GPU", "ConvTranspose with pads 1: DLA deconvolutions need pads 0", (("pad",),)),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def matmul_weights() -> RuleGraph:
    """MatMul by constant weights (DLA, a 1x1 convolution), then MatMul by a runtime tensor (GPU)."""
    b = _Builder(23)
    x = b.node("MatMul", "matmul_const", ["x", b.weight("w", (8, 8))])
    x = b.node("MatMul", "matmul_runtime", [x, "y"])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "matmul_runtime.onnx",
        "1x4x8x8 -> MatMul(8x8 constant) -> MatMul(input y, 1x4x8x8) -> Relu",
        b.model("matmul_weights", [_input("x", [1, 4, 8, 8]), _input("y", [1, 4, 8, 8])], [out]),
        {
            "matmul_const": Expect("DLA", "MatMul with a constant second input runs on DLA (as a 1x1 convolution)"),
            "matmul_runtime": Expect(
                "GPU", "MatMul's second input is the runtime tensor y, not constant weights", (("constant",),)
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def pool_stride() -> RuleGraph:
    """MaxPool 2x2 stride 16 (largest DLA pooling stride), then AveragePool 2x2 stride 17."""
    b = _Builder(24)
    x = b.node("MaxPool", "pool_s16", ["x"], kernel_shape=[2, 2], strides=[16, 16])  # 64 -> 4
    x = b.node("AveragePool", "pool_s17", [x], kernel_shape=[2, 2], strides=[17, 17])  # 4 -> 1
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "pool_stride17.onnx",
        "1x2x64x64 -> MaxPool 2x2 stride 16 -> AveragePool 2x2 stride 17 -> Relu",
        b.model("pool_stride", [_input("x", [1, 2, 64, 64])], [out]),
        {
            "pool_s16": Expect("DLA", "stride 16 is within DLA's pooling strides 1..16"),
            "pool_s17": Expect(
                "GPU", "AveragePool stride 17 > 16 (DLA pooling strides are 1..16)", (("stride",), ("17",))
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def reduce_mean() -> RuleGraph:
    """ReduceMean over H and W between two DLA activations."""
    b = _Builder(25)
    x = b.node("Relu", "relu", ["x"])
    x = b.node("ReduceMean", "mean", [x], axes=[2, 3], keepdims=1)
    out = b.node("Sigmoid", "sigmoid", [x])
    return RuleGraph(
        "reduce_mean.onnx",
        "1x4x8x8 -> Relu -> ReduceMean(axes H, W) -> Sigmoid",
        b.model("reduce_mean", [_input("x", [1, 4, 8, 8])], [out]),
        {
            "relu": Expect("DLA", "Relu runs on DLA"),
            "mean": Expect("GPU", "ReduceMean is an average reduce, which DLA cannot do", (("average", "avg"),)),
            "sigmoid": Expect("DLA", "Sigmoid runs on DLA"),
        },
    )


def eltwise_broadcast() -> RuleGraph:
    """Add of an NC11 constant (DLA), then Mul by a 1x1x1xW constant (a broadcast DLA cannot do)."""
    b = _Builder(26)
    x = b.node("Add", "add_nc11", ["x", b.weight("bias", (1, 3, 1, 1), 0.5)])
    x = b.node("Mul", "mul_w", [x, b.weight("ramp", (1, 1, 1, 8))])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "broadcast_w.onnx",
        "1x3x8x8 -> Add(1x3x1x1 constant) -> Mul(1x1x1x8 constant) -> Relu",
        b.model("eltwise_broadcast", [_input("x", [1, 3, 8, 8])], [out]),
        {
            "add_nc11": Expect("DLA", "an NC11 broadcast runs on DLA"),
            "mul_w": Expect(
                "GPU", "Mul broadcasts 1x1x1x8 over 1x3x8x8: DLA broadcasts only NCHW, NC11, N111", (("broadcast",),)
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def resize_scale() -> RuleGraph:
    """Nearest Resize by 2 (DLA), then by 1.5 (not an integer scale: GPU)."""
    b = _Builder(27)
    x = b.node("Resize", "resize_x2", ["x", "", b.floats("scales2", [1, 1, 2, 2])], mode="nearest")  # 8 -> 16
    x = b.node("Resize", "resize_x1_5", [x, "", b.floats("scales1_5", [1, 1, 1.5, 1.5])], mode="nearest")  # -> 24
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "resize_1_5.onnx",
        "1x4x8x8 -> Resize nearest x2 -> Resize nearest x1.5 -> Relu",
        b.model("resize_scale", [_input("x", [1, 4, 8, 8])], [out]),
        {
            "resize_x2": Expect("DLA", "a constant integer scale 2 (nearest, 1..32) runs on DLA"),
            "resize_x1_5": Expect(
                "GPU", "Resize scale 1.5 is not an integer: DLA resizes by 1..32 (nearest)", (("scale",),)
            ),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def slice_batch() -> RuleGraph:
    """Slice of the channels (DLA), then Slice of the batch axis (GPU)."""
    b = _Builder(28)
    x = b.node("Slice", "slice_c", ["x", b.ints("c_start", [0]), b.ints("c_end", [2]), b.ints("c_axis", [1])])
    x = b.node("Slice", "slice_n", [x, b.ints("n_start", [0]), b.ints("n_end", [1]), b.ints("n_axis", [0])])
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "slice_batch.onnx",
        "2x4x8x8 -> Slice channels 0:2 -> Slice batch 0:1 -> Relu",
        b.model("slice_batch", [_input("x", [2, 4, 8, 8])], [out]),
        {
            "slice_c": Expect("DLA", "a constant stride-1 Slice of the channel axis runs on DLA"),
            "slice_n": Expect("GPU", "Slice on the batch axis: DLA slices C, H and W only", (("batch",),)),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


def softmax_size() -> RuleGraph:
    """Softmax over 16 channels (DLA) and, on a second input, over 2000 channels (> 1024: GPU)."""
    b = _Builder(29)
    small = b.node("Softmax", "softmax_16", ["x"], axis=1)
    large = b.node("Softmax", "softmax_2000", ["y"], axis=1)
    return RuleGraph(
        "softmax_2000.onnx",
        "1x16x4x4 -> Softmax(axis=1); 1x2000x1x1 -> Softmax(axis=1)",
        b.model("softmax_size", [_input("x", [1, 16, 4, 4]), _input("y", [1, 2000, 1, 1])], [small, large]),
        {
            "softmax_16": Expect("DLA", "a Softmax over 16 channels runs on DLA"),
            "softmax_2000": Expect("GPU", "Softmax over an axis of 2000 > 1024", (("1024",),)),
        },
    )


def gather() -> RuleGraph:
    """Gather of two channels (an op DLA does not run), then Relu."""
    b = _Builder(30)
    x = b.node("Gather", "gather", ["x", b.ints("picked", [0, 2])], axis=1)
    out = b.node("Relu", "relu", [x])
    return RuleGraph(
        "gather.onnx",
        "1x4x8x8 -> Gather(channels 0 and 2) -> Relu",
        b.model("gather", [_input("x", [1, 4, 8, 8])], [out]),
        {
            "gather": Expect("GPU", "Gather is not supported on DLA", (("gather",),)),
            "relu": Expect("DLA", "Relu runs on DLA"),
        },
    )


# The hidden rule tests, one per graph (parametrized by these names in the suite).
GRAPHS = {
    build.__name__: build
    for build in (
        conv_pads,
        conv_transpose_pads,
        matmul_weights,
        pool_stride,
        reduce_mean,
        eltwise_broadcast,
        resize_scale,
        slice_batch,
        softmax_size,
        gather,
    )
}
