"""Practice 4: run a serialized TensorRT engine from Python with pycuda (TensorRT 10.3, JetPack 6.2).

You write three functions:
- load_engine(engine_path): read an engine file and deserialize it with the TensorRT runtime;
- allocate_buffers(engine): one page-locked host array and one device allocation per I/O tensor;
- infer(engine, buffers, input_array): copy in, run, copy out, synchronize; outputs by name.

TensorRT 10 removed the binding-index API of TensorRT 8 that most blog posts still show
(get_binding_shape, num_bindings, binding_is_input, execute_async_v2, ...): tensors are found
and addressed by NAME. README.md has the table of old calls and their replacements.

Check your work:  pytest assignments/practice4
Do not `import tensorrt` or `import pycuda` at the top of this file: the CPU checks import it on
machines without TensorRT. Import them inside the functions, as cuda_context() below does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path  # noqa: F401 - for load_engine
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # 只給型別提示用；執行時不會 import（沒有 TensorRT 的電腦也能載入這個檔案）
    import pycuda.driver
    import tensorrt as trt

_logger: Any = None  # one TensorRT logger for the whole program, made on first use


def _trt_logger() -> trt.ILogger:
    """The program's TensorRT logger (warnings and errors). Given: use it, do not change it."""
    global _logger
    if _logger is None:
        import tensorrt as trt

        _logger = trt.Logger(trt.Logger.WARNING)
    return _logger


@contextmanager
def cuda_context() -> Iterator[pycuda.driver.Context]:
    """The GPU's primary CUDA context, current inside the ``with`` block. Given: use it, do not change it.

    TensorRT's runtime works in the primary context, so pycuda's buffers and streams must live
    there too (``import pycuda.autoinit`` would make a second context and mix the two).
    Use it around every piece of CUDA work:

        with cuda_context():
            ...  # deserialize, mem_alloc, memcpy, execute
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
    """What ``infer`` needs, allocated once by ``allocate_buffers`` and reused by every call.

    Keep these fields (the grader reads host, device, inputs and outputs).
    """

    host: dict[str, np.ndarray]  # page-locked host array per I/O tensor name (cuda.pagelocked_empty)
    device: dict[str, pycuda.driver.DeviceAllocation]  # device memory per I/O tensor name (cuda.mem_alloc)
    shapes: dict[str, tuple[int, ...]]  # the engine's shape per tensor
    dtypes: dict[str, np.dtype[Any]]  # the engine's numpy dtype per tensor
    inputs: list[str]  # input tensor names, in engine order
    outputs: list[str]  # output tensor names, in engine order
    stream: pycuda.driver.Stream  # the CUDA stream copies and inference run on
    context: trt.IExecutionContext  # the execution context, tensor addresses already set
    cuda_context: pycuda.driver.Context  # the context from cuda_context(): keeps the GPU memory alive


def load_engine(engine_path: str | os.PathLike[str]) -> trt.ICudaEngine:
    """Deserialize the engine file ``engine_path`` with the TensorRT runtime.

    Contract:
    - a missing file: raise FileNotFoundError whose message names the file and how to build it
      (trtexec --onnx=model.onnx --saveEngine=model.engine);
    - read the bytes and deserialize them inside ``with cuda_context():`` with
      ``trt.Runtime(_trt_logger()).deserialize_cuda_engine(data)``;
    - deserialize_cuda_engine returns None (it does not raise) for a corrupt file or an engine
      built by another TensorRT version or for another GPU: raise RuntimeError naming the file
      and saying to rebuild it on this board;
    - return the trt.ICudaEngine.
    """
    # TODO 1: 檢查檔案存在（Path(engine_path).is_file()），不存在就 raise FileNotFoundError（訊息要有檔名）
    # TODO 2: import tensorrt as trt（寫在函式裡面）；讀出 bytes
    # TODO 3: with cuda_context(): engine = trt.Runtime(_trt_logger()).deserialize_cuda_engine(data)
    # TODO 4: engine 是 None → raise RuntimeError（檔名 + 「用這塊板子的 TensorRT 重新建置」）
    raise NotImplementedError


def allocate_buffers(engine: trt.ICudaEngine) -> Buffers:
    """Page-locked host array and device allocation for every I/O tensor, found by name.

    Contract (TensorRT 10: tensors by NAME, there are no binding indices):
    - inside ``with cuda_context() as primary:`` create ``context = engine.create_execution_context()``
      and a ``cuda.Stream()``;
    - for i in range(engine.num_io_tensors): name = engine.get_tensor_name(i);
      shape = tuple(engine.get_tensor_shape(name)); dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(name)));
      input or output from engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT;
    - a dimension of -1 (dynamic shape): raise ValueError (this practice runs static engines);
    - host array: cuda.pagelocked_empty(shape, dtype); device: cuda.mem_alloc(host.nbytes);
      tell TensorRT where the tensor lives: context.set_tensor_address(name, int(device));
    - return Buffers(host, device, shapes, dtypes, inputs, outputs, stream, context, primary).
    """
    # TODO 1: import pycuda.driver as cuda 與 import tensorrt as trt（寫在函式裡面）
    # TODO 2: with cuda_context() as primary: 建立 execution context 與 stream
    # TODO 3: 用 num_io_tensors / get_tensor_name / get_tensor_mode / get_tensor_shape / get_tensor_dtype
    #         找出每個 tensor；不要用 TensorRT 8 的 get_binding_shape、num_bindings、binding_is_input
    # TODO 4: 每個 tensor 配置 page-locked host 陣列與 device 記憶體，並 set_tensor_address
    raise NotImplementedError


def infer(engine: trt.ICudaEngine, buffers: Buffers, input_array: np.ndarray) -> dict[str, np.ndarray]:
    """Run the engine once on ``input_array``; a copy of every output, keyed by tensor name.

    Contract:
    - the engine has one input; ``input_array`` must have exactly its shape, else raise
      ValueError naming the expected shape and the one received, e.g.
      "input 'input' must have shape (1, 3, 224, 224), got (1, 3, 112, 112)";
    - and exactly its dtype (no silent conversion), else raise TypeError naming both dtypes, e.g.
      "input 'input' must be float32, got float64";
    - inside ``with cuda_context():`` copy the input into its page-locked host array
      (np.copyto), cuda.memcpy_htod_async(device, host, stream),
      context.execute_async_v3(stream.handle) (False means failure: raise RuntimeError),
      cuda.memcpy_dtoh_async(host, device, stream) for every output, then stream.synchronize();
    - reuse ``buffers`` (allocate nothing here) and return COPIES of the output host arrays
      (the next call overwrites them).
    """
    # TODO 1: 檢查 shape 與 dtype，錯了就 raise（訊息要說「需要什麼、收到什麼」）
    # TODO 2: with cuda_context(): 複製輸入 → memcpy_htod_async → execute_async_v3(stream.handle)
    #         → 每個輸出 memcpy_dtoh_async → stream.synchronize()
    #         （TensorRT 8 的 execute_async_v2(bindings=...) 在 10.x 已移除）
    # TODO 3: 回傳 {輸出名稱: host 陣列的 .copy()}
    raise NotImplementedError
