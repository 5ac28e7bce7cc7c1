"""Reading ONNX files the way the suites need: clear errors, real inputs, dims, opsets."""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from grader.core.checks import fail

_ELEM_TYPES = {value: name.lower() for name, value in onnx.TensorProto.DataType.items()}


def load(path: str | os.PathLike[str], what: str) -> onnx.ModelProto:
    """The ModelProto at ``path`` (weights left on disk); fails with ``what`` in the message."""
    path = Path(path)
    if not path.is_file():
        fail(f"{what}: no file at {path.name}.")
    if path.stat().st_size == 0:
        fail(f"{what}: {path.name} is empty (0 bytes).")
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf raises DecodeError and friends
        fail(f"{what}: {path.name} is not a valid ONNX file ({type(error).__name__}: {error}).")


def real_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """Graph inputs that are fed at run time (not initializers listed as inputs)."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in initializers]


def dims(value: onnx.ValueInfoProto) -> list[int | str | None]:
    """Dimensions of a tensor value: ints, symbolic names, or None when unknown."""
    shape = value.type.tensor_type.shape
    out: list[int | str | None] = []
    for dim in shape.dim:
        if dim.HasField("dim_value"):
            out.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            out.append(dim.dim_param)
        else:
            out.append(None)
    return out


def elem_type(value: onnx.ValueInfoProto) -> str:
    """Element type name of a tensor value (``float``, ``float16``, ``int64`` ...)."""
    return _ELEM_TYPES.get(value.type.tensor_type.elem_type, "undefined")


def default_opset(model: onnx.ModelProto) -> int | None:
    """The opset version imported for the default ONNX domain."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return None


def external_data_files(model: onnx.ModelProto) -> list[str]:
    """Files that hold tensors outside the .onnx file (empty for a self-contained model)."""
    files = []
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "?")
            if location not in files:
                files.append(location)
    return files


def describe_shape(shape: list[int | str | None]) -> str:
    """``1x3x224x224``, with symbolic dimensions by name."""
    return "x".join("?" if dim is None else str(dim) for dim in shape)
