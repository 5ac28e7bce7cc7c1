"""The grader's DLA placement predictor: TensorRT 10.3's Orin DLA rules applied to an ONNX graph.

Written for the grader, apart from the reference solution, from the rule table in the lab's
TensorRT facts (section 4, "DLA rules") and NVIDIA's "DLA Supported Layers and Restrictions".
The Practice 3 suite takes its expected placements of real graphs from here; the self-tests
check it against a real AGX Orin TensorRT 10.3 log (ResNet-50: only GlobalAveragePool and
the Flatten run on GPU, two DLA subgraphs).

Model (the same contract the students implement):
* one prediction per ONNX node, in graph order;
* global rules first: an FP32 build or a graph input with a symbolic dimension puts every
  node on GPU (no DLA loadable is built at all);
* a node whose inputs are all constants (initializers, ``Constant`` outputs, ``Shape`` of a tensor
  whose dims are all known, outputs of other such nodes) is folded into weights when TensorRT
  builds: it never runs on its own, it goes with the node it is folded into (its first consumer
  in graph order), so it never makes a DLA subgraph of its own;
* otherwise the dimension limits (batch <= 4096, other dims <= 8192) on the node's activation
  tensors, then the node's own rule. Dimensions shape inference cannot tell count as fine.

``shapes`` pins input dims the way ``trtexec --shapes=input:32x3x32x32`` does (min = opt = max):
a model exported with a dynamic batch and built with pinned shapes is static for DLA.
Every rule changed after comparing with real placement logs is in ``EVIDENCE.md`` (same folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

PRECISIONS = ("fp16", "int8", "fp32")
MAX_BATCH = 4096
MAX_DIM = 8192

Dims = list[int | None]


@dataclass(frozen=True)
class Predicted:
    """The grader's prediction for one node: device, the rule that decided it, and why."""

    node: str
    op_type: str
    device: str  # "DLA" or "GPU"
    rule: str = ""  # "" on DLA; a rule id from RULES on GPU
    reason: str = ""
    folded: bool = False  # all inputs constant: TensorRT folds the node into weights

    def why(self) -> str:
        """Why the node lands where it does, for a student's message."""
        if self.device == "GPU":
            return f"{self.reason} [rule: {RULES[self.rule]}]"
        if self.folded:
            return "its inputs are all constants, so TensorRT folds it into the DLA node it feeds (it never runs by itself)"
        return "it breaks no DLA rule"


@dataclass(frozen=True)
class Report:
    """Counts of a placement along graph order."""

    dla_nodes: int
    gpu_nodes: int
    dla_subgraphs: int
    transitions: int
    gpu_op_types: list[str]


# Rule ids and what each means (the suite names the rule a student missed with these).
RULES = {
    "precision": "FP32 build: DLA runs FP16/INT8 only",
    "dynamic": "dynamic shapes: DLA needs static shapes",
    "batch": f"batch > {MAX_BATCH}",
    "dimension": f"a non-batch dimension > {MAX_DIM}",
    "conv.weights": "Conv/ConvTranspose weights must be constant",
    "conv.2d": "Conv/ConvTranspose must be 2-D",
    "conv.kernel": "Conv kernel 1..32",
    "conv.stride": "Conv stride 1..8",
    "conv.pads": "Conv pads 0..31 and < kernel (ConvTranspose: pads 0)",
    "conv.dilation": "Conv dilation 1..32",
    "conv.channels": "Conv output channels 1..8192",
    "conv.groups": "Conv groups <= 8192 (ConvTranspose: 1)",
    "matmul.constant": "Gemm/MatMul second input must be constant",
    "pool.2d": "pooling must be 2-D",
    "pool.window": "pooling window 1..8",
    "pool.stride": "pooling stride 1..16",
    "pool.pads": "pooling pads 0..7",
    "reduce.average": "average reduce (GlobalAveragePool, ReduceMean) runs on GPU",
    "activation": "only Relu, Sigmoid, Tanh, Clip, LeakyRelu, PRelu run on DLA",
    "prelu.slope": "PRelu slope must be constant",
    "eltwise.op": "Div, Pow, Exp, Log, Sqrt and comparisons run on GPU",
    "eltwise.4d": "element-wise ops need 4-D NCHW tensors",
    "eltwise.broadcast": "element-wise broadcast only NCHW with NCHW, NC11, N111",
    "concat.4d": "Concat needs 4-D inputs",
    "concat.axis": "Concat only along the channel axis",
    "resize.scales": "Resize: constant integer H/W scales, N and C scales 1",
    "resize.mode": "Resize: nearest 1..32, linear 1..4",
    "slice.static": "Slice/Split parameters must be constant",
    "slice.step": "Slice stride 1",
    "slice.4d": "Slice/Split need 4-D tensors",
    "slice.batch": "Slice/Split not on the batch axis",
    "shuffle.4d": "Reshape/Transpose/Flatten only 4-D in and out (Flatten to 2-D goes to GPU)",
    "shuffle.batch": "Reshape/Transpose must leave the batch axis alone",
    "softmax.axis": "Softmax over C or a spatial axis",
    "softmax.size": "Softmax axis size <= 1024",
    "shuffle.slice_concat": "Reshape directly connected to Slice/Split or Concat runs on GPU",
    "norm.affine": "the Mul/Add scale of a GroupNorm/InstanceNorm run on GPU with it",
    "folded": "a folded constant goes with the node it is folded into",
    "unsupported": "op not supported on DLA",
}


# ---------------------------------------------------------------- what the graph knows


class Graph:
    """An ONNX graph with what the rules need: tensor dims, constants, attributes."""

    def __init__(self, model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]] | None = None) -> None:
        if shapes:
            model = _pin(model, shapes)
        try:
            model = shape_inference.infer_shapes(model, data_prop=True)  # Shape -> Reshape targets too
        except Exception:  # noqa: BLE001 - predict with what the file itself declares
            pass
        self.model = model
        self.values: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.constant: set[str] = set(self.values)
        self.dims: dict[str, Dims] = {}
        for value in (*model.graph.input, *model.graph.value_info, *model.graph.output):
            if value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape"):
                self.dims[value.name] = [
                    d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim
                ]
        for name, array in self.values.items():
            self.dims.setdefault(name, list(array.shape))
        self.inputs = [v for v in model.graph.input if v.name not in self.constant]
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[int]] = {}
        for index, node in enumerate(model.graph.node):
            self.producer.update(dict.fromkeys(node.output, node))
            for name in node.input:
                self.consumers.setdefault(name, []).append(index)

    def shape(self, name: str) -> Dims | None:
        """Dims of a tensor (None entries unknown), or None when even the rank is unknown."""
        return self.dims.get(name)

    def value(self, name: str) -> np.ndarray | None:
        """The value of a constant tensor when the file holds it."""
        return self.values.get(name)

    def is_constant(self, name: str) -> bool:
        """Whether a tensor is known before run time (absent optional inputs count as constant)."""
        return name == "" or name in self.constant

    def fold(self, node: onnx.NodeProto) -> bool:
        """Mark a node's outputs constant when all its inputs are: TensorRT folds it away."""
        if node.op_type == "Shape" and self._static_shape(node):
            return True
        if not all(self.is_constant(name) for name in node.input):
            return False
        self.constant.update(node.output)
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    array = numpy_helper.to_array(attribute.t)
                    self.values[node.output[0]] = array
                    self.dims.setdefault(node.output[0], list(array.shape))
        return True

    def _static_shape(self, node: onnx.NodeProto) -> bool:
        """``Shape`` of a tensor whose dims are all known is a build-time constant (TensorRT folds it)."""
        dims = self.shape(node.input[0])
        if dims is None or None in dims:
            return False
        start, end = _attr(node, "start", 0), _attr(node, "end", None)
        part = dims[start if isinstance(start, int) else 0 : end if isinstance(end, int) else None]
        self.values[node.output[0]] = np.array(part, dtype=np.int64)
        self.constant.add(node.output[0])
        return True


def _pin(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """A copy of ``model`` whose named inputs have the given dims (trtexec ``--shapes``)."""
    pinned = onnx.ModelProto()
    pinned.CopyFrom(model)
    for value in pinned.graph.input:
        if value.name in shapes:
            dims = value.type.tensor_type.shape.dim
            if len(dims) != len(shapes[value.name]):
                raise ValueError(
                    f"shapes[{value.name!r}] has {len(shapes[value.name])} dims, the input has {len(dims)}"
                )
            for dim, size in zip(dims, shapes[value.name], strict=True):
                dim.Clear()
                dim.dim_value = int(size)
    return pinned


def _attr(node: onnx.NodeProto, name: str, default: object = None) -> object:
    """An attribute's Python value, or ``default``."""
    for attribute in node.attribute:
        if attribute.name == name:
            value = onnx.helper.get_attribute_value(attribute)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _ints(node: onnx.NodeProto, name: str, default: Sequence[int]) -> list[int]:
    """An int-list attribute."""
    return [int(v) for v in _attr(node, name, default)]  # type: ignore[union-attr]


def _fmt(dims: Dims | None) -> str:
    """``1x3x224x224`` with ``?`` for unknown dims."""
    return "x".join("?" if d is None else str(d) for d in dims or [])


def _input(node: onnx.NodeProto, index: int) -> str:
    """The name of input ``index`` ("" when absent)."""
    return node.input[index] if len(node.input) > index else ""


Verdict = tuple[str, str] | None  # (rule id, reason) when the node goes to GPU
Rule = Callable[[onnx.NodeProto, Graph], Verdict]


# ---------------------------------------------------------------- per-op rules


def _conv(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Conv: TensorRT 10.3 DLA convolution limits."""
    op = node.op_type
    weights = _input(node, 1)
    if not graph.is_constant(weights):
        return "conv.weights", f"{op}: weights {weights!r} are not constant"
    wdims = graph.shape(weights)
    kernel = _ints(node, "kernel_shape", [d or 0 for d in (wdims or [])[2:]])
    if len(kernel) != 2:
        return "conv.2d", f"{op}: {len(kernel)}-D convolution, DLA runs 2-D only"
    for k in kernel:
        if not 1 <= k <= 32:
            return "conv.kernel", f"{op} kernel {k} > 32" if k > 32 else f"{op} kernel {k} < 1"
    for s in _ints(node, "strides", [1, 1]):
        if not 1 <= s <= 8:
            return "conv.stride", f"{op} stride {s} > 8" if s > 8 else f"{op} stride {s} < 1"
    pads = _ints(node, "pads", [0, 0, 0, 0])
    groups = int(_attr(node, "group", 1))  # type: ignore[arg-type]
    if op == "ConvTranspose":
        if any(pads):
            return "conv.pads", f"ConvTranspose pads {pads}: DLA deconvolution needs pads 0"
        if groups != 1:
            return "conv.groups", f"ConvTranspose groups {groups}: DLA deconvolution needs groups 1"
        return None
    for index, p in enumerate(pads):
        k = kernel[index % 2]
        if not 0 <= p <= 31 or p >= k:
            return "conv.pads", f"Conv pad {p} (kernel {k}): DLA needs pads 0..31 and < kernel"
    for d in _ints(node, "dilations", [1, 1]):
        if not 1 <= d <= 32:
            return "conv.dilation", f"Conv dilation {d}: DLA needs 1..32"
    out_channels = (wdims or [None])[0]
    if out_channels is not None and not 1 <= out_channels <= MAX_DIM:
        return "conv.channels", f"Conv output channels {out_channels} > {MAX_DIM}"
    if groups > MAX_DIM:
        return "conv.groups", f"Conv groups {groups} > {MAX_DIM}"
    return None


def _matmul(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Gemm/MatMul run on DLA only as a 1x1 convolution with constant weights."""
    second = _input(node, 1)
    if graph.is_constant(second):
        return None
    return "matmul.constant", f"{node.op_type}: second input {second!r} is not constant (DLA needs constant weights)"


def _pool(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """MaxPool/AveragePool: 2-D, window 1..8, stride 1..16, pads 0..7."""
    op = node.op_type
    window = _ints(node, "kernel_shape", [])
    if len(window) != 2:
        return "pool.2d", f"{op}: {len(window)}-D pooling, DLA pools 2-D only"
    for w in window:
        if not 1 <= w <= 8:
            return "pool.window", f"{op} window {w} > 8" if w > 8 else f"{op} window {w} < 1"
    for s in _ints(node, "strides", [1, 1]):
        if not 1 <= s <= 16:
            return "pool.stride", f"{op} stride {s} > 16"
    for p in _ints(node, "pads", [0, 0, 0, 0]):
        if not 0 <= p <= 7:
            return "pool.pads", f"{op} pad {p} > 7"
    return None


def _average_reduce(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """GlobalAveragePool/ReduceMean: DLA cores do not support AVG Reduce."""
    return "reduce.average", f"{node.op_type}: DLA cannot do average reduce (DLA cores do not support AVG Reduce)"


def _dla(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Always DLA (within the global limits)."""
    return None


def _prelu(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """PRelu with a constant slope."""
    slope = _input(node, 1)
    if graph.is_constant(slope):
        return None
    return "prelu.slope", f"PRelu: slope {slope!r} is not constant"


def _eltwise(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Add/Sub/Mul/Max/Min on 4-D NCHW tensors, broadcasting NCHW, NC11 or N111 only."""
    op = node.op_type
    if op in ("Mul", "Add") and (norm := _after_norm(node, graph)):
        # TensorRT 8.4 on Orin (EVIDENCE.md, jetson_dla_tutorial ModelGN): GroupNorm's scale and bias
        # ("SCALE: 71 + ... + Mul_8", "SCALE: 72 + ... + Add_9") ran on GPU next to the norm plugin.
        return "norm.affine", f"{op}: the scale/bias of {norm!r} (GroupNorm/InstanceNorm) runs on GPU with it"
    out = graph.shape(node.output[0])
    if out is not None and len(out) != 4:
        return "eltwise.4d", f"{op}: DLA element-wise needs 4-D NCHW tensors, output is {len(out)}-D"
    if out is None:
        return None
    n, c, h, w = out
    for name in node.input:
        dims = graph.shape(name)
        if dims is None:
            continue
        if len(dims) > 4:
            return "eltwise.4d", f"{op}: input {name!r} is {len(dims)}-D, DLA element-wise needs 4-D"
        dims = [1] * (4 - len(dims)) + list(dims)
        allowed = ([n, c, h, w], [n, c, 1, 1], [n, 1, 1, 1])
        if not any(_fits(dims, pattern) for pattern in allowed):
            return (
                "eltwise.broadcast",
                f"{op}: broadcast of {_fmt(dims)} to {_fmt(out)} is not NCHW, NC11 or N111",
            )
    return None


def _after_norm(node: onnx.NodeProto, graph: Graph, hops: int = 3) -> str:
    """The InstanceNormalization this Mul/Add scales, through at most ``hops`` Reshape/Mul/Add ("" when none)."""
    current = node
    for _ in range(hops):
        activations = [name for name in current.input if not graph.is_constant(name)]
        source = graph.producer.get(activations[0]) if len(activations) == 1 else None
        if source is None:
            return ""
        if source.op_type == "InstanceNormalization":
            return source.name
        if source.op_type not in ("Reshape", "Mul", "Add"):
            return ""
        current = source
    return ""


def _fits(dims: Dims, pattern: Dims) -> bool:
    """Whether dims match a broadcast pattern (unknown dims match; the batch may be 1)."""
    for index, (d, p) in enumerate(zip(dims, pattern, strict=True)):
        if d is None or p is None or d == p or (index == 0 and d == 1):
            continue
        return False
    return True


def _concat(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Concat of 4-D tensors along the channel axis."""
    ranks = {len(d) for d in (graph.shape(name) for name in node.input) if d is not None}
    rank = next(iter(ranks)) if len(ranks) == 1 else None
    if rank is not None and rank != 4:
        return "concat.4d", f"Concat: DLA needs 4-D inputs, got {rank}-D"
    axis = int(_attr(node, "axis", 1))  # type: ignore[arg-type]
    if axis < 0 and rank is not None:
        axis += rank
    if axis != 1:
        return "concat.axis", f"Concat along axis {axis}: DLA concatenates only along the channel axis (1)"
    return None


def _resize(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Resize/Upsample: integer H/W scales (nearest 1..32, linear 1..4), N and C scales 1."""
    op = node.op_type
    mode = str(_attr(node, "mode", "nearest"))
    scales: list[float] | None = None
    if op == "Upsample" and _attr(node, "scales") is not None:
        scales = [float(s) for s in _attr(node, "scales")]  # type: ignore[union-attr]
    else:
        index = 1 if op == "Upsample" else 2
        value = graph.value(_input(node, index))
        if value is not None and value.size:
            scales = [float(s) for s in value.reshape(-1)]
        sizes = graph.value(_input(node, 3)) if op == "Resize" else None
        in_dims = graph.shape(node.input[0])
        if scales is None and sizes is not None and sizes.size and in_dims and None not in in_dims:
            scales = [float(o) / float(i) for o, i in zip(sizes.reshape(-1), in_dims, strict=False)]
    if scales is None:
        return "resize.scales", f"{op}: scales are not constant"
    if len(scales) != 4 or scales[0] != 1 or scales[1] != 1:
        return "resize.scales", f"{op}: scales {scales}: DLA needs 4-D with N and C scales 1"
    limit = {"nearest": 32, "linear": 4}.get(mode)
    if limit is None:
        return "resize.mode", f"{op}: mode {mode!r}, DLA resizes nearest or linear only"
    for s in scales[2:]:
        if s != int(s) or not 1 <= s <= limit:
            return "resize.scales", f"{op} {mode} scale {s:g}: DLA needs an integer 1..{limit}"
    return None


def _slice(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Slice: constant parameters, stride 1, 4-D, not on the batch axis."""
    params = [name for name in node.input[1:] if name]
    if not all(graph.is_constant(name) and graph.value(name) is not None for name in params):
        return "slice.static", "Slice: starts/ends/axes/steps are not constant"
    dims = graph.shape(node.input[0])
    rank = len(dims) if dims is not None else None
    if rank is not None and rank != 4:
        return "slice.4d", f"Slice: DLA needs a 4-D input, got {rank}-D"
    starts = graph.value(_input(node, 1))
    steps = graph.value(_input(node, 4))
    if steps is not None and any(int(s) != 1 for s in steps.reshape(-1)):
        return "slice.step", f"Slice steps {steps.reshape(-1).tolist()}: DLA slices with stride 1 only"
    axes_value = graph.value(_input(node, 3))
    count = starts.size if starts is not None else 0
    axes = [int(a) for a in axes_value.reshape(-1)] if axes_value is not None else list(range(count))
    if any(a == 0 or (rank is not None and a == -rank) for a in axes):
        return "slice.batch", "Slice on the batch axis (0): DLA slices C, H, W only"
    return None


def _split(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Split: constant sizes, 4-D, not on the batch axis."""
    sizes = _input(node, 1)
    if sizes and not graph.is_constant(sizes):
        return "slice.static", "Split: split sizes are not constant"
    dims = graph.shape(node.input[0])
    rank = len(dims) if dims is not None else None
    if rank is not None and rank != 4:
        return "slice.4d", f"Split: DLA needs a 4-D input, got {rank}-D"
    axis = int(_attr(node, "axis", 0))  # type: ignore[arg-type]
    if axis == 0 or (rank is not None and axis == -rank):
        return "slice.batch", "Split along the batch axis (0): DLA splits C, H, W only"
    return None


def _reshape(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Reshape/Transpose/Flatten: 4-D in and out, batch untouched."""
    op = node.op_type
    if op == "Flatten":
        return "shuffle.4d", "Flatten gives a 2-D tensor: DLA reshapes only 4-D to 4-D"
    before, after = graph.shape(node.input[0]), graph.shape(node.output[0])
    if after is None and op == "Reshape":
        target = graph.value(_input(node, 1))
        after = [None] * target.size if target is not None else None
    for dims, where in ((before, "input"), (after, "output")):
        if dims is not None and len(dims) != 4:
            return "shuffle.4d", f"{op}: {where} is {len(dims)}-D ({_fmt(dims)}), DLA needs 4-D in and out"
    if op == "Transpose":
        perm = _ints(node, "perm", list(range(len(before or [])))[::-1])
        if perm and perm[0] != 0:
            return "shuffle.batch", f"Transpose perm {perm} moves the batch axis"
    elif before and after and None not in (before[0], after[0]) and before[0] != after[0]:
        return "shuffle.batch", f"Reshape {_fmt(before)} -> {_fmt(after)} changes the batch axis"
    if op == "Reshape" and (neighbour := _slice_or_concat_neighbour(node, graph)):
        # TensorRT 8.5.2 on Orin (EVIDENCE.md, YOLO11n): "This version of DLA does not support reshape
        # layers directly connected to Slice or Concat" -> "Validation failed for DLA layer".
        return "shuffle.slice_concat", f"Reshape directly connected to {neighbour}: DLA cannot run it"
    return None


_SLICE_CONCAT = ("Slice", "Split", "Concat")


def _slice_or_concat_neighbour(node: onnx.NodeProto, graph: Graph) -> str:
    """The Slice/Split/Concat that feeds the Reshape's data or reads its output ("" when none)."""
    source = graph.producer.get(node.input[0])
    if source is not None and source.op_type in _SLICE_CONCAT and not graph.is_constant(node.input[0]):
        return f"{source.op_type} {source.name!r}"
    for index in graph.consumers.get(node.output[0], []):
        reader = graph.model.graph.node[index]
        if reader.op_type in _SLICE_CONCAT:
            return f"{reader.op_type} {reader.name!r}"
    return ""


def _softmax(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Softmax over C or a spatial axis of size <= 1024."""
    dims = graph.shape(node.input[0])
    axis = int(_attr(node, "axis", -1))  # type: ignore[arg-type]
    if dims is not None and axis < 0:
        axis += len(dims)
    if axis == 0:
        return "softmax.axis", "Softmax over the batch axis: DLA needs C or a spatial axis"
    size = dims[axis] if dims is not None and 0 <= axis < len(dims) else None
    if size is not None and size > 1024:
        return "softmax.size", f"Softmax axis size {size} > 1024"
    return None


def _gpu(rule: str, why: str) -> Rule:
    """A rule that always sends the op to GPU."""

    def verdict(node: onnx.NodeProto, graph: Graph) -> Verdict:
        return rule, f"{node.op_type}: {why}"

    return verdict


_GPU_MATH = _gpu("eltwise.op", "not supported on DLA (Div, Pow, Exp, Log, Sqrt, comparisons run on GPU)")
_GPU_ACTIVATION = _gpu(
    "activation", "activation not supported on DLA (only Relu, Sigmoid, Tanh, Clip, LeakyRelu, PRelu)"
)
_GPU_OP = _gpu("unsupported", "not supported on DLA in TensorRT 10.3")

TABLE: dict[str, Rule] = {
    "Conv": _conv,
    "ConvTranspose": _conv,
    "Gemm": _matmul,
    "MatMul": _matmul,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _average_reduce,
    "ReduceMean": _average_reduce,
    "Relu": _dla,
    "Sigmoid": _dla,
    "Tanh": _dla,
    "Clip": _dla,
    "LeakyRelu": _dla,
    "PRelu": _prelu,
    "BatchNormalization": _dla,
    "Add": _eltwise,
    "Sub": _eltwise,
    "Mul": _eltwise,
    "Max": _eltwise,
    "Min": _eltwise,
    "Concat": _concat,
    "Resize": _resize,
    "Upsample": _resize,
    "Slice": _slice,
    "Split": _split,
    "Reshape": _reshape,
    "Transpose": _reshape,
    "Flatten": _reshape,
    "Softmax": _softmax,
    **dict.fromkeys(
        ("Div", "Pow", "Exp", "Log", "Sqrt", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"), _GPU_MATH
    ),
    **dict.fromkeys(
        (
            "Elu",
            "Selu",
            "Celu",
            "Softplus",
            "Softsign",
            "HardSigmoid",
            "HardSwish",
            "Gelu",
            "Erf",
            "Mish",
            "ThresholdedRelu",
        ),
        _GPU_ACTIVATION,
    ),
}


# ---------------------------------------------------------------- the predictor


def _global_verdict(graph: Graph, precision: str) -> Verdict:
    """A rule that sends every node to GPU: FP32 build or dynamic input shapes."""
    if precision == "fp32":
        return "precision", "FP32: DLA runs FP16/INT8 only"
    for value in graph.inputs:
        dims = graph.shape(value.name) or []
        if value.name in graph.dims and None in dims:
            shape = "x".join(
                d.dim_param or "?" if not d.HasField("dim_value") else str(d.dim_value)
                for d in value.type.tensor_type.shape.dim
            )
            return "dynamic", f"dynamic shapes: input {value.name!r} is {shape}, DLA needs static shapes"
    return None


def _limits(node: onnx.NodeProto, graph: Graph) -> Verdict:
    """Batch <= 4096 and other dims <= 8192 on the node's activation tensors."""
    for name in (*node.input, *node.output):
        if graph.is_constant(name):
            continue
        dims = graph.shape(name) or []
        if dims and dims[0] is not None and dims[0] > MAX_BATCH:
            return "batch", f"{node.op_type}: batch {dims[0]} > {MAX_BATCH} (tensor {name!r})"
        for d in dims[1:]:
            if d is not None and d > MAX_DIM:
                return "dimension", f"{node.op_type}: dimension {d} > {MAX_DIM} (tensor {name!r}, {_fmt(dims)})"
    return None


def predict_model(
    model: onnx.ModelProto, precision: str = "fp16", shapes: Mapping[str, Sequence[int]] | None = None
) -> list[Predicted]:
    """The grader's placement of every node of ``model``, in graph order (``shapes``: trtexec --shapes)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    graph = Graph(model, shapes)
    everything = _global_verdict(graph, precision)
    out = []
    for node in graph.model.graph.node:
        folded = everything is None and graph.fold(node)
        verdict = everything
        if verdict is None and not folded:
            verdict = _limits(node, graph) or TABLE.get(node.op_type, _GPU_OP)(node, graph)
        if verdict is None:
            out.append(Predicted(node.name, node.op_type, "DLA", folded=folded))
        else:
            out.append(Predicted(node.name, node.op_type, "GPU", *verdict))
    return _with_consumers(out, graph)


def _with_consumers(out: list[Predicted], graph: Graph) -> list[Predicted]:
    """Each folded node on the device of the node it is folded into: its first consumer in graph order.

    A folded constant never runs by itself (TensorRT makes it part of its consumer's weights), so a
    constant between two GPU nodes is no DLA subgraph: the jetson_dla_tutorial ModelBN log (TensorRT
    8.4/8.5, EVIDENCE.md) shows 2 DLA subgraphs where counting the flatten's constants as DLA gave 3.
    """
    nodes = graph.model.graph.node
    for index in range(len(out) - 1, -1, -1):
        if not out[index].folded:
            continue
        readers = sorted({i for name in nodes[index].output for i in graph.consumers.get(name, [])})
        if readers and out[readers[0]].device == "GPU":
            consumer = out[readers[0]]
            out[index] = Predicted(
                out[index].node,
                out[index].op_type,
                "GPU",
                "folded",
                f"{out[index].op_type}: a constant folded into {consumer.node!r} ({consumer.op_type}), which runs on GPU",
                folded=True,
            )
    return out


def predict(
    onnx_path: str | os.PathLike[str], precision: str = "fp16", shapes: Mapping[str, Sequence[int]] | None = None
) -> list[Predicted]:
    """The grader's placement of every node of the ONNX file, in graph order (``shapes``: trtexec --shapes)."""
    return predict_model(onnx.load(str(Path(onnx_path))), precision, shapes)


def report(devices: Sequence[tuple[str, str]]) -> Report:
    """Counts of a placement given as ``(op_type, device)`` pairs in graph order."""
    on_gpu = [op for op, device in devices if device == "GPU"]
    runs = switches = 0
    previous = None
    for _, device in devices:
        if device == "DLA" and previous != "DLA":
            runs += 1
        if previous is not None and device != previous:
            switches += 1
        previous = device
    return Report(len(devices) - len(on_gpu), len(on_gpu), runs, switches, sorted(set(on_gpu)))
