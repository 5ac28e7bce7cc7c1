"""Practice 4 grader self-test (CPU tier): each deliberate mistake loses exactly its points, with a message.

The GPU tier (the inference points) runs on the Jetson only; here it is "not graded" for every
submission, so these tests cover the CPU tier: imports, signatures, the TensorRT 8 lint and the
name-based TensorRT 10 API.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, assert_stub_earns_nothing, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice4" / "trt_infer.py"
STUB = Path(__file__).resolve().parent.parent / "assignments" / "practice4" / "trt_infer.py"
VISIBLE_CPU = {"p4.file.three_functions", "p4.file.no_tensorrt8_api", "p4.file.tensorrt10_io_api"}
HIDDEN_CPU = {"p4.file.infer_allocates_nothing", "p4.file.infer_synchronizes", "p4.file.given_helpers"}
CPU_TESTS = VISIBLE_CPU | HIDDEN_CPU
LINTED = {"p4.file.no_tensorrt8_api", "p4.file.tensorrt10_io_api"}

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str | dict[str, str]]] = {
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
        {"p4.file.no_tensorrt8_api"},
        "MemoryPoolType.WORKSPACE",
    ),
    "no_tensor_address": (
        [("            context.set_tensor_address(name, int(device[name]))\n", "")],
        {"p4.file.tensorrt10_io_api"},
        "set_tensor_address",
    ),
    "renamed_parameter": (
        [
            ("buffers: Buffers, input_array: np.ndarray)", "buffers: Buffers, image: np.ndarray)"),
            ("array = np.asarray(input_array)", "array = np.asarray(image)"),
        ],
        {"p4.file.three_functions"},
        "input_array",
    ),
    "extra_required_parameter": (
        [
            (
                "def load_engine(engine_path: str | os.PathLike[str]) -> trt.ICudaEngine:",
                "def load_engine(engine_path: str | os.PathLike[str], verbose: bool) -> trt.ICudaEngine:",
            )
        ],
        {"p4.file.three_functions"},
        "verbose",
    ),
    "top_level_tensorrt_import": (
        [("import numpy as np\n", "import numpy as np\nimport tensorrt\n")],
        CPU_TESTS,
        "Import tensorrt and pycuda inside the functions",
    ),
    "allocates_in_infer": (
        [
            (
                "        np.copyto(buffers.host[name], array)\n",
                "        buffers.device[name] = cuda.mem_alloc(buffers.host[name].nbytes)\n"
                "        np.copyto(buffers.host[name], array)\n",
            )
        ],
        {"p4.file.infer_allocates_nothing"},
        "calls mem_alloc()",
    ),
    "new_stream_per_call": (
        # A helper of the student's own, called by infer(): the check follows the call.
        [
            (
                "    with cuda_context():\n        np.copyto(",
                "    _fresh_stream(buffers)\n    with cuda_context():\n        np.copyto(",
            ),
            (
                "def infer(engine: trt.ICudaEngine",
                "def _fresh_stream(buffers: Buffers) -> None:\n    import pycuda.driver as cuda\n\n"
                "    buffers.stream = cuda.Stream()\n\n\ndef infer(engine: trt.ICudaEngine",
            ),
        ],
        {"p4.file.infer_allocates_nothing"},
        "calls Stream()",
    ),
    "no_synchronize": (
        [
            (
                "        buffers.stream.synchronize()  # the copies are asynchronous: wait before reading the host arrays\n",
                "",
            )
        ],
        {"p4.file.infer_synchronizes"},
        "buffers.stream.synchronize()",
    ),
    "own_logger": (
        [("trt.Runtime(_trt_logger())", "trt.Runtime(trt.Logger(trt.Logger.WARNING))")],
        {"p4.file.given_helpers"},
        "a trt.Logger is created in load_engine()",
    ),
    "infer_outside_cuda_context": (
        [("    with cuda_context():\n        np.copyto(", "    if True:\n        np.copyto(")],
        {"p4.file.given_helpers"},
        "infer() does not enter `with cuda_context():`",
    ),
    "buffers_field_dropped": (
        [
            ("    cuda_context: pycuda.driver.Context  # keeps the primary CUDA context (and the memory) alive\n", ""),
            ("stream, context, primary)", "stream, context)"),
        ],
        {"p4.file.given_helpers"},
        "has no field cuda_context",
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

# TensorRT 8 code in six places, as a blog post writes it, execute_async_v2 last in the file.
TENSORRT8_EVERYWHERE = [
    ("for index in range(engine.num_io_tensors):", "for index in range(engine.num_bindings):"),
    ("name = engine.get_tensor_name(index)", "name = engine.get_binding_name(index)"),
    ("shape = tuple(engine.get_tensor_shape(name))", "shape = tuple(engine.get_binding_shape(index))"),
    ("np.dtype(trt.nptype(engine.get_tensor_dtype(name)))", "np.dtype(trt.nptype(engine.get_binding_dtype(index)))"),
    (
        "is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT",
        "is_input = engine.binding_is_input(index)",
    ),
    (
        "if not buffers.context.execute_async_v3(buffers.stream.handle):",
        "if not buffers.context.execute_async_v2(bindings=[], stream_handle=buffers.stream.handle):",
    ),
]
MISTAKES["tensorrt8_everywhere"] = (
    TENSORRT8_EVERYWHERE,
    LINTED,
    {"p4.file.no_tensorrt8_api": "execute_async_v2", "p4.file.tensorrt10_io_api": "get_tensor_shape"},
)

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
    assert sum(t["score"] for t in tests.values()) == sum(t["max_score"] for t in tests.values()) == 6
    assert {name for name, test in tests.items() if test.get("visibility") == "hidden"} >= HIDDEN_CPU


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """The stub fails every gradable test, each saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])


def test_gpu_tier_is_skipped_with_install_hint(graded: dict[str, dict[str, dict]]) -> None:
    """Here the inference tests are not graded, and say what the Jetson needs."""
    tests = graded["reference"]
    skipped = {name: test for name, test in tests.items() if test["max_score"] == 0}
    assert set(skipped) == {
        "p4.load_engine.deserializes",
        "p4.load_engine.bad_files",
        "p4.allocate_buffers.per_tensor",
        "p4.infer.matches_onnxruntime.resnet18_fp32",
        "p4.infer.matches_onnxruntime.lab_fp32",
        "p4.infer.matches_onnxruntime.lab_fp16",
        "p4.infer.reuses_buffers",
        "p4.infer.rejects_wrong_input",
        "p4.load_engine.error_types",
        "p4.infer.error_types",
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


def test_lint_lists_every_use(graded: dict[str, dict[str, dict]]) -> None:
    """Six TensorRT 8 uses: the message counts six and lists each removed name with its line, none dropped."""
    output = graded["tensorrt8_everywhere"]["p4.file.no_tensorrt8_api"]["output"]
    names = ("num_bindings", "get_binding_name", "get_binding_shape", "get_binding_dtype", "binding_is_input")
    assert "6 uses of 6 TensorRT 8 names removed in TensorRT 10.3 (AttributeError on JetPack 6.2): " in output
    assert f"{', '.join(names)}, execute_async_v2." in output, output
    quoted = (
        r"trt_infer\.py:\d+: `buffers\.context\.execute_async_v2\(bindings=\[\],\.\.\.` -> context\.set_tensor_address"
    )
    assert re.search(quoted, output), output  # the long call is quoted shortened, with its line number
    assert output.count("trt_infer.py:") == 6, output  # one line per name, each with its line number


def test_lint_message_names_every_use_first(graded: dict[str, dict[str, dict]]) -> None:
    """The message's first line names all six removed calls, so a table that cuts long messages still shows each."""
    first = graded["tensorrt8_everywhere"]["p4.file.no_tensorrt8_api"]["output"].splitlines()[0]
    for name in ("num_bindings", "get_binding_name", "get_binding_shape", "get_binding_dtype", "binding_is_input"):
        assert name in first, first
    assert first.endswith("execute_async_v2. Replace each (line: your code -> the 10.x way):"), first
