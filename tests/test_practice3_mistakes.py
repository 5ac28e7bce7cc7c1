"""Practice 3 grader self-test: each deliberate mistake loses exactly its points, with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, assert_stub_earns_nothing, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice3" / "dla_build.py"
STUB = Path(__file__).resolve().parent.parent / "assignments" / "practice3" / "dla_build.py"
REAL_GRAPHS = {
    "p3.placement.resnet18",
    "p3.placement.resnet50_orin_log",
    "p3.placement.lab_classifier",
}

# The reference's core check, moved by one mistake below.
_CORE_CHECK = (
    "    if dla_core < 0 or (cores > 0 and dla_core >= cores):\n"
    '        valid = f"0..{cores - 1}" if cores else "none"\n'
    '        raise ValueError(f"DLA core {dla_core} does not exist: this board has {cores} DLA cores (valid: {valid})")\n'
)

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str | dict[str, str]]] = {
    "no_gpu_fallback": (
        [("        config.set_flag(t.BuilderFlag.GPU_FALLBACK)\n", "        pass\n")],
        {"p3.configure_dla.gpu_fallback"},
        "did not set GPU_FALLBACK",
    ),
    "no_fp16": (
        [("    config.set_flag(t.BuilderFlag.FP16)\n", "")],
        {"p3.configure_dla.fp16"},
        "did not set FP16",
    ),
    "fallback_always": (
        [("    if allow_gpu_fallback:\n        config.set_flag", "    if True:\n        config.set_flag")],
        {"p3.configure_dla.gpu_fallback"},
        "only set it when allow_gpu_fallback is True",
    ),
    "core_ignored": (
        [("    if dla_core < 0 or (cores > 0 and dla_core >= cores):", "    if dla_core < 0:")],
        {"p3.configure_dla.missing_core"},
        "instead of raising ValueError",
    ),
    "core_off_by_one": (
        [("(cores > 0 and dla_core >= cores)", "(cores > 0 and dla_core > cores)")],
        {"p3.configure_dla.missing_core"},
        "dla_core=2",
    ),
    "nano_claims_dla": (
        [('    if cores == 0:\n        return "GPU"\n', "")],
        {"p3.configure_dla.orin_nano"},
        "expected 'GPU'",
    ),
    "core_not_set": (
        [("    config.DLA_core = dla_core\n", "")],
        {"p3.configure_dla.dla_board"},
        "config.DLA_core = -1",
    ),
    "gap_on_dla": (
        # The average-reduce row covers GlobalAveragePool and ReduceMean: both go back to DLA.
        [('        return f"{op}: DLA cannot do average reduce"', '        return ""')],
        REAL_GRAPHS | {"p3.rule.reduce_mean"},
        dict.fromkeys(REAL_GRAPHS, "GlobalAveragePool") | {"p3.rule.reduce_mean": "ReduceMean"},
    ),
    "flatten_on_dla": (
        [('    if op == "Flatten":\n', '    if op == "Flatten":\n        return ""\n')],
        {"p3.placement.resnet18", "p3.placement.resnet50_orin_log", "p3.rule.flatten_2d"},
        "Flatten",
    ),
    "no_kernel_limit": (
        [("    if max(kernel) > 32 or min(kernel) < 1:", "    if False:")],
        {"p3.rule.conv_kernel"},
        "Conv kernel 33 > 32",
    ),
    "no_stride_limit": (
        [("    if max(strides) > 8 or min(strides) < 1:", "    if False:")],
        {"p3.rule.conv_stride"},
        "stride 9",
    ),
    "pool_window_off_by_one": (
        [("    if max(window) > 8 or min(window) < 1:", "    if max(window) > 9 or min(window) < 1:")],
        {"p3.rule.pool_window"},
        "MaxPool window 9 > 8",
    ),
    "concat_any_axis": (
        [('        return "" if axis == 1 else f"Concat on axis {axis}, not the channel axis"', '        return ""')],
        {"p3.rule.concat_channel_axis"},
        "concat_width",
    ),
    "ignores_dynamic_shapes": (
        [(' if precision == "fp32" else _dynamic_input(g)', ' if precision == "fp32" else None')],
        {"p3.rule.dynamic_shapes"},
        "dynamic",
    ),
    "div_on_dla": (
        [
            (
                '_ELEMENTWISE = {"Add", "Sub", "Mul", "Max", "Min"}',
                '_ELEMENTWISE = {"Add", "Sub", "Mul", "Max", "Min", "Div"}',
            )
        ],
        {"p3.rule.div", "p3.placement.lab_classifier"},
        "Div",
    ),
    "hardswish_on_dla": (
        [('_DLA_ACTIVATIONS = {"Relu", ', '_DLA_ACTIVATIONS = {"HardSwish", "Relu", ')],
        {"p3.rule.activation"},
        "HardSwish",
    ),
    "no_dimension_limits": (
        [("            reason = _too_big(node, g) or _op_reason(node, g)", "            reason = _op_reason(node, g)")],
        {"p3.rule.dimension_limits", "p3.placement.yolov8n"},
        "8192",
    ),
    "ignores_precision": (
        [
            (
                'everywhere = "FP32: DLA runs FP16/INT8 only" if precision == "fp32" else _dynamic_input(g)',
                "everywhere = _dynamic_input(g)",
            )
        ],
        {"p3.rule.fp32"},
        "FP32",
    ),
    "vague_reason": (
        [('        return f"{op} kernel {max(kernel)} > 32"', '        return f"{op} not supported"')],
        {"p3.rule.conv_kernel"},
        "mention 'kernel'",
    ),
    "transitions_one_way": (
        [
            (
                "zip(devices[:-1], devices[1:], strict=True) if a != b",
                'zip(devices[:-1], devices[1:], strict=True) if a == "DLA" and b == "GPU"',
            )
        ],
        {"p3.report.subgraphs_transitions", "p3.report.resnet50_orin_log"},
        "transitions",
    ),
    "gpu_op_types_unsorted": (
        [
            (
                '"gpu_op_types": sorted({p.op_type for p in placements if p.device == "GPU"}),',
                '"gpu_op_types": [p.op_type for p in placements if p.device == "GPU"],',
            )
        ],
        {"p3.report.counts", "p3.report.resnet50_orin_log"},
        "gpu_op_types",
    ),
    "constants_on_gpu": (
        # Identity/Constant nodes are folded into weights by TensorRT; treating them as runtime ops
        # sends resnet's weight Identity nodes and EfficientNet's padding arithmetic to GPU.
        [("        elif _fold(node, g):", "        elif False:")],
        REAL_GRAPHS,
        "expected DLA",
    ),
    "negative_core_accepted": (
        [("    if dla_core < 0 or (cores > 0 and dla_core >= cores):", "    if cores > 0 and dla_core >= cores:")],
        {"p3.configure_dla.negative_core"},
        "dla_core=-1",
    ),
    "vague_core_error": (
        [
            (
                'raise ValueError(f"DLA core {dla_core} does not exist: this board has {cores} DLA cores (valid: {valid})")',
                'raise ValueError("no such DLA core")',
            )
        ],
        {"p3.configure_dla.missing_core"},
        "name the core you were asked for (5)",
    ),
    "validates_after_configuring": (
        # One mistake, charged once: the hidden negative-core test leaves the order to this visible one.
        [
            (_CORE_CHECK, ""),
            ('    if cores == 0:\n        return "GPU"\n', _CORE_CHECK + '    if cores == 0:\n        return "GPU"\n'),
        ],
        {"p3.configure_dla.missing_core"},
        "only after changing the config",
    ),
    "precision_unchecked": (
        [('    if precision not in ("fp16", "int8", "fp32"):', "    if False:")],
        {"p3.placement.unknown_precision"},
        "precision='fp64') returned a list",
    ),
    "report_empty_breaks": (
        [
            (
                "    devices = [p.device for p in placements]\n",
                "    if not placements:\n        return {}\n    devices = [p.device for p in placements]\n",
            )
        ],
        {"p3.report.empty"},
        "missing",
    ),
    "conv_pads_unchecked": (
        [("        if pad < 0 or pad > 31 or pad >= kernel[i % 2]:", "        if pad < 0 or pad > 31:")],
        {"p3.rule.conv_pads"},
        "conv_p3",
    ),
    "deconv_pads_ignored": (
        [('        if any(pads):\n            return "ConvTranspose pads must be 0"\n', "")],
        {"p3.rule.conv_transpose_pads"},
        "deconv_p1",
    ),
    "matmul_runtime_on_dla": (
        [
            (
                '        return "" if g.constant(node.input[1]) else f"{op} second input is not constant"',
                '        return ""',
            )
        ],
        {"p3.rule.matmul_weights"},
        "matmul_runtime",
    ),
    "pool_stride_off_by_one": (
        [("    if max(strides) > 16 or min(strides) < 1:", "    if max(strides) > 17 or min(strides) < 1:")],
        {"p3.rule.pool_stride"},
        "pool_s17",
    ),
    "reduce_mean_vague_reason": (
        [('    if op in ("GlobalAveragePool", "ReduceMean"):', '    if op == "GlobalAveragePool":')],
        {"p3.rule.reduce_mean"},
        "mention 'average' or 'avg'",
    ),
    "broadcast_along_width": (
        [("        for keep in ((1, 2, 3), (1,), ()):", "        for keep in ((1, 2, 3), (1,), (3,), ()):")],
        {"p3.rule.eltwise_broadcast"},
        "mul_w",
    ),
    "resize_any_scale": (
        [("        if s != round(s) or s < 1 or s > top:", "        if s < 1 or s > top:")],
        {"p3.rule.resize_scale"},
        "resize_x1_5",
    ),
    "slice_batch_on_dla": (
        [("    if 0 in axes or (rank is not None and -rank in axes):", "    if False:")],
        {"p3.rule.slice_batch"},
        "slice_n",
    ),
    "softmax_any_size": (
        [("shape[axis] > 1024:", "shape[axis] > 4096:")],
        {"p3.rule.softmax_size"},
        "softmax_2000",
    ),
    "gather_on_dla": (
        [('_DLA_ACTIVATIONS = {"Relu", ', '_DLA_ACTIVATIONS = {"Gather", "Relu", ')],
        {"p3.rule.gather"},
        "gather",
    ),
}


# Other correct ways, the course text's included: each earns every point the reference earns.
VARIANTS: dict[str, list[tuple[str, str]]] = {
    # The course text's `import tensorrt as trt`, inside configure_dla instead of the stub's _trt().
    "imports_tensorrt_in_function": [
        (
            "    t = _trt()\n    cores = int(builder.num_DLA_cores)",
            "    import tensorrt as trt\n\n    cores = int(builder.num_DLA_cores)",
        ),
        ("    config.set_flag(t.BuilderFlag.FP16)", "    config.set_flag(trt.BuilderFlag.FP16)"),
        (
            "        config.set_flag(t.BuilderFlag.GPU_FALLBACK)",
            "        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)",
        ),
        ("    config.default_device_type = t.DeviceType.DLA", "    config.default_device_type = trt.DeviceType.DLA"),
    ],
    # The same at the top of the file, configure_dla using the module's `trt` directly.
    "imports_tensorrt_at_top": [
        ("trt: Any = None\n", "import tensorrt as trt\n"),
        (
            "    t = _trt()\n    cores = int(builder.num_DLA_cores)",
            "    t = trt\n    cores = int(builder.num_DLA_cores)",
        ),
    ],
    # Names bound from tensorrt at import time.
    "from_tensorrt_import": [
        (
            "    t = _trt()\n    cores = int(builder.num_DLA_cores)",
            "    from tensorrt import BuilderFlag, DeviceType\n\n    cores = int(builder.num_DLA_cores)",
        ),
        ("    config.set_flag(t.BuilderFlag.FP16)", "    config.set_flag(BuilderFlag.FP16)"),
        ("        config.set_flag(t.BuilderFlag.GPU_FALLBACK)", "        config.set_flag(BuilderFlag.GPU_FALLBACK)"),
        ("    config.default_device_type = t.DeviceType.DLA", "    config.default_device_type = DeviceType.DLA"),
    ],
}

# Top-level code that uses TensorRT beyond importing it: on a machine without TensorRT the file
# cannot be imported, and every row says what the top of the file may do.
TOP_LEVEL_LOGGER = [
    ("trt: Any = None\n", "import tensorrt as trt\n\nLOGGER = trt.Logger(trt.Logger.WARNING)\n"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every mistake and variant graded in one pytest run, next to the untouched solution and the stub."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()} | VARIANTS
    mutations["top_level_logger"] = TOP_LEVEL_LOGGER
    return grade_variants(tmp_path_factory.mktemp("p3-mistakes"), 3, SOLUTION, mutations, stub=STUB)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing (the baseline of the comparisons)."""
    tests = graded["reference"]
    assert failed(tests) == set()
    assert sum(t["score"] for t in tests.values()) == sum(t["max_score"] for t in tests.values()) >= 25


def test_hidden_tests_are_graded(graded: dict[str, dict[str, dict]]) -> None:
    """The suite's hidden tests run here (and in batch) with their points, marked hidden in results.json."""
    hidden = {name for name, test in graded["reference"].items() if test.get("visibility") == "hidden"}
    assert {
        "p3.configure_dla.negative_core",
        "p3.placement.unknown_precision",
        "p3.report.empty",
        "p3.rule.conv_pads",
    } <= hidden
    assert sum(graded["reference"][name]["max_score"] for name in hidden) >= 13  # the CPU ones count here


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """The stub fails every gradable test, each saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, expected_failures, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, message)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_course_text_import_earns_the_same(graded: dict[str, dict[str, dict]], variant: str) -> None:
    """`import tensorrt as trt` (in the function, at the top, or `from tensorrt import`) is graded like `_trt()`."""
    reference, tests = graded["reference"], graded[variant]
    assert failed(tests) == set()
    assert {name: t["score"] for name, t in tests.items()} == {name: t["score"] for name, t in reference.items()}
    assert {name: t["max_score"] for name, t in tests.items()} == {
        name: t["max_score"] for name, t in reference.items()
    }


def test_top_level_tensorrt_use_is_explained(graded: dict[str, dict[str, dict]]) -> None:
    """A TensorRT object made at the top of the file fails the import here, and each row says what to move."""
    tests = graded["top_level_logger"]
    gradable = {name for name, test in tests.items() if test["max_score"] > 0}
    assert failed(tests) == gradable
    for name in gradable:
        assert "trt.Logger is not available here" in tests[name]["output"], tests[name]["output"]
        assert "inside build_dla_engine()" in tests[name]["output"], tests[name]["output"]
