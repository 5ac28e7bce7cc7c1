"""Practice 4 grader self-test (CPU tier): each deliberate mistake loses exactly its points, with a message.

The GPU tier (the inference points) runs on the Jetson only; here it is "not graded" for every
submission, so these tests cover the CPU tier: imports, signatures, the TensorRT 8 lint and the
name-based TensorRT 10 API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, assert_stub_earns_nothing, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice4" / "trt_infer.py"
STUB = Path(__file__).resolve().parent.parent / "assignments" / "practice4" / "trt_infer.py"
CPU_TESTS = {"test_defines_the_three_functions", "test_no_tensorrt8_api", "test_uses_tensorrt10_io_api"}
LINTED = {"test_no_tensorrt8_api", "test_uses_tensorrt10_io_api"}

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str]] = {
    "get_binding_shape": (
        [("shape = tuple(engine.get_tensor_shape(name))", "shape = tuple(engine.get_binding_shape(index))")],
        LINTED,
        "get_tensor_shape",
    ),
    "num_bindings": (
        [("for index in range(engine.num_io_tensors):", "for index in range(engine.num_bindings):")],
        LINTED,
        "num_io_tensors",
    ),
    "binding_is_input": (
        [
            (
                "is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT",
                "is_input = engine.binding_is_input(name)",
            )
        ],
        LINTED,
        "TensorIOMode.INPUT",
    ),
    "execute_async_v2": (
        [
            (
                "if not buffers.context.execute_async_v3(buffers.stream.handle):",
                "if not buffers.context.execute_async_v2(bindings=[], stream_handle=buffers.stream.handle):",
            )
        ],
        LINTED,
        "execute_async_v3",
    ),
    "max_workspace_size": (
        [
            (
                "    with cuda_context() as primary:\n",
                "    engine.max_workspace_size = 1 << 30\n    with cuda_context() as primary:\n",
            )
        ],
        {"test_no_tensorrt8_api"},
        "MemoryPoolType.WORKSPACE",
    ),
    "no_tensor_address": (
        [("            context.set_tensor_address(name, int(device[name]))\n", "")],
        {"test_uses_tensorrt10_io_api"},
        "set_tensor_address",
    ),
    "renamed_parameter": (
        [
            ("buffers: Buffers, input_array: np.ndarray)", "buffers: Buffers, image: np.ndarray)"),
            ("array = np.asarray(input_array)", "array = np.asarray(image)"),
        ],
        {"test_defines_the_three_functions"},
        "input_array",
    ),
    "extra_required_parameter": (
        [
            (
                "def load_engine(engine_path: str | os.PathLike[str]) -> trt.ICudaEngine:",
                "def load_engine(engine_path: str | os.PathLike[str], verbose: bool) -> trt.ICudaEngine:",
            )
        ],
        {"test_defines_the_three_functions"},
        "verbose",
    ),
    "top_level_tensorrt_import": (
        [("import numpy as np\n", "import numpy as np\nimport tensorrt\n")],
        CPU_TESTS,
        "Import tensorrt and pycuda inside the functions",
    ),
    "infer_left_as_stub": (
        [
            (
                '    """Run the engine once on ``input_array``; a copy of every output, by tensor name."""\n',
                '    """Run the engine once on ``input_array``; a copy of every output, by tensor name."""\n'
                "    raise NotImplementedError\n\n\ndef _unused(engine, buffers, input_array):\n",
            )
        ],
        CPU_TESTS,
        "infer() not implemented yet",
    ),
}

# Other correct solutions: they must keep every CPU-tier point.
VARIANTS: dict[str, list[tuple[str, str]]] = {
    "execute_v2": [
        (
            "if not buffers.context.execute_async_v3(buffers.stream.handle):",
            "if not buffers.context.execute_v2([int(buffers.device[n]) for n in buffers.inputs + buffers.outputs]):",
        )
    ],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every mistake and variant graded in one pytest run, next to the untouched solution and the stub."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()} | VARIANTS
    return grade_variants(tmp_path_factory.mktemp("p4-mistakes"), 4, SOLUTION, mutations, stub=STUB)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing (the baseline of the comparisons)."""
    tests = graded["reference"]
    assert failed(tests) == set()
    gradable = {name for name, test in tests.items() if test["max_score"] > 0}
    assert gradable == CPU_TESTS  # the GPU tier is "not graded" on this machine
    assert sum(t["score"] for t in tests.values()) == sum(t["max_score"] for t in tests.values()) == 3


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """The stub fails every gradable test, each saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])


def test_gpu_tier_is_skipped_with_install_hint(graded: dict[str, dict[str, dict]]) -> None:
    """Here the inference tests are not graded, and say what the Jetson needs."""
    tests = graded["reference"]
    skipped = {name: test for name, test in tests.items() if test["max_score"] == 0}
    assert {name.split("[")[0] for name in skipped} == {
        "test_load_engine",
        "test_load_engine_bad_files",
        "test_allocate_buffers",
        "test_infer_matches_onnxruntime",
        "test_infer_reuses_buffers",
        "test_infer_rejects_wrong_input",
    }
    for test in skipped.values():
        assert "not graded on this machine" in test["output"] and "TensorRT 10.3" in test["output"], test


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, expected_failures, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, message)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_other_correct_solution_keeps_its_points(graded: dict[str, dict[str, dict]], variant: str) -> None:
    """Another correct way (the synchronous execute_v2) loses nothing."""
    assert failed(graded[variant]) == set()
