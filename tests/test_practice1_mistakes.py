"""Practice 1 grader self-test: each deliberate mistake loses exactly its points, with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice1" / "export_onnx.py"

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str]] = {
    "wrong_opset": (
        [("opset_version=opset,", "opset_version=18,")],
        {"test_export_model_opset"},
        "opset 18",
    ),
    "unnamed_input": (
        # Without input_names the input is 'input.1', so dynamic_axes keyed 'input' no longer applies.
        [('input_names=["input"],', "")],
        {"test_export_model_io_names", "test_export_model_dynamic_batch"},
        "'input.1'",
    ),
    "external_data": (
        [
            (
                "    return onnx_path\n\n\ndef export_timm",
                "    import onnx\n\n    proto = onnx.load(str(onnx_path))\n"
                "    onnx.save(proto, str(onnx_path), save_as_external_data=True, location=onnx_path.name + '.data')\n"
                "    return onnx_path\n\n\ndef export_timm",
            )
        ],
        {"test_export_model_single_file"},
        ".data",
    ),
    "wrong_output_name": (
        [('output_names=["output"],', 'output_names=["logits"],')],
        {"test_export_model_io_names"},
        "'logits'",
    ),
    "wrong_output_tensor": (
        # Drops the classifier: exports 512 features instead of 1000 logits.
        [("model = model.eval()", "model = torch.nn.Sequential(*list(model.eval().children())[:-1])")],
        {
            "test_export_model_shapes",
            "test_export_model_matches_pytorch",
            "test_export_model_dynamic_batch",
            "test_export_timm_matches_model",
        },
        "x512",
    ),
    "returns_str": (
        [("    return onnx_path\n\n\ndef export_timm", "    return str(onnx_path)\n\n\ndef export_timm")],
        {"test_export_model_returns_path"},
        "returned str",
    ),
    "writes_nothing": (
        [
            (
                "    with torch.no_grad():\n        torch.onnx.export(",
                "    with torch.no_grad():\n        (lambda *a, **k: None)(",
            )
        ],
        {
            "test_export_model_writes_valid_onnx",
            "test_export_model_single_file",
            "test_export_model_opset",
            "test_export_model_ir_version",
            "test_export_model_io_names",
            "test_export_model_shapes",
            "test_export_model_matches_pytorch",
            "test_export_model_input_shape",
            "test_export_model_dynamic_batch",
            "test_export_timm_matches_model",
        },
        "wrote nothing at onnx_path",
    ),
    "raises": (
        [("    onnx_path = Path(onnx_path)\n", "    onnx_path = Path(onnx_path)\n    raise ValueError('bad shape')\n")],
        {
            "test_export_model_writes_valid_onnx",
            "test_export_model_returns_path",
            "test_export_model_single_file",
            "test_export_model_opset",
            "test_export_model_ir_version",
            "test_export_model_io_names",
            "test_export_model_shapes",
            "test_export_model_matches_pytorch",
            "test_export_model_input_shape",
            "test_export_model_dynamic_batch",
            "test_export_timm_creates_model",
            "test_export_timm_matches_model",
        },
        "raised ValueError: bad shape",
    ),
    "yolo_left_in_cwd": (
        [("    if onnx_path is None:\n        return exported\n", "    return exported\n")],
        {"test_export_yolo_writes_opset17", "test_export_yolo_io"},
        "wrote nothing at onnx_path",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every mistake graded in one pytest run, next to the untouched solution."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(tmp_path_factory.mktemp("p1-mistakes"), 1, SOLUTION, mutations)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing (the baseline of the comparisons)."""
    assert failed(graded["reference"]) == set()


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, expected_failures, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, message)
