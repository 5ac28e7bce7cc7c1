"""Self-tests of the grader's own DLA knowledge: the predictor, the Orin log reader, the recording stand-in."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from grader.backends import requirements
from grader.backends import tensorrt as trt_backend
from grader.core import student
from grader.core.checks import Attempt
from grader.core.paths import REPO
from grader.practices.practice3 import graphs, hidden_graphs, suite
from grader.practices.practice3.dla import orin_log, recording, rules
from grader.tools import models
from tests.conftest import suite_after_release_cut

ORIN_LOG = REPO.parent / "shared" / "reference" / "trtexec-logs" / "orin_agx_trt10.3_dla_placement_verbose_excerpt.log"

# The Practice 3 suite's hidden tests (parametrized ones by their function name).
HIDDEN_P3 = {
    "test_configure_dla_negative_core",
    "test_rule_table_row",
    "test_placement_rejects_unknown_precision",
    "test_dla_report_empty",
    "test_build_dla_engine_rejects_bad_input",
}

RULE_GRAPHS = {
    "conv_kernel": (graphs.conv_kernel, {"conv.kernel"}),
    "conv_stride": (graphs.conv_stride, {"conv.stride"}),
    "pool_window": (graphs.pool_window, {"pool.window"}),
    "concat_axis": (graphs.concat_axis, {"concat.axis"}),
    "dynamic_batch": (graphs.dynamic_batch, {"dynamic"}),
    "division": (graphs.division, {"eltwise.op"}),
    "flatten_2d": (graphs.flatten_2d, {"shuffle.4d"}),
    "activation": (graphs.activation, {"activation"}),
    "wide_tensor": (graphs.wide_tensor, {"dimension"}),
    "large_batch": (graphs.large_batch, {"batch"}),
    "fp32": (lambda: graphs.legal_network("fp32"), {"precision"}),
    "fp16": (lambda: graphs.legal_network("fp16"), set()),
    "int8": (lambda: graphs.legal_network("int8"), set()),
}


# ---------------------------------------------------------------- the predictor against the real AGX Orin log


@pytest.fixture(scope="module")
def orin() -> orin_log.DlaLog:
    """The real AGX Orin TensorRT 10.3 verbose log (ResNet-50, FP16, --allowGPUFallback)."""
    if not ORIN_LOG.is_file():
        pytest.skip(f"reference log not here ({ORIN_LOG}): ../shared is absent")
    return orin_log.parse(ORIN_LOG.read_text(encoding="utf-8"))


def test_orin_log_is_read(orin: orin_log.DlaLog) -> None:
    """The log says: 2 of 2 DLA candidates offloaded, GlobalAveragePool and Flatten switched to GPU."""
    assert orin.candidates == (2, 2)
    assert orin.dla_subgraphs == 2
    assert [orin_log.op_type_of(name) for name, _ in orin.switched_to_gpu] == ["GlobalAveragePool", "Flatten"]
    assert [kind for _, kind in orin.switched_to_gpu] == ["REDUCE", "SHUFFLE"]


def test_predictor_reproduces_orin_split_for_resnet50(orin: orin_log.DlaLog) -> None:
    """The grader's predictor on resnet50: the same GPU op types and DLA subgraph count as the real log."""
    predicted = rules.predict(models.export_onnx("resnet50"))
    gpu = [p for p in predicted if p.device == "GPU"]
    assert sorted(p.op_type for p in gpu) == sorted(orin_log.op_type_of(name) for name, _ in orin.switched_to_gpu)
    summary = rules.report([(p.op_type, p.device) for p in predicted])
    assert summary.dla_subgraphs == orin.dla_subgraphs
    assert summary.transitions == 2
    # The log's first DLA subgraph runs from the first Conv to the last Relu; the second holds the fc Gemm.
    first, second = orin.offloaded
    runtime = [p for p in predicted if p.op_type != "Identity"]
    head, tail = first.split("...")
    assert orin_log.op_type_of(head) == runtime[0].op_type == "Conv"
    assert orin_log.op_type_of(tail) == "Relu"
    last_dla_before_gpu = runtime[[p.device for p in runtime].index("GPU") - 1]
    assert last_dla_before_gpu.op_type == "Relu"
    assert "Gemm" in second and runtime[-1].op_type == "Gemm" and runtime[-1].device == "DLA"


def test_predictor_on_resnet18_matches_resnet50_split() -> None:
    """resnet18 has the same structure: only GlobalAveragePool and Flatten on GPU."""
    predicted = rules.predict(models.export_onnx("resnet18"))
    assert sorted(p.op_type for p in predicted if p.device == "GPU") == ["Flatten", "GlobalAveragePool"]
    gap = next(p for p in predicted if p.op_type == "GlobalAveragePool")
    assert gap.rule == "reduce.average" and "average reduce" in gap.reason


def test_predictor_on_yolov8n_head() -> None:
    """YOLOv8n: Resize (scale 2, nearest), channel Concat and Split stay on DLA; only model.22's head goes to GPU."""
    predicted = rules.predict(models.export_onnx("yolov8n"))
    by_op: dict[str, set[str]] = {}
    for p in predicted:
        if not p.node.startswith("/model.22/"):
            by_op.setdefault(p.op_type, set()).add(p.device)
    assert by_op["Resize"] == by_op["Concat"] == by_op["Split"] == {"DLA"}
    assert all(devices == {"DLA"} for devices in by_op.values()), by_op
    head = [p for p in predicted if p.device == "GPU"]
    assert head and all(p.node.startswith("/model.22/") for p in head)
    assert {p.op_type for p in head} >= {"Reshape", "Concat", "Softmax", "Transpose"}


# ---------------------------------------------------------------- the synthetic graphs: construction vs predictor


@pytest.mark.parametrize("name", sorted(RULE_GRAPHS))
def test_rule_graph_breaks_exactly_one_rule(name: str, tmp_path: Path) -> None:
    """Each synthetic graph is valid ONNX, the predictor agrees with its construction, and one rule is broken."""
    build, broken = RULE_GRAPHS[name]
    case = build()
    path = case.save(tmp_path)
    onnx.checker.check_model(str(path), full_check=True)
    predicted = rules.predict(path, case.precision)
    assert [(p.node, p.device) for p in predicted] == [(n, e.device) for n, e in case.expected.items()]
    assert {p.rule for p in predicted if p.device == "GPU"} == broken
    for p in predicted:
        expect = case.expected[p.node]
        for group in expect.keywords:
            assert any(word.lower() in p.reason.lower() for word in group), (p.reason, group)


# ---------------------------------------------------------------- predictor rules on small graphs


def _one_node(
    op: str,
    shape: list[int | str],
    attrs: dict | None = None,
    weights: dict[str, np.ndarray] | None = None,
    inputs: list[str] | None = None,
    extra_inputs: list[tuple[str, list[int]]] = (),
) -> onnx.ModelProto:
    """A one-node graph over input ``x`` (plus constant ``weights`` and runtime ``extra_inputs``)."""
    weights = weights or {}
    node = helper.make_node(op, inputs or ["x", *weights], ["y"], name="n", **(attrs or {}))
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    graph_inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in extra_inputs]
    graph = helper.make_graph(
        [node],
        "g",
        graph_inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _rule(model: onnx.ModelProto) -> str:
    """The rule the predictor applies to the single node ("" = DLA)."""
    return rules.predict_model(model)[0].rule


F = np.float32
I64 = np.int64


@pytest.mark.parametrize(
    ("model", "rule"),
    [
        (
            _one_node(
                "Resize",
                [1, 4, 8, 8],
                {"mode": "nearest"},
                inputs=["x", "", "s"],
                weights={"s": np.array([1, 1, 2, 2], F)},
            ),
            "",
        ),
        (
            _one_node(
                "Resize",
                [1, 4, 8, 8],
                {"mode": "nearest"},
                inputs=["x", "", "s"],
                weights={"s": np.array([1, 1, 1.5, 1.5], F)},
            ),
            "resize.scales",
        ),
        (
            _one_node(
                "Resize",
                [1, 4, 8, 8],
                {"mode": "linear"},
                inputs=["x", "", "s"],
                weights={"s": np.array([1, 1, 8, 8], F)},
            ),
            "resize.scales",
        ),
        (
            _one_node(
                "Resize",
                [1, 4, 8, 8],
                {"mode": "nearest"},
                inputs=["x", "", "s"],
                weights={"s": np.array([1, 2, 1, 1], F)},
            ),
            "resize.scales",
        ),
        (
            _one_node(
                "Resize",
                [1, 4, 8, 8],
                {"mode": "cubic"},
                inputs=["x", "", "s"],
                weights={"s": np.array([1, 1, 2, 2], F)},
            ),
            "resize.mode",
        ),
        (
            _one_node(
                "Slice",
                [2, 4, 8, 8],
                inputs=["x", "a", "b", "c"],
                weights={"a": np.array([0], I64), "b": np.array([1], I64), "c": np.array([0], I64)},
            ),
            "slice.batch",
        ),
        (
            _one_node(
                "Slice",
                [1, 4, 8, 8],
                inputs=["x", "a", "b", "c"],
                weights={"a": np.array([0], I64), "b": np.array([2], I64), "c": np.array([1], I64)},
            ),
            "",
        ),
        (
            _one_node(
                "Slice",
                [1, 4, 8, 8],
                inputs=["x", "a", "b", "c", "d"],
                weights={
                    "a": np.array([0], I64),
                    "b": np.array([8], I64),
                    "c": np.array([2], I64),
                    "d": np.array([2], I64),
                },
            ),
            "slice.step",
        ),
        (_one_node("Transpose", [1, 4, 8, 8], {"perm": [1, 0, 2, 3]}), "shuffle.batch"),
        (_one_node("Transpose", [1, 4, 8, 8], {"perm": [0, 2, 3, 1]}), ""),
        (_one_node("Softmax", [1, 2000, 1, 1], {"axis": 1}), "softmax.size"),
        (_one_node("Softmax", [1, 16, 4, 4], {"axis": 1}), ""),
        (_one_node("Gemm", [1, 8], extra_inputs=[("w", [8, 4])], inputs=["x", "w"]), "matmul.constant"),
        (_one_node("MatMul", [1, 8], weights={"w": np.ones((8, 4), F)}), ""),
        (_one_node("Add", [1, 3, 8, 8], weights={"b": np.ones((1, 1, 1, 8), F)}), "eltwise.broadcast"),
        (_one_node("Add", [1, 3, 8, 8], weights={"b": np.ones((3, 1, 1), F)}), ""),
        (_one_node("Add", [1, 3, 8], weights={"b": np.ones((1, 3, 8), F)}), "eltwise.4d"),
        (_one_node("Conv", [1, 3, 8, 8], {"pads": [3, 3, 3, 3]}, weights={"w": np.ones((4, 3, 3, 3), F)}), "conv.pads"),
        (_one_node("Conv", [1, 3, 8, 8], extra_inputs=[("w", [4, 3, 3, 3])], inputs=["x", "w"]), "conv.weights"),
        (_one_node("Conv", [1, 3, 8, 8, 8], weights={"w": np.ones((4, 3, 3, 3, 3), F)}), "conv.2d"),
        (_one_node("ReduceMean", [1, 3, 8, 8], {"axes": [2, 3]}), "reduce.average"),
        (_one_node("Pad", [1, 3, 8, 8], weights={"p": np.zeros(8, I64)}), "unsupported"),
        (_one_node("PRelu", [1, 3, 8, 8], weights={"s": np.ones((3, 1, 1), F)}), ""),
        (_one_node("Split", [1, 4, 8, 8], {"axis": 0}, weights={"s": np.array([1], I64)}), "slice.batch"),
    ],
)
def test_predictor_rule(model: onnx.ModelProto, rule: str) -> None:
    """Single-node graphs land on the rule TensorRT 10.3's DLA table names."""
    assert _rule(model) == rule


def test_constant_subgraphs_fold_to_dla() -> None:
    """Nodes fed only by constants are folded (DLA), even in front of a GPU node."""
    nodes = [
        helper.make_node("Constant", [], ["c"], name="const", value=numpy_helper.from_array(np.ones(3, F))),
        helper.make_node("Identity", ["c"], ["c2"], name="ident"),
        helper.make_node("Identity", ["x"], ["y"], name="runtime_identity"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    assert [p.device for p in rules.predict_model(model)] == ["DLA", "DLA", "GPU"]
    with pytest.raises(ValueError, match="precision"):
        rules.predict_model(model, "fp64")


def test_report_counts() -> None:
    """Runs of DLA and switches along graph order."""
    rows = [("a", d) for d in ("DLA", "DLA", "GPU", "DLA", "GPU", "GPU", "DLA")]
    assert rules.report(rows) == rules.Report(4, 3, 3, 4, ["a"])
    assert rules.report([]) == rules.Report(0, 0, 0, 0, [])


# ---------------------------------------------------------------- trtexec failure on Orin Nano


def test_trtexec_no_dla_failure_is_explained() -> None:
    """trtexec's 'Cannot create DLA engine, 0 not available' becomes an explanation for the student."""
    output = (
        "[I] === Device Information ===\n[E] Cannot create DLA engine, 0 not available\n"
        "&&&& FAILED TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx --useDLACore=0\n"
    )
    text = orin_log.explain_trtexec_dla(output, "trtexec --useDLACore=0")
    assert text is not None and "Orin Nano" in text and "no DLA" in text and "dla_placement" in text
    assert orin_log.explain_trtexec_dla("&&&& PASSED TensorRT.trtexec [TensorRT v100300]") is None
    removed = orin_log.explain_trtexec_dla("[E] Unknown option: --buildOnly")
    assert removed is not None and "--skipInference" in removed


# ---------------------------------------------------------------- the recording stand-in


def test_recording_config_records_and_never_builds() -> None:
    """The stand-in records settings from TensorRT's defaults and offers nothing to build with."""
    trt = recording.RecordingTensorRT()
    builder, config = recording.RecordingBuilder(2), recording.RecordingConfig()
    assert builder.num_DLA_cores == 2 and config.device_name() == "GPU" and config.core() == -1
    config.set_flag(trt.BuilderFlag.FP16)
    config.flags = config.flags | (1 << int(trt.BuilderFlag.GPU_FALLBACK))
    config.default_device_type = trt.DeviceType.DLA
    config.DLA_core = 1
    assert config.flag_names() == {"FP16", "GPU_FALLBACK"} and config.get_flag(trt.BuilderFlag.FP16)
    assert config.device_name() == "DLA" and config.core() == 1
    assert "config.set_flag(trt.BuilderFlag.GPU_FALLBACK)" in config.describe()
    for attempt in (
        lambda: builder.build_serialized_network(None, config),
        lambda: builder.create_network(0),
        lambda: setattr(config, "int8_calibrator", None),
        lambda: trt.Builder,
        lambda: setattr(builder, "num_DLA_cores", 5),
    ):
        with pytest.raises(AttributeError, match="configure_dla"):
            attempt()


def test_tensorrt_dla_backend_imports_without_tensorrt() -> None:
    """The GPU-tier helpers import anywhere; TensorRT is only imported inside their functions."""
    backend, trtexec = (importlib.import_module(f"grader.backends.{name}") for name in ("tensorrt", "trtexec"))
    assert callable(backend.run_engine) and callable(trtexec.trtexec_dla_build)


# ---------------------------------------------------------------- the hidden tests' graphs


@pytest.mark.parametrize("name", sorted(hidden_graphs.GRAPHS))
def test_hidden_rule_graph_breaks_exactly_one_rule(name: str, tmp_path: Path) -> None:
    """Each hidden one-rule graph is valid ONNX and the grader's predictor agrees with its construction."""
    case = hidden_graphs.GRAPHS[name]()
    path = case.save(tmp_path)
    onnx.checker.check_model(str(path), full_check=True)
    predicted = rules.predict(path, case.precision)
    assert [(p.node, p.device) for p in predicted] == [(n, e.device) for n, e in case.expected.items()]
    assert len({p.rule for p in predicted if p.device == "GPU"}) == 1
    assert {"DLA", "GPU"} <= {p.device for p in predicted}  # a legal node beside the one at fault
    for p in predicted:
        for group in case.expected[p.node].keywords:
            assert any(word.lower() in p.reason.lower() for word in group), (p.reason, group)


def test_hidden_rule_test_lists_every_hidden_graph() -> None:
    """The suite's hidden rule test is parametrized by exactly the hidden graphs, and breaks rules no visible test does."""
    marks = [m for m in suite.test_rule_table_row.pytestmark if m.name == "parametrize"]
    assert [case.values[0] for case in marks[0].args[1]] == list(hidden_graphs.GRAPHS)
    visible = {p.rule for build, _ in RULE_GRAPHS.values() for p in rules.predict_model(build().model)}
    hidden = {p.rule for build in hidden_graphs.GRAPHS.values() for p in rules.predict_model(build().model)}
    assert not (hidden - {""}) & visible


def test_release_cuts_the_hidden_tests_and_the_rest_still_imports(tmp_path: Path) -> None:
    """strip_hidden removes every hidden Practice 3 test and empties hidden_graphs; the visible suite imports and lists."""
    removed, tests = suite_after_release_cut(tmp_path, 3)
    cut = {line.split("::")[-1].split(" ")[0] for line in removed if "practice3" in line and "::" in line}
    assert cut == HIDDEN_P3
    assert any("practice3/hidden_graphs.py (whole module" in line for line in removed)
    text = (tmp_path / "grader" / "practices" / "practice3" / "suite.py").read_text(encoding="utf-8")
    assert "hidden" not in text.replace("# the empty list: a hidden test", "")
    assert tests and not tests & HIDDEN_P3
    assert {"test_configure_dla_missing_core", "test_rule_graph", "test_dla_report_counts"} <= tests


# ---------------------------------------------------------------- `import tensorrt` in configure_dla (the course text)

COURSE_TEXT = """
SEEN = []


def configure_dla(builder, config, *, dla_core=0, allow_gpu_fallback=True):
    import tensorrt as trt

    SEEN.append(trt)
    if dla_core < 0 or (builder.num_DLA_cores and dla_core >= builder.num_DLA_cores):
        raise ValueError(f"DLA core {dla_core} does not exist")
    config.set_flag(trt.BuilderFlag.FP16)
    if allow_gpu_fallback:
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    if builder.num_DLA_cores == 0:
        return "GPU"
    config.default_device_type = trt.DeviceType.DLA
    config.DLA_core = dla_core
    return "DLA"
"""


def _tensorrt_missing() -> None:
    """Skip where a real TensorRT exists: there the stand-in never replaces `import tensorrt`."""
    if requirements.capability("tensorrt").available:
        pytest.skip("TensorRT is installed here: `import tensorrt` stays the real module")


def test_course_text_import_gets_the_standin_only_during_the_call(tmp_path: Path) -> None:
    """`import tensorrt as trt` inside configure_dla meets the stand-in; afterwards TensorRT is 'not installed' again."""
    _tensorrt_missing()
    path = tmp_path / "dla_build.py"
    path.write_text(COURSE_TEXT, encoding="utf-8")
    module = student.load(path)
    run = suite._configure(Attempt(value=module), 2, dla_core=1)
    assert (run.returned, run.config.device_name(), run.config.core()) == ("DLA", "DLA", 1)
    assert run.config.flag_names() == {"FP16", "GPU_FALLBACK"}
    assert isinstance(module.SEEN[0], recording.RecordingTensorRT)
    rejected = suite._reject(Attempt(value=module), 0, -1)
    assert rejected.error is not None and not rejected.config.calls
    # Nothing of the stand-in is left where the grader (or anyone) looks for TensorRT.
    assert "tensorrt" not in sys.modules and importlib.util.find_spec("tensorrt") is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("tensorrt")
    trt_backend.probe_tensorrt.cache_clear()
    requirements.capability.cache_clear()
    probe = trt_backend.probe_tensorrt()
    assert not probe.available and "not installed" in probe.reason
    assert not requirements.capability("tensorrt").available
    assert "not installed" in str(requirements.fingerprint()["tensorrt_missing_reason"])


def test_standin_entry_is_restored_however_the_call_ends() -> None:
    """A failing call, or code that swaps the entry itself, still leaves sys.modules as it was."""
    _tensorrt_missing()
    standin = recording.RecordingTensorRT()
    with pytest.raises(RuntimeError), recording.standing_in_for_tensorrt(standin, installed=False):
        assert importlib.import_module("tensorrt") is standin
        sys.modules["tensorrt.extra"] = standin  # type: ignore[assignment]
        sys.modules["tensorrt"] = object()  # type: ignore[assignment]
        raise RuntimeError("the student's code failed")
    assert not [name for name in sys.modules if name.split(".")[0] == "tensorrt"]
    marker = object()
    sys.modules["tensorrt"] = marker  # type: ignore[assignment] - a broken install imported earlier
    try:
        with recording.standing_in_for_tensorrt(standin, installed=False):
            assert sys.modules["tensorrt"] is standin
        assert sys.modules["tensorrt"] is marker
    finally:
        del sys.modules["tensorrt"]


def test_real_tensorrt_is_never_shadowed() -> None:
    """Where TensorRT is installed, the block leaves `import tensorrt` alone."""
    before = sys.modules.get("tensorrt")
    with recording.standing_in_for_tensorrt(recording.RecordingTensorRT(), installed=True):
        assert sys.modules.get("tensorrt") is before
