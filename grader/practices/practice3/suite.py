"""Practice 3 suite: ``dla_build.py`` (configure_dla, dla_placement, dla_report, build_dla_engine).

CPU tier (real work, runs in CI):
* ``dla_placement`` on small ONNX graphs built here that each break exactly one DLA rule
  (expected placement known by construction), and on real exports (resnet18/resnet50, the
  lab classifier EfficientNet-Lite0, YOLOv8n) against the grader's own predictor
  (``grader.practices.practice3.dla.rules``, checked against a real AGX Orin TensorRT 10.3 log by the self-tests);
* ``dla_report`` on placements the grader builds itself;
* ``configure_dla`` driven with two board situations (2 DLA cores, 0 cores) through
  ``grader.practices.practice3.dla.recording``: a recording stand-in for builder/config that only records which
  TensorRT settings were asked for and cannot build anything.
GPU tier (Jetson): ``build_dla_engine`` builds, deserializes and matches the FP32 engine;
the ``trtexec --useDLACore`` flow, with its failure on Orin Nano recognised and explained.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.backends import requirements
from grader.backends.compare import compare
from grader.core import student
from grader.core.cache import ArtifactCache, hash_key
from grader.core.checks import Attempt, attempt, expect, fail
from grader.core.submission import StudentFile
from grader.plugin.suite_tools import case, student_module
from grader.practices.practice3 import PRACTICE, graphs
from grader.practices.practice3.dla import orin_log, recording, rules
from grader.tools import models

SEED = 0
SHOWN = 8  # mismatching nodes listed in a message
# FP16 engine vs FP32 engine on the lab classifier's logits (scale ~10): FP16 keeps ~3 decimal
# digits, so differences of a few 1e-2 are normal; a wrong network or preprocessing moves
# logits by whole units. Bound relative to the logit scale.
FP16_RELATIVE_TOLERANCE = 2e-2

SIGNATURES = {
    "configure_dla": "(builder, config, *, dla_core=0, allow_gpu_fallback=True) -> str",
    "dla_placement": '(onnx_path, *, precision="fp16") -> list[Placement]',
    "dla_report": "(placements) -> dict",
    "build_dla_engine": '(onnx_path, engine_path, *, dla_core=0, precision="fp16") -> dict',
}
STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)
REPORT_KEYS = ("dla_nodes", "gpu_nodes", "dla_subgraphs", "transitions", "gpu_op_types")


# ---------------------------------------------------------------- configure_dla (recording stand-in)


@dataclass
class ConfigureRun:
    """configure_dla on one board situation: what it returned and the config it left."""

    board: str
    cores: int
    kwargs: dict[str, Any]
    returned: Any
    config: recording.RecordingConfig

    def call(self) -> str:
        """The call as the student would write it."""
        args = "".join(f", {key}={value!r}" for key, value in self.kwargs.items())
        return f"configure_dla(builder, config{args}) on {self.board} (builder.num_DLA_cores = {self.cores})"

    def asked(self) -> str:
        """What the student's code asked of the config."""
        return f"Your code did: {self.config.describe()}."


BOARDS = {2: "an AGX Orin (2 DLA cores)", 0: "an Orin Nano (0 DLA cores)"}


@contextmanager
def _standin(module: ModuleType) -> Iterator[None]:
    """During the block the student's code meets the recording stand-in both ways the lab teaches.

    As the module attribute ``trt`` (the stub's ``_trt()`` helper) and, where no real TensorRT is
    installed, as what ``import tensorrt as trt`` gives (the course text's way). Both are put back
    when the block ends; on the Jetson ``import tensorrt`` stays the real TensorRT.
    """
    standin = recording.RecordingTensorRT()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "trt", standin, raising=False)
        with recording.standing_in_for_tensorrt(standin, installed=_tensorrt_installed()):
            yield


def _tensorrt_installed() -> bool:
    """Whether the real TensorRT imports here (probed, and cached, before any stand-in exists)."""
    return requirements.capability("tensorrt").available


def _configure(module: Attempt[ModuleType], cores: int, **kwargs: Any) -> ConfigureRun:
    """Run configure_dla once with fresh recording stand-ins for a board with ``cores`` DLA cores."""
    func = STUDENT_FILE.function(module, "configure_dla")
    config = recording.RecordingConfig()
    with _standin(module.result()):
        returned = student.call(func, recording.RecordingBuilder(cores), config, **kwargs)
    return ConfigureRun(BOARDS[cores], cores, kwargs, returned, config)


@dataclass
class Rejection:
    """configure_dla asked for a core that does not exist: the ValueError it raised, or what it returned."""

    call: str
    error: ValueError | None
    returned: Any
    config: recording.RecordingConfig


def _raised(error: student.StudentCodeError, kind: type[BaseException]) -> BaseException | None:
    """The student's own exception behind ``error`` when it is a ``kind``, else None.

    ``student.call`` turns every exception into a StudentCodeError and keeps the student's own
    exception as its ``__context__``: that is how a check tells a deliberate ValueError from a crash.
    """
    cause = error.__context__
    return cause if isinstance(cause, kind) else None


def _reject(module: Attempt[ModuleType], cores: int, core: int) -> Rejection:
    """configure_dla(dla_core=core) on a board with ``cores`` DLA cores, which should raise ValueError."""
    func = STUDENT_FILE.function(module, "configure_dla")
    config = recording.RecordingConfig()
    call = f"configure_dla(builder, config, dla_core={core}) on {BOARDS[cores]}"
    with _standin(module.result()):
        try:
            returned = student.call(func, recording.RecordingBuilder(cores), config, dla_core=core)
        except student.StudentCodeError as error:
            value_error = _raised(error, ValueError)
            if not isinstance(value_error, ValueError):
                raise
            return Rejection(call, value_error, None, config)
    return Rejection(call, None, returned, config)


def _import_hint(message: str) -> str:
    """Say what the top of the file may do with TensorRT on a machine without it."""
    if recording.STANDIN not in message:
        return message
    return (
        f"{message}\nOn a machine without TensorRT, `import tensorrt as trt` at the top of {STUDENT_FILE} "
        "gives the recording stand-in: importing is fine, but create TensorRT objects (trt.Logger, "
        "trt.Builder, ...) inside build_dla_engine(), not at the top of the file."
    )


def _import_standin() -> AbstractContextManager[None]:
    """During the import, a top-level ``import tensorrt as trt`` (the course text's way) gets the recording
    stand-in where TensorRT is missing."""
    return recording.standing_in_for_tensorrt(recording.RecordingTensorRT(), installed=_tensorrt_installed())


dla_build = student_module(STUDENT_FILE, around=_import_standin, hint=_import_hint)


@pytest.fixture(scope="module")
def configured(dla_build: Attempt[ModuleType]) -> dict[str, Attempt[ConfigureRun]]:
    """configure_dla on the board situations the tests look at, run once each."""
    situations = {
        "agx_core0": (2, {"dla_core": 0}),
        "agx_core1": (2, {"dla_core": 1}),
        "nano": (0, {"dla_core": 0}),
        "agx_no_fallback": (2, {"dla_core": 0, "allow_gpu_fallback": False}),
        "nano_no_fallback": (0, {"dla_core": 0, "allow_gpu_fallback": False}),
    }
    return {
        key: attempt(lambda cores=cores, kwargs=kwargs: _configure(dla_build, cores, **kwargs))
        for key, (cores, kwargs) in situations.items()
    }


@pytest.mark.points(2)
@pytest.mark.check("p3.configure_dla.dla_board")
def test_configure_dla_on_dla_board(configured: dict[str, Attempt[ConfigureRun]]) -> None:
    """configure_dla on a board with DLA (AGX Orin): default device DLA, the requested core, returns "DLA\""""
    for key, core in (("agx_core0", 0), ("agx_core1", 1)):
        run = configured[key].result()
        expect(
            run.returned == "DLA",
            f"{run.call()} returned {run.returned!r}, expected 'DLA': the board has the core, so build for DLA.",
        )
        expect(
            run.config.device_name() == "DLA",
            f"{run.call()} left config.default_device_type = {run.config.device_name()}, expected DLA: set "
            f"config.default_device_type = trt.DeviceType.DLA. {run.asked()}",
        )
        expect(
            run.config.core() == core,
            f"{run.call()} left config.DLA_core = {run.config.core()!r}, expected {core}: set "
            f"config.DLA_core = dla_core. {run.asked()}",
        )


@pytest.mark.points(1)
@pytest.mark.check("p3.configure_dla.fp16")
def test_configure_dla_fp16(configured: dict[str, Attempt[ConfigureRun]]) -> None:
    """configure_dla sets BuilderFlag.FP16 on both boards (DLA runs FP16/INT8 only; the simulation too)"""
    for key in ("agx_core0", "nano"):
        run = configured[key].result()
        expect(
            "FP16" in run.config.flag_names(),
            f"{run.call()} did not set FP16: call config.set_flag(trt.BuilderFlag.FP16) on every board, DLA runs "
            f"FP16 or INT8 only and the GPU simulation keeps the same precision. {run.asked()}",
        )


@pytest.mark.points(1)
@pytest.mark.check("p3.configure_dla.gpu_fallback")
def test_configure_dla_gpu_fallback(configured: dict[str, Attempt[ConfigureRun]]) -> None:
    """configure_dla sets BuilderFlag.GPU_FALLBACK exactly when allow_gpu_fallback is True"""
    for key, wanted in (("agx_core0", True), ("nano", True), ("agx_no_fallback", False), ("nano_no_fallback", False)):
        run = configured[key].result()
        has = "GPU_FALLBACK" in run.config.flag_names()
        expect(
            has == wanted,
            f"{run.call()} {'did not set' if wanted else 'set'} GPU_FALLBACK: "
            + (
                "call config.set_flag(trt.BuilderFlag.GPU_FALLBACK) when allow_gpu_fallback is True; without it "
                "one layer DLA cannot run makes the whole build fail."
                if wanted
                else "only set it when allow_gpu_fallback is True."
            )
            + f" {run.asked()}",
        )


@pytest.mark.points(1)
@pytest.mark.check("p3.configure_dla.orin_nano")
def test_configure_dla_orin_nano(configured: dict[str, Attempt[ConfigureRun]]) -> None:
    """configure_dla on Orin Nano (0 DLA cores): keeps the GPU and returns "GPU" (the simulation)"""
    run = configured["nano"].result()
    expect(
        run.returned == "GPU",
        f"{run.call()} returned {run.returned!r}, expected 'GPU': the board has no DLA, so the build stays on "
        "the GPU with the DLA-like settings.",
    )
    expect(
        run.config.device_name() == "GPU",
        f"{run.call()} set config.default_device_type = {run.config.device_name()}: there is no DLA core, keep "
        f"the GPU (TensorRT would fail to build for a DLA that does not exist). {run.asked()}",
    )


@pytest.mark.points(1)
@pytest.mark.check("p3.configure_dla.missing_core")
def test_configure_dla_missing_core(dla_build: Attempt[ModuleType]) -> None:
    """configure_dla raises ValueError naming the core and the board's cores for dla_core=2 or 5 on 2 cores"""
    for core in (2, 5):
        run = _reject(dla_build, 2, core)
        expect(
            run.error is not None,
            f"{run.call} returned {run.returned!r} instead of raising ValueError: core {core} does not exist (cores 0 "
            f"and 1 do). Never ignore a core index silently: raise ValueError naming the core. "
            f"Your code did: {run.config.describe()}.",
        )
        expect(
            not run.config.calls,
            f"{run.call} raised ValueError, but only after changing the config ({run.config.describe()}): check "
            "the core first, then configure.",
        )
    # The message names the core asked for (5) and the board's cores (2 of them, or the valid 0..1).
    message = str(run.error)
    expect(
        "5" in message and ("2" in message or "1" in message),
        f"{run.call} raised ValueError({message!r}): name the core you were asked for (5) and how many DLA cores "
        "the board has (builder.num_DLA_cores = 2), e.g. "
        "ValueError(f'DLA core {dla_core} does not exist: this board has {cores} DLA cores').",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p3.configure_dla.negative_core")
def test_configure_dla_negative_core(dla_build: Attempt[ModuleType]) -> None:
    """configure_dla raises ValueError for a negative DLA core, on a board with DLA and on one without"""
    # Checking the core only after configuring is charged once, by test_configure_dla_missing_core;
    # here the order counts only for code that checks the missing core first.
    missing = _reject(dla_build, 2, 5)
    order_charged = missing.error is not None and bool(missing.config.calls)
    for cores in (2, 0):
        run = _reject(dla_build, cores, -1)
        expect(
            run.error is not None,
            f"{run.call} returned {run.returned!r} instead of raising ValueError: no board has a DLA core -1 "
            f"(cores are numbered from 0). Check `dla_core < 0` on every board, before configuring. "
            f"Your code did: {run.config.describe()}.",
        )
        expect(
            order_charged or not run.config.calls,
            f"{run.call} raised ValueError, but only after changing the config ({run.config.describe()}): check "
            "the core first, then configure.",
        )


# ---------------------------------------------------------------- dla_placement: shared checks


@dataclass(frozen=True)
class Got:
    """One Placement as the student returned it."""

    node: Any
    op_type: Any
    device: Any
    reason: Any


def _placements(
    module: Attempt[ModuleType], path: Path, what: str, precision: str | None = None, returned: object = None
) -> list[Got]:
    """Call dla_placement(path) (or take what it ``returned``) and read the result as Placements."""
    if returned is None:
        kwargs = {"precision": precision} if precision is not None else {}
        returned = STUDENT_FILE.call(module, "dla_placement", path, **kwargs)
    result = returned
    call = f"dla_placement({path.name}{', precision=' + repr(precision) if precision else ''})"
    expect(
        isinstance(result, (list, tuple)),
        f"{call} returned {type(result).__name__}, expected a list of Placement ({what}).",
    )
    out = []
    for index, item in enumerate(result):
        missing = [field for field in ("node", "op_type", "device", "reason") if not hasattr(item, field)]
        expect(
            not missing,
            f"{call}: item {index} is {type(item).__name__} {item!r}, without {', '.join(missing)}: return "
            "Placement(node=..., op_type=..., device=..., reason=...) objects (the dataclass in the stub).",
        )
        out.append(Got(item.node, item.op_type, item.device, item.reason))
    return out


def _check_order(got: list[Got], nodes: list[tuple[str, str]], call: str) -> None:
    """One Placement per node, in graph order, with the node's name and op type."""
    expect(
        len(got) == len(nodes),
        f"{call} returned {len(got)} placements for a graph of {len(nodes)} nodes: return exactly one "
        "Placement per node of model.graph.node, in that order (constant and Identity nodes included).",
    )
    for index, (item, (name, op)) in enumerate(zip(got, nodes, strict=True)):
        expect(
            (item.node, item.op_type) == (name, op),
            f"{call}: placement {index} is for {item.node!r} ({item.op_type}), but node {index} of the graph is "
            f"{name!r} ({op}): keep graph order and copy node.name and node.op_type.",
        )
        expect(
            item.device in ("DLA", "GPU"),
            f"{call}: node {name!r} has device {item.device!r}; use exactly 'DLA' or 'GPU'.",
        )


def _reason_misses(reason: Any, keywords: tuple[tuple[str, ...], ...]) -> list[str]:
    """The keyword groups a reason does not mention (each group: any of its words)."""
    text = str(reason).lower() if isinstance(reason, str) else ""
    return [" or ".join(repr(w) for w in group) for group in keywords if not any(w.lower() in text for w in group)]


# ---------------------------------------------------------------- dla_placement: one rule per graph


def _grade_rule_graph(module: Attempt[ModuleType], case: graphs.RuleGraph, folder: Path) -> None:
    """Every node of a one-rule graph placed as constructed; GPU reasons name the rule."""
    path = case.save(folder)
    precision = case.precision if case.precision != "fp16" else None
    call = f"dla_placement({path.name}{', precision=' + repr(precision) if precision else ''})"
    got = _placements(module, path, case.description, precision)
    _check_order(got, [(n.name, n.op_type) for n in case.model.graph.node], f"{call} [{case.description}]")
    wrong = []
    for item in got:
        wanted = case.expected[item.node]
        if item.device != wanted.device:
            wrong.append(
                f"  {item.node} ({item.op_type}): you say {item.device}"
                + (f" ({item.reason!r})" if item.reason else "")
                + f", expected {wanted.device}: {wanted.why}"
            )
    expect(
        not wrong,
        f"{call}, graph {case.description}:\n" + "\n".join(wrong) + "\nSee the DLA rule table in README.md.",
    )
    for item in got:
        wanted = case.expected[item.node]
        if wanted.device == "GPU":
            misses = _reason_misses(item.reason, wanted.keywords)
            expect(
                not misses,
                f"{call}: {item.node} ({item.op_type}) is rightly on GPU, but its reason {item.reason!r} does not "
                f"name the rule ({wanted.why}): mention {' and '.join(misses)}.",
            )
        else:
            expect(
                item.reason == "",
                f"{call}: {item.node} ({item.op_type}) is on DLA, so its reason must be empty, got {item.reason!r}.",
            )


# One rule per graph: each case builds its graphs (several when one rule has several limits).
RULE_CASES = [
    case(
        "p3.rule.conv_kernel",
        (graphs.conv_kernel,),
        title="rule: Conv kernel 1..32 (a 33x33 Conv goes to GPU, 32x32 stays on DLA)",
    ),
    case(
        "p3.rule.conv_stride",
        (graphs.conv_stride,),
        title="rule: Conv stride 1..8 (stride 9 goes to GPU, stride 8 stays on DLA)",
    ),
    case(
        "p3.rule.pool_window",
        (graphs.pool_window,),
        title="rule: pooling window 1..8 (MaxPool 9x9 goes to GPU, 8x8 stays on DLA)",
    ),
    case(
        "p3.rule.concat_channel_axis",
        (graphs.concat_axis,),
        title="rule: Concat only along the channel axis (width-axis Concat goes to GPU)",
    ),
    case(
        "p3.rule.dynamic_shapes",
        (graphs.dynamic_batch,),
        title="rule: static shapes only (a dynamic batch puts every node on GPU)",
    ),
    case(
        "p3.rule.div",
        (graphs.division,),
        title="rule: Div runs on GPU (Mul by a per-channel constant stays on DLA)",
    ),
    case(
        "p3.rule.flatten_2d",
        (graphs.flatten_2d,),
        title="rule: reshapes only 4-D -> 4-D (Flatten to 2-D goes to GPU, Gemm with constant weights stays on DLA)",
    ),
    case(
        "p3.rule.activation",
        (graphs.activation,),
        title="rule: only Relu/Sigmoid/Tanh/Clip/LeakyRelu/PRelu activations (HardSwish goes to GPU)",
    ),
    case(
        "p3.rule.dimension_limits",
        (graphs.wide_tensor, graphs.large_batch),
        title="rule: dimension limits (a dim > 8192 or a batch > 4096 goes to GPU)",
    ),
    case(
        "p3.rule.fp32",
        tuple(functools.partial(graphs.legal_network, precision) for precision in ("fp16", "int8", "fp32")),
        title='rule: FP16/INT8 only (precision="fp32" puts every node on GPU; fp16 and int8 keep them on DLA)',
    ),
]


@pytest.mark.points(1)
@pytest.mark.parametrize("builds", RULE_CASES)
def test_rule_graph(
    dla_build: Attempt[ModuleType], tmp_path: Path, builds: tuple[Callable[[], graphs.RuleGraph], ...]
) -> None:
    """rule: a graph that breaks one DLA rule"""
    for build in builds:
        case_graph = build()
        folder = tmp_path / Path(case_graph.filename).stem  # one folder per graph, as each case once had
        folder.mkdir()
        _grade_rule_graph(dla_build, case_graph, folder)


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.parametrize(
    "rule",
    [
        case("p3.rule.conv_pads", "conv_pads"),
        case("p3.rule.conv_transpose_pads", "conv_transpose_pads"),
        case("p3.rule.matmul_weights", "matmul_weights"),
        case("p3.rule.pool_stride", "pool_stride"),
        case("p3.rule.reduce_mean", "reduce_mean"),
        case("p3.rule.eltwise_broadcast", "eltwise_broadcast"),
        case("p3.rule.resize_scale", "resize_scale"),
        case("p3.rule.slice_batch", "slice_batch"),
        case("p3.rule.softmax_size", "softmax_size"),
        case("p3.rule.gather", "gather"),
    ],
)
def test_rule_table_row(dla_build: Attempt[ModuleType], tmp_path: Path, rule: str) -> None:
    """rule: another row of the DLA rule table, on a graph that breaks only that rule"""
    from grader.practices.practice3 import hidden_graphs  # emptied in the student release, like this test

    _grade_rule_graph(dla_build, hidden_graphs.GRAPHS[rule](), tmp_path)


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p3.placement.unknown_precision")
def test_placement_rejects_unknown_precision(dla_build: Attempt[ModuleType], tmp_path: Path) -> None:
    """dla_placement raises ValueError for a precision other than "fp16", "int8" or "fp32\""""
    path = graphs.legal_network("fp16").save(tmp_path)
    func = STUDENT_FILE.function(dla_build, "dla_placement")
    call = f"dla_placement({path.name}, precision='fp64')"
    try:
        returned = student.call(func, path, precision="fp64")
    except student.StudentCodeError as error:
        if _raised(error, ValueError) is None:
            raise
        return
    shown = f"a {type(returned).__name__}" + (f" of {len(returned)} placements" if isinstance(returned, list) else "")
    fail(
        f"{call} returned {shown} instead of raising ValueError: the build precision is 'fp16', 'int8' or 'fp32'; "
        "raise ValueError for anything else instead of guessing."
    )


# ---------------------------------------------------------------- dla_placement: real graphs


@dataclass
class RealGraph:
    """A reference export, the grader's own placement of it, and the student's copy of the file."""

    name: str
    path: Path
    nodes: list[tuple[str, str]]
    expected: list[rules.Predicted]


@functools.cache
def _reference(name: str) -> tuple[Path, list[tuple[str, str]], list[rules.Predicted]]:
    """A reference export (cached file), its nodes and the grader's own placement (cached per machine)."""
    source = models.export_onnx(name)
    # The export's file name is its recipe's hash; the rules' source decides the placement.
    parts = {"export": source.name, "rules": _rules_source_hash()}
    found = ArtifactCache().json("dla-placement", parts, lambda: _predict(source))
    nodes = [(node, op_type) for node, op_type in found["nodes"]]
    return source, nodes, [rules.Predicted(**item) for item in found["expected"]]


def _predict(source: Path) -> dict[str, list[Any]]:
    """Nodes and the grader's placement of one ONNX file, as JSON."""
    import onnx

    model = onnx.load(str(source), load_external_data=False)
    expected = [asdict(item) for item in rules.predict_model(model)]
    return {"nodes": [[node.name, node.op_type] for node in model.graph.node], "expected": expected}


@functools.cache
def _rules_source_hash() -> str:
    """Hash of the placement rules' source files (a changed rule invalidates the cached placements)."""
    folder = Path(rules.__file__).parent
    return hash_key({path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py"))})


@pytest.fixture(scope="module")
def real_graphs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RealGraph]:
    """Reference exports by name, each with the grader's placement, copied once per graded folder."""
    folder = tmp_path_factory.mktemp("p3-real")
    loaded: dict[str, RealGraph] = {}

    def get(name: str) -> RealGraph:
        if name not in loaded:
            try:
                source, nodes, expected = _reference(name)
            except ImportError as error:
                pytest.skip(f"not graded on this machine: exporting {name} needs {error.name or error}")
            # Students get a copy: the shared cache must stay untouched whatever their code does.
            path = folder / f"{name}.onnx"
            shutil.copyfile(source, path)
            loaded[name] = RealGraph(name, path, nodes, expected)
        return loaded[name]

    return get


def _grade_real_graph(module: Attempt[ModuleType], graph: RealGraph, grade: Any) -> list[Got]:
    """Per-node devices equal the grader's TensorRT 10.3 rules; GPU nodes carry a reason."""
    call = f"dla_placement({graph.path.name})"
    got = _placements(module, graph.path, graph.name)
    _check_order(got, graph.nodes, call)
    wrong = [(item, want) for item, want in zip(got, graph.expected, strict=True) if item.device != want.device]
    if wrong:
        lines = [
            f"  {item.node} ({item.op_type}): you say {item.device}"
            + (f" ({item.reason!r})" if item.reason else "")
            + f", expected {want.device}: {want.why()}"
            for item, want in wrong[:SHOWN]
        ]
        more = f"\n  ... and {len(wrong) - SHOWN} more" if len(wrong) > SHOWN else ""
        fail(
            f"{call} differs from TensorRT 10.3's DLA rules on {len(wrong)} of {len(got)} nodes:\n"
            + "\n".join(lines)
            + more
        )
    silent = [item.node for item in got if item.device == "GPU" and not (isinstance(item.reason, str) and item.reason)]
    expect(
        not silent,
        f"{call}: {len(silent)} GPU placements have no reason (first: {silent[0] if silent else ''!r}): "
        "say which rule sent each node to GPU.",
    )
    gpu = sorted({item.op_type for item in got if item.device == "GPU"})
    grade.note(f"{graph.name}: {len(got) - sum(i.device == 'GPU' for i in got)} nodes on DLA, GPU op types {gpu}")
    return got


@pytest.mark.points(1)
@pytest.mark.check("p3.placement.one_per_node")
def test_placement_one_per_node(dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph]) -> None:
    """dla_placement returns one Placement per node in graph order; DLA reasons empty, GPU reasons not"""
    graph = real_graphs("resnet18")
    func = STUDENT_FILE.function(dla_build, "dla_placement")
    raw = student.call(func, graph.path)
    kind = getattr(dla_build.result(), "Placement", None)
    expect(isinstance(kind, type), f"{STUDENT_FILE} has no Placement class: keep the stub's dataclass.")
    expect(
        isinstance(raw, list) and all(isinstance(item, kind) for item in raw),
        f"dla_placement({graph.path.name}) must return a list of Placement (the dataclass in the stub), got "
        f"{type(raw).__name__}" + (f" of {type(raw[0]).__name__}" if isinstance(raw, list) and raw else "") + ".",
    )
    got = _placements(dla_build, graph.path, graph.name, returned=raw)
    _check_order(got, graph.nodes, f"dla_placement({graph.path.name})")
    for item in got:
        expect(isinstance(item.reason, str), f"{item.node}: reason is {type(item.reason).__name__}, use a str.")
        expect(
            (item.reason == "") == (item.device == "DLA"),
            f"{item.node} ({item.op_type}) is on {item.device} with reason {item.reason!r}: the reason is empty "
            "exactly for DLA nodes and names the violated rule for GPU nodes.",
        )


@pytest.mark.points(1)
@pytest.mark.check("p3.placement.resnet18")
def test_resnet18_placement(
    dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph], grade: Any
) -> None:
    """resnet18: everything on DLA except GlobalAveragePool and the Flatten before the classifier"""
    _grade_real_graph(dla_build, real_graphs("resnet18"), grade)


@pytest.mark.points(2)
@pytest.mark.check("p3.placement.resnet50_orin_log")
def test_resnet50_matches_orin_log(
    dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph], grade: Any
) -> None:
    """resnet50: the real AGX Orin TensorRT 10.3 split (only GlobalAveragePool and Flatten on GPU)"""
    got = _grade_real_graph(dla_build, real_graphs("resnet50"), grade)
    for item in got:
        if item.op_type == "GlobalAveragePool":
            misses = _reason_misses(item.reason, (("average", "avg"),))
            expect(
                not misses,
                f"{item.node}: reason {item.reason!r} should say why: DLA cores do not support average reduce "
                "(TensorRT logs 'DLA cores do not support AVG Reduce operation'); mention 'average'.",
            )


@pytest.mark.points(2)
@pytest.mark.check("p3.placement.lab_classifier")
def test_lab_classifier_placement(
    dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph], grade: Any
) -> None:
    """lab classifier (EfficientNet-Lite0): Div, Pad, GlobalAveragePool and the 2-D Reshape on GPU"""
    _grade_real_graph(dla_build, real_graphs("efficientnet_lite0"), grade)


@pytest.mark.points(2)
@pytest.mark.check("p3.placement.yolov8n")
def test_yolov8n_placement(dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph], grade: Any) -> None:
    """YOLOv8n: backbone Resize/Concat/Split on DLA, the detection head (3-D, 8400 wide) on GPU"""
    _grade_real_graph(dla_build, real_graphs("yolov8n"), grade)


# ---------------------------------------------------------------- dla_report


def _make_placements(module: Attempt[ModuleType], rows: list[tuple[str, str]]) -> list[Any]:
    """Placements built with the student's own Placement class from (op_type, device) rows."""
    kind = getattr(module.result(), "Placement", None)
    expect(callable(kind), f"{STUDENT_FILE} has no Placement class: keep the stub's dataclass.")
    out = []
    for index, (op, device) in enumerate(rows):
        reason = "" if device == "DLA" else f"{op}: test reason"
        try:
            out.append(kind(node=f"n{index}", op_type=op, device=device, reason=reason))
        except Exception as error:  # noqa: BLE001 - the student's class
            fail(
                f"Placement(node=..., op_type=..., device=..., reason=...) failed: {error}. Keep the stub's dataclass."
            )
    return out


def _report(module: Attempt[ModuleType], rows: list[tuple[str, str]]) -> dict[str, Any]:
    """dla_report on placements the grader built, checked to be a dict with the five keys."""
    result = STUDENT_FILE.call(module, "dla_report", _make_placements(module, rows))
    expect(isinstance(result, dict), f"dla_report() returned {type(result).__name__}, expected a dict.")
    missing = [key for key in REPORT_KEYS if key not in result]
    expect(not missing, f"dla_report() returned keys {sorted(result)}; missing {missing}.")
    return result


def _devices(rows: list[tuple[str, str]]) -> str:
    """``D D G D`` for a message."""
    return " ".join(device[0] for _, device in rows) or "(empty)"


@pytest.mark.points(1)
@pytest.mark.check("p3.report.counts")
def test_dla_report_counts(dla_build: Attempt[ModuleType]) -> None:
    """dla_report counts DLA and GPU nodes and lists GPU op types sorted, without repeats"""
    rows = [
        ("Conv", "DLA"),
        ("Relu", "DLA"),
        ("GlobalAveragePool", "GPU"),
        ("Flatten", "GPU"),
        ("Gemm", "DLA"),
        ("Div", "GPU"),
        ("Div", "GPU"),
        ("Flatten", "GPU"),
    ]
    wanted = rules.report(rows)
    result = _report(dla_build, rows)
    for key in ("dla_nodes", "gpu_nodes", "gpu_op_types"):
        expect(
            result[key] == getattr(wanted, key),
            f"dla_report() on {_devices(rows)} (op types {[op for op, _ in rows]}) gives {key} = {result[key]!r}, "
            f"expected {getattr(wanted, key)!r}"
            + (": sorted(set(op types on GPU))." if key == "gpu_op_types" else "."),
        )


@pytest.mark.points(2)
@pytest.mark.check("p3.report.subgraphs_transitions")
def test_dla_report_subgraphs_and_transitions(dla_build: Attempt[ModuleType]) -> None:
    """dla_report counts DLA subgraphs (runs of DLA nodes) and DLA<->GPU transitions along graph order"""
    sequences = ["DDGDGGD", "GGDD", "DDD", "G", "GDG"]  # the empty list: a hidden test
    for sequence in sequences:
        rows = [("Relu" if s == "D" else "Div", "DLA" if s == "D" else "GPU") for s in sequence]
        wanted = rules.report(rows)
        result = _report(dla_build, rows)
        for key, explain in (
            ("dla_subgraphs", "the number of maximal runs of consecutive DLA nodes"),
            ("transitions", "the number of neighbours whose devices differ, both directions (each is a copy)"),
        ):
            expect(
                result[key] == getattr(wanted, key),
                f"dla_report() on devices {_devices(rows)} gives {key} = {result[key]!r}, expected "
                f"{getattr(wanted, key)}: {key} is {explain}.",
            )


@pytest.mark.points(1)
@pytest.mark.check("p3.report.resnet50_orin_log")
def test_dla_report_resnet50_like_orin_log(
    dla_build: Attempt[ModuleType], real_graphs: Callable[[str], RealGraph]
) -> None:
    """dla_report on resnet50's placement: 2 DLA subgraphs, like the real AGX Orin log"""
    graph = real_graphs("resnet50")
    rows = [(p.op_type, p.device) for p in graph.expected]
    wanted = rules.report(rows)
    result = _report(dla_build, rows)
    for key in REPORT_KEYS:
        expect(
            result[key] == getattr(wanted, key),
            f"dla_report() on resnet50's {len(rows)} placements (GPU: GlobalAveragePool, Flatten) gives "
            f"{key} = {result[key]!r}, expected {getattr(wanted, key)!r} (a real AGX Orin build makes 2 DLA "
            "subgraphs: the convolutions, then the classifier).",
        )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p3.report.empty")
def test_dla_report_empty(dla_build: Attempt[ModuleType]) -> None:
    """dla_report on an empty placement list: zero counts and an empty gpu_op_types list"""
    wanted = rules.report([])
    result = _report(dla_build, [])
    for key in REPORT_KEYS:
        expect(
            result[key] == getattr(wanted, key),
            f"dla_report([]) gives {key} = {result[key]!r}, expected {getattr(wanted, key)!r}: an empty placement "
            "list has no nodes, no DLA subgraphs, no transitions and no GPU op types ([]).",
        )


# ---------------------------------------------------------------- GPU tier (Jetson)


def _lab_classifier_onnx() -> Path:
    """The lab classifier's ONNX export (grader-made, cached)."""
    return models.export_onnx(models.lab_classifier().name)


@pytest.fixture(scope="module")
def dla_engine(dla_build: Attempt[ModuleType], tmp_path_factory: pytest.TempPathFactory) -> Attempt[dict[str, Any]]:
    """build_dla_engine(lab classifier, FP16) once."""
    folder = tmp_path_factory.mktemp("p3-engine")

    def work() -> dict[str, Any]:
        source = _lab_classifier_onnx()
        path = folder / "classifier.onnx"
        shutil.copyfile(source, path)
        func = STUDENT_FILE.function(dla_build, "build_dla_engine")
        result = student.call(func, path, folder / "classifier_dla.engine", dla_core=0, precision="fp16")
        expect(isinstance(result, dict), f"build_dla_engine() returned {type(result).__name__}, expected a dict.")
        return result

    return attempt(work)


@pytest.mark.points(3)
@pytest.mark.requires("tensorrt", "gpu", "pycuda")
@pytest.mark.check("p3.build.matches_fp32")
def test_build_dla_engine_matches_fp32(dla_engine: Attempt[dict[str, Any]], grade: Any) -> None:
    """build_dla_engine (lab classifier, FP16): the engine deserializes and matches the FP32 engine"""
    from grader.backends import tensorrt as trt_backend

    result = dla_engine.result()
    engine = Path(result.get("engine_path", ""))
    expect(engine.is_file(), f"build_dla_engine() returned engine_path={engine!s}, but no engine file is there.")
    grade.note(f"build_dla_engine said device={result.get('device')!r}")
    contract = models.lab_classifier().contract
    feed = {contract.name: np.random.default_rng(SEED).random(contract.shape, dtype=np.float32)}
    try:
        got = trt_backend.run_engine(engine, feed)
    except RuntimeError as error:
        fail(f"the engine from build_dla_engine() does not run: {error}")
    reference = trt_backend.cached_engine(_lab_classifier_onnx(), precision="fp32")
    wanted = trt_backend.run_engine(reference, feed)
    for name, expected in wanted.items():
        expect(name in got, f"the engine has outputs {sorted(got)}, the FP32 engine {sorted(wanted)}.")
        comparison = compare(got[name], expected, rtol=FP16_RELATIVE_TOLERANCE)
        expect(
            comparison.passed,
            f"output {name!r}: FP16 engine and FP32 engine differ by {comparison.max_abs:.3g} (allowed "
            f"{comparison.allowed:.2g}): build the ONNX file you were given, with configure_dla's FP16 settings.",
        )


@pytest.mark.points(1)
@pytest.mark.requires("tensorrt", "gpu")
@pytest.mark.check("p3.build.reports_placement")
def test_build_dla_engine_reports_placement(dla_engine: Attempt[dict[str, Any]]) -> None:
    """build_dla_engine reports TensorRT's can_run_on_DLA per layer next to dla_placement's prediction"""
    from grader.backends import tensorrt as trt_backend

    result = dla_engine.result()
    for key in ("device", "engine_path", "precision", "tensorrt", "predicted"):
        expect(key in result, f"build_dla_engine() returned keys {sorted(result)}; missing {key!r}.")
    wanted = {
        name: "DLA" if ok else "GPU" for name, ok in trt_backend.dla_layer_support(_lab_classifier_onnx()).items()
    }
    got = dict(result["tensorrt"])
    expect(
        got == wanted,
        "build_dla_engine()['tensorrt'] differs from config.can_run_on_DLA(layer) on layers "
        f"{sorted(k for k in wanted.keys() | got.keys() if got.get(k) != wanted.get(k))[:SHOWN]}: ask TensorRT for "
        "every layer of the parsed network (network.get_layer(i)).",
    )
    nodes = [(p.node, p.device) for p in rules.predict(_lab_classifier_onnx())]
    expect(
        list(dict(result["predicted"])) == [name for name, _ in nodes],
        "build_dla_engine()['predicted'] must map every ONNX node name, in graph order, to dla_placement's device.",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.requires("tensorrt", "gpu")
@pytest.mark.check("p3.build.bad_input")
def test_build_dla_engine_rejects_bad_input(dla_build: Attempt[ModuleType], tmp_path: Path) -> None:
    """build_dla_engine raises ValueError for precision="fp32" and RuntimeError when TensorRT cannot parse the file"""
    func = STUDENT_FILE.function(dla_build, "build_dla_engine")
    legal = graphs.legal_network("fp16").save(tmp_path)
    broken = tmp_path / "not_an_onnx_model.onnx"
    broken.write_bytes(b"these bytes are not an ONNX model")
    cases = (
        (legal, "fp32", ValueError, "DLA builds FP16 or INT8 engines: check precision first and raise ValueError"),
        (
            broken,
            "fp16",
            RuntimeError,
            "parser.parse_from_file() returned False: raise RuntimeError listing parser.get_error(i) for i in "
            "range(parser.num_errors)",
        ),
    )
    for path, precision, kind, fix in cases:
        call = f"build_dla_engine({path.name}, ..., precision={precision!r})"
        try:
            returned = student.call(func, path, tmp_path / f"{path.stem}.engine", precision=precision)
        except student.StudentCodeError as error:
            if _raised(error, kind) is not None:
                continue
            cause = error.__context__
            fail(f"{call} raised {type(cause).__name__}, expected {kind.__name__}: {fix}.\n{error}")
        fail(f"{call} returned {type(returned).__name__} instead of raising {kind.__name__}: {fix}.")


@pytest.mark.points(1)
@pytest.mark.requires("tensorrt", "gpu")
@pytest.mark.check("p3.build.without_dla")
def test_build_dla_engine_without_dla(dla_engine: Attempt[dict[str, Any]]) -> None:
    """build_dla_engine on a board without DLA (Orin Nano): says "GPU" and still builds"""
    from grader.backends import tensorrt as trt_backend

    cores = trt_backend.num_dla_cores()
    if cores > 0:
        pytest.skip(f"not graded on this machine: this board has {cores} DLA cores; this test is for boards without")
    # The fixture already built with dla_core=0 on this board, which has no DLA: the GPU simulation.
    result = dla_engine.result()
    expect(
        result.get("device") == "GPU",
        f"on a board without DLA build_dla_engine() must report device 'GPU' (configure_dla's answer), got "
        f"{result.get('device')!r}.",
    )
    engine = Path(result.get("engine_path", ""))
    expect(
        engine.is_file() and engine.stat().st_size > 0,
        f"build_dla_engine() wrote no engine at {engine!s} on a board without DLA: the GPU simulation must still "
        "build and serialize the engine.",
    )


@pytest.mark.points(1)
@pytest.mark.requires("trtexec", "tensorrt", "gpu")
@pytest.mark.check("p3.trtexec.dla_flow")
def test_trtexec_dla_flow(dla_engine: Attempt[dict[str, Any]], grade: Any) -> None:
    """trtexec --useDLACore=0 --allowGPUFallback --fp16 agrees with build_dla_engine's GPU layers"""
    from grader.backends import trtexec

    run = trtexec.trtexec_dla_build(_lab_classifier_onnx(), dla_core=0)
    command = " ".join(Path(part).name if i == 0 else part for i, part in enumerate(run.command))
    explanation = orin_log.explain_trtexec_dla(run.output, command)
    if not run.passed and explanation:
        pytest.skip(f"not graded on this machine: {explanation}")
    expect(run.passed, f"`{command}` failed (exit {run.returncode}); its last lines:\n{run.output[-1500:]}")
    switched = [name for name, _ in orin_log.parse(run.output).switched_to_gpu]
    reported = dict(dla_engine.result().get("tensorrt", {}))
    expect(reported, "build_dla_engine()['tensorrt'] is empty: report config.can_run_on_DLA(layer) for every layer.")
    missed = [name for name in switched if name in reported and reported[name] != "GPU"]
    grade.note(f"trtexec moved {len(switched)} layers to GPU: {switched[:SHOWN]}")
    expect(
        not missed,
        f"trtexec put {missed[:SHOWN]} on GPU, but build_dla_engine()['tensorrt'] says DLA for them: report "
        "config.can_run_on_DLA(layer) for each layer.",
    )
