"""Practice 5 fixtures: trtexec exports and stdout written in trtexec's own formats, numbers chosen here.

Every number is fixed below before anything is written, so the expected values of the suite
are known up front (``expected_*``), never taken from a solution. Where each layout comes from
(NVIDIA/TensorRT tag v10.3.0, or a real file); nothing here was compared byte for byte with a
real trtexec output unless it says so:

* ``--exportProfile``: ``Profiler::exportJSONProfile`` (samples/common/sampleReporting.cpp):
  ``[``, ``  { "count" : N }``, one ``, { "name" : ..., "timeMs" : ..., "averageMs" : ...,
  "medianMs" : ..., "percentage" : ... }`` line per layer, ``]``; numbers through a default
  ``std::ostream`` (6 significant digits, like ``%g``); the name is streamed as it is, unescaped.
* ``--exportLayerInfo``: the engine inspector's JSON (``getLayerInformation(..., kJSON)``, printed
  by ``printLayerInfo`` in sampleReporting.cpp; the inspector itself is not open source). The
  per-tensor ``Name``/``Location``/``Dimensions``/``Format/Datatype`` layout follows real 8.x and
  10.x files. Real TensorRT 10 files escape the ``\\x1e``/``\\x1f`` separators of ``Metadata`` as
  ``\\u001e``/``\\u001f``; raw control characters were reported for 8.6 EA files
  (NVIDIA/TensorRT#2779). The TRT10_UNICODE case writes them raw on purpose: a reader must
  survive both.
* ``--dumpProfile``: ``Profiler::print`` (sampleReporting.cpp): a blank line, ``=== Profile (N
  iterations ) ===``, the header, rows ``setw(11) fixed 2 / setw(13) 4 / setw(13) 4 / setw(10) 1``
  then three spaces and the name, zero-time layers skipped, a ``Total`` row, a blank line.
* the performance summary: ``printEpilog`` (sampleReporting.cpp), printed by
  ``printPerformanceReport`` after ``printProlog`` and ``printTiming`` (``=== Trace details ===``).
* the order of the stdout sections: ``main`` in samples/trtexec/trtexec.cpp with
  ``--separateProfileRun`` (what ``grader.backends.trtexec.profile_command`` runs): options, engine
  load, ``setUpInference`` (``Created execution context with device memory size: ... MiB``,
  sampleInference.cpp ``allocateContextMemory``; the binding lines), ``printLayerInfo`` (one-line
  layer information, before inference), ``Starting inference``, the benchmark run's
  ``printPerformanceReport``, the profiled second run, ``printPerformanceProfile`` (the table),
  ``&&&& PASSED``. Each logger line carries the ``[date-time] [I] `` prefix; the multi-line
  layer information is one message, so only its first line has it.

The DLA-like case uses the layer names trtexec prints for DLA engines (``input to nvm``,
``{ForeignNode[...]}``, ``output from nvm``, ``... copy finish``); the ``LayerType`` strings
given to those layers are this fixture's own (parsers treat types as opaque strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.practices.practice5.profile.parse import LayerInfo, LayerTime

TRT_VERSION = "100300"
STAMP = "[11/25/2025-10:12:{second:02d}] [I] "


@dataclass(frozen=True)
class Fmt:
    """A ``Format/Datatype`` string and the precision it stands for (known, not parsed)."""

    text: str
    precision: str


FP32_LINEAR = Fmt("Row major linear FP32", "FP32")
FP32_CHW = Fmt("Channel major FP32 format", "FP32")
FP32_HWC4 = Fmt("Channel major FP32 format where channel % 4 == 0", "FP32")
FP32_CHW32 = Fmt("Thirty-two wide channel vectorized row major FP32 format", "FP32")
FP16_LINEAR = Fmt("Row major linear FP16 format", "FP16")
FP16_HWC4 = Fmt("Channel major FP16 format where channel % 4 == 0", "FP16")
FP16_HWC8 = Fmt("Channel major FP16 format where channel % 8 == 0", "FP16")
FP16_HWC16 = Fmt("Channel major FP16 format where channel % 16 == 0", "FP16")
FP16_CHW2 = Fmt("Two wide channel vectorized row major FP16 format", "FP16")
FP16_CHW16 = Fmt("Sixteen wide channel vectorized row major FP16 format", "FP16")
FP16_CHW32 = Fmt("Thirty-two wide channel vectorized row major FP16 format", "FP16")
INT8_LINEAR = Fmt("Row major Int8 format", "INT8")
INT8_CHW4 = Fmt("Four wide channel vectorized row major Int8 format", "INT8")
INT8_CHW32 = Fmt("Thirty-two wide channel vectorized row major Int8 format", "INT8")
INT32_LINEAR = Fmt("Row major linear Int32", "INT32")
BOOL_LINEAR = Fmt("Row major linear BOOL", "BOOL")
BF16_LINEAR = Fmt("Row major linear BFloat16 format", "BF16")
BF16_HWC8 = Fmt("Channel major BFloat16 format where channel % 8 == 0", "BF16")
FP8_LINEAR = Fmt("Row major linear FP8 format", "FP8")
# TensorRT 10's kgen layers name the data type alone.
KGEN_HALF = Fmt("Half", "FP16")
KGEN_FLOAT = Fmt("Float", "FP32")
KGEN_BF16 = Fmt("BFloat16", "BF16")
KGEN_BOOL = Fmt("Bool", "BOOL")

RS, US = (
    "\x1e",
    "\x1f",
)  # record/unit separators: raw in 8.6 EA exports (NVIDIA/TensorRT#2779), escaped in real 10.x layer info


@dataclass(frozen=True)
class Layer:
    """One engine layer of a fixture: timing (ms per inference) and tensors."""

    name: str
    layer_type: str
    average_ms: float
    median_ms: float
    inputs: tuple[Fmt, ...]
    outputs: tuple[Fmt, ...]
    dims: tuple[int, ...] = (1, 64, 56, 56)
    extra: tuple[tuple[str, str], ...] = ()  # ("Origin", "QDQ"), ("Metadata", "..."), ...

    @property
    def input_precision(self) -> str | None:
        """Precision of the first input, None without inputs."""
        return self.inputs[0].precision if self.inputs else None

    @property
    def output_precision(self) -> str | None:
        """Precision of the first output, None without outputs."""
        return self.outputs[0].precision if self.outputs else None


@dataclass(frozen=True)
class Case:
    """One engine: profiled iterations, layers in execution order, I/O tensor names."""

    key: str
    title: str
    count: int
    layers: tuple[Layer, ...]
    bindings: tuple[str, ...] = ("input", "output")
    engine: str = ""

    @property
    def engine_file(self) -> str:
        """The engine file name printed in trtexec's command line."""
        return self.engine or f"{self.key}.engine"


def g(value: float) -> str:
    """A float as C++ ``std::ostream`` prints it by default (``%g``, 6 significant digits)."""
    return format(value, "g")


def _conv(name: str, avg: float, med: float, i: Fmt, o: Fmt, kind: str = "CaskConvolution", **kw: object) -> Layer:
    """A fused convolution layer (the commonest kind)."""
    return Layer(name, kind, avg, med, (i,), (o,), **kw)  # type: ignore[arg-type]


def _reformat(name: str, avg: float, med: float, i: Fmt, o: Fmt, origin: str = "REFORMAT") -> Layer:
    """A Reformat layer (format or precision conversion)."""
    return Layer(name, "Reformat", avg, med, (i,), (o,), extra=(("Origin", origin),))


def _noop(name: str, i: Fmt, o: Fmt) -> Layer:
    """A zero-time layer: present in the JSON export, skipped on stdout."""
    return Layer(name, "NoOp", 0.0, 0.0, (i,), (o,))


L1 = "/layer1/layer1.0"
L2 = "/layer2/layer2.0"

RESNET_FP32 = Case(
    "resnet18_fp32",
    "ResNet-18, FP32",
    50,
    (
        _conv("/conv1/Conv + /relu/Relu", 0.1203, 0.1198, FP32_LINEAR, FP32_LINEAR),
        Layer("/maxpool/MaxPool", "TiledPooling", 0.0411, 0.0409, (FP32_LINEAR,), (FP32_LINEAR,)),
        _reformat(
            "Reformatting CopyNode for Output Tensor 0 to /maxpool/MaxPool", 0.0187, 0.0185, FP32_LINEAR, FP32_CHW
        ),
        _conv(f"{L1}/conv1/Conv + {L1}/relu/Relu", 0.0862, 0.0860, FP32_CHW, FP32_HWC4),
        Layer(
            f"{L1}/conv2/Conv + {L1}/Add + {L1}/relu_1/Relu",
            "CaskConvolution",
            0.0915,
            0.0911,
            (FP32_HWC4, FP32_CHW),
            (FP32_HWC4,),
        ),
        _noop(f"Reformatting CopyNode for Input Tensor 0 to {L2}/conv1/Conv + {L2}/relu/Relu", FP32_HWC4, FP32_CHW),
        _conv(f"{L2}/conv1/Conv + {L2}/relu/Relu", 0.0654, 0.0650, FP32_CHW, FP32_HWC4),
        Layer("/avgpool/GlobalAveragePool", "CaskPooling", 0.0123, 0.0121, (FP32_HWC4,), (FP32_HWC4,)),
        _conv("/fc/Gemm", 0.0301, 0.0299, FP32_HWC4, FP32_LINEAR),
        _noop("reshape_after_/fc/Gemm", FP32_LINEAR, FP32_LINEAR),
    ),
)

RESNET_FP16 = Case(
    "resnet18_fp16",
    "ResNet-18, FP16",
    200,
    (
        _reformat(
            "Reformatting CopyNode for Input Tensor 0 to /conv1/Conv + /relu/Relu",
            0.0314,
            0.0311,
            FP32_LINEAR,
            FP16_HWC4,
        ),
        _conv("/conv1/Conv + /relu/Relu", 0.0562, 0.0560, FP16_HWC4, FP16_HWC8),
        Layer("/maxpool/MaxPool", "CaskPooling", 0.0158, 0.0157, (FP16_HWC8,), (FP16_HWC8,)),
        _conv(f"{L1}/conv1/Conv + {L1}/relu/Relu", 0.0287, 0.0285, FP16_HWC8, FP16_HWC8),
        Layer(
            f"{L1}/conv2/Conv + {L1}/Add + {L1}/relu_1/Relu",
            "CaskConvolution",
            0.0301,
            0.0298,
            (FP16_HWC8, FP16_HWC8),
            (FP16_HWC8,),
        ),
        _noop(f"Reformatting CopyNode for Input Tensor 0 to {L2}/conv1/Conv + {L2}/relu/Relu", FP16_HWC8, FP16_HWC16),
        _conv(f"{L2}/conv1/Conv + {L2}/relu/Relu", 0.0243, 0.0241, FP16_HWC16, FP16_HWC8),
        Layer("/avgpool/GlobalAveragePool", "CaskPooling", 0.0066, 0.0065, (FP16_HWC8,), (FP16_LINEAR,)),
        _conv("/fc/Gemm", 0.0097, 0.0096, FP16_LINEAR, FP16_LINEAR),
        _reformat("Reformatting CopyNode for Output Tensor 0 to /fc/Gemm", 0.0049, 0.0048, FP16_LINEAR, FP32_LINEAR),
    ),
)

F0 = "/features.0/features.0.0"
F1 = "/features.1/conv"
F2 = "/features.2/conv"
MOBILENET_INT8 = Case(
    "mobilenet_v2_int8",
    "MobileNetV2, INT8 + FP16 + FP32 (QAT Q/DQ)",
    1000,
    (
        _reformat("/quant/QuantizeLinear", 0.0152, 0.0150, FP32_LINEAR, INT8_CHW4, origin="QDQ"),
        _conv(
            f"features.0.0.weight + {F0}/weight_quantizer/QuantizeLinear + {F0}/Conv + PWN(/features.0/features.0.2/Clip)",
            0.0421,
            0.0419,
            INT8_CHW4,
            INT8_CHW32,
        ),
        _conv(
            f"{F1}/conv.0/conv.0.0/Conv + PWN({F1}/conv.0/conv.0.2/Clip)",
            0.0233,
            0.0231,
            INT8_CHW32,
            INT8_CHW32,
            kind="CudaDepthwiseConvolution",
        ),
        _conv(f"{F1}/conv.1/Conv", 0.0178, 0.0176, INT8_CHW32, FP16_CHW32),
        _reformat("/features.2/quant/QuantizeLinear", 0.0062, 0.0061, FP16_CHW32, INT8_CHW32, origin="QDQ"),
        _conv(f"{F2}/conv.0/conv.0.0/Conv + PWN({F2}/conv.0/conv.0.2/Clip)", 0.0305, 0.0303, INT8_CHW32, INT8_CHW32),
        _reformat(
            "Reformatting CopyNode for Input Tensor 0 to /avgpool/GlobalAveragePool",
            0.0088,
            0.0087,
            FP16_CHW32,
            FP16_CHW2,
        ),
        Layer("/avgpool/GlobalAveragePool", "TiledPooling", 0.0097, 0.0096, (FP16_CHW2,), (FP16_CHW2,)),
        _conv("/classifier/classifier.1/Gemm", 0.0131, 0.0129, FP16_CHW2, FP32_LINEAR),
        _noop("copied_squeeze_after_/classifier/classifier.1/Gemm", FP32_LINEAR, FP32_LINEAR),
    ),
)

DLA_BODY = "{ForeignNode[/conv1/Conv.../layer4/layer4.2/relu_2/Relu]}"
DLA_HEAD = "{ForeignNode[/fc/Gemm + (Unnamed Layer* 125) [ElementWise]]}"
RELU_OUT = "/layer4/layer4.2/relu_2/Relu_output_0"
DLA_LIKE = Case(
    "resnet50_dla_fp16",
    "ResNet-50 on DLA core 0 with GPU fallback, FP16",
    400,
    (
        Layer("input to nvm", "DlaCopy", 0.0852, 0.0850, (FP32_LINEAR,), (FP16_CHW16,)),
        Layer(DLA_BODY, "DLA", 0.0085, 0.0084, (FP16_CHW16,), (FP16_CHW16,)),
        Layer("input copy finish", "signal", 0.0017, 0.0016, (), ()),
        Layer(f"{RELU_OUT} from nvm", "DlaCopy", 2.3461, 2.3455, (FP16_CHW16,), (FP16_HWC8,)),
        Layer("/avgpool/GlobalAveragePool", "CaskPooling", 0.0121, 0.0120, (FP16_HWC8,), (FP16_LINEAR,)),
        _noop("/Flatten", FP16_LINEAR, FP16_LINEAR),
        Layer("/Flatten_output_0 to nvm", "DlaCopy", 0.0193, 0.0192, (FP16_LINEAR,), (FP16_CHW16,)),
        Layer(DLA_HEAD, "DLA", 0.0061, 0.0060, (FP16_CHW16,), (FP16_CHW16,)),
        Layer("output from nvm", "DlaCopy", 0.0402, 0.0401, (FP16_CHW16,), (FP32_LINEAR,)),
        Layer("output copy finish", "wait", 0.0029, 0.0028, (), ()),
    ),
)

M0 = "/model.0"
TRT10_UNICODE = Case(
    "yolov8n_fp16_trt10",
    "YOLOv8n, FP16, TensorRT 10 names; Metadata and names with raw \\x1e/\\x1f separators (as 8.6 EA wrote them)",
    100,
    (
        _reformat(
            f"Reformatting CopyNode for Input Tensor 0 to {M0}/conv/Conv + PWN(PWN({M0}/act/Sigmoid), PWN({M0}/act/Mul))",
            0.1240,
            0.1236,
            FP32_LINEAR,
            FP16_HWC4,
        ),
        _conv(
            f"{M0}/conv/Conv + PWN(PWN({M0}/act/Sigmoid), PWN({M0}/act/Mul))",
            0.2051,
            0.2047,
            FP16_HWC4,
            FP16_HWC8,
            extra=(
                (
                    "Metadata",
                    f"[ONNX Layer: {M0}/conv/Conv]{RS}[ONNX Layer: {M0}/act/Sigmoid]{RS}[ONNX Layer: {M0}/act/Mul]",
                ),
            ),
        ),
        Layer(
            f"/model.9/m/MaxPool{RS}/model.9/m_1/MaxPool{RS}/model.9/m_2/MaxPool",
            "CaskPooling",
            0.0420,
            0.0418,
            (FP16_HWC8,),
            (FP16_HWC8,),
            extra=(("Metadata", f"[ONNX Layer: /model.9/m/MaxPool]{US}[ONNX Layer: /model.9/m_1/MaxPool]"),),
        ),
        Layer(
            "{ForeignNode[/model.22/Constant_12_output_0.../model.22/Unsqueeze_6]}",
            "Myelin",
            0.0310,
            0.0309,
            (),
            (FP32_LINEAR, FP32_LINEAR),
            dims=(1, 2, 8400),
        ),
        Layer(
            f"/model.22/dfl/conv/Conv{US}/model.22/Sigmoid",
            "CaskConvolution",
            0.0150,
            0.0149,
            (FP16_HWC8,),
            (FP16_LINEAR,),
            extra=(("Metadata", f"[ONNX Layer: /model.22/dfl/conv/Conv]{US}[ONNX Layer: /model.22/Sigmoid]"),),
        ),
        _reformat(
            "Reformatting CopyNode for Output Tensor 0 to /model.22/Concat_5", 0.0083, 0.0082, FP16_LINEAR, FP32_LINEAR
        ),
    ),
    bindings=("images", "output0"),
)

PRECISIONS = Case(
    "vit_bf16_fp8",
    "A transformer block: BF16, FP8, INT32, BOOL and TensorRT 10's short kgen names",
    100,
    (
        Layer("/embed/Gather", "Gather", 0.0211, 0.0210, (INT32_LINEAR,), (BF16_LINEAR,), dims=(1, 197, 768)),
        Layer("/blocks.0/attn/MatMul", "kgen", 0.0634, 0.0631, (KGEN_BF16,), (KGEN_BF16,), dims=(1, 12, 197, 197)),
        Layer("/blocks.0/mlp/fc1/MatMul", "CaskGemm", 0.0512, 0.0510, (FP8_LINEAR,), (BF16_LINEAR,)),
        Layer("/mask/Greater", "ElementWise", 0.0044, 0.0043, (FP32_LINEAR,), (BOOL_LINEAR,)),
        Layer("/mask/Where", "kgen", 0.0057, 0.0056, (KGEN_BOOL, KGEN_HALF), (KGEN_HALF,)),
        Layer("/head/Softmax", "kgen", 0.0096, 0.0095, (KGEN_HALF,), (KGEN_FLOAT,)),
        Layer("/head/norm/LayerNormalization", "Normalization", 0.0072, 0.0071, (BF16_HWC8,), (FP16_LINEAR,)),
        _reformat("/out/Cast", 0.0031, 0.0030, FP16_LINEAR, INT32_LINEAR),
    ),
)

TRT11 = Case(
    "yolov8n_fp16_trt11",
    "YOLOv8n, FP16, TensorRT 11 layout ('I/O Tensors')",
    100,
    (
        _reformat(
            f"Reformatting CopyNode for Input Tensor 0 to {M0}/conv/Conv", 0.1221, 0.1219, FP32_LINEAR, FP16_HWC4
        ),
        _conv(
            f"{M0}/conv/Conv",
            0.2013,
            0.2010,
            FP16_HWC4,
            FP16_HWC8,
            extra=(("Metadata", f"[ONNX Layer: {M0}/conv/Conv]"),),
        ),
        _conv("/model.1/conv/Conv", 0.1175, 0.1172, FP16_HWC8, FP16_HWC8),
        Layer("/model.22/Concat_5", "Concatenation", 0.0093, 0.0092, (FP16_LINEAR, FP16_LINEAR), (FP16_LINEAR,)),
        _reformat(
            "Reformatting CopyNode for Output Tensor 0 to /model.22/Concat_5", 0.0079, 0.0078, FP16_LINEAR, FP32_LINEAR
        ),
    ),
    bindings=("images", "output0"),
)

CASES: dict[str, Case] = {
    case.key: case for case in (RESNET_FP32, RESNET_FP16, MOBILENET_INT8, DLA_LIKE, TRT10_UNICODE, PRECISIONS, TRT11)
}


# ---------------------------------------------------------------- --exportProfile


@dataclass(frozen=True)
class ProfileRecord:
    """One layer record as trtexec writes it: the five printed strings."""

    name: str
    time_ms: str
    average_ms: str
    median_ms: str
    percentage: str

    def layer_time(self) -> LayerTime:
        """The values a correct parser reads back."""
        return LayerTime(
            self.name, float(self.time_ms), float(self.average_ms), float(self.median_ms), float(self.percentage)
        )


def profile_records(case: Case) -> list[ProfileRecord]:
    """What ``exportJSONProfile`` prints: total over ``count`` runs, average, median, share of the sum."""
    totals = [layer.average_ms * case.count for layer in case.layers]
    grand = sum(totals)
    return [
        ProfileRecord(layer.name, g(total), g(layer.average_ms), g(layer.median_ms), g(total / grand * 100))
        for layer, total in zip(case.layers, totals, strict=False)
    ]


def profile_json_text(case: Case) -> str:
    """An ``--exportProfile`` file in ``Profiler::exportJSONProfile``'s layout (v10.3.0; names unescaped)."""
    lines = ["[", f'  {{ "count" : {case.count} }}']
    for r in profile_records(case):
        lines.append(
            f', {{ "name" : "{r.name}", "timeMs" : {r.time_ms}, "averageMs" : {r.average_ms}, '
            f'"medianMs" : {r.median_ms}, "percentage" : {r.percentage} }}'
        )
    return "\n".join([*lines, "]", ""])


def expected_profile(case: Case) -> list[LayerTime]:
    """The LayerTime list a correct ``parse_profile`` returns for ``case``."""
    return [record.layer_time() for record in profile_records(case)]


# ---------------------------------------------------------------- --exportLayerInfo


def _tensor(name: str, dims: tuple[int, ...], fmt: Fmt) -> str:
    """One tensor object of the engine inspector's JSON."""
    return (
        "  {\n"
        f'    "Name": "{name}",\n'
        '    "Location": "Device",\n'
        f'    "Dimensions": [{",".join(str(d) for d in dims)}],\n'
        f'    "Format/Datatype": "{fmt.text}"\n'
        "  }"
    )


def _layer_json(layer: Layer, index: int) -> str:
    """One detailed layer object; names and Metadata are written raw (as 8.6 EA files were), never escaped."""
    inputs = ",\n".join(_tensor(f"t{index}_{i}", layer.dims, f) for i, f in enumerate(layer.inputs))
    outputs = ",\n".join(_tensor(f"t{index + 1}_{i}", layer.dims, f) for i, f in enumerate(layer.outputs))
    parameter = {"Reformat": "Reformat", "NoOp": "Reformat"}.get(layer.layer_type, layer.layer_type)
    lines = [
        f'  "Name": "{layer.name}"',
        f'  "LayerType": "{layer.layer_type}"',
        f'  "Inputs": [\n{inputs}]' if inputs else '  "Inputs": []',
        f'  "Outputs": [\n{outputs}]' if outputs else '  "Outputs": []',
        f'  "ParameterType": "{parameter}"',
        *(f'  "{key}": "{value}"' for key, value in layer.extra),
        f'  "TacticValue": "0x{index * 7919:016x}"',
    ]
    return "{\n" + ",\n".join(lines) + "\n}"


def layer_json_text(case: Case, bindings_key: str = "Bindings", detailed: bool = True) -> str:
    """An ``--exportLayerInfo`` file; ``detailed=False`` is what a default-verbosity engine gives."""
    if detailed:
        body = ",".join(_layer_json(layer, index) for index, layer in enumerate(case.layers))
        head = '{"Layers": [' + body + "],\n"
    else:
        head = '{"Layers": [' + "\n,".join(f'"{layer.name}"' for layer in case.layers) + "\n],\n"
    tail = f'"{bindings_key}": [' + "\n,".join(f'"{b}"' for b in case.bindings) + "\n]}"
    return head + tail + "\n"


def expected_layers(case: Case) -> list[LayerInfo]:
    """The LayerInfo list a correct ``parse_layer_info`` returns for ``case``."""
    return [LayerInfo(x.name, x.layer_type, x.input_precision, x.output_precision) for x in case.layers]


# ---------------------------------------------------------------- stdout


@dataclass(frozen=True)
class Metric:
    """min, max, mean, median and percentiles of one performance-summary line (ms, as printed)."""

    min: str
    max: str
    mean: str
    median: str
    percentiles: tuple[tuple[str, str], ...]  # (percent as printed, value)

    def text(self) -> str:
        """The line after ``<Metric>: ``."""
        parts = [f"min = {self.min} ms", f"max = {self.max} ms", f"mean = {self.mean} ms", f"median = {self.median} ms"]
        parts += [f"percentile({p}%) = {v} ms" for p, v in self.percentiles]
        return ", ".join(parts)

    def expected(self) -> dict[str, float]:
        """The dict a correct ``parse_perf_summary`` returns for this metric."""
        out = {"min": float(self.min), "max": float(self.max), "mean": float(self.mean), "median": float(self.median)}
        out.update({f"p{p}": float(v) for p, v in self.percentiles})
        return out


@dataclass(frozen=True)
class Summary:
    """A performance summary: throughput (qps) and the five metrics, as printed."""

    throughput: str
    metrics: dict[str, Metric] = field(default_factory=dict)  # keys: latency, enqueue, h2d, gpu_compute, d2h
    walltime_s: str = "3.00546"

    def lines(self) -> list[str]:
        """The block ``printEpilog`` writes after its leading blank line (sampleReporting.cpp, v10.3.0)."""
        labels = {
            "latency": "Latency",
            "enqueue": "Enqueue Time",
            "h2d": "H2D Latency",
            "gpu_compute": "GPU Compute Time",
            "d2h": "D2H Latency",
        }
        gpu_total = float(self.metrics["gpu_compute"].mean) * float(self.throughput) * float(self.walltime_s) / 1000
        return [
            "=== Performance summary ===",
            f"Throughput: {self.throughput} qps",
            *(f"{label}: {self.metrics[key].text()}" for key, label in labels.items()),
            f"Total Host Walltime: {self.walltime_s} s",
            f"Total GPU Compute Time: {g(gpu_total)} s",
            "Explanations of the performance metrics are printed in the verbose logs.",
            "",
        ]

    def expected(self) -> dict[str, object]:
        """The dict a correct ``parse_perf_summary`` returns (the required keys)."""
        return {"throughput_qps": float(self.throughput), **{k: m.expected() for k, m in self.metrics.items()}}


def _pct(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Percentile pairs (percent as printed, value)."""
    return tuple(pairs)


# Orin-like run with data transfers; mean latency = H2D + GPU compute + D2H (0.0561523 + 2.35889 + 0.00463867).
SUMMARY_DEFAULT = Summary(
    "412.583",
    {
        "latency": Metric(
            "2.38672", "2.71289", "2.41968", "2.41406", _pct(("90", "2.43555"), ("95", "2.44922"), ("99", "2.56055"))
        ),
        "enqueue": Metric(
            "0.612305",
            "1.43359",
            "0.671827",
            "0.655273",
            _pct(("90", "0.723633"), ("95", "0.756836"), ("99", "0.915039")),
        ),
        "h2d": Metric(
            "0.0524902",
            "0.0898438",
            "0.0561523",
            "0.0551758",
            _pct(("90", "0.0595703"), ("95", "0.0615234"), ("99", "0.0712891")),
        ),
        "gpu_compute": Metric(
            "2.32227", "2.61719", "2.35889", "2.35352", _pct(("90", "2.37305"), ("95", "2.38477"), ("99", "2.47461"))
        ),
        "d2h": Metric(
            "0.00390625",
            "0.0117188",
            "0.00463867",
            "0.00439453",
            _pct(("90", "0.00537109"), ("95", "0.00585938"), ("99", "0.0078125")),
        ),
    },
)

# --percentile=50,99 --noDataTransfers: H2D and D2H print as 0, latency equals GPU compute.
SUMMARY_CUSTOM = Summary(
    "401.871",
    {
        "latency": Metric("2.41699", "2.60547", "2.48442", "2.48047", _pct(("50", "2.48047"), ("99", "2.58203"))),
        "enqueue": Metric(
            "0.0117188", "0.0380859", "0.0134582", "0.0131836", _pct(("50", "0.0131836"), ("99", "0.0214844"))
        ),
        "h2d": Metric("0", "0", "0", "0", _pct(("50", "0"), ("99", "0"))),
        "gpu_compute": Metric("2.41699", "2.60547", "2.48442", "2.48047", _pct(("50", "2.48047"), ("99", "2.58203"))),
        "d2h": Metric("0", "0", "0", "0", _pct(("50", "0"), ("99", "0"))),
    },
    walltime_s="3.00844",
)


@dataclass(frozen=True)
class TableRow:
    """One ``--dumpProfile`` row as printed (rounded like trtexec)."""

    name: str
    total: str
    average: str
    median: str
    percent: str

    def line(self) -> str:
        """``Profiler::print``'s fixed-width row."""
        return f"{self.total:>11}{self.average:>13}{self.median:>13}{self.percent:>10}   {self.name}"

    def layer_time(self) -> LayerTime:
        """The values a correct ``parse_profile_log`` reads back."""
        return LayerTime(self.name, float(self.total), float(self.average), float(self.median), float(self.percent))


def table_rows(case: Case) -> tuple[list[TableRow], TableRow]:
    """The printed rows (zero-time layers skipped) and the Total row."""
    totals = [layer.average_ms * case.count for layer in case.layers]
    grand = sum(totals)
    rows = [
        TableRow(
            layer.name,
            f"{total:.2f}",
            f"{layer.average_ms:.4f}",
            f"{layer.median_ms:.4f}",
            f"{total / grand * 100:.1f}",
        )
        for layer, total in zip(case.layers, totals, strict=False)
        if total > 0
    ]
    median = sum(layer.median_ms for layer in case.layers)
    total_row = TableRow("Total", f"{grand:.2f}", f"{grand / case.count:.4f}", f"{median:.4f}", f"{100.0:.1f}")
    return rows, total_row


def expected_log_rows(case: Case) -> list[LayerTime]:
    """The LayerTime list a correct ``parse_profile_log`` returns for ``trtexec_stdout(case, ...)``."""
    return [row.layer_time() for row in table_rows(case)[0]]


def _oneline_layer(layer: Layer) -> str:
    """``--dumpLayerInfo``'s one-line form of a layer, a shortened copy of a real one (the inspector is closed source).

    Layout after the real TensorRT 8.4 Orin excerpt in ``../shared/reference/trtexec-logs``; printed as
    one logger message by ``printLayerInfo`` (sampleReporting.cpp, v10.3.0), so only the first line
    carries the ``[date-time] [I] `` prefix.
    """
    tensors = ", ".join(
        f"{{ Name: t, Location: Device, Dimensions: [{','.join(str(d) for d in layer.dims)}], Format/Datatype: {f.text} }}"
        for f in layer.inputs
    )
    return f"Name: {layer.name}, LayerType: {layer.layer_type}, Inputs: [ {tensors}], TacticValue: 0x0000000000000000"


def _options(engine: str, stem: str, summary: Summary) -> list[str]:
    """A few lines of the options block (``operator<<`` of InferenceOptions/ReportingOptions, sampleOptions.cpp)."""
    percentiles = ",".join(p for p, _ in summary.metrics["latency"].percentiles)
    return [
        "=== Model Options ===",
        "Format: *",
        "Model: ",
        "Output:",
        "=== Inference Options ===",
        "Batch: Explicit",
        "Iterations: 10",
        "Duration: 3s (+ 200ms warm up)",
        "Separate profiling: Enabled",
        "=== Reporting Options ===",
        "Percentiles: " + percentiles,
        "Profile: Enabled",
        f"Export profile to JSON file: {stem}.profile.json",
        "",
        "Engine loaded in 0.0213481 sec.",
        "Loaded engine with size: 24.1104 MiB",
        "[TRT] Loaded engine size: 24 MiB",
        "Engine deserialized in 0.0102217 sec.",
        "Created execution context with device memory size: 12.25 MiB",
        "Using random values for input input",
        "Input binding for input with dimensions 1x3x224x224 is created.",
    ]


def _benchmark(summary: Summary) -> list[str]:
    """``printPerformanceReport``: ``printProlog``, ``printTiming`` and ``printEpilog`` (sampleReporting.cpp)."""
    gpu = float(summary.metrics["gpu_compute"].mean)
    latency = float(summary.metrics["latency"].mean)
    enqueue = float(summary.metrics["enqueue"].mean)
    return [
        "Warmup completed 84 queries over 200 ms",
        f"Timing trace has 1207 queries over {summary.walltime_s} s",
        "",
        "=== Trace details ===",
        "Trace averages of 10 runs:",
        f"Average on 10 runs - GPU latency: {g(gpu * 1.01)} ms - Host latency: {g(latency * 1.01)} ms (enqueue {g(enqueue)} ms)",
        f"Average on 10 runs - GPU latency: {g(gpu * 0.99)} ms - Host latency: {g(latency * 0.99)} ms (enqueue {g(enqueue)} ms)",
        "",
        *summary.lines(),
    ]


def trtexec_stdout(case: Case, summary: Summary) -> str:
    """The stdout of ``trtexec --loadEngine ... --dumpProfile --separateProfileRun --dumpLayerInfo ...``.

    Sections in the order ``main`` of samples/trtexec/trtexec.cpp (v10.3.0) prints them: options,
    engine load and context, layer information (before inference), the benchmark run's summary,
    then the profiled run's ``=== Profile`` table.
    """
    engine = case.engine_file
    stem = engine.rsplit(".", 1)[0]
    command = (
        f"/usr/src/tensorrt/bin/trtexec --loadEngine={engine} --dumpProfile --separateProfileRun --dumpLayerInfo "
        f"--profilingVerbosity=detailed --exportProfile={stem}.profile.json --exportLayerInfo={stem}.layer.json"
    )

    def log(text: str = "", second: int = 0) -> str:
        return STAMP.format(second=second) + text

    out = [f"&&&& RUNNING TensorRT.trtexec [TensorRT v{TRT_VERSION}] # {command}"]
    out += [log(line) for line in _options(engine, stem, summary)]
    # printLayerInfo streams the whole one-line layer information as one message: one prefix.
    out += [log("Layer Information:"), log("Layers:")]
    out += [_oneline_layer(layer) for layer in case.layers]
    out.append("Bindings:")
    out += list(case.bindings)
    out.append(log("Starting inference"))
    out += [log(line, 3) for line in _benchmark(summary)]
    rows, total = table_rows(case)
    out += [
        log("", 6),
        log(f"=== Profile ({case.count} iterations ) ===", 6),
        log("   Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer", 6),
        *(log(row.line(), 6) for row in rows),
        log(total.line(), 6),
        log("", 6),
        f"&&&& PASSED TensorRT.trtexec [TensorRT v{TRT_VERSION}] # {command}",
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------- memory (detailed layer info)


@dataclass(frozen=True)
class MemTensor:
    """One tensor of the memory case: name, dimensions and format, as the layer-info file writes them."""

    name: str
    dims: tuple[int, ...]
    fmt: str


@dataclass(frozen=True)
class MemLayer:
    """One layer of the memory case and the bytes of its outputs, worked out by hand (None: unsizable)."""

    name: str
    layer_type: str
    inputs: tuple[MemTensor, ...]
    outputs: tuple[MemTensor, ...]
    output_bytes: int | None
    padded: bool = False  # whether a vectorized format pads a channel here


I8_CHW4 = "Four wide channel vectorized row major Int8 format"
I8_CHW32 = "Thirty-two wide channel vectorized row major Int8 format"
X = MemTensor("input", (1, 3, 224, 224), "Row major linear FP32")
R0 = MemTensor("Reformatted Input Tensor 0 to /conv1/Conv", (1, 3, 224, 224), I8_CHW4)
C1 = MemTensor("/conv1/Conv_output_0", (1, 16, 112, 112), I8_CHW32)
C2 = MemTensor("/conv2/Conv_output_0", (1, 24, 56, 56), FP16_HWC8.text)
C3 = MemTensor("/conv3/Conv_output_0", (1, 20, 28, 28), FP16_HWC16.text)
GAP = MemTensor("/pool/GlobalAveragePool_output_0", (1, 20, 1, 1), FP32_LINEAR.text)
# Element sizes: FP32 4, FP16/Half/BF16 2, Int8/FP8/BOOL 1, Int32 4 bytes; padding: the channel (third
# to last dimension) rounded up to the vector width (NvInferRuntimeBase.h v10.3.0, TensorFormat).
MEMORY_LAYERS: tuple[MemLayer, ...] = (
    # C = 3 padded to 4: 1*4*224*224 * 1 byte
    MemLayer("Reformatting CopyNode for Input Tensor 0 to /conv1/Conv", "Reformat", (X,), (R0,), 200704, True),
    # C = 16 padded to 32: 1*32*112*112 * 1
    MemLayer("/conv1/Conv + /relu1/Relu", "CaskConvolution", (R0,), (C1,), 401408, True),
    # C = 24 is a multiple of 8: 1*24*56*56 * 2
    MemLayer("/conv2/Conv + /relu2/Relu", "CaskConvolution", (C1,), (C2,), 150528),
    # C = 20 padded to 32: 1*32*28*28 * 2
    MemLayer("/conv3/Conv", "CaskConvolution", (C2,), (C3,), 50176, True),
    # 1*20*1*1 * 4
    MemLayer("/pool/GlobalAveragePool", "CaskPooling", (C3,), (GAP,), 80),
    MemLayer("shape_call_myl0_0", "shape_call", (), (), 0),
    # 1*1000 * 2 (kgen: the type alone)
    MemLayer("__myl_Fc_myl0_1", "kgen", (GAP,), (MemTensor("logits", (1, 1000), KGEN_HALF.text),), 2000),
    # 1*4*8*8 * 2
    MemLayer("/attn/MatMul", "kgen", (), (MemTensor("attn", (1, 4, 8, 8), BF16_LINEAR.text),), 512),
    # 1*64 * 1
    MemLayer("/mlp/fc1/MatMul", "CaskGemm", (), (MemTensor("fc1", (1, 64), FP8_LINEAR.text),), 64),
    # 1*1 * 4
    MemLayer("/argmax", "TopK", (), (MemTensor("idx", (1, 1), INT32_LINEAR.text),), 4),
    # 1*1000 * 1
    MemLayer("/mask/Greater", "ElementWise", (), (MemTensor("mask", (1, 1000), BOOL_LINEAR.text),), 1000),
    # two outputs: C = 8 (no padding) 8*4*4*2 = 256, C = 5 padded to 6: 6*4*4*2 = 192; 256 + 192
    MemLayer(
        "/split/Split",
        "Slice",
        (),
        (MemTensor("s0", (1, 8, 4, 4), FP16_CHW2.text), MemTensor("s1", (1, 5, 4, 4), FP16_CHW2.text)),
        448,
        True,
    ),
    # a dynamic dimension: the size is unknown, so the layer is left out
    MemLayer("/dyn/Reshape", "Shuffle", (), (MemTensor("dyn", (-1, 1000), FP32_LINEAR.text),), None),
)
MEMORY_FILE = "memory_cases.layer.json"


def _mem_tensor(tensor: MemTensor) -> str:
    """One tensor object in the engine inspector's layout (see ``_tensor``)."""
    return _tensor(tensor.name, tensor.dims, Fmt(tensor.fmt, ""))


def memory_layer_json_text() -> str:
    """The memory case as a detailed ``--exportLayerInfo`` file."""
    layers = []
    for layer in MEMORY_LAYERS:
        inputs = ",\n".join(_mem_tensor(t) for t in layer.inputs)
        outputs = ",\n".join(_mem_tensor(t) for t in layer.outputs)
        lines = [
            f'  "Name": "{layer.name}"',
            f'  "LayerType": "{layer.layer_type}"',
            f'  "Inputs": [\n{inputs}]' if inputs else '  "Inputs": []',
            f'  "Outputs": [\n{outputs}]' if outputs else '  "Outputs": []',
        ]
        layers.append("{\n" + ",\n".join(lines) + "\n}")
    return '{"Layers": [' + ",".join(layers) + '],\n"Bindings": ["input"\n,"mask"\n]}\n'


def expected_layer_memory() -> dict[str, int]:
    """What a correct ``layer_memory`` returns for the memory case (unsizable layers left out)."""
    return {layer.name: layer.output_bytes for layer in MEMORY_LAYERS if layer.output_bytes is not None}


# ---------------------------------------------------------------- writing a set


@dataclass(frozen=True)
class Written:
    """Paths of one case's files in a fixture folder."""

    case: Case
    profile: Path
    layers: Path


def write_case(case: Case, folder: Path, bindings_key: str = "Bindings") -> Written:
    """Write ``<key>.profile.json`` and ``<key>.layer.json`` (raw bytes, UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / f"{case.key}.profile.json"
    layers = folder / f"{case.key}.layer.json"
    profile.write_bytes(profile_json_text(case).encode("utf-8"))
    layers.write_bytes(layer_json_text(case, bindings_key).encode("utf-8"))
    return Written(case, profile, layers)


def write_all(folder: Path) -> dict[str, Written]:
    """Every case's files (TensorRT 11's with 'I/O Tensors'), plus a names-only layer file."""
    written = {
        key: write_case(case, folder, "I/O Tensors" if case is TRT11 else "Bindings") for key, case in CASES.items()
    }
    (folder / "not_detailed.layer.json").write_bytes(layer_json_text(RESNET_FP32, detailed=False).encode("utf-8"))
    (folder / MEMORY_FILE).write_bytes(memory_layer_json_text().encode("utf-8"))
    return written
