"""Practice 4 suite: ``trt_infer.py`` (load_engine, allocate_buffers, infer).

CPU tier (a small share of the points): the file imports without TensorRT, keeps the three
functions' signatures, uses no TensorRT 8 API that TensorRT 10 removed (``grader.practices.practice4.trt_lint``,
each finding with its replacement) and finds tensors by name. It only counts once the three
functions are implemented, so the untouched stub earns nothing here.
GPU tier (Jetson, the inference points): the student's functions run the grader's own engines
(resnet18 FP32, the lab classifier FP32 and FP16, built by ``grader.backends.tensorrt``) and
must match ONNX Runtime on the same ONNX file, reuse their buffers and reject wrong input.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.backends.compare import compare
from grader.core import student
from grader.core.checks import Attempt, attempt, expect, fail
from grader.core.submission import StudentFile
from grader.plugin import suite_tools
from grader.practices.practice4 import PRACTICE, trt_lint
from grader.tools import models

SEED = 0
FUNCTIONS = ("load_engine", "allocate_buffers", "infer")
PARAMETERS = {
    "load_engine": ("engine_path",),
    "allocate_buffers": ("engine",),
    "infer": ("engine", "buffers", "input_array"),
}
SIGNATURES = {
    "load_engine": "(engine_path) -> trt.ICudaEngine",
    "allocate_buffers": "(engine) -> Buffers",
    "infer": "(engine, buffers, input_array) -> dict[str, np.ndarray]",
}
STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)
# Tolerances for the student's outputs against ONNX Runtime (FP32, CPU) on the same ONNX file,
# relative to the largest |output|. The engine's precision sets the honest error; every infer()
# mistake (input never copied in, outputs read before synchronize, a stale or wrong tensor,
# bytes of the wrong dtype) moves outputs by the order of the output scale itself: measured on
# the CPU, resnet18's outputs for its test input and for zeros differ by 100 % of the scale,
# the lab classifier's for two photos-like inputs by about 20 %.
TOLERANCES = {
    # TensorRT builds FP32 engines with TF32 enabled by default on Ampere GPUs (the Orin):
    # convolution inputs keep a 10-bit mantissa, ~1e-3 of the scale after a ResNet. 1e-2 leaves
    # 10x headroom and stays 20x below the smallest mistake above.
    "fp32": 1e-2,
    # FP16 keeps ~3 decimal digits per layer; through EfficientNet-Lite0's depth the logits move by
    # a few 1e-2 of their scale (~7). 5e-2 is still 4x below the smallest mistake above.
    "fp16": 5e-2,
}


@dataclass(frozen=True)
class Case:
    """One reference engine: which model, which precision, which input."""

    model: str
    precision: str

    @property
    def label(self) -> str:
        """How the student reads it."""
        return f"{self.model} {self.precision.upper()}"

    def engine(self) -> Path:
        """The grader's own engine of this model and precision (built once per board, cached)."""
        from grader.backends import tensorrt as trt_backend

        return trt_backend.cached_engine(models.export_onnx(self.model), precision=self.precision)

    def input(self, seed: int = SEED) -> np.ndarray:
        """A test input of the model's contract shape, float32.

        The lab classifier gets [0, 1] pixels (its contract). resnet18 has seeded random weights,
        whose outputs hardly depend on [0, 1] inputs; standard-normal inputs make them do.
        """
        contract = models.REFERENCE_MODELS[self.model].contract
        rng = np.random.default_rng(seed)
        if self.model == "resnet18":
            return rng.standard_normal(contract.shape).astype(np.float32)
        return rng.random(contract.shape, dtype=np.float32)

    def expected(self, array: np.ndarray) -> dict[str, np.ndarray]:
        """ONNX Runtime's outputs for ``array`` on the same ONNX file (the grader's truth)."""
        from grader.backends.onnxruntime import OnnxRuntimeRunner

        runner = OnnxRuntimeRunner(models.export_onnx(self.model))
        return runner.infer({runner.input_specs()[0].name: array})


def _cases() -> list[Case]:
    """resnet18 FP32 and the lab classifier in FP32 and FP16."""
    lab = models.lab_classifier().name
    return [Case("resnet18", "fp32"), Case(lab, "fp32"), Case(lab, "fp16")]


# ---------------------------------------------------------------- loading the student's file


def _import_hint(message: str) -> str:
    """Say how to import TensorRT and pycuda when a top-level import failed here."""
    if "No module named 'tensorrt'" in message or "No module named 'pycuda'" in message:
        return (
            f"{message}\nImport tensorrt and pycuda inside the functions (`import tensorrt as trt` in "
            "load_engine(), as the stub shows): the checks of this file also run on machines without "
            "TensorRT, which must be able to import it."
        )
    return message


trt_infer = suite_tools.student_module(STUDENT_FILE, hint=_import_hint)


def _source(module: Attempt[ModuleType]) -> str:
    """The text of the student's file."""
    return Path(module.result().__file__ or "").read_text(encoding="utf-8")


def _require_implemented(module: Attempt[ModuleType]) -> str:
    """The file's text, once all three functions do something (the lint's points need real code)."""
    source = _source(module)
    stubbed = trt_lint.stubbed_functions(source, FUNCTIONS)
    if stubbed:  # a stub: raised as such, so that a batch flags a practice left unimplemented
        raise student.StudentCodeError(
            f"{', '.join(name + '()' for name in stubbed)} not implemented yet: in {STUDENT_FILE}, replace "
            "`raise NotImplementedError` with your code (see the TODO comments). This check counts once "
            "load_engine, allocate_buffers and infer are all written.",
            student.NOT_IMPLEMENTED,
        )
    return source


# ---------------------------------------------------------------- CPU tier: the file itself


@pytest.mark.points(1)
@pytest.mark.check("p4.file.three_functions")
def test_defines_the_three_functions(trt_infer: Attempt[ModuleType]) -> None:
    """trt_infer.py imports without TensorRT and keeps load_engine/allocate_buffers/infer's parameters"""
    for name in FUNCTIONS:
        func = STUDENT_FILE.function(trt_infer, name)
        try:
            parameters = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            fail(f"{name} in {STUDENT_FILE} is not a plain function: keep the stub's `def {name}{SIGNATURES[name]}`.")
        wanted = PARAMETERS[name]
        positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        expect(
            tuple(positional[: len(wanted)]) == wanted,
            f"{name}() takes ({', '.join(positional)}); the grader calls it as {name}({', '.join(wanted)}). "
            f"Keep the stub's signature: def {name}{SIGNATURES[name]}",
        )
        extra = [
            p.name
            for p in parameters[len(wanted) :]
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        expect(
            not extra,
            f"{name}() has extra parameters without defaults ({', '.join(extra)}): the grader calls "
            f"{name}({', '.join(wanted)}); give them default values.",
        )
    _require_implemented(trt_infer)


@pytest.mark.points(1)
@pytest.mark.check("p4.file.no_tensorrt8_api")
def test_no_tensorrt8_api(trt_infer: Attempt[ModuleType]) -> None:
    """trt_infer.py uses no TensorRT 8 API that TensorRT 10.3 (JetPack 6.2) removed"""
    source = _require_implemented(trt_infer)
    findings = trt_lint.lint_source(source, STUDENT_FILE)
    used = trt_lint.names(findings)
    # The names first, all of them, so a table that cuts long messages still shows every one.
    expect(
        not findings,
        f"{len(findings)} use{'s' if len(findings) > 1 else ''} of {len(used)} TensorRT 8 name"
        f"{'s' if len(used) > 1 else ''} removed in TensorRT 10.3 (AttributeError on JetPack 6.2): "
        f"{', '.join(used)}. Replace each (line: your code -> the 10.x way):\n"
        + "\n".join("  " + line for line in trt_lint.summary(findings, STUDENT_FILE)),
    )


# What finding tensors by name needs, with why (TensorRT 10 I/O API).
NAME_API = {
    "deserialize_cuda_engine": "trt.Runtime(logger).deserialize_cuda_engine(data) loads the engine",
    "num_io_tensors": "engine.num_io_tensors counts the I/O tensors",
    "get_tensor_name": "engine.get_tensor_name(i) names tensor i",
    "get_tensor_mode": "engine.get_tensor_mode(name) tells inputs (trt.TensorIOMode.INPUT) from outputs",
    "get_tensor_shape": "engine.get_tensor_shape(name) sizes each buffer",
    "get_tensor_dtype": "engine.get_tensor_dtype(name) (with trt.nptype) gives each buffer's dtype",
}


@pytest.mark.points(1)
@pytest.mark.check("p4.file.tensorrt10_io_api")
def test_uses_tensorrt10_io_api(trt_infer: Attempt[ModuleType]) -> None:
    """trt_infer.py finds tensors by name and runs with execute_async_v3 (or execute_v2)"""
    used = trt_lint.attributes_used(_require_implemented(trt_infer))
    missing = [f"{name}: {why}" for name, why in NAME_API.items() if name not in used]
    if "execute_async_v3" in used:
        if "set_tensor_address" not in used:
            missing.append("set_tensor_address: execute_async_v3 reads every tensor at the address set by name")
    elif "execute_v2" not in used:
        missing.append(
            "execute_async_v3: context.execute_async_v3(stream.handle) runs the engine (or the synchronous "
            "context.execute_v2(bindings))"
        )
    expect(
        not missing,
        f"{STUDENT_FILE} does not use the TensorRT 10 name-based I/O API yet; missing:\n"
        + "\n".join("  " + item for item in missing),
    )


# The stub's given helpers: the checks below do not follow calls into them.
GIVEN = ("cuda_context", "_trt_logger")


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p4.file.infer_allocates_nothing")
def test_infer_allocates_nothing(trt_infer: Attempt[ModuleType]) -> None:
    """infer() allocates no CUDA memory, stream or execution context: it reuses what allocate_buffers made"""
    source = _require_implemented(trt_infer)
    allocating = {
        "mem_alloc",
        "mem_alloc_like",
        "to_device",
        "pagelocked_empty",
        "pagelocked_zeros",
        "pagelocked_empty_like",
        "pagelocked_zeros_like",
        "Stream",
        "create_execution_context",
        "allocate_buffers",
    }
    found = sorted(allocating & trt_lint.calls_in(trt_lint.reachable(source, "infer", skip=GIVEN)))
    expect(
        not found,
        f"infer() (or a function it calls) calls {', '.join(name + '()' for name in found)}, on every inference: "
        "allocate once in allocate_buffers() and let infer() reuse buffers.host, buffers.device, buffers.stream "
        "and buffers.context (re-allocating is slow and eats the Orin Nano's shared memory).",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p4.file.infer_synchronizes")
def test_infer_waits_for_its_copies(trt_infer: Attempt[ModuleType]) -> None:
    """infer() calls stream.synchronize() when it copies the outputs back with memcpy_dtoh_async"""
    source = _require_implemented(trt_infer)
    used = trt_lint.calls_in(trt_lint.reachable(source, "infer", skip=GIVEN))
    expect(
        "memcpy_dtoh_async" not in used or "synchronize" in used,
        "infer() copies its outputs with cuda.memcpy_dtoh_async but never calls synchronize(): the copies are "
        "asynchronous, so the host arrays may still hold old data when you read them. Call "
        "buffers.stream.synchronize() after the last memcpy_dtoh_async, before returning the copies.",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p4.file.given_helpers")
def test_uses_the_given_helpers(trt_infer: Attempt[ModuleType]) -> None:
    """trt_infer.py keeps the stub's Buffers, does its CUDA work inside cuda_context() and logs through _trt_logger()"""
    source = _require_implemented(trt_infer)
    fields = ("host", "device", "shapes", "dtypes", "inputs", "outputs", "stream", "context", "cuda_context")
    kind = getattr(trt_infer.result(), "Buffers", None)
    have = [field.name for field in dataclasses.fields(kind)] if dataclasses.is_dataclass(kind) else []
    missing = [name for name in fields if name not in have]
    expect(
        not missing,
        f"{STUDENT_FILE}'s Buffers "
        + (f"has no field {', '.join(missing)}" if have else "is not the stub's dataclass")
        + ": keep the stub's Buffers dataclass as it is (given: use it, do not change it).",
    )
    outside = [name for name in FUNCTIONS if not trt_lint.enters(trt_lint.reachable(source, name), "cuda_context")]
    expect(
        not outside,
        f"{', '.join(name + '()' for name in outside)} {'does' if len(outside) == 1 else 'do'} not enter "
        "`with cuda_context():`. TensorRT's runtime works "
        "in the GPU's primary CUDA context: deserialize, mem_alloc, memcpy and execute inside "
        "`with cuda_context():` (the stub's helper), not with pycuda.autoinit's second context.",
    )
    loggers = [
        "the top level of the file" if name == trt_lint.MODULE_LEVEL else f"{name}()"
        for name in trt_lint.callers_of(source, "Logger")
        if name != "_trt_logger"
    ]
    expect(
        not loggers,
        f"a trt.Logger is created in {', '.join(loggers)}: a program has one TensorRT logger (TensorRT warns when "
        "a runtime is given another one). Use the stub's _trt_logger(), e.g. trt.Runtime(_trt_logger()).",
    )


# ---------------------------------------------------------------- GPU tier (Jetson, TensorRT 10.3 + pycuda)


@dataclass
class Run:
    """The student's functions on one reference engine: what they returned."""

    case: Case
    engine: Any
    buffers: Any
    array: np.ndarray
    outputs: Any


class Runs:
    """The student's load_engine/allocate_buffers/infer on each reference engine, run once per module."""

    def __init__(self, module: Attempt[ModuleType]) -> None:
        self.module = module
        self._runs: dict[Case, Attempt[Run]] = {}

    def get(self, case: Case) -> Run:
        """The run on ``case`` (its failure raised again in the calling test)."""
        if case not in self._runs:
            self._runs[case] = attempt(lambda: self._run(case))
        return self._runs[case].result()

    def _run(self, case: Case) -> Run:
        """load_engine, allocate_buffers, infer once."""
        path = case.engine()
        engine = STUDENT_FILE.call(self.module, "load_engine", path)
        buffers = STUDENT_FILE.call(self.module, "allocate_buffers", engine)
        array = case.input()
        outputs = STUDENT_FILE.call(self.module, "infer", engine, buffers, array.copy())
        return Run(case, engine, buffers, array, outputs)


@pytest.fixture(scope="module")
def runs(trt_infer: Attempt[ModuleType]) -> Runs:
    """Student runs on the reference engines, shared by the GPU tests."""
    return Runs(trt_infer)


def _engine_io(engine: Any) -> list[Any]:
    """The reference engine's I/O tensors, asked from TensorRT by the grader."""
    from grader.backends import tensorrt as trt_backend

    return trt_backend.io_tensors(engine)


def _compare(case: Case, got: Any, array: np.ndarray, what: str) -> None:
    """Fail unless ``got`` has the engine's outputs and matches ONNX Runtime within the precision's tolerance."""
    expected = case.expected(array)
    expect(
        isinstance(got, dict),
        f"{what} returned {type(got).__name__}, expected a dict {{output name: numpy array}}.",
    )
    expect(
        set(got) == set(expected),
        f"{what} returned outputs {sorted(map(str, got))}; the engine's outputs are {sorted(expected)}: "
        "key the dict by engine.get_tensor_name(i) of every OUTPUT tensor.",
    )
    tolerance = TOLERANCES[case.precision]
    for name, wanted in expected.items():
        value = np.asarray(got[name])
        expect(
            value.shape == wanted.shape,
            f"{what}: output {name!r} has shape {value.shape}, expected {wanted.shape} "
            "(engine.get_tensor_shape(name)).",
        )
        comparison = compare(value, wanted, rtol=tolerance, min_scale=1e-6)
        expect(
            comparison.passed,
            f"{what}: output {name!r} differs from ONNX Runtime by {comparison.max_abs:.3g} (allowed "
            f"{comparison.allowed:.2g} = {tolerance:g} x the output scale {comparison.bound_scale:.3g} for a "
            f"{case.precision.upper()} engine). Copy the input "
            "into the page-locked input buffer, memcpy_htod_async it, execute_async_v3, memcpy_dtoh_async every "
            "output and stream.synchronize() before reading the host arrays.",
        )


@pytest.mark.points(1)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.load_engine.deserializes")
def test_load_engine(trt_infer: Attempt[ModuleType]) -> None:
    """load_engine deserializes the grader's resnet18 engine into a trt.ICudaEngine"""
    from grader.backends import tensorrt as trt_backend

    case = _cases()[0]
    path = case.engine()
    engine = STUDENT_FILE.call(trt_infer, "load_engine", path)
    expect(
        trt_backend.is_cuda_engine(engine),
        f"load_engine({path.name!r}) returned {type(engine).__name__}, expected a trt.ICudaEngine: return "
        "trt.Runtime(logger).deserialize_cuda_engine(data).",
    )
    names = [tensor.name for tensor in _engine_io(engine)]
    expect(names == ["input", "output"], f"the loaded engine has I/O tensors {names}; expected ['input', 'output'].")


def _rejection(func: Callable[..., Any], *args: Any) -> Exception | None:
    """Call student code expecting it to raise; the exception, or None when it returned.

    A stub's NotImplementedError is not a rejection: it goes through ``student.call`` again,
    which turns it into the usual "not implemented yet" message.
    """
    try:
        func(*args)
    except NotImplementedError:
        student.call(func, *args)
        raise
    except Exception as error:  # noqa: BLE001 - any exception with a clear message rejects
        return error
    return None


@pytest.mark.points(1)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.load_engine.bad_files")
def test_load_engine_bad_files(trt_infer: Attempt[ModuleType], tmp_path: Path) -> None:
    """load_engine raises a clear error (naming the file) for a missing or corrupt engine file"""
    load = STUDENT_FILE.function(trt_infer, "load_engine")
    missing = tmp_path / "no_such_model.engine"
    corrupt = tmp_path / "corrupt_model.engine"
    # Not an engine: deserialize_cuda_engine returns None for it, as for another TensorRT's engine.
    corrupt.write_bytes(np.random.default_rng(SEED).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    for path, what in ((missing, "a missing file"), (corrupt, "a corrupt file (or one built by another TensorRT)")):
        error = _rejection(load, path)
        expect(
            error is not None,
            f"load_engine({path.name!r}) on {what} returned instead of raising: check the file exists, and raise "
            "when deserialize_cuda_engine returns None (it does for corrupt engines and other TensorRT versions).",
        )
        expect(
            path.name in str(error),
            f"load_engine({path.name!r}) on {what} raised {type(error).__name__}: {error!s:.200} -- the message "
            "must name the file, so the student knows which engine to rebuild.",
        )


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.allocate_buffers.per_tensor")
def test_allocate_buffers(runs: Runs) -> None:
    """allocate_buffers: one page-locked host array and one device allocation per I/O tensor, by name"""
    from grader.backends import tensorrt as trt_backend

    run = runs.get(_cases()[1])
    buffers = run.buffers
    for field in ("host", "device", "inputs", "outputs"):
        expect(
            hasattr(buffers, field),
            f"allocate_buffers() returned {type(buffers).__name__} without .{field}: return the stub's Buffers "
            "dataclass, filled in.",
        )
    tensors = _engine_io(run.engine)
    expect(
        list(buffers.inputs) == [t.name for t in tensors if t.is_input]
        and list(buffers.outputs) == [t.name for t in tensors if not t.is_input],
        f"Buffers.inputs={list(buffers.inputs)}, outputs={list(buffers.outputs)}; the engine's inputs are "
        f"{[t.name for t in tensors if t.is_input]} and outputs {[t.name for t in tensors if not t.is_input]} "
        "(engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT).",
    )
    pointers = set()
    for tensor in tensors:
        expect(
            tensor.name in buffers.host and tensor.name in buffers.device,
            f"Buffers.host/device have no entry {tensor.name!r}: allocate one per engine.get_tensor_name(i).",
        )
        host = buffers.host[tensor.name]
        expect(
            isinstance(host, np.ndarray) and host.shape == tensor.shape and host.dtype == tensor.dtype,
            f"Buffers.host[{tensor.name!r}] is {getattr(host, 'shape', type(host).__name__)} "
            f"{getattr(host, 'dtype', '')}; expected {tensor.shape} {tensor.dtype} "
            "(engine.get_tensor_shape(name), trt.nptype(engine.get_tensor_dtype(name))).",
        )
        expect(
            trt_backend.is_pagelocked(host),
            f"Buffers.host[{tensor.name!r}] is ordinary numpy memory: asynchronous copies need page-locked "
            "memory, cuda.pagelocked_empty(shape, dtype).",
        )
        try:
            pointer = int(buffers.device[tensor.name])
        except (TypeError, ValueError):
            fail(
                f"Buffers.device[{tensor.name!r}] is {type(buffers.device[tensor.name]).__name__}, not a device "
                "allocation: store cuda.mem_alloc(host.nbytes)."
            )
        expect(pointer not in pointers, f"Buffers.device[{tensor.name!r}] shares its address with another tensor.")
        pointers.add(pointer)


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.parametrize(
    "case",
    [
        suite_tools.case(f"p4.infer.matches_onnxruntime.{role}", case, id=f"{case.model}-{case.precision}")
        for role, case in zip(("resnet18_fp32", "lab_fp32", "lab_fp16"), _cases(), strict=True)
    ],
)
def test_infer_matches_onnxruntime(runs: Runs, case: Case) -> None:
    """infer on the grader's engine matches ONNX Runtime: output names, shapes and values"""
    run = runs.get(case)
    _compare(case, run.outputs, run.array, f"infer() on the {case.label} engine")


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.infer.reuses_buffers")
def test_infer_reuses_buffers(runs: Runs) -> None:
    """Repeated infer calls reuse the same buffers and return fresh copies of the outputs"""
    case = _cases()[1]
    run = runs.get(case)
    infer = STUDENT_FILE.function(runs.module, "infer")
    buffers = run.buffers
    host_before = {name: id(array) for name, array in buffers.host.items()}
    device_before = {name: int(allocation) for name, allocation in buffers.device.items()}
    first = student.call(infer, run.engine, buffers, run.array.copy())
    expect(isinstance(first, dict), f"infer() returned {type(first).__name__}, expected a dict {{name: array}}.")
    kept = {name: np.array(value) for name, value in first.items()}
    second_input = case.input(seed=SEED + 1)
    second = student.call(infer, run.engine, buffers, second_input.copy())
    expect(
        {name: id(array) for name, array in buffers.host.items()} == host_before
        and {name: int(allocation) for name, allocation in buffers.device.items()} == device_before,
        "infer() replaced Buffers.host/device: allocate once in allocate_buffers() and reuse them in every call.",
    )
    changed = [name for name in kept if not np.array_equal(np.asarray(first[name]), kept[name])]
    expect(
        not changed,
        f"the first call's outputs {changed} changed when infer() ran again: return copies "
        "(buffers.host[name].copy()), not the host buffers the next call overwrites.",
    )
    _compare(case, second, second_input, f"the second infer() call on the {case.label} engine (another input)")


def _mentions_shape(message: str, shape: tuple[int, ...]) -> bool:
    """Whether a message writes ``shape`` as a tuple, a list or AxBxC."""
    forms = (str(shape), str(list(shape)), "x".join(map(str, shape)), ", ".join(map(str, shape)))
    return any(form in message for form in forms)


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.infer.rejects_wrong_input")
def test_infer_rejects_wrong_input(runs: Runs) -> None:
    """infer rejects an input of the wrong shape or dtype with a message naming what it expects"""
    case = _cases()[1]
    run = runs.get(case)
    infer = STUDENT_FILE.function(runs.module, "infer")
    shape = run.array.shape
    wrong_shape = np.zeros((shape[0], shape[1], shape[2] // 2, shape[3] // 2), dtype=np.float32)
    error = _rejection(infer, run.engine, run.buffers, wrong_shape)
    expect(
        isinstance(error, (ValueError, TypeError)),
        f"infer() with a {wrong_shape.shape} input (the engine takes {shape}) "
        + ("returned instead of raising" if error is None else f"raised {type(error).__name__}: {error!s:.200}")
        + f": check input_array.shape and raise ValueError naming the expected shape {shape}.",
    )
    expect(
        _mentions_shape(str(error), shape) and _mentions_shape(str(error), wrong_shape.shape),
        f"infer() rejected the {wrong_shape.shape} input with {str(error)!r}: say the shape it needs, "
        f"{shape}, and the one it got.",
    )
    wrong_dtype = run.array.astype(np.float64)
    error = _rejection(infer, run.engine, run.buffers, wrong_dtype)
    expect(
        isinstance(error, (ValueError, TypeError)),
        "infer() with a float64 input (the engine takes float32) "
        + ("returned instead of raising" if error is None else f"raised {type(error).__name__}: {error!s:.200}")
        + ": TensorRT would read its bytes as float32 garbage. Raise TypeError (or ValueError) naming float32.",
    )
    expect(
        "float32" in str(error) and "float64" in str(error),
        f"infer() rejected the float64 input with {str(error)!r}: name the dtype it needs (float32) and the one "
        "it got (float64).",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.load_engine.error_types")
def test_load_engine_error_types(trt_infer: Attempt[ModuleType], tmp_path: Path) -> None:
    """load_engine raises FileNotFoundError for a missing engine file and RuntimeError for a corrupt one"""
    load = STUDENT_FILE.function(trt_infer, "load_engine")
    missing = tmp_path / "no_such_model.engine"
    corrupt = tmp_path / "corrupt_model.engine"
    # TensorRT 10.3's deserialize_cuda_engine returns None (it does not raise) for bytes that are no engine.
    corrupt.write_bytes(np.random.default_rng(SEED + 1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    cases = (
        (missing, FileNotFoundError, "a missing file", "check Path(engine_path).is_file() first"),
        (corrupt, RuntimeError, "a corrupt file", "raise RuntimeError when deserialize_cuda_engine returns None"),
    )
    for path, kind, what, fix in cases:
        error = _rejection(load, path)
        expect(
            isinstance(error, kind),
            f"load_engine({path.name!r}) on {what} "
            + ("returned instead of raising" if error is None else f"raised {type(error).__name__}: {error!s:.200}")
            + f"; expected {kind.__name__}: {fix}.",
        )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p4.infer.error_types")
def test_infer_error_types(runs: Runs) -> None:
    """infer raises ValueError for a wrong shape and TypeError for a wrong dtype, with the .astype fix"""
    run = runs.get(_cases()[1])
    infer = STUDENT_FILE.function(runs.module, "infer")
    shape = run.array.shape
    wrong_shape = np.zeros((shape[0], shape[1], shape[2] // 2, shape[3] // 2), dtype=np.float32)
    error = _rejection(infer, run.engine, run.buffers, wrong_shape)
    expect(
        isinstance(error, ValueError),
        f"infer() with a {wrong_shape.shape} input "
        + ("returned instead of raising" if error is None else f"raised {type(error).__name__}: {error!s:.200}")
        + f"; a wrong shape is a wrong value: raise ValueError naming {shape} and {wrong_shape.shape}.",
    )
    error = _rejection(infer, run.engine, run.buffers, run.array.astype(np.float64))
    expect(
        isinstance(error, TypeError),
        "infer() with a float64 input "
        + ("returned instead of raising" if error is None else f"raised {type(error).__name__}: {error!s:.200}")
        + "; a wrong dtype is a wrong type: raise TypeError naming float32 and float64.",
    )
    expect(
        "astype" in str(error),
        f"infer() rejected the float64 input with {str(error)!r}: say how to fix it, input_array.astype(np.float32).",
    )
