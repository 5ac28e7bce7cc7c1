"""ONNX Runtime backend: the CPU tier's real inference engine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

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


def quantize_int8(
    fp32_path: str | os.PathLike[str],
    batches: list[dict[str, np.ndarray]],
    int8_path: str | os.PathLike[str],
    prepared: str | os.PathLike[str] | None = None,
) -> None:
    """Real INT8 on the CPU: ORT static quantization, QDQ, per-channel, MinMax calibration.

    The result is a Q/DQ ONNX, the form TensorRT 11 requires for INT8. MinMax is used because
    Entropy and Percentile took 4x longer here and separated good and bad calibration data no
    better (benchmarks/int8_thresholds.md). ``prepared``: ``fp32_path`` already through
    ``prepare_for_quantization`` (it does not depend on the data: a caller may cache it).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        """Feeds the calibration batches once."""

        def __init__(self) -> None:
            self.items = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    int8_path = Path(int8_path)
    scratch = int8_path.with_name(int8_path.stem + ".pre.onnx")
    if prepared is None:
        prepare_for_quantization(fp32_path, scratch)
    try:
        quantize_static(
            str(prepared or scratch),
            str(int8_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    except Exception as error:  # ORT raises ValueError, InvalidArgument, Fail ...
        raise CalibrationError(f"{type(error).__name__}: {error}") from error
    finally:
        scratch.unlink(missing_ok=True)


def logits(path: str | os.PathLike[str], images: np.ndarray) -> np.ndarray:
    """First output for each image of an Nx... batch, run one image at a time (batch-1 models)."""
    return run_logits(OnnxRuntimeRunner(path), images)
