"""Practice 3 grader self-test: each deliberate mistake loses exactly its points, with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, assert_stub_earns_nothing, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice3" / "dla_build.py"
STUB = Path(__file__).resolve().parent.parent / "assignments" / "practice3" / "dla_build.py"
REAL_GRAPHS = {
    "test_resnet18_placement",
    "test_resnet50_matches_orin_log",
    "test_lab_classifier_placement",
}

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str]] = {
    "no_gpu_fallback": (
        [("        config.set_flag(t.BuilderFlag.GPU_FALLBACK)\n", "        pass\n")],
        {"test_configure_dla_gpu_fallback"},
        "did not set GPU_FALLBACK",
    ),
    "no_fp16": (
        [("    config.set_flag(t.BuilderFlag.FP16)\n", "")],
        {"test_configure_dla_fp16"},
        "did not set FP16",
    ),
    "fallback_always": (
        [("    if allow_gpu_fallback:\n        config.set_flag", "    if True:\n        config.set_flag")],
        {"test_configure_dla_gpu_fallback"},
        "only set it when allow_gpu_fallback is True",
    ),
    "core_ignored": (
        [("    if dla_core < 0 or (cores > 0 and dla_core >= cores):", "    if dla_core < 0:")],
        {"test_configure_dla_missing_core"},
        "instead of raising ValueError",
    ),
    "core_off_by_one": (
        [("(cores > 0 and dla_core >= cores)", "(cores > 0 and dla_core > cores)")],
        {"test_configure_dla_missing_core"},
        "dla_core=2",
    ),
    "nano_claims_dla": (
        [('    if cores == 0:\n        return "GPU"\n', "")],
        {"test_configure_dla_orin_nano"},
        "expected 'GPU'",
    ),
    "core_not_set": (
        [("    config.DLA_core = dla_core\n", "")],
        {"test_configure_dla_on_dla_board"},
        "config.DLA_core = -1",
    ),
    "imports_tensorrt_itself": (
        [
            (
                "    t = _trt()\n    cores = int(builder.num_DLA_cores)",
                "    import tensorrt as t\n    cores = int(builder.num_DLA_cores)",
            )
        ],
        {
            "test_configure_dla_on_dla_board",
            "test_configure_dla_fp16",
            "test_configure_dla_gpu_fallback",
            "test_configure_dla_orin_nano",
            "test_configure_dla_missing_core",
        },
        "reach TensorRT through `t = _trt()`",
    ),
    "gap_on_dla": (
        [('        return f"{op}: DLA cannot do average reduce"', '        return ""')],
        REAL_GRAPHS,
        "GlobalAveragePool",
    ),
    "flatten_on_dla": (
        [('    if op == "Flatten":\n', '    if op == "Flatten":\n        return ""\n')],
        {"test_resnet18_placement", "test_resnet50_matches_orin_log", "test_rule_flatten_2d"},
        "Flatten",
    ),
    "no_kernel_limit": (
        [("    if max(kernel) > 32 or min(kernel) < 1:", "    if False:")],
        {"test_rule_conv_kernel"},
        "Conv kernel 33 > 32",
    ),
    "no_stride_limit": (
        [("    if max(strides) > 8 or min(strides) < 1:", "    if False:")],
        {"test_rule_conv_stride"},
        "stride 9",
    ),
    "pool_window_off_by_one": (
        [("    if max(window) > 8 or min(window) < 1:", "    if max(window) > 9 or min(window) < 1:")],
        {"test_rule_pool_window"},
        "MaxPool window 9 > 8",
    ),
    "concat_any_axis": (
        [('        return "" if axis == 1 else f"Concat on axis {axis}, not the channel axis"', '        return ""')],
        {"test_rule_concat_channel_axis"},
        "concat_width",
    ),
    "ignores_dynamic_shapes": (
        [(' if precision == "fp32" else _dynamic_input(g)', ' if precision == "fp32" else None')],
        {"test_rule_dynamic_shapes"},
        "dynamic",
    ),
    "div_on_dla": (
        [
            (
                '_ELEMENTWISE = {"Add", "Sub", "Mul", "Max", "Min"}',
                '_ELEMENTWISE = {"Add", "Sub", "Mul", "Max", "Min", "Div"}',
            )
        ],
        {"test_rule_div", "test_lab_classifier_placement"},
        "Div",
    ),
    "hardswish_on_dla": (
        [('_DLA_ACTIVATIONS = {"Relu", ', '_DLA_ACTIVATIONS = {"HardSwish", "Relu", ')],
        {"test_rule_activation"},
        "HardSwish",
    ),
    "no_dimension_limits": (
        [("            reason = _too_big(node, g) or _op_reason(node, g)", "            reason = _op_reason(node, g)")],
        {"test_rule_dimension_limits", "test_yolov8n_placement"},
        "8192",
    ),
    "ignores_precision": (
        [
            (
                'everywhere = "FP32: DLA runs FP16/INT8 only" if precision == "fp32" else _dynamic_input(g)',
                "everywhere = _dynamic_input(g)",
            )
        ],
        {"test_rule_fp32"},
        "FP32",
    ),
    "vague_reason": (
        [('        return f"{op} kernel {max(kernel)} > 32"', '        return f"{op} not supported"')],
        {"test_rule_conv_kernel"},
        "mention 'kernel'",
    ),
    "transitions_one_way": (
        [
            (
                "zip(devices[:-1], devices[1:], strict=True) if a != b",
                'zip(devices[:-1], devices[1:], strict=True) if a == "DLA" and b == "GPU"',
            )
        ],
        {"test_dla_report_subgraphs_and_transitions", "test_dla_report_resnet50_like_orin_log"},
        "transitions",
    ),
    "gpu_op_types_unsorted": (
        [
            (
                '"gpu_op_types": sorted({p.op_type for p in placements if p.device == "GPU"}),',
                '"gpu_op_types": [p.op_type for p in placements if p.device == "GPU"],',
            )
        ],
        {"test_dla_report_counts", "test_dla_report_resnet50_like_orin_log"},
        "gpu_op_types",
    ),
    "constants_on_gpu": (
        # Identity/Constant nodes are folded into weights by TensorRT; treating them as runtime ops
        # sends resnet's weight Identity nodes and EfficientNet's padding arithmetic to GPU.
        [("        elif all(g.constant(name) for name in node.input):", "        elif False:")],
        REAL_GRAPHS,
        "expected DLA",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every mistake graded in one pytest run, next to the untouched solution and the stub."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(tmp_path_factory.mktemp("p3-mistakes"), 3, SOLUTION, mutations, stub=STUB)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing (the baseline of the comparisons)."""
    tests = graded["reference"]
    assert failed(tests) == set()
    assert sum(t["score"] for t in tests.values()) == sum(t["max_score"] for t in tests.values()) >= 25


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """The stub fails every gradable test, each saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, expected_failures, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, message)
