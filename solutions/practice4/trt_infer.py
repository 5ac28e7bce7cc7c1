"""Practice 4 (reference): run a serialized TensorRT 10.3 engine from Python with pycuda.

TensorRT 10 removed the binding-index API of TensorRT 8 (``get_binding_shape``,
``num_bindings``, ``execute_async_v2``...): tensors are found by name, addresses are set by
name, and ``execute_async_v3`` runs the engine on a CUDA stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # for type hints only: this file must import where TensorRT is missing
    import pycuda.driver
    import tensorrt as trt

_logger: Any = None  # one TensorRT logger for the whole program, made on first use


def _trt_logger() -> trt.ILogger:
    """The program's TensorRT logger (warnings and errors)."""
    global _logger
    if _logger is None:
        import tensorrt as trt

        _logger = trt.Logger(trt.Logger.WARNING)
    return _logger


@contextmanager
def cuda_context() -> Iterator[pycuda.driver.Context]:
    """The GPU's primary CUDA context, current inside the ``with`` block.

    TensorRT's runtime works in the primary context, so pycuda's buffers and streams must live
    there too (``pycuda.autoinit`` would make a second context and mix the two).
    """
    import pycuda.driver as cuda

    cuda.init()
    context = cuda.Device(0).retain_primary_context()
    context.push()
    try:
        yield context
    finally:
        cuda.Context.pop()


@dataclass
class Buffers:
    """What ``infer`` needs, allocated once by ``allocate_buffers`` and reused by every call."""

    host: dict[str, np.ndarray]  # page-locked host array per I/O tensor name
    device: dict[str, pycuda.driver.DeviceAllocation]  # device memory per I/O tensor name
    shapes: dict[str, tuple[int, ...]]  # the engine's shape per tensor
    dtypes: dict[str, np.dtype[Any]]  # the engine's numpy dtype per tensor
    inputs: list[str]  # input tensor names, in engine order
    outputs: list[str]  # output tensor names, in engine order
    stream: pycuda.driver.Stream  # the CUDA stream copies and inference run on
    context: trt.IExecutionContext  # the execution context, tensor addresses already set
    cuda_context: pycuda.driver.Context  # keeps the primary CUDA context (and the memory) alive


def load_engine(engine_path: str | os.PathLike[str]) -> trt.ICudaEngine:
    """Deserialize the engine file ``engine_path`` with the TensorRT runtime."""
    path = Path(engine_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"engine file {path} not found: build it first, e.g. trtexec --onnx=model.onnx --saveEngine={path}"
        )
    data = path.read_bytes()
    if not data:
        raise ValueError(f"engine file {path} is empty: build it again")
    import tensorrt as trt

    with cuda_context():
        engine = trt.Runtime(_trt_logger()).deserialize_cuda_engine(data)
    if engine is None:
        raise RuntimeError(
            f"TensorRT {trt.__version__} cannot deserialize {path}: the file is not an engine, is damaged, or "
            "was built by another TensorRT version or for another GPU. Rebuild it on this board (trtexec)."
        )
    return engine


def allocate_buffers(engine: trt.ICudaEngine) -> Buffers:
    """Page-locked host array and device allocation for every I/O tensor, found by name."""
    import pycuda.driver as cuda
    import tensorrt as trt

    host: dict[str, np.ndarray] = {}
    device: dict[str, pycuda.driver.DeviceAllocation] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, np.dtype[Any]] = {}
    inputs: list[str] = []
    outputs: list[str] = []
    with cuda_context() as primary:
        context = engine.create_execution_context()
        for index in range(engine.num_io_tensors):
            name = engine.get_tensor_name(index)
            shape = tuple(engine.get_tensor_shape(name))
            if any(dim < 0 for dim in shape):
                raise ValueError(
                    f"tensor {name!r} has the dynamic shape {shape}: this practice runs static engines; "
                    "export and build the model with a fixed input shape"
                )
            shapes[name] = shape
            dtypes[name] = np.dtype(trt.nptype(engine.get_tensor_dtype(name)))
            host[name] = cuda.pagelocked_empty(shape, dtypes[name])  # page-locked: async copies need it
            device[name] = cuda.mem_alloc(host[name].nbytes)
            context.set_tensor_address(name, int(device[name]))
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (inputs if is_input else outputs).append(name)
        stream = cuda.Stream()
    return Buffers(host, device, shapes, dtypes, inputs, outputs, stream, context, primary)


def infer(engine: trt.ICudaEngine, buffers: Buffers, input_array: np.ndarray) -> dict[str, np.ndarray]:
    """Run the engine once on ``input_array``; a copy of every output, by tensor name."""
    import pycuda.driver as cuda

    if len(buffers.inputs) != 1:
        raise ValueError(f"infer() takes engines with one input; this one has {buffers.inputs}")
    name = buffers.inputs[0]
    shape, dtype = buffers.shapes[name], buffers.dtypes[name]
    array = np.asarray(input_array)
    if array.shape != shape:
        raise ValueError(f"input {name!r} must have shape {shape}, got {array.shape}")
    if array.dtype != dtype:
        raise TypeError(f"input {name!r} must be {dtype}, got {array.dtype}: convert it with .astype(np.{dtype})")
    with cuda_context():
        np.copyto(buffers.host[name], array)
        cuda.memcpy_htod_async(buffers.device[name], buffers.host[name], buffers.stream)
        if not buffers.context.execute_async_v3(buffers.stream.handle):
            raise RuntimeError(f"TensorRT could not run {engine.name!r} (execute_async_v3 returned False)")
        for output in buffers.outputs:
            cuda.memcpy_dtoh_async(buffers.host[output], buffers.device[output], buffers.stream)
        buffers.stream.synchronize()  # the copies are asynchronous: wait before reading the host arrays
    # Copies: the host buffers are overwritten by the next call.
    return {output: buffers.host[output].copy() for output in buffers.outputs}
