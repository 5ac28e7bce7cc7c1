"""ONNX Runtime backend: the CPU tier's real inference engine."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from grader.backends import TensorSpec, run_logits

# onnxruntime reports types as strings such as "tensor(float)".
_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


# The intra-op thread count of every session the grader opens, when the caller does not pass one. A batch
# worker sets it (with OMP_NUM_THREADS) so results do not depend on the machine's core count.
THREADS_ENV = "TRTLAB_ORT_THREADS"


def default_threads() -> int:
    """``TRTLAB_ORT_THREADS``, else 0 (ONNX Runtime's own choice: one thread per core)."""
    try:
        return max(0, int(os.environ.get(THREADS_ENV, "0")))
    except ValueError:
        return 0


class ModelLoadError(RuntimeError):
    """ONNX Runtime could not load a model file."""


class OnnxRuntimeRunner:
    """An ``onnxruntime.InferenceSession`` on the CPU with the lab's I/O helpers."""

    def __init__(self, onnx_path: str | os.PathLike[str], threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: students should not read ORT warnings
        options.intra_op_num_threads = default_threads() if threads is None else threads
        self.path = Path(onnx_path)
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ORT raises several private exception types
            raise ModelLoadError(f"ONNX Runtime cannot load {self.path.name}: {error}") from error

    def input_specs(self) -> list[TensorSpec]:
        """The model's inputs, in order."""
        return [_spec(arg) for arg in self.session.get_inputs()]

    def output_specs(self) -> list[TensorSpec]:
        """The model's outputs, in order."""
        return [_spec(arg) for arg in self.session.get_outputs()]

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; outputs by name."""
        names = [arg.name for arg in self.session.get_outputs()]
        return dict(zip(names, self.session.run(names, dict(feed)), strict=True))


def _spec(arg: ort.NodeArg) -> TensorSpec:
    """TensorSpec of an ORT NodeArg; symbolic dimensions keep their name (or None)."""
    return TensorSpec(arg.name, tuple(arg.shape), np.dtype(_ORT_TYPES.get(arg.type, object)))


class CalibrationError(RuntimeError):
    """Static quantization could not consume the calibration data."""


def prepare_for_quantization(fp32_path: str | os.PathLike[str], prepared_path: str | os.PathLike[str]) -> None:
    """ORT's recommended pre-processing before static quantization (shape inference, graph optimization)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quant_pre_process(str(fp32_path), str(prepared_path))


def _quantize_static(prepared: Path, int8_path: Path, **calibration: object) -> None:
    """ORT's quantize_static with the lab's settings, written once for both paths: QDQ, per-channel INT8
    weights and activations, MinMax; ``calibration``: the data reader, or ORT's calibration cache."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    try:
        quantize_static(
            str(prepared),
            str(int8_path),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            **calibration,
        )
    except Exception as error:  # ORT raises ValueError, InvalidArgument, Fail ...
        raise CalibrationError(f"{type(error).__name__}: {error}") from error


def quantize_int8(
    fp32_path: str | os.PathLike[str],
    batches: list[dict[str, np.ndarray]],
    int8_path: str | os.PathLike[str],
    prepared: str | os.PathLike[str] | None = None,
    fast: bool = True,
    weights: str | os.PathLike[str] | None = None,
) -> None:
    """Real INT8 on the CPU: ORT static quantization, QDQ, per-channel, MinMax calibration.

    The result is a Q/DQ ONNX, the form TensorRT 11 requires for INT8. MinMax is used because
    Entropy and Percentile took 4x longer here and separated good and bad calibration data no
    better (benchmarks/int8_thresholds.md). ``prepared``: ``fp32_path`` already through
    ``prepare_for_quantization`` (it does not depend on the data: a caller may cache it).
    ``fast``: collect the ranges with ``collect_ranges`` and hand them to the quantizer as ORT's own
    calibration cache, where this ORT has one (the same model, bytes for bytes: tests/test_int8_fast.py);
    False: ORT calibrates itself, as before. ``weights``: a ``weight_parameters`` file of ``prepared``
    (fast path only; a caller may cache it too).
    """
    int8_path = Path(int8_path)
    scratch = int8_path.with_name(int8_path.stem + ".pre.onnx")
    if prepared is None:
        prepare_for_quantization(fp32_path, scratch)
    source = Path(prepared or scratch)
    try:
        if fast and has_calibration_cache():
            ranges = collect_ranges(source, batches, int8_path.parent)
            quantize_with_ranges(source, ranges, int8_path, weights=weights)
        else:
            _quantize_static(source, int8_path, calibration_data_reader=_reader(batches))
    finally:
        scratch.unlink(missing_ok=True)


def _reader(batches: list[dict[str, np.ndarray]]) -> Any:
    """ORT's CalibrationDataReader over the calibration batches, once (ORT is imported only when needed)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        """Feeds the calibration batches once."""

        def __init__(self) -> None:
            self.items = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    return Reader()


def has_calibration_cache() -> bool:
    """Whether this ORT's quantize_static takes ranges from a calibration cache (onnxruntime >= 1.27, PR #28221;
    Python 3.10, the Jetson's, gets 1.23 at most: it quantizes in one call)."""
    import inspect

    from onnxruntime.quantization import quantize_static

    return "calibration_cache_path" in inspect.signature(quantize_static).parameters


def _default_op_types() -> list[str]:
    """The operator types quantize_static calibrates and quantizes when it is given none (its own default)."""
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    return list(set(list(QLinearOpsRegistry.keys()) + list(QDQRegistry.keys())))


def collect_ranges(prepared: str | os.PathLike[str], batches: list[dict[str, np.ndarray]], scratch: Path) -> Any:
    """MinMax ranges of every tensor ORT would calibrate, by ORT's own calibrator, on this process's threads.

    quantize_static's calibrator runs its graph (the model plus a ReduceMin and a ReduceMax per tensor) with
    ORT's default thread pool: one spinning thread per core, which in a batch worker fights the other
    workers. This is the same calibrator class, graph and unoptimized session (so the same kernels and the
    same bits), with ``default_threads()`` threads. The batches still go one per run: batched runs of
    ORT's unoptimized convolutions were slower, not faster (benchmarks/int8_speed.md).
    """
    from onnxruntime.quantization.calibrate import MinMaxCalibrater

    class Calibrater(MinMaxCalibrater):
        """ORT's MinMax calibrator, its session on the grader's threads."""

        def create_inference_session(self) -> None:
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # as ORT's own
            options.intra_op_num_threads = default_threads()
            options.log_severity_level = 3
            self.infer_session = ort.InferenceSession(
                self.augmented_model_path, sess_options=options, providers=["CPUExecutionProvider"]
            )

    with tempfile.TemporaryDirectory(prefix="trtlab-ranges-", dir=scratch) as folder:
        calibrater = Calibrater(
            str(prepared), _default_op_types(), augmented_model_path=str(Path(folder) / "augmented_model.onnx")
        )
        calibrater.augment_graph()
        calibrater.create_inference_session()
        try:
            calibrater.collect_data(_reader(batches))
            return calibrater.compute_data()
        except Exception as error:  # ORT raises ValueError, InvalidArgument, Fail ...
            raise CalibrationError(f"{type(error).__name__}: {error}") from error


def quantize_with_ranges(
    prepared: str | os.PathLike[str],
    ranges: Any,
    int8_path: str | os.PathLike[str],
    weights: str | os.PathLike[str] | None = None,
    extra_options: Mapping[str, object] | None = None,
) -> None:
    """quantize_static with the lab's settings on ranges already collected, handed over as ORT's own
    calibration cache (a JSON file ORT writes and reads; float32 values survive it exactly).

    ``weights``: a file of ``weight_parameters``: ORT's own per-channel weight scales, given back to it as
    TensorQuantOverrides so that it does not compute them again (half the quantizer's time; the same model).
    """
    from onnxruntime.quantization.calibrate import save_tensors_data

    int8_path = Path(int8_path)
    cache = int8_path.with_name(int8_path.stem + ".ranges.json")
    save_tensors_data(ranges, cache)
    options = dict(extra_options or {})
    if weights is not None:
        options["TensorQuantOverrides"] = _weight_overrides(Path(weights))
    try:
        _quantize_static(
            Path(prepared),
            int8_path,
            calibration_data_reader=None,
            calibration_cache_path=str(cache),
            extra_options=options,
        )
    finally:
        cache.unlink(missing_ok=True)


def weight_parameters(prepared: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """ORT's per-channel scales and zero points of every weight of ``prepared``, as a JSON file.

    They depend on the weights alone: quantize_static computes them from each channel's values, then may
    widen a weight's scales so that its bias fits in int32 (which depends on the data). The file holds them
    before that widening: read off a model ORT quantized with the widening turned off
    (``QDQDisableWeightAdjustForInt32Bias``), on one all-zero input. Passed back through
    ``quantize_with_ranges(weights=...)``, ORT still widens them for each calibration set itself.
    """
    import json
    import logging

    import onnx

    graph = onnx.load(str(prepared), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    feed = {  # the graph's own inputs, a symbolic dimension taken as 1
        value.name: np.zeros(
            [dim.dim_value or 1 for dim in value.type.tensor_type.shape.dim],
            onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type),
        )
        for value in graph.input
        if value.name not in weights
    }
    with tempfile.TemporaryDirectory(prefix="trtlab-weights-") as folder:
        plain = Path(folder) / "weights.onnx"
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # ORT warns of every bias that the widening would have fitted
        try:
            quantize_with_ranges(
                prepared,
                collect_ranges(prepared, [feed], Path(folder)),
                plain,
                extra_options={"QDQDisableWeightAdjustForInt32Bias": True},
            )
        finally:
            logging.disable(previous)
        found = _per_channel_weights(onnx.load(str(plain)), weights)
    Path(target).write_text(json.dumps(found), encoding="utf-8")


def _per_channel_weights(quantized: Any, weights: set[str]) -> dict[str, dict[str, object]]:
    """``{weight: {axis, scale, zero_point}}`` of the INT8 per-channel DequantizeLinear of each of ``weights``
    in a Q/DQ model (ORT names the quantized initializer ``<weight>_quantized``)."""
    from onnx import numpy_helper

    values = {init.name: init for init in quantized.graph.initializer}
    found: dict[str, dict[str, object]] = {}
    for node in quantized.graph.node:
        weight = node.input[0].removesuffix("_quantized") if node.op_type == "DequantizeLinear" else ""
        if weight not in weights or node.input[0] not in values or len(node.input) < 3:
            continue
        scale, zero_point = (numpy_helper.to_array(values[name]) for name in node.input[1:3])
        if numpy_helper.to_array(values[node.input[0]]).dtype == np.int8 and scale.ndim == 1:
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)  # DequantizeLinear's default
            found[weight] = {"axis": axis, "scale": scale.tolist(), "zero_point": zero_point.tolist()}
    return found


def _weight_overrides(path: Path) -> dict[str, list[dict[str, object]]]:
    """TensorQuantOverrides of a ``weight_parameters`` file: one entry per channel, the axis on the first."""
    import json

    overrides = {}
    for weight, params in json.loads(path.read_text(encoding="utf-8")).items():
        channels = [
            {"scale": np.float32(scale), "zero_point": np.int8(zero_point)}
            for scale, zero_point in zip(params["scale"], params["zero_point"], strict=True)
        ]
        channels[0]["axis"] = params["axis"]
        overrides[weight] = channels
    return overrides


def logits(path: str | os.PathLike[str], images: np.ndarray) -> np.ndarray:
    """First output for each image of an Nx... batch, run one image at a time (batch-1 models)."""
    return run_logits(OnnxRuntimeRunner(path), images)
