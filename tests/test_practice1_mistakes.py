"""Practice 1 grader self-test: each deliberate mistake loses exactly its points, with a message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import (
    assert_loses_exactly,
    assert_release_cut_keeps_the_visible_suite,
    assert_stub_earns_nothing,
    failed,
    grade_variants,
)

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / "practice1" / "export_onnx.py"
STUB = REPO / "assignments" / "practice1" / "export_onnx.py"
HIDDEN = {"p1.export_model.str_path", "p1.export_timm.returns_path", "p1.export_yolo.returns_path"}

# name: (mutations on the reference solution, tests that must fail, text their message must contain)
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], str]] = {
    "wrong_opset": (
        [("opset_version=opset,", "opset_version=18,")],
        {"p1.export_model.opset"},
        "opset 18",
    ),
    "unnamed_input": (
        # Without input_names the input is 'input.1', so dynamic_axes keyed 'input' no longer applies.
        [('input_names=["input"],', "")],
        {"p1.export_model.io_names", "p1.export_model.dynamic_batch"},
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
        {"p1.export_model.single_file"},
        ".data",
    ),
    "wrong_output_name": (
        [('output_names=["output"],', 'output_names=["logits"],')],
        {"p1.export_model.io_names"},
        "'logits'",
    ),
    "wrong_output_tensor": (
        # Drops the classifier: exports 512 features instead of 1000 logits.
        [("model = model.eval()", "model = torch.nn.Sequential(*list(model.eval().children())[:-1])")],
        {
            "p1.export_model.shapes",
            "p1.export_model.matches_pytorch",
            "p1.export_model.dynamic_batch",
            "p1.export_timm.matches_model",
        },
        "x512",
    ),
    "returns_str": (
        [("    return onnx_path\n\n\ndef export_timm", "    return str(onnx_path)\n\n\ndef export_timm")],
        {"p1.export_model.returns_path"},
        "returned str",
    ),
    "returns_its_argument": (
        # Never converted: a Path comes back as a Path (so the visible check passes), a str as a str.
        [
            (
                "    onnx_path = Path(onnx_path)\n    onnx_path.parent.mkdir(",
                "    Path(onnx_path).parent.mkdir(",
            )
        ],
        {"p1.export_model.str_path"},
        "returned str",
    ),
    "str_path_crashes": (
        [("    onnx_path = Path(onnx_path)\n    onnx_path.parent.mkdir(", "    onnx_path.parent.mkdir(")],
        {"p1.export_model.str_path"},
        "Here onnx_path was a str",
    ),
    "timm_returns_nothing": (
        [("    return export_model(model, onnx_path, input_shape", "    export_model(model, onnx_path, input_shape")],
        {"p1.export_timm.returns_path"},
        "returned NoneType None",
    ),
    "yolo_returns_str": (
        [
            (
                "        shutil.move(str(exported), str(target))\n    return target",
                "        shutil.move(str(exported), str(target))\n    return str(target)",
            )
        ],
        {"p1.export_yolo.returns_path"},
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
            "p1.export_model.valid_onnx",
            "p1.export_model.single_file",
            "p1.export_model.opset",
            "p1.export_model.ir_version",
            "p1.export_model.io_names",
            "p1.export_model.shapes",
            "p1.export_model.matches_pytorch",
            "p1.export_model.input_shape",
            "p1.export_model.dynamic_batch",
            "p1.export_timm.matches_model",
        },
        "wrote nothing at onnx_path",
    ),
    "raises": (
        [("    onnx_path = Path(onnx_path)\n", "    onnx_path = Path(onnx_path)\n    raise ValueError('bad shape')\n")],
        {
            "p1.export_model.valid_onnx",
            "p1.export_model.returns_path",
            "p1.export_model.single_file",
            "p1.export_model.opset",
            "p1.export_model.ir_version",
            "p1.export_model.io_names",
            "p1.export_model.shapes",
            "p1.export_model.matches_pytorch",
            "p1.export_model.input_shape",
            "p1.export_model.dynamic_batch",
            "p1.export_timm.creates_model",
            "p1.export_timm.matches_model",
            "p1.export_model.str_path",
            "p1.export_timm.returns_path",
        },
        "raised ValueError: bad shape",
    ),
    "yolo_left_in_cwd": (
        [("    if onnx_path is None:\n        return exported\n", "    return exported\n")],
        {"p1.export_yolo.opset17", "p1.export_yolo.io"},
        "wrote nothing at onnx_path",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every mistake graded in one pytest run, next to the untouched solution."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(tmp_path_factory.mktemp("p1-mistakes"), 1, SOLUTION, mutations, stub=STUB)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing (the baseline of the comparisons)."""
    assert failed(graded["reference"]) == set()
    hidden = {name for name, test in graded["reference"].items() if test.get("visibility") == "hidden"}
    assert hidden == HIDDEN
    assert all(graded["reference"][name]["max_score"] > 0 for name in HIDDEN)  # graded here, not skipped


def test_stub_earns_nothing(graded: dict[str, dict[str, dict]]) -> None:
    """Every gradable test fails on the stub, hidden ones included, saying what is not implemented yet."""
    assert_stub_earns_nothing(graded["stub"])
    assert HIDDEN <= failed(graded["stub"])


def test_file_elsewhere_names_both_full_paths(graded: dict[str, dict[str, dict]]) -> None:
    """export_yolo leaving its file in the working folder: the message gives where it was expected and where it is."""
    output = graded["yolo_left_in_cwd"]["p1.export_yolo.opset17"]["output"]
    paths = set(re.findall(r"(/\S+?yolov8n\.onnx)", output))
    assert len(paths) == 2, output
    assert any("/cwd/" in path for path in paths) and any("/cwd/" not in path for path in paths), output


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A deliberate mistake fails exactly the matching tests, each naming the problem."""
    _, expected_failures, message = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, message)


def test_release_cut_leaves_the_visible_suite_working(graded: dict[str, dict[str, dict]], tmp_path: Path) -> None:
    """The release cuts exactly the hidden tests; what is left, on its own, grades the solution fully."""
    assert_release_cut_keeps_the_visible_suite(graded["reference"], tmp_path, 1, HIDDEN, SOLUTION)
