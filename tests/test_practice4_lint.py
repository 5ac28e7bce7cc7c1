"""Self-tests of grader.practices.practice4.trt_lint: every removed TensorRT 8 call is caught with its 10.x replacement."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.core.paths import REPO
from grader.practices.practice4 import trt_lint
from tests.conftest import suite_after_release_cut

SOLUTION = REPO / "solutions" / "practice4" / "trt_infer.py"
STUB = REPO / "assignments" / "practice4" / "trt_infer.py"

# rule: (TensorRT 8 code as old blog posts write it, a phrase the replacement must contain)
OLD_CODE = {
    "get_binding_shape": ("shape = engine.get_binding_shape(0)", "get_tensor_shape(name)"),
    "num_bindings": ("for i in range(engine.num_bindings):\n    pass", "num_io_tensors"),
    "binding_is_input": ("if engine.binding_is_input(binding):\n    pass", "trt.TensorIOMode.INPUT"),
    "get_binding_index": ("index = engine.get_binding_index('input')", "tensor names"),
    "get_binding_name": ("name = engine.get_binding_name(0)", "get_tensor_name(i)"),
    "get_binding_dtype": ("dtype = trt.nptype(engine.get_binding_dtype(0))", "get_tensor_dtype(name)"),
    "get_binding_format": ("fmt = engine.get_binding_format(0)", "get_tensor_format(name)"),
    "get_binding_vectorized_dim": ("dim = engine.get_binding_vectorized_dim(0)", "get_tensor_vectorized_dim"),
    "get_location": ("where = engine.get_location(0)", "get_tensor_location(name)"),
    "set_binding_shape": ("context.set_binding_shape(0, (1, 3, 224, 224))", "set_input_shape(name, shape)"),
    "max_workspace_size": ("config.max_workspace_size = 1 << 30", "MemoryPoolType.WORKSPACE"),
    "build_engine": ("engine = builder.build_engine(network, config)", "build_serialized_network"),
    "execute_async_v2": (
        "context.execute_async_v2(bindings=bindings, stream_handle=stream.handle)",
        "execute_async_v3(stream.handle)",
    ),
    "execute_async": (
        "context.execute_async(batch_size=1, bindings=bindings, stream_handle=stream.handle)",
        "set_tensor_address",
    ),
    "execute": ("context.execute(batch_size=1, bindings=bindings)", "execute_v2"),
    "max_batch_size": ("builder.max_batch_size = 8", "optimization profile"),
    "fp16_mode": ("builder.fp16_mode = True", "BuilderFlag.FP16"),
    "int8_mode": ("builder.int8_mode = True", "BuilderFlag.INT8"),
    "EXPLICIT_BATCH": (
        "flag = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)",
        "create_network(0)",
    ),
}


def test_every_rule_has_an_example() -> None:
    """The examples below cover every rule the lint knows."""
    assert set(OLD_CODE) == set(trt_lint.RULES)


@pytest.mark.parametrize("rule", sorted(OLD_CODE))
def test_removed_call_is_caught_with_its_replacement(rule: str) -> None:
    """Each TensorRT 8 call is found once, on its line, and the message gives the 10.x replacement."""
    code, replacement = OLD_CODE[rule]
    source = "import tensorrt as trt\n\n\ndef old(engine, context, builder, config, network, stream, bindings):\n"
    source += "".join(f"    {line}\n" for line in code.splitlines())
    findings = trt_lint.lint_source(source, "trt_infer.py")
    assert [finding.rule.name for finding in findings] == [rule]
    finding = findings[0]
    assert finding.line == 5
    message = finding.describe("trt_infer.py")
    assert message.startswith("trt_infer.py:5: `")
    assert rule in message and replacement in message, message
    assert "TensorRT" in message


def test_finding_shows_the_call() -> None:
    """The finding quotes the student's call, so the message points at the code to change."""
    (finding,) = trt_lint.lint_source("shape = engine.get_binding_shape(0)\n")
    assert finding.code == "engine.get_binding_shape(0)"


def test_several_findings_in_line_order() -> None:
    """Every use is reported, in the order of the file."""
    source = (
        "def f(engine, context, stream, bindings):\n"
        "    n = engine.num_bindings\n"
        "    s = engine.get_binding_shape(0)\n"
        "    context.execute_async_v2(bindings, stream.handle)\n"
    )
    assert [(f.line, f.rule.name) for f in trt_lint.lint_source(source)] == [
        (2, "num_bindings"),
        (3, "get_binding_shape"),
        (4, "execute_async_v2"),
    ]


@pytest.mark.parametrize(
    "code",
    [
        "# engine.get_binding_shape(0) is TensorRT 8\nx = 1\n",  # comments
        'HINT = "use get_tensor_shape, not engine.get_binding_shape(0)"\n',  # strings
        'def f():\n    """Not engine.num_bindings (removed)."""\n',  # docstrings
        "shape = engine.get_tensor_shape(name)\n",  # the replacement itself
        "cursor.execute('select 1')\n",  # execute() with one argument: not TensorRT 7's
        "pool.execute_async(job)\n",
        "self.build_engine()\n",  # a helper of the student's own, not builder.build_engine(network, config)
        "context.execute_v2(bindings)\ncontext.execute_async_v3(stream.handle)\n",
    ],
)
def test_no_false_positives(code: str) -> None:
    """Comments, strings, the 10.x API and unrelated same-named calls are not findings."""
    assert trt_lint.lint_source(code) == []


def test_solution_and_stub_are_clean() -> None:
    """The reference solution and the stub (whose docstrings name the removed calls) have no findings."""
    for path in (SOLUTION, STUB):
        assert trt_lint.lint_file(path) == [], path


def test_stubbed_functions() -> None:
    """A function counts as written once it does more than raise NotImplementedError."""
    names = ("load_engine", "allocate_buffers", "infer")
    assert trt_lint.stubbed_functions(STUB.read_text(encoding="utf-8"), names) == list(names)
    assert trt_lint.stubbed_functions(SOLUTION.read_text(encoding="utf-8"), names) == []
    source = (
        "def load_engine(engine_path):\n    '''Doc.'''\n    pass\n    raise NotImplementedError('todo')\n"
        "def allocate_buffers(engine):\n    return engine\n"
    )
    assert trt_lint.stubbed_functions(source, names) == ["load_engine", "infer"]


def test_syntax_error_is_raised() -> None:
    """A file that does not parse is not silently clean."""
    with pytest.raises(SyntaxError):
        trt_lint.lint_source("def f(:\n")


def test_summary_lists_every_use_grouped_by_name() -> None:
    """Six uses of five names: five lines, every line number kept, none dropped (execute_async_v2 included)."""
    source = (
        "def f(engine, context, stream, bindings):\n"
        "    n = engine.num_bindings\n"
        "    s = engine.get_binding_shape(0)\n"
        "    t = engine.get_binding_shape(1)\n"
        "    d = engine.get_binding_dtype(0)\n"
        "    i = engine.binding_is_input(0)\n"
        "    context.execute_async_v2(bindings, s)\n"
    )
    findings = trt_lint.lint_source(source)
    assert len(findings) == 6
    assert trt_lint.names(findings) == [
        "num_bindings",
        "get_binding_shape",
        "get_binding_dtype",
        "binding_is_input",
        "execute_async_v2",
    ]
    lines = trt_lint.summary(findings, "trt_infer.py")
    assert len(lines) == 5
    assert lines[1].startswith("trt_infer.py:3, 4: `engine.get_binding_shape(0)` (2 uses) -> engine.get_tensor_shape")
    assert lines[4].startswith("trt_infer.py:7: `context.execute_async_v2(bindings, s)` -> ")
    assert "execute_async_v3(stream.handle)" in lines[4]


def test_summary_says_when_a_name_is_not_simply_removed() -> None:
    """Names removed earlier, or deprecated and ignored, say so; long calls are shortened."""
    source = "flag = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)\nbuilder.fp16_mode = True\n"
    lines = trt_lint.summary(trt_lint.lint_source(source), "x.py")
    assert "[EXPLICIT_BATCH: deprecated and ignored in TensorRT 10]" in lines[0]
    assert "[fp16_mode: removed in TensorRT 8]" in lines[1]
    long_call = "context.execute_async_v2(bindings=[int(d) for d in device_pointers], stream_handle=stream.handle)\n"
    (line,) = trt_lint.summary(trt_lint.lint_source(long_call), "x.py")
    shown = long_call[: trt_lint.CODE_SHOWN - 3]
    assert f"`{shown}...` ->" in line and len(shown) + 3 == trt_lint.CODE_SHOWN


STRUCTURE = """
import pycuda.driver as cuda


def cuda_context():
    pass


def _copy_out(buffers):
    cuda.memcpy_dtoh_async(buffers.host["y"], buffers.device["y"], buffers.stream)


def infer(engine, buffers, array):
    with cuda_context():
        _copy_out(buffers)
        buffers.stream.synchronize()


def load_engine(path):
    return trt.Runtime(trt.Logger(trt.Logger.WARNING))


LOGGER = trt.Logger(trt.Logger.INFO)
"""


def test_reachable_follows_the_files_own_calls() -> None:
    """infer() and the helpers it calls, but not skipped ones; calls_in, enters and callers_of read them."""
    found = trt_lint.reachable(STRUCTURE, "infer")
    assert [function.name for function in found] == ["infer", "cuda_context", "_copy_out"]
    skipped = trt_lint.reachable(STRUCTURE, "infer", skip=("cuda_context",))
    assert {"memcpy_dtoh_async", "synchronize", "_copy_out"} <= trt_lint.calls_in(skipped)
    assert trt_lint.enters(skipped, "cuda_context") and not trt_lint.enters(found[2:], "cuda_context")
    assert trt_lint.callers_of(STRUCTURE, "Logger") == ["load_engine", trt_lint.MODULE_LEVEL]
    assert trt_lint.reachable(STRUCTURE, "missing") == [] and trt_lint.calls_in([]) == set()


def test_release_cuts_the_hidden_tests_and_the_rest_still_imports(tmp_path: Path) -> None:
    """strip_hidden removes every hidden Practice 4 test; the visible suite still imports and keeps its tests."""
    removed, tests = suite_after_release_cut(tmp_path, 4)
    cut = {line.split("::")[-1].split(" ")[0] for line in removed if "practice4" in line}
    assert cut == {
        "test_infer_allocates_nothing",
        "test_infer_waits_for_its_copies",
        "test_uses_the_given_helpers",
        "test_load_engine_error_types",
        "test_infer_error_types",
    }
    assert tests == {
        "test_defines_the_three_functions",
        "test_no_tensorrt8_api",
        "test_uses_tensorrt10_io_api",
        "test_load_engine",
        "test_load_engine_bad_files",
        "test_allocate_buffers",
        "test_infer_matches_onnxruntime",
        "test_infer_reuses_buffers",
        "test_infer_rejects_wrong_input",
    }
