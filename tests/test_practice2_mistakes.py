"""Practice 2 grader self-test: each broken calibration loader loses exactly its points, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.commands.release import strip_hidden
from tests.conftest import (
    REPO,
    assert_loses_exactly,
    assert_stub_earns_nothing,
    failed,
    function_name,
    grade_variants,
    make_submission,
)

SOLUTION = REPO / "solutions" / "practice2" / "data_loader.py"
STUB = REPO / "assignments" / "practice2" / "data_loader.py"
SUITE = REPO / "grader" / "practices" / "practice2"
ARRAY_LINE = "    array = np.asarray(rgb, dtype=np.float32) / 255.0  # HWC in [0, 1]\n"
RETURN_LINE = "    return np.ascontiguousarray(array.transpose(2, 0, 1)[np.newaxis])  # NCHW\n"
IMAGENET_NORMALIZE = (
    "    array = (array - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / "
    "np.array([0.229, 0.224, 0.225], dtype=np.float32)\n"
)
BGR = (ARRAY_LINE, ARRAY_LINE + "    array = array[..., ::-1]  # BGR, as cv2.imread gives\n")
NCHW = "    nchw = array.transpose(2, 0, 1)[np.newaxis]\n"
LOAD_DATA = "def load_data() -> Iterator[dict[str, np.ndarray]]:"
SORTED_LISTING = "for path in sorted(folder.iterdir(), key=lambda p: p.name):"
# Every load_data() test that reads calib_images/ itself: a loader that crashes there cannot be graded there.
COURSE_RUN = {
    "p2.load_data.dicts",
    "p2.load_data.dtype_shape_contiguous",
    "p2.load_data.unit_range",
    "p2.load_data.num_images",
    "p2.load_data.sorted_deterministic",
    "p2.int8.agrees_with_fp32",
    "p2.int8.labelled_accuracy",
}
SETTINGS = "p2.load_data.reads_settings"

# name: (mutations of the reference solution, tests that must fail, {test: text its message contains})
MISTAKES: dict[str, tuple[list[tuple[str, str]], set[str], dict[str, str]]] = {
    "no_255": (
        [(ARRAY_LINE, "    array = np.asarray(rgb, dtype=np.float32)  # forgot / 255\n")],
        {
            "p2.load_data.unit_range",
            "p2.preprocess.matches_reference",
            "p2.int8.agrees_with_fp32",
            "p2.int8.labelled_accuracy",
        },
        {
            "p2.load_data.unit_range": "Divide the pixels by 255",
            "p2.preprocess.matches_reference": "Divide by 255",
            "p2.int8.agrees_with_fp32": "INT8 agrees with FP32 on 0%",
        },
    ),
    "bgr": (
        [BGR],
        {"p2.preprocess.matches_reference"},
        {"p2.preprocess.matches_reference": "BGR order"},
    ),
    # The BGR hint followed on the NCHW tensor: the student gets every point back.
    "bgr_fixed_as_the_hint_says": (
        [BGR, (RETURN_LINE, NCHW + "    return np.ascontiguousarray(nchw[:, ::-1])  # BGR -> RGB: axis 1\n")],
        set(),
        {},
    ),
    # The old hint, array[..., ::-1], on the NCHW tensor mirrors the width and leaves BGR as it was.
    "bgr_flipped_on_the_width": (
        [BGR, (RETURN_LINE, NCHW + "    return np.ascontiguousarray(nchw[..., ::-1])  # meant: BGR -> RGB\n")],
        {"p2.preprocess.matches_reference"},
        {"p2.preprocess.matches_reference": "mirrored left-right"},
    ),
    "hwc": (
        [("array.transpose(2, 0, 1)[np.newaxis]", "array[np.newaxis]")],
        # Every test that looks at the tensors' layout, and INT8 (ONNX Runtime rejects the shape).
        {
            "p2.load_data.dtype_shape_contiguous",
            "p2.preprocess.matches_reference",
            "p2.preprocess.any_image_mode",
            "p2.polygraphy.run_onnxrt",
            "p2.int8.agrees_with_fp32",
            "p2.int8.labelled_accuracy",
        },
        {
            "p2.preprocess.matches_reference": "channels last (HWC)",
            "p2.polygraphy.run_onnxrt": "transposes them itself",
            "p2.int8.agrees_with_fp32": "INT8 calibration could not use",
        },
    ),
    "wrong_key": (
        [('INPUT_NAME = "input"', 'INPUT_NAME = "images"')],
        {"p2.load_data.dicts", "p2.polygraphy.run_onnxrt"},
        {"p2.load_data.dicts": "keys ['images']", "p2.polygraphy.run_onnxrt": "does not match"},
    ),
    "ten_images": (
        [("NUM_IMAGES = 100", "NUM_IMAGES = 10")],
        {"p2.load_data.num_images"},
        {"p2.load_data.num_images": "NUM_IMAGES is 10"},
    ),
    "no_rgb_convert": (
        # Crashes on the first grayscale photo of calib_images/: the tests that need load_data() to get through
        # that folder fail, each naming the image and the fix; the tests about other things still grade them.
        [('image.convert("RGB").resize(', "image.resize(")],
        COURSE_RUN | {"p2.preprocess.any_image_mode"},
        {
            "p2.preprocess.any_image_mode": "a grayscale image (mode 'L'), failed, though it works on RGB photos",
            "p2.load_data.dicts": "a grayscale image (mode 'L')",
            "p2.load_data.sorted_deterministic": "Image.open(image_path).convert('RGB')",
        },
    ),
    "unsorted_listing": (
        [(SORTED_LISTING, "for path in folder.iterdir():")],
        {"p2.load_data.sorted_deterministic"},
        {"p2.load_data.sorted_deterministic": "not by name: iterate over sorted(CALIB_DIR.iterdir())"},
    ),
    "random_order": (
        [
            ("import numpy as np\n", "import random\n\nimport numpy as np\n"),
            (SORTED_LISTING, "for path in random.sample(sorted(folder.iterdir()), k=len(list(folder.iterdir()))):"),
        ],
        {"p2.load_data.sorted_deterministic"},
        {"p2.load_data.sorted_deterministic": "no shuffling"},
    ),
    # NUM_IMAGES frozen at import in a parameter default: the grader's NUM_IMAGES = 3 never reaches it.
    "frozen_num_images_default": (
        [
            (LOAD_DATA, "def load_data(num_images: int = NUM_IMAGES) -> Iterator[dict[str, np.ndarray]]:"),
            ("if count == NUM_IMAGES:", "if count == num_images:"),
        ],
        {SETTINGS},
        {
            SETTINGS: "yielded 5 batches. Fix in data_loader.py: load_data() takes the setting as parameter default (num_images=100)"
        },
    ),
    # Both settings frozen: CALIB_DIR's default (the project's calib_images/) is read whatever the grader sets.
    "frozen_defaults": (
        [
            (
                LOAD_DATA,
                "def load_data(calib_dir: Path = CALIB_DIR, num_images: int = NUM_IMAGES) "
                "-> Iterator[dict[str, np.ndarray]]:",
            ),
            ("_image_paths(Path(CALIB_DIR))", "_image_paths(Path(calib_dir))"),
            ("if count == NUM_IMAGES:", "if count == num_images:"),
        ],
        {SETTINGS},
        {
            SETTINGS: "read another folder. Fix in data_loader.py: load_data() takes the settings as parameter defaults (calib_dir="
        },
    ),
    "hard_coded_count": (
        [("if count == NUM_IMAGES:", "if count == 100:")],
        {SETTINGS},
        {SETTINGS: "yielded 5 batches. Fix in data_loader.py: read the module's CALIB_DIR and NUM_IMAGES inside"},
    ),
    "skips_only_known_names": (
        [
            (
                'if not path.is_file() or path.name.startswith("."):',
                'if not path.is_file() or path.name in ("README.txt", "SOURCES.md"):',
            ),
            ("            with Image.open(path) as image:\n                image.verify()\n", "            pass\n"),
        ],
        {"p2.load_data.skips_non_images"},
        {"p2.load_data.skips_non_images": "opened a file that is not an image: skip such files"},
    ),
    "path_only_preprocess": (
        [("with Image.open(image_path) as image:", 'with image_path.open("rb") as file, Image.open(file) as image:')],
        {"p2.preprocess.str_paths"},
        {"p2.preprocess.str_paths": "its signature promises str | Path"},
    ),
    "extension_list": (
        [
            (
                'if not path.is_file() or path.name.startswith("."):',
                'if not path.is_file() or path.suffix not in (".jpg", ".png"):',
            )
        ],
        {"p2.load_data.every_image_extension"},
        {"p2.load_data.every_image_extension": "whatever the case or format of its extension"},
    ),
    "mean_std_on_top": (
        [(ARRAY_LINE, ARRAY_LINE + IMAGENET_NORMALIZE)],
        {"p2.load_data.unit_range", "p2.preprocess.matches_reference"},
        {"p2.load_data.unit_range": "mean/std", "p2.preprocess.matches_reference": "mean/std"},
    ),
}

VISIBLE_ENTRY = '''"""The visible part of the Practice 2 suite, as the student release ships it."""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("p2_visible_suite", Path(__file__).with_name("visible_suite.py"))
_suite = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _suite  # dataclasses look their module up there
_spec.loader.exec_module(_suite)
globals().update({name: value for name, value in vars(_suite).items() if not name.startswith("_")})
'''


def _visible_only_submission(root: Path) -> list[str]:
    """The reference graded by the suite as the release cuts it (hidden tests stripped); what was cut."""
    suites = root / "release" / "grader" / "practices"
    shutil.copytree(SUITE, suites / "practice2")
    removed = strip_hidden(suites)
    folder = make_submission(root, "visible_only", 2, {SOLUTION.name: SOLUTION.read_text(encoding="utf-8")})
    shutil.copy(suites / "practice2" / "suite.py", folder / "visible_suite.py")
    (folder / "test_practice2.py").write_text(VISIBLE_ENTRY, encoding="utf-8")
    shutil.rmtree(root / "release")
    return [entry.split("::")[-1].split(" ")[0] for entry in removed]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, dict]], list[str]]:
    """Every broken loader, the stub and the release's cut of the suite, graded in one pytest run."""
    root = tmp_path_factory.mktemp("p2-mistakes")
    # Each submission's Path(__file__).resolve().parents[2] is root: its default CALIB_DIR is the lab's photos.
    (root / "calib_images").symlink_to(REPO / "calib_images", target_is_directory=True)
    cut = _visible_only_submission(root)
    mutations = {name: changes for name, (changes, _, _) in MISTAKES.items()}
    return grade_variants(root, 2, SOLUTION, mutations, stub=STUB), cut


def test_reference_copy_earns_everything(graded: tuple[dict[str, dict[str, dict]], list[str]]) -> None:
    """The untouched solution, graded the same way, loses nothing."""
    assert failed(graded[0]["reference"]) == set()


def test_stub_earns_nothing(graded: tuple[dict[str, dict[str, dict]], list[str]]) -> None:
    """The stub fails every gradable test, hidden ones included, each saying it is not implemented yet."""
    assert_stub_earns_nothing(graded[0]["stub"])


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded: tuple[dict[str, dict[str, dict]], list[str]], mistake: str) -> None:
    """A broken loader fails exactly the matching tests, each naming the problem."""
    _, expected_failures, messages = MISTAKES[mistake]
    assert_loses_exactly(graded[0][mistake], expected_failures, messages)


def test_hidden_tests_exist_and_the_release_cut_still_grades(
    graded: tuple[dict[str, dict[str, dict]], list[str]],
) -> None:
    """Practice 2 has real hidden tests; with them cut out, the visible suite imports and grades the reference."""
    results, cut = graded
    reference = results["reference"]
    hidden = {name for name, test in reference.items() if test["visibility"] == "hidden"}
    assert hidden and all(reference[name]["max_score"] > 0 for name in hidden)
    assert sorted(cut) == sorted(function_name(reference[check]) for check in hidden)
    visible_only = results["visible_only"]
    assert set(visible_only) == set(reference) - hidden
    assert failed(visible_only) == set()
    assert sum(t["score"] for t in visible_only.values()) == sum(
        t["score"] for name, t in reference.items() if name not in hidden
    )
