"""Practice 1 suite: ``export_onnx.py`` (export_model, export_timm, export_yolo).

CPU tier: the student's exports are checked as files (checker, opset, IR, names, shapes,
self-contained) and run in ONNX Runtime against PyTorch on models the grader builds itself.
GPU tier: TensorRT 10.3's ONNX parser must accept the export (Jetson only).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx
import pytest

from grader.backends.compare import compare
from grader.backends.onnxruntime import ModelLoadError, OnnxRuntimeRunner
from grader.core import student
from grader.core.cache import ArtifactCache
from grader.core.checks import Attempt, attempt, expect, fail
from grader.core.environment import package_version
from grader.core.images import pil_open_preserved
from grader.core.submission import StudentFile, with_hint
from grader.plugin.suite_tools import student_module
from grader.practices.practice1 import PRACTICE, onnx_tools
from grader.practices.practice1.onnx_tools import describe_shape, dims

SEED = 0
OPSET = 17
MAX_IR_VERSION = 10  # TensorRT 10.3's ONNX parser is built against IR 10
CLASSIFIER_IN = [1, 3, 224, 224]
CLASSIFIER_OUT = [1, 1000]
YOLO_IN, YOLO_OUT = [1, 3, 640, 640], [1, 84, 8400]
# FP32 ONNX Runtime and PyTorch differ only by summation order: max |diff| ~1e-7 measured on
# resnet18 (outputs of size ~0.3). Real export mistakes (training-mode BatchNorm, another
# model, a missing layer) move outputs by 1e-2 or more. A bound of 1e-4 times the output
# scale leaves 1000x headroom for other CPUs and BLAS builds and lets none of those through.
RELATIVE_TOLERANCE = 1e-4

# How to put the file at onnx_path, per function (shown when nothing is there).
WRITE_FIX = {
    "export_model": "pass str(onnx_path) to torch.onnx.export as the file to write.",
    "export_timm": "pass onnx_path on to export_model(model, onnx_path, ...).",
    "export_yolo": "YOLO(...).export() writes next to the model or in the working folder and returns that path; "
    "move the file to onnx_path (shutil.move(exported, onnx_path)).",
}

SIGNATURES = {
    "export_model": "(model, onnx_path, *, input_shape=(1, 3, 224, 224), opset=17, dynamic_batch=False) -> Path",
    "export_timm": "(model_name, onnx_path, *, pretrained=True, opset=17) -> Path",
    "export_yolo": '(model="yolov8n.pt", onnx_path=None, *, opset=17, imgsz=640) -> Path',
}
STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)


@dataclass
class ExportRun:
    """One call of a student export function: where the file was asked for, what came back."""

    function: str
    requested: Path
    returned: Any
    cwd: Path

    def points_at(self) -> Path | None:
        """The file the returned value names (a relative path counts from the working folder), if any."""
        if isinstance(self.returned, (str, Path)) and str(self.returned):
            return (self.cwd / self.returned).resolve()
        return None

    def onnx_file(self) -> Path:
        """The requested file, or a failure saying the function wrote nothing there."""
        if self.requested.is_file():
            return self.requested
        elsewhere = self.points_at()
        if elsewhere is not None and elsewhere.is_file():
            # Both full paths: a bare file name such as 'yolov8n.onnx' reads as the expected file.
            said = "" if str(self.returned) == str(elsewhere) else f"{str(self.returned)!r}, that is "
            got = f"It returned {said}{elsewhere}, a different file."
        else:
            got = f"It returned {_short(self.returned)} and no ONNX file is there either."
        fail(
            f"{self.function}() wrote nothing at onnx_path, {self.requested}. {got} "
            f"Fix {self.function}() in {STUDENT_FILE}: {WRITE_FIX[self.function]}"
        )


def _short(value: Any, width: int = 80) -> str:
    """``repr`` cut to one line."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _expect_returned_path(run: ExportRun, fix: str, require_path_type: bool = True) -> None:
    """The function returned the pathlib.Path of the file at onnx_path.

    ``require_path_type=False`` accepts a str naming that file (a mistake graded by another test).
    """
    where = f"Fix {run.function}() in {STUDENT_FILE}: {fix}"
    expect(
        isinstance(run.returned, Path) or (not require_path_type and isinstance(run.returned, str)),
        f"{run.function}() returned {type(run.returned).__name__} {_short(run.returned)}; expected a pathlib.Path, "
        f"the path of the file it wrote at onnx_path ({run.requested}). {where}",
    )
    points = run.points_at()
    expect(
        points == run.requested.resolve(),
        f"{run.function}() returned {str(run.returned)!r}, that is {points}, but onnx_path was {run.requested}. "
        f"{where}",
    )


@dataclass
class Reference:
    """The grader's own resnet18 (fixed seed), inputs and PyTorch outputs per batch size."""

    model: Any
    inputs: dict[int, np.ndarray] = field(default_factory=dict)
    outputs: dict[int, np.ndarray] = field(default_factory=dict)


def _run(module: Attempt[ModuleType], name: str, *args: Any, target: Path, **kwargs: Any) -> ExportRun:
    """Call the student's function ``name`` from a working folder apart from ``target``'s.

    Exports that ignore onnx_path and write to the working folder then cannot pass by luck.
    """
    func = STUDENT_FILE.function(module, name)
    cwd = target.parent / "cwd"
    cwd.mkdir(exist_ok=True)
    # export_yolo imports Ultralytics, which patches PIL.Image.open for the whole process.
    with pil_open_preserved(), pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        returned = student.call(func, *args, **kwargs)
    return ExportRun(name, target, returned, cwd)


def _compare(path: Path, feed: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Run the ONNX file in ONNX Runtime and compare its first output with PyTorch's."""
    try:
        runner = OnnxRuntimeRunner(path)
    except ModelLoadError as error:
        fail(f"{what}: {error}")
    inputs = runner.input_specs()
    expect(len(inputs) == 1, f"{what}: the model has {len(inputs)} inputs, expected exactly 1.")
    try:
        actual = next(iter(runner.infer({inputs[0].name: feed}).values()))
    except Exception as error:  # ORT's own exception types are private
        fail(f"{what}: ONNX Runtime could not run it on a {describe_shape(list(feed.shape))} input: {error}")
    expect(
        actual.shape == expected.shape,
        f"{what}: ONNX Runtime gives shape {describe_shape(list(actual.shape))}, "
        f"PyTorch gives {describe_shape(list(expected.shape))}: export the model's output unchanged.",
    )
    comparison = compare(actual, expected, rtol=RELATIVE_TOLERANCE)
    expect(
        comparison.passed,
        f"{what}: ONNX Runtime and PyTorch disagree, max |diff| = {comparison.max_abs:.3g} (allowed "
        f"{comparison.allowed:.1g}). Export the model you were given, unchanged, in eval mode (model.eval()).",
    )


def _io(path: Path, what: str) -> tuple[list[onnx.ValueInfoProto], list[onnx.ValueInfoProto]]:
    """Run-time inputs and outputs of an ONNX file."""
    model = onnx_tools.load(path, what)
    return onnx_tools.real_inputs(model), list(model.graph.output)


# ---------------------------------------------------------------- fixtures (run once per folder)
# Every test of export_model and export_timm requires timm (the reference model is timm's resnet18),
# those of export_yolo require Ultralytics: the `requires` markers skip them where the package is missing.


export_onnx = student_module(STUDENT_FILE)


@pytest.fixture(scope="module")
def reference() -> Reference:
    """timm resnet18 with seeded random weights, and its PyTorch outputs at batch 1 and 4."""
    import timm
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        ref = Reference(timm.create_model("resnet18", pretrained=False).eval())

    def forward() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(SEED)
        found = {}
        for batch in (1, 4):
            found[f"input{batch}"] = rng.standard_normal((batch, 3, 224, 224), dtype=np.float32)
            with torch.no_grad():
                found[f"output{batch}"] = ref.model(torch.from_numpy(found[f"input{batch}"])).numpy().astype(np.float64)
        return found

    # The outputs depend only on the seed and the library versions: computed once per machine.
    parts = {"model": "timm resnet18", "seed": SEED, "torch": package_version("torch"), "timm": package_version("timm")}
    arrays = ArtifactCache().arrays("p1-reference", parts, forward)
    for batch in (1, 4):
        ref.inputs[batch], ref.outputs[batch] = arrays[f"input{batch}"], arrays[f"output{batch}"]
    return ref


def _export_model_fixture(name: str, **kwargs: Any) -> Any:
    """A module-scoped fixture calling export_model(copy of the reference model, ...) once."""

    @pytest.fixture(scope="module")
    def run_once(
        export_onnx: Attempt[ModuleType], reference: Reference, tmp_path_factory: pytest.TempPathFactory
    ) -> Attempt[ExportRun]:
        target = tmp_path_factory.mktemp("p1") / name
        return attempt(
            lambda: _run(export_onnx, "export_model", copy.deepcopy(reference.model), target, target=target, **kwargs)
        )

    return run_once


static_export = _export_model_fixture("resnet18.onnx")
dynamic_export = _export_model_fixture("resnet18_dynamic.onnx", dynamic_batch=True)
shaped_export = _export_model_fixture("resnet18_160.onnx", input_shape=(1, 3, 160, 160))


@dataclass
class TimmRun:
    """export_timm's result and the models it created through timm.create_model."""

    run: ExportRun | None
    created: list[tuple[tuple[Any, ...], dict[str, Any], Any]]
    error: student.StudentCodeError | None = None


@contextmanager
def _recording_create_model(module: ModuleType) -> Iterator[list[tuple[tuple[Any, ...], dict[str, Any], Any]]]:
    """Record calls of the real ``timm.create_model`` (and the models it returns) during a block."""
    import timm
    import timm.models

    real = timm.create_model
    created: list[tuple[tuple[Any, ...], dict[str, Any], Any]] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        # Recorded before the real call, which may raise (pretrained=True offline).
        created.append((args, kwargs, None))
        model = real(*args, **kwargs)
        created[-1] = (args, kwargs, model)
        return model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timm, "create_model", recording)
        patch.setattr(timm.models, "create_model", recording)
        if getattr(module, "create_model", None) is real:  # from timm import create_model
            patch.setattr(module, "create_model", recording)
        yield created


def _timm_fixture(name: str, pretrained: bool) -> Any:
    """A module-scoped fixture calling export_timm('resnet18', ..., pretrained=...) once."""

    @pytest.fixture(scope="module")
    def run_once(export_onnx: Attempt[ModuleType], tmp_path_factory: pytest.TempPathFactory) -> Attempt[TimmRun]:
        target = tmp_path_factory.mktemp("p1") / name

        def work() -> TimmRun:
            module = export_onnx.result()
            with _recording_create_model(module) as created:
                try:
                    run = _run(
                        export_onnx,
                        "export_timm",
                        "resnet18",
                        target,
                        target=target,
                        pretrained=pretrained,
                        opset=OPSET,
                    )
                except student.StudentCodeError as error:
                    return TimmRun(None, created, error)
            return TimmRun(run, created)

        return attempt(work)

    return run_once


timm_export = _timm_fixture("timm_resnet18.onnx", pretrained=False)
timm_pretrained_call = _timm_fixture("timm_resnet18_pretrained.onnx", pretrained=True)


@pytest.fixture(scope="module")
def yolo_export(export_onnx: Attempt[ModuleType], tmp_path_factory: pytest.TempPathFactory) -> Attempt[ExportRun]:
    """export_yolo('yolov8n.yaml', ...) once (random weights: no download needed)."""
    target = tmp_path_factory.mktemp("p1") / "yolov8n.onnx"
    return attempt(
        lambda: _run(export_onnx, "export_yolo", "yolov8n.yaml", target, target=target, opset=OPSET, imgsz=640)
    )


# ---------------------------------------------------------------- export_model


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.valid_onnx")
def test_export_model_writes_valid_onnx(static_export: Attempt[ExportRun]) -> None:
    """export_model writes an ONNX file that onnx.checker accepts"""
    path = static_export.result().onnx_file()
    onnx_tools.load(path, "export_model()")
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as error:  # ValidationError, or shape inference errors
        fail(f"export_model() wrote {path.name}, but onnx.checker rejects it: {error}")


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.returns_path")
def test_export_model_returns_path(static_export: Attempt[ExportRun]) -> None:
    """export_model returns the pathlib.Path of the file it wrote"""
    _expect_returned_path(static_export.result(), "end with `return Path(onnx_path)`.")


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.single_file")
def test_export_model_single_file(static_export: Attempt[ExportRun]) -> None:
    """export_model keeps the weights inside one .onnx file (no external data)"""
    path = static_export.result().onnx_file()
    external = onnx_tools.external_data_files(onnx_tools.load(path, "export_model()"))
    expect(
        not external,
        f"{path.name} keeps its weights outside, in {', '.join(external)}: trtexec and the Jetson workflow "
        "copy one file. Use torch.onnx.export(..., dynamo=False), or external_data=False with the dynamo exporter.",
    )


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.opset")
def test_export_model_opset(static_export: Attempt[ExportRun]) -> None:
    """export_model writes opset 17 in the default ONNX domain"""
    path = static_export.result().onnx_file()
    opset = onnx_tools.default_opset(onnx_tools.load(path, "export_model()"))
    expect(
        opset == OPSET,
        f"{path.name} imports opset {opset} of the default domain, expected {OPSET}: pass opset_version=opset "
        "to torch.onnx.export. The dynamo exporter (torch's default since 2.9) writes 18 whatever you ask: "
        "add dynamo=False.",
    )


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.ir_version")
def test_export_model_ir_version(static_export: Attempt[ExportRun]) -> None:
    """export_model writes IR version <= 10 (TensorRT 10.3's ONNX parser)"""
    path = static_export.result().onnx_file()
    ir_version = onnx_tools.load(path, "export_model()").ir_version
    expect(
        ir_version <= MAX_IR_VERSION,
        f"{path.name} has IR version {ir_version}; TensorRT 10.3 reads IR <= {MAX_IR_VERSION}. "
        "Export with torch.onnx.export(..., dynamo=False) or onnx.version_converter.",
    )


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.io_names")
def test_export_model_io_names(static_export: Attempt[ExportRun]) -> None:
    """export_model names the input 'input' and the output 'output'"""
    path = static_export.result().onnx_file()
    inputs, outputs = _io(path, "export_model()")
    in_names = [value.name for value in inputs]
    out_names = [value.name for value in outputs]
    expect(
        in_names == ["input"] and out_names == ["output"],
        f"{path.name} has inputs {in_names} and outputs {out_names}; expected ['input'] and ['output']: "
        "pass input_names=['input'], output_names=['output'] to torch.onnx.export.",
    )


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.shapes")
def test_export_model_shapes(static_export: Attempt[ExportRun]) -> None:
    """export_model: float32 input 1x3x224x224 -> float32 output 1x1000, fixed batch"""
    path = static_export.result().onnx_file()
    inputs, outputs = _io(path, "export_model()")
    expect(
        len(inputs) == 1 and len(outputs) == 1,
        f"{path.name} has {len(inputs)} inputs and {len(outputs)} outputs, expected 1 and 1.",
    )
    for role, value, expected in (("input", inputs[0], CLASSIFIER_IN), ("output", outputs[0], CLASSIFIER_OUT)):
        shape = dims(value)
        expect(
            onnx_tools.elem_type(value) == "float",
            f"the {role} {value.name!r} is {onnx_tools.elem_type(value)}, expected float32: keep the model in FP32.",
        )
        expect(
            shape == expected,
            f"the {role} {value.name!r} has shape {describe_shape(shape)}, expected {describe_shape(expected)}"
            + (" (batch fixed: dynamic_batch=False)" if shape[:1] != expected[:1] else "")
            + ": export with a dummy input of input_shape and dynamic_axes only when dynamic_batch=True.",
        )


@pytest.mark.points(3)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.matches_pytorch")
def test_export_model_matches_pytorch(static_export: Attempt[ExportRun], reference: Reference) -> None:
    """export_model: ONNX Runtime output matches PyTorch on the grader's resnet18"""
    path = static_export.result().onnx_file()
    _compare(path, reference.inputs[1], reference.outputs[1], f"export_model() -> {path.name}")


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.input_shape")
def test_export_model_input_shape(shaped_export: Attempt[ExportRun]) -> None:
    """export_model(input_shape=(1, 3, 160, 160)) exports a 1x3x160x160 input"""
    path = shaped_export.result().onnx_file()
    inputs, _ = _io(path, "export_model(input_shape=(1, 3, 160, 160))")
    shape = dims(inputs[0]) if inputs else []
    expect(
        shape == [1, 3, 160, 160],
        f"with input_shape=(1, 3, 160, 160) the input has shape {describe_shape(shape)}: "
        "build the dummy input with torch.randn(*input_shape).",
    )


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.dynamic_batch")
def test_export_model_dynamic_batch(dynamic_export: Attempt[ExportRun], reference: Reference) -> None:
    """export_model(dynamic_batch=True): symbolic batch that runs at batch 4"""
    path = dynamic_export.result().onnx_file()
    inputs, outputs = _io(path, "export_model(dynamic_batch=True)")
    expect(
        len(inputs) == 1 and len(outputs) == 1,
        f"{path.name} has {len(inputs)} inputs and {len(outputs)} outputs, expected 1 and 1.",
    )
    in_shape, out_shape = dims(inputs[0]), dims(outputs[0])
    names = f"input {inputs[0].name!r}, output {outputs[0].name!r}"
    expect(
        not isinstance(in_shape[0], int) and not isinstance(out_shape[0], int),
        f"dynamic_batch=True, but the batch is fixed ({names}: {describe_shape(in_shape)} -> "
        f"{describe_shape(out_shape)}). Pass dynamic_axes={{'input': {{0: 'batch'}}, 'output': {{0: 'batch'}}}}; "
        "its keys must be the input and output names.",
    )
    expect(
        all(isinstance(dim, int) for dim in in_shape[1:]),
        f"only the batch may be symbolic, but the input is {describe_shape(in_shape)}.",
    )
    _compare(path, reference.inputs[4], reference.outputs[4], "export_model(dynamic_batch=True) at batch 4")


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_model.str_path")
def test_export_model_accepts_str_path(
    export_onnx: Attempt[ModuleType], static_export: Attempt[ExportRun], tmp_path: Path
) -> None:
    """export_model accepts onnx_path as a str (str | Path) and returns it as a pathlib.Path"""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4, 10),
        ).eval()
    target = tmp_path / "small_cnn.onnx"
    try:
        run = _run(export_onnx, "export_model", model, str(target), target=target, input_shape=(1, 3, 32, 32))
    except student.StudentCodeError as error:
        if "not implemented yet" in str(error):
            raise
        raise with_hint(
            error,
            f"Here onnx_path was a str, {str(target)!r}; the signature allows str | Path: convert it "
            "first, `onnx_path = Path(onnx_path)`.",
        ) from None
    try:
        path_argument_gives_path = isinstance(static_export.result().returned, Path)
    except student.StudentCodeError:
        path_argument_gives_path = False
    # A function that never returns a Path already loses test_export_model_returns_path; here only
    # the str argument is graded, so that one mistake costs its point once.
    _expect_returned_path(
        run,
        "onnx_path may be a str (the signature says str | Path): convert it first, `onnx_path = Path(onnx_path)`, "
        "and return that Path.",
        require_path_type=path_argument_gives_path,
    )


# ---------------------------------------------------------------- export_timm


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_timm.creates_model")
def test_export_timm_creates_model(timm_export: Attempt[TimmRun]) -> None:
    """export_timm builds the model with timm.create_model(model_name) and puts it in eval mode"""
    result = timm_export.result()
    if result.error is not None:
        raise result.error
    expect(
        result.created,
        "export_timm('resnet18', ...) never called timm.create_model: build the model with "
        "timm.create_model(model_name, pretrained=pretrained).",
    )
    args, kwargs, model = result.created[-1]
    name = args[0] if args else kwargs.get("model_name")
    expect(model is not None, f"timm.create_model({name!r}) failed inside export_timm().")
    expect(name == "resnet18", f"export_timm('resnet18', ...) created {name!r}: pass model_name to timm.create_model.")
    expect(
        not model.training,
        "the timm model is still in training mode: call model.eval() before exporting "
        "(BatchNorm and Dropout behave differently in training mode).",
    )


@pytest.mark.points(1)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_timm.pretrained")
def test_export_timm_forwards_pretrained(timm_pretrained_call: Attempt[TimmRun]) -> None:
    """export_timm passes pretrained=True on to timm.create_model"""
    # Offline, timm then fails to find the weights and export_timm raises: that is expected
    # here; what is graded is the call timm really received.
    result = timm_pretrained_call.result()
    if result.error is not None and not result.created:
        raise result.error
    asked = [kwargs.get("pretrained", args[1] if len(args) > 1 else False) for args, kwargs, _ in result.created]
    expect(
        True in asked,
        f"export_timm(..., pretrained=True) called timm.create_model with pretrained={asked or 'never called'}: "
        "pass pretrained=pretrained on to timm.create_model.",
    )


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_timm.matches_model")
def test_export_timm_matches_model(timm_export: Attempt[TimmRun]) -> None:
    """export_timm('resnet18'): 1x3x224x224 -> 1x1000, ONNX Runtime matches the timm model"""
    import torch

    result = timm_export.result()
    if result.error is not None:
        raise result.error
    expect(
        result.run is not None and result.created and result.created[-1][2] is not None,
        "export_timm() did not build a model with timm.create_model, so its file cannot be checked.",
    )
    path = result.run.onnx_file()
    inputs, outputs = _io(path, "export_timm()")
    shapes = (dims(inputs[0]) if inputs else [], dims(outputs[0]) if outputs else [])
    expect(
        shapes == (CLASSIFIER_IN, CLASSIFIER_OUT),
        f"export_timm('resnet18') gives {describe_shape(shapes[0])} -> {describe_shape(shapes[1])}, "
        f"expected {describe_shape(CLASSIFIER_IN)} -> {describe_shape(CLASSIFIER_OUT)}.",
    )
    model = result.created[-1][2].eval()
    feed = np.random.default_rng(SEED).standard_normal(CLASSIFIER_IN, dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(feed)).numpy().astype(np.float64)
    _compare(path, feed, expected, f"export_timm('resnet18') -> {path.name}")


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_timm.returns_path")
def test_export_timm_returns_path(timm_export: Attempt[TimmRun], static_export: Attempt[ExportRun]) -> None:
    """export_timm returns the pathlib.Path that export_model gives"""
    result = timm_export.result()
    if result.error is not None:
        raise result.error
    assert result.run is not None
    try:
        export_model_gives_path = isinstance(static_export.result().returned, Path)
    except student.StudentCodeError:
        export_model_gives_path = False
    # export_timm returns export_model's result: a str there is graded by test_export_model_returns_path.
    _expect_returned_path(
        result.run,
        "return export_model's result: `return export_model(model, onnx_path, opset=opset)`.",
        require_path_type=export_model_gives_path,
    )


@pytest.mark.points(2)
@pytest.mark.requires("timm")
@pytest.mark.check("p1.export_timm.resnet50")
def test_export_timm_course_model_resnet50(export_onnx: Attempt[ModuleType], tmp_path: Path) -> None:
    """course model: export_timm('resnet50', pretrained=True) matches timm's pretrained resnet50"""
    import timm
    import torch

    try:
        reference = timm.create_model("resnet50", pretrained=True).eval()
    except OSError:
        pytest.skip(
            "not graded on this machine: resnet50's pretrained weights are not in the local Hugging Face cache "
            "and grading runs offline. With internet, fetch them once: "
            "python -c \"import timm; timm.create_model('resnet50', pretrained=True)\""
        )
    target = tmp_path / "resnet50.onnx"
    run = _run(export_onnx, "export_timm", "resnet50", target, target=target, pretrained=True, opset=OPSET)
    feed = np.random.default_rng(SEED).standard_normal(CLASSIFIER_IN, dtype=np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(feed)).numpy().astype(np.float64)
    _compare(run.onnx_file(), feed, expected, "export_timm('resnet50', pretrained=True)")


# ---------------------------------------------------------------- export_yolo


@pytest.mark.points(1)
@pytest.mark.requires("ultralytics")
@pytest.mark.check("p1.export_yolo.opset17")
def test_export_yolo_writes_opset17(yolo_export: Attempt[ExportRun]) -> None:
    """export_yolo('yolov8n.yaml') writes a valid opset-17 ONNX file at onnx_path"""
    path = yolo_export.result().onnx_file()
    model = onnx_tools.load(path, "export_yolo()")
    try:
        onnx.checker.check_model(model)
    except Exception as error:
        fail(f"export_yolo() wrote {path.name}, but onnx.checker rejects it: {error}")
    opset = onnx_tools.default_opset(model)
    expect(opset == OPSET, f"{path.name} has opset {opset}, expected {OPSET}: pass opset=opset to YOLO(...).export().")


@pytest.mark.points(2)
@pytest.mark.requires("ultralytics")
@pytest.mark.check("p1.export_yolo.io")
def test_export_yolo_io(yolo_export: Attempt[ExportRun]) -> None:
    """export_yolo: images 1x3x640x640 -> output0 1x84x8400, runs in ONNX Runtime"""
    path = yolo_export.result().onnx_file()
    inputs, outputs = _io(path, "export_yolo()")
    got = [(value.name, dims(value)) for value in inputs + outputs]
    wanted = [("images", YOLO_IN), ("output0", YOLO_OUT)]
    expect(
        got == wanted,
        f"{path.name} has I/O {[(n, describe_shape(s)) for n, s in got]}, expected "
        f"{[(n, describe_shape(s)) for n, s in wanted]}: export with format='onnx', imgsz=imgsz and no dynamic or batch options.",
    )
    try:
        result = OnnxRuntimeRunner(path).infer(
            {"images": np.random.default_rng(SEED).random(YOLO_IN, dtype=np.float32)}
        )
    except Exception as error:
        fail(f"ONNX Runtime could not run {path.name}: {error}")
    output = result["output0"]
    expect(np.isfinite(output).all(), f"{path.name} produced NaN or Inf on a random image.")


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("ultralytics")
@pytest.mark.check("p1.export_yolo.returns_path")
def test_export_yolo_returns_path(yolo_export: Attempt[ExportRun]) -> None:
    """export_yolo returns the pathlib.Path of the file at onnx_path"""
    run = yolo_export.result()
    fix = "YOLO(...).export() returns a str: end with `return Path(onnx_path)` once the file is there."
    if run.requested.is_file():
        _expect_returned_path(run, fix)
    else:  # the file itself is graded by the other export_yolo tests
        expect(
            isinstance(run.returned, Path),
            f"export_yolo() returned {type(run.returned).__name__} {_short(run.returned)}; expected a pathlib.Path. "
            f"Fix export_yolo() in {STUDENT_FILE}: {fix}",
        )


# ---------------------------------------------------------------- GPU tier (Jetson)


@pytest.mark.points(2)
@pytest.mark.requires("tensorrt", "gpu", "timm")
@pytest.mark.check("p1.tensorrt.parses_export")
def test_tensorrt_parses_export(static_export: Attempt[ExportRun]) -> None:
    """TensorRT 10.3's ONNX parser accepts the export_model file"""
    from grader.backends import tensorrt as trt_backend

    path = static_export.result().onnx_file()
    errors = trt_backend.parse_onnx_errors(path)
    expect(not errors, f"TensorRT's ONNX parser rejects {path.name}:\n" + "\n".join(errors[:5]))
