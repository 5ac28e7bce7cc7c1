"""Self-tests of grader.trt_lint: every removed TensorRT 8 call is caught with its 10.x replacement."""

from __future__ import annotations

import pytest

from grader import trt_lint
from grader.selfcheck import REPO

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
