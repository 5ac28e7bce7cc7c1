"""Practice 2 grader self-test: each broken calibration loader loses exactly its points."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_loses_exactly, failed, grade_variants

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "practice2" / "data_loader.py"
ARRAY_LINE = "    array = np.asarray(rgb, dtype=np.float32) / 255.0  # HWC in [0, 1]\n"
IMAGENET_NORMALIZE = (
    "    array = (array - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / "
    "np.array([0.229, 0.224, 0.225], dtype=np.float32)\n"
)

# name: (mutations of the reference solution, tests that must fail, {test: text its message contains})
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], dict[str, str]]] = {
    "no_255": (
        [(ARRAY_LINE, "    array = np.asarray(rgb, dtype=np.float32)  # forgot / 255\n")],
        {
            "test_batches_in_unit_range",
            "test_preprocess_matches_reference",
            "test_int8_agrees_with_fp32",
            "test_int8_labelled_accuracy",
        },
        {
            "test_batches_in_unit_range": "Divide the pixels by 255",
            "test_preprocess_matches_reference": "Divide by 255",
            "test_int8_agrees_with_fp32": "INT8 agrees with FP32 on 0%",
        },
    ),
    "bgr": (
        [(ARRAY_LINE, ARRAY_LINE + "    array = array[..., ::-1]  # BGR, as cv2.imread gives\n")],
        {"test_preprocess_matches_reference"},
        {"test_preprocess_matches_reference": "BGR order"},
    ),
    "hwc": (
        [("array.transpose(2, 0, 1)[np.newaxis]", "array[np.newaxis]")],
        # Every test that looks at the tensors' layout, and INT8 (ONNX Runtime rejects the shape).
        {
            "test_batches_dtype_shape_contiguous",
            "test_survives_traps_and_skips_non_images",
            "test_preprocess_matches_reference",
            "test_preprocess_any_image_mode",
            "test_polygraphy_run_onnxrt",
            "test_int8_agrees_with_fp32",
            "test_int8_labelled_accuracy",
        },
        {
            "test_preprocess_matches_reference": "channels last (HWC)",
            "test_polygraphy_run_onnxrt": "transposes them itself",
            "test_int8_agrees_with_fp32": "INT8 calibration could not use",
        },
    ),
    "wrong_key": (
        [('INPUT_NAME = "input"', 'INPUT_NAME = "images"')],
        {"test_load_data_yields_dicts", "test_polygraphy_run_onnxrt"},
        {"test_load_data_yields_dicts": "keys ['images']", "test_polygraphy_run_onnxrt": "does not match"},
    ),
    "ten_images": (
        [("NUM_IMAGES = 100", "NUM_IMAGES = 10")],
        {"test_yields_num_images"},
        {"test_yields_num_images": "NUM_IMAGES is 10"},
    ),
    "no_rgb_convert": (
        # Crashes on the grayscale photo #7 of calib_images/: every test of load_data() on that folder fails
        # with the crash, as calibration on the Jetson would; preprocess() on RGB photos still scores.
        [('image.convert("RGB").resize(', "image.resize(")],
        {
            "test_load_data_yields_dicts",
            "test_batches_dtype_shape_contiguous",
            "test_batches_in_unit_range",
            "test_yields_num_images",
            "test_reads_calib_dir_when_called",
            "test_sorted_and_deterministic",
            "test_survives_traps_and_skips_non_images",
            "test_preprocess_any_image_mode",
            "test_int8_agrees_with_fp32",
            "test_int8_labelled_accuracy",
        },
        {"test_load_data_yields_dicts": "raised ValueError", "test_preprocess_any_image_mode": "preprocess() raised"},
    ),
    "random_order": (
        [
            ("import numpy as np\n", "import random\n\nimport numpy as np\n"),
            (
                "for path in sorted(folder.iterdir(), key=lambda p: p.name):",
                "for path in random.sample(sorted(folder.iterdir()), k=len(list(folder.iterdir()))):",
            ),
        ],
        {"test_sorted_and_deterministic", "test_reads_calib_dir_when_called"},
        {"test_sorted_and_deterministic": "no shuffling", "test_reads_calib_dir_when_called": "sorted file-name order"},
    ),
    "mean_std_on_top": (
        [(ARRAY_LINE, ARRAY_LINE + IMAGENET_NORMALIZE)],
        {"test_batches_in_unit_range", "test_preprocess_matches_reference"},
        {"test_batches_in_unit_range": "mean/std", "test_preprocess_matches_reference": "mean/std"},
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Every broken loader graded in one pytest run, next to the untouched solution."""
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(tmp_path_factory.mktemp("p2-mistakes"), 2, SOLUTION, mutations)


def test_reference_copy_earns_everything(graded: dict[str, dict[str, dict]]) -> None:
    """The untouched solution, graded the same way, loses nothing."""
    assert failed(graded["reference"]) == set()


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: dict[str, dict[str, dict]], mistake: str) -> None:
    """A broken loader fails exactly the matching tests, each naming the problem."""
    _, expected_failures, messages = MISTAKES[mistake]
    assert_loses_exactly(graded[mistake], expected_failures, messages)
