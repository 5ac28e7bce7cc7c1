"""Practice 2 suite: ``data_loader.py`` (preprocess, load_data, CALIB_DIR, NUM_IMAGES).

CPU tier: the loader's contract, its tensors against the grader's reference preprocessing,
the real Polygraphy CLI consuming it, and real INT8 quantization (ONNX Runtime, QDQ) calibrated
with it and measured against FP32 on photos never used for calibration.
GPU tier (Jetson): Polygraphy's TensorRT INT8 calibration, trtexec's INT8 build, TensorRT FP32 vs INT8.
"""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

from grader.backends import polygraphy_cli
from grader.backends.onnxruntime import CalibrationError, OnnxRuntimeRunner
from grader.core import images, student
from grader.core.checks import Attempt, attempt, expect, fail
from grader.core.submission import StudentFile, with_hint
from grader.plugin.hooks import Grade
from grader.plugin.suite_tools import student_module
from grader.practices.practice2 import PRACTICE, calibration_cache, int8_accuracy
from grader.practices.practice2.accuracy import Int8Accuracy
from grader.tools import datasets, models

NUM_IMAGES = 100  # the course's calibration set size
TAKE_LIMIT = 1000  # stops a loader that never ends
SETTINGS_COUNT = 3  # NUM_IMAGES while the grader points CALIB_DIR at a folder of 5 photos
# Tensors are compared with the grader's reference preprocessing (whole image resized to 224x224,
# bilinear). Other interpolations are fine: measured mean |diff| per image <= 0.016 on average and
# <= 0.06 at worst (nearest); a 224 crop of a 256 resize is 0.10 on average (tools: benchmarks/int8_thresholds.md).
MEAN_TOLERANCE = 0.03
IMAGE_TOLERANCE = 0.08
# INT8 thresholds, chosen from measurements (benchmarks/int8_thresholds.md): the reference loader
# reaches 0.85 agreement and +0.05 labelled top-1; calibrating on noise gives 0.69 and -0.20,
# on 0..255 pixels 0.00 and -0.85.
MIN_AGREEMENT = 0.75
MAX_TOP1_DROP = 0.10
# A [0, 1] input calibrated by TensorRT has amax about 1, i.e. scale about 1/127.
INPUT_AMAX_RANGE = (0.5, 1.05)
STUB_CALIB_DIR = Path("calib_images")  # the stub's placeholder (its TODO 0)

SIGNATURES = {
    "preprocess": "(image_path) -> np.ndarray",
    "load_data": "() -> Iterator[dict[str, np.ndarray]]",
}
STUDENT_FILE = StudentFile(PRACTICE.student_file, SIGNATURES)
MODE_NAMES = {"L": "grayscale", "RGBA": "RGBA", "P": "palette"}
CONVERT_FIX = (
    "in preprocess() of data_loader.py, convert every image right after opening it: "
    "Image.open(image_path).convert('RGB'), before resizing or turning it into an array."
)


@dataclass
class Run:
    """What one call of the student's load_data() yielded, and with which settings."""

    batches: list[Any]
    calib_dir: Path
    num_images: int


@dataclass(frozen=True)
class Classifier:
    """The lab classifier's ONNX file and its input contract (read from the model, not hard-coded)."""

    path: Path
    input_name: str
    input_shape: tuple[int, ...]
    reference: models.ReferenceModel


@contextmanager
def _settings(module: ModuleType, calib_dir: Path, num_images: int) -> Iterator[None]:
    """CALIB_DIR and NUM_IMAGES set on the student's module for one block, then restored."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "CALIB_DIR", calib_dir, raising=False)
        patch.setattr(module, "NUM_IMAGES", num_images, raising=False)
        yield


def _frozen_settings(func: Callable[..., Any], module: ModuleType) -> dict[str, tuple[str, Any]]:
    """load_data's parameters whose default is a setting's value: ``{parameter: (setting, default)}``.

    Python evaluates a default once, when ``def`` runs at import: such a parameter never sees the
    module's setting change, and Polygraphy calls load_data() without arguments.
    """
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}
    found: dict[str, tuple[str, Any]] = {}
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            continue
        default = parameter.default
        num_images = getattr(module, "NUM_IMAGES", None)
        calib_dir = getattr(module, "CALIB_DIR", None)
        if type(default) is int and default == num_images:
            found[parameter.name] = ("NUM_IMAGES", default)
        elif isinstance(default, (str, os.PathLike)) and isinstance(calib_dir, (str, os.PathLike)):
            if Path(default) == Path(calib_dir):
                found[parameter.name] = ("CALIB_DIR", default)
    return found


def _frozen_hint(func: Callable[..., Any], module: ModuleType) -> str:
    """The fix for settings frozen in load_data's defaults (or read elsewhere than in its body)."""
    frozen = _frozen_settings(func, module)
    if not frozen:
        return (
            "read the module's CALIB_DIR and NUM_IMAGES inside load_data()'s body, each time it is called "
            "(not copies made at import, not a path or a count written into the function)."
        )
    params = " and ".join(f"{name}={default}" for name, (_, default) in frozen.items())
    one = len(frozen) == 1
    return (
        f"load_data() takes the setting{'' if one else 's'} as parameter default{'' if one else 's'} ({params}), "
        f"which Python evaluated once, when `def load_data` ran at import: the grader's new values never reach "
        f"{'it' if one else 'them'}, and Polygraphy calls load_data() without arguments. Write `def load_data():` "
        "and use CALIB_DIR and NUM_IMAGES inside its body."
    )


def _load_data(module: ModuleType, calib_dir: Path, num_images: int, *, through_defaults: bool = True) -> Run:
    """Call the student's load_data() with the grader's settings and collect what it yields.

    The settings are set on the module, as the course says. Unless ``through_defaults`` is off, they
    are also passed to parameters whose default froze a setting at import: only
    test_reads_settings_when_called grades when the settings are read, every other test what it is about.
    """
    func = STUDENT_FILE.function(module, "load_data")
    values = {"CALIB_DIR": calib_dir, "NUM_IMAGES": num_images}
    arguments = {}
    if through_defaults:
        for name, (setting, default) in _frozen_settings(func, module).items():
            arguments[name] = str(calib_dir) if isinstance(default, str) else values[setting]
    with _settings(module, calib_dir, num_images):
        batches = student.take(func, TAKE_LIMIT, **arguments)
    return Run(batches, calib_dir, num_images)


def _preprocess(module: ModuleType, path: Path) -> Any:
    """The student's preprocess(path)."""
    return STUDENT_FILE.call(module, "preprocess", path)


def _try_preprocess(module: ModuleType, path: str | Path) -> tuple[Any, student.StudentCodeError | None]:
    """The student's preprocess(path), or its failure (to fail with outside ``except``: no chained traceback)."""
    try:
        return STUDENT_FILE.call(module, "preprocess", path), None
    except student.StudentCodeError as error:
        return None, error


def _same_tensor(array: Any, other: Any) -> bool:
    """Whether two values are the same tensor (as one preprocess() call gives it twice)."""
    return (
        isinstance(array, np.ndarray)
        and isinstance(other, np.ndarray)
        and other.shape == array.shape
        and bool(np.allclose(array, other, atol=1e-6))
    )


def _describe(value: Any) -> str:
    """Type, shape and dtype of a value, for messages."""
    if isinstance(value, np.ndarray):
        return f"ndarray {value.shape} {value.dtype}"
    return type(value).__name__


def _batches_of(run: Run) -> list[np.ndarray]:
    """The array in each yielded one-entry dict (the key itself is graded by its own test)."""
    expect(run.batches, "load_data() yielded nothing: yield one {'input': tensor} dict per image.")
    arrays = []
    for index, batch in enumerate(run.batches):
        expect(
            isinstance(batch, dict) and len(batch) == 1,
            f"load_data() item {index} is {_describe(batch)}"
            + (f" with keys {list(batch)}" if isinstance(batch, dict) else "")
            + ", expected a dict with one entry, {'input': tensor}.",
        )
        value = next(iter(batch.values()))
        expect(
            isinstance(value, np.ndarray), f"load_data() item {index} holds {_describe(value)}, expected a numpy array."
        )
        arrays.append(value)
    return arrays


def _same_as_preprocess(module: ModuleType, arrays: list[np.ndarray], paths: list[Path], where: str) -> None:
    """Batch i must be the student's own preprocess(paths[i]): order and selection, whatever the preprocessing."""
    for index, (array, path) in enumerate(zip(arrays, paths, strict=False)):
        if _same_tensor(array, _preprocess(module, path)):
            continue
        match = next((p.name for p in paths if _same_tensor(array, _preprocess(module, p))), None)
        fail(
            f"batch {index} should be preprocess({path.name}), image #{index} of {where} in sorted file-name order"
            + (f", but it is {match}" if match else ", but it is no image of the folder as preprocess() makes it")
            + ". CALIB_DIR.iterdir(), os.listdir() and glob() list files in the file system's order, not by name: "
            "iterate over sorted(CALIB_DIR.iterdir()), skip non-images, and preprocess each image."
        )


def _strangers(module: ModuleType, arrays: list[np.ndarray], paths: list[Path]) -> list[int]:
    """Indexes of the batches that are no image of ``paths`` as the student's preprocess() makes it."""
    own = [_preprocess(module, path) for path in paths]
    return [index for index, array in enumerate(arrays) if not any(_same_tensor(array, o) for o in own)]


SWAP_TO_RGB = (
    "Swap the channels while the image is still HWC, before transposing: cv2.cvtColor(image, "
    "cv2.COLOR_BGR2RGB) or hwc[..., ::-1] on the (224, 224, 3) array (or read it with PIL: "
    "Image.open(path).convert('RGB')). On the (1, 3, 224, 224) NCHW tensor the channels are axis 1: "
    "return np.ascontiguousarray(array[:, ::-1])."
)
FLIP_HINTS = {
    "bgr": "has its colour channels in BGR order (cv2.imread reads BGR); the model expects RGB. " + SWAP_TO_RGB,
    "mirrored": (
        "is the image mirrored left-right: on an NCHW (or CHW) array, array[..., ::-1] reverses the last axis, "
        "the width, not the colours. Remove that flip; to swap BGR to RGB, flip axis 1 instead: "
        "np.ascontiguousarray(array[:, ::-1])."
    ),
    "bgr+mirrored": (
        "is in BGR order and mirrored left-right: on an NCHW (or CHW) array, array[..., ::-1] reverses the width, "
        "not the colours. " + SWAP_TO_RGB
    ),
}


def diagnose(actual: Any, reference: np.ndarray, what: str) -> str | None:
    """Why ``actual`` is not the contract's tensor for this image, with the fix; None when it is."""
    if not isinstance(actual, np.ndarray):
        return f"{what} is {_describe(actual)}, expected a numpy array of shape (1, 3, 224, 224)."
    shape = tuple(actual.shape)
    if shape == (1, 224, 224, 3) or shape == (224, 224, 3):
        return f"{what} has shape {shape}: channels last (HWC). Use array.transpose(2, 0, 1) to get NCHW."
    if shape == (3, 224, 224):
        return f"{what} has shape {shape}: the batch dimension is missing. Add it: array[np.newaxis]."
    if len(shape) == 4 and shape[1] == 4 or shape[-1:] == (4,):
        return f"{what} has shape {shape}: 4 channels (RGBA). Call image.convert('RGB') first."
    if len(shape) in (2, 3) and 3 not in shape:
        return f"{what} has shape {shape}: a grayscale image stayed single-channel. Call image.convert('RGB') first."
    if shape != reference.shape:
        return f"{what} has shape {shape}, expected {reference.shape}: resize to 224x224, NCHW with a batch of 1."
    if actual.dtype != np.float32:
        return f"{what} has dtype {actual.dtype}, expected float32: use .astype(np.float32)."
    if float(actual.min()) < -0.01:
        return (
            f"{what} goes down to {float(actual.min()):.2f}: mean/std normalization was applied. "
            "The model normalizes inside its graph: only divide by 255."
        )
    if float(actual.max()) > 1.5:
        return f"{what} ranges up to {float(actual.max()):.1f}: pixels must be in [0, 1]. Divide by 255."
    error = float(np.abs(actual - reference).mean())
    if error <= IMAGE_TOLERANCE:
        return None
    flipped = {
        "bgr": actual[:, ::-1],  # NCHW: the colour channels are axis 1
        "mirrored": actual[..., ::-1],  # the last axis of NCHW is the width
        "bgr+mirrored": actual[:, ::-1, :, ::-1],
    }
    gaps = {kind: float(np.abs(array - reference).mean()) for kind, array in flipped.items()}
    kind = min(gaps, key=gaps.__getitem__)
    if gaps[kind] < error / 3:
        return f"{what} {FLIP_HINTS[kind]}"
    return (
        f"{what} differs from the image resized to 224x224 (mean |diff| {error:.3f}): resize the whole image "
        "to 224x224, without cropping, and keep the pixel order (no flips or rotations)."
    )


# ---------------------------------------------------------------- fixtures


@cache
def _trap_kinds(path: Path) -> frozenset[str]:
    """Which trap kinds an image is (mode and geometry that naive loaders break on); read once per file."""
    with Image.open(path) as image:
        width, height = image.size
        kinds = {"grayscale": image.mode == "L", "RGBA": image.mode == "RGBA", "palette": image.mode == "P"}
    kinds["non-square"] = width != height
    kinds["large"] = max(width, height) >= 1000
    return frozenset(kind for kind, present in kinds.items() if present)


@cache
def _mode(path: Path) -> str:
    """The image's Pillow mode ("RGB", "L", "RGBA", "P" ...); read once per file."""
    with Image.open(path) as image:
        return image.mode


def _student_error(text: str, kind: str | None) -> student.StudentCodeError:
    """The student's failure, saying how it failed (a stub, a crash...): batch grading flags whole-practice kinds."""
    return student.StudentCodeError(text) if kind is None else student.StudentCodeError(text, kind)


def _crash_cause(module: ModuleType, error: student.StudentCodeError, photos: list[Path]) -> str:
    """Which file load_data() stopped at, when the grader can tell, and the fix; "" otherwise."""
    if "cannot identify image file" in str(error):
        return (
            "load_data() opened a file that is not an image: skip such files (README.txt, SOURCES.md ...), "
            "for example those for which Image.open() raises PIL.UnidentifiedImageError."
        )
    for index, path in enumerate(photos[:NUM_IMAGES]):
        try:
            _preprocess(module, path)
        except student.StudentCodeError:
            if _mode(path) == "RGB":
                return ""  # preprocess() fails on plain photos too: its own message says why
            kind = MODE_NAMES.get(_mode(path), "non-RGB")
            return (
                f"It stopped at {path.name} (image #{index} in sorted order), a {kind} image (mode '{_mode(path)}'); "
                f"preprocess() works on the RGB photos before it. Fix: {CONVERT_FIX}"
            )
    return ""


loader = student_module(STUDENT_FILE)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """The lab classifier as a cached ONNX file; its input name and shape come from the file."""
    reference = models.lab_classifier()
    path = models.export_onnx(reference.name)
    spec = OnnxRuntimeRunner(path).input_specs()[0]
    return Classifier(path, spec.name, tuple(int(d) for d in spec.shape), reference)


@pytest.fixture(scope="module")
def calib_photos() -> list[Path]:
    """The images of calib_images/ in sorted file-name order (the grader's own listing)."""
    return images.image_files(datasets.CALIB_DIR)


def _course_load(loader: Attempt[ModuleType], photos: list[Path]) -> Run:
    """load_data() on calib_images/ with NUM_IMAGES = 100; a crash names the image it stopped at."""
    module = loader.result()
    try:
        return _load_data(module, datasets.CALIB_DIR, NUM_IMAGES)
    except student.StudentCodeError as error:
        raise with_hint(error, _crash_cause(module, error, photos)) from None


@pytest.fixture(scope="module")
def course_run(loader: Attempt[ModuleType], calib_photos: list[Path]) -> Attempt[Run]:
    """load_data() as the course runs it: calib_images/, NUM_IMAGES = 100."""
    return attempt(lambda: _course_load(loader, calib_photos))


@pytest.fixture(scope="module")
def second_run(loader: Attempt[ModuleType], course_run: Attempt[Run], calib_photos: list[Path]) -> Attempt[Run]:
    """The same call again, for determinism."""
    return attempt(lambda: _course_load(loader, calib_photos))


def _ordinary(photos: list[Path]) -> list[Path]:
    """The plain RGB square photos, last first: none of them is among the first images of calib_images/."""
    return [path for path in reversed(photos) if not _trap_kinds(path)]


def _copy_folder(tmp_path_factory: pytest.TempPathFactory, name: str, photos: list[Path]) -> Path:
    """A new folder holding copies of ``photos``."""
    folder = tmp_path_factory.mktemp(name)
    for path in photos:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def settings_folder(calib_photos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """Five plain RGB photos and nothing else: only whether CALIB_DIR and NUM_IMAGES are read is at stake."""
    folder = _copy_folder(tmp_path_factory, "p2-settings", _ordinary(calib_photos)[:5])
    return folder, images.image_files(folder)


@pytest.fixture(scope="module")
def non_image_folder(calib_photos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """Plain RGB photos, a non-square and a large one, and several kinds of non-image files."""
    rgb = [path for path in calib_photos if _mode(path) == "RGB"]
    geometry = [next(path for path in rgb if kind in _trap_kinds(path)) for kind in ("non-square", "large")]
    chosen = list(dict.fromkeys(_ordinary(calib_photos)[5:7] + geometry))
    folder = _copy_folder(tmp_path_factory, "p2-non-images", chosen)
    (folder / "README.txt").write_text("not an image\n", encoding="utf-8")
    (folder / "SOURCES.md").write_text("# where the photos come from\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(64))
    (folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    (folder / "labels.csv").write_text("file,label\n", encoding="utf-8")
    return folder, images.image_files(folder)


@pytest.fixture(scope="module")
def mode_photos(calib_photos: list[Path]) -> list[Path]:
    """One grayscale, one RGBA and one palette photo of calib_images/."""
    chosen = {}
    for path in calib_photos:
        chosen.setdefault(_mode(path), path)
    assert {"L", "RGBA", "P"} <= set(chosen), "calib_images/ lacks a grayscale, RGBA or palette image"  # a broken lab
    return [chosen["L"], chosen["RGBA"], chosen["P"]]


# ---------------------------------------------------------------- the loader's contract


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.dicts")
def test_load_data_yields_dicts(course_run: Attempt[Run], classifier: Classifier) -> None:
    """load_data() yields one dict per image, keyed by the model's input name"""
    run = course_run.result()
    _batches_of(run)
    for index, batch in enumerate(run.batches):
        expect(
            list(batch) == [classifier.input_name],
            f"load_data() item {index} has keys {list(batch)}, expected ['{classifier.input_name}'], the ONNX "
            "model's input name (Polygraphy matches data to inputs by this key; a wrong key only warns).",
        )


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.dtype_shape_contiguous")
def test_batches_dtype_shape_contiguous(course_run: Attempt[Run], classifier: Classifier) -> None:
    """each batch is float32, C-contiguous, with the model's input shape (1x3x224x224)"""
    for index, array in enumerate(_batches_of(course_run.result())):
        expect(
            array.shape == classifier.input_shape,
            f"batch {index} has shape {array.shape}, the model's input '{classifier.input_name}' is "
            f"{classifier.input_shape}: NCHW with a batch of 1 (transpose(2, 0, 1), then [np.newaxis]).",
        )
        expect(array.dtype == np.float32, f"batch {index} has dtype {array.dtype}, expected float32.")
        expect(
            array.flags["C_CONTIGUOUS"],
            f"batch {index} is not C-contiguous (a transposed view): return np.ascontiguousarray(array).",
        )


@pytest.mark.points(1)
@pytest.mark.check("p2.load_data.unit_range")
def test_batches_in_unit_range(course_run: Attempt[Run], classifier: Classifier) -> None:
    """pixel values are in [0, 1]"""
    for index, array in enumerate(_batches_of(course_run.result())):
        low, high = float(np.min(array)), float(np.max(array))
        expect(
            low >= -1e-6,
            f"batch {index} goes from {low:.2f} to {high:.2f}: mean/std normalization was applied, but the model "
            "normalizes inside its graph. Only divide by 255.",
        )
        expect(
            high <= 1.0 + 1e-6,
            f"batch {index} ranges up to {high:.1f}: the model expects [0, 1]. Divide the pixels by 255.",
        )


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.num_images")
def test_yields_num_images(loader: Attempt[ModuleType], course_run: Attempt[Run]) -> None:
    """yields exactly NUM_IMAGES batches (100) from calib_images/'s 300 photos"""
    module = loader.result()
    default = getattr(module, "NUM_IMAGES", None)
    expect(
        isinstance(default, int) and default >= NUM_IMAGES,
        f"NUM_IMAGES is {default!r}; the course calibrates with {NUM_IMAGES} images: set NUM_IMAGES = {NUM_IMAGES}.",
    )
    run = course_run.result()
    expect(
        len(run.batches) == NUM_IMAGES,
        f"with NUM_IMAGES = {NUM_IMAGES}, load_data() yielded {len(run.batches)} batches from calib_images/"
        + (" (stopped by the grader: does it ever end?)" if len(run.batches) >= TAKE_LIMIT else "")
        + ": stop after the first NUM_IMAGES images (in data_loader.py, load_data()).",
    )


def _yields_num_images(course_run: Attempt[Run]) -> bool:
    """Whether load_data() yields NUM_IMAGES batches on calib_images/ (True when that run crashed: unknown)."""
    try:
        return len(course_run.result().batches) == NUM_IMAGES
    except student.StudentCodeError:
        return True


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.reads_settings")
def test_reads_settings_when_called(
    loader: Attempt[ModuleType], settings_folder: tuple[Path, list[Path]], course_run: Attempt[Run]
) -> None:
    """reads CALIB_DIR and NUM_IMAGES when load_data() is called (the grader changes both)"""
    folder, photos = settings_folder
    module = loader.result()
    func = STUDENT_FILE.function(module, "load_data")
    arrays = _batches_of(_load_data(module, folder, SETTINGS_COUNT, through_defaults=False))
    # Which images it picked and in which order is test_sorted_and_deterministic's; here only the folder counts.
    strangers = _strangers(module, arrays, photos)
    expect(
        not strangers,
        f"with CALIB_DIR = {folder} (set by the grader), batch {strangers[0] if strangers else 0} is no image of "
        f"that folder: load_data() read another folder. Fix in data_loader.py: {_frozen_hint(func, module)}",
    )
    # A loader that never yields NUM_IMAGES batches lost that in test_yields_num_images already.
    expect(
        len(arrays) == SETTINGS_COUNT or not _yields_num_images(course_run),
        f"with NUM_IMAGES = {SETTINGS_COUNT} (set by the grader) and CALIB_DIR = {folder} holding {len(photos)} "
        f"photos, load_data() yielded {len(arrays)} batches. Fix in data_loader.py: " + _frozen_hint(func, module),
    )


@pytest.mark.points(1)
@pytest.mark.check("p2.settings.calib_dir_default")
def test_calib_dir_default(loader: Attempt[ModuleType], student_dir: Path) -> None:
    """CALIB_DIR defaults to the repository's calib_images/, found from the file (not the cwd)"""
    module = loader.result()
    value = getattr(module, "CALIB_DIR", None)
    expect(isinstance(value, Path), f"CALIB_DIR is {_describe(value)} {value!r}, expected a pathlib.Path.")
    expected = (student_dir / STUDENT_FILE).resolve().parents[2] / "calib_images"
    fix = "expected the repository's calib_images/: Path(__file__).resolve().parents[2] / 'calib_images'."
    if value == STUB_CALIB_DIR:  # the stub's placeholder: as unfinished as a `raise NotImplementedError`
        raise _student_error(
            f"CALIB_DIR is still the stub's {str(value)!r} (TODO 0 is not implemented yet), which depends on the "
            f"working directory; {fix}",
            getattr(student, "NOT_IMPLEMENTED", None),
        )
    expect(
        value.is_absolute() and value.resolve() == expected.resolve(),
        f"CALIB_DIR is {str(value)!r}, which depends on the working directory or points elsewhere; {fix}",
    )


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.sorted_deterministic")
def test_sorted_and_deterministic(
    loader: Attempt[ModuleType], course_run: Attempt[Run], second_run: Attempt[Run], calib_photos: list[Path]
) -> None:
    """images come in sorted file-name order, the same on every call"""
    first = _batches_of(course_run.result())
    again = _batches_of(second_run.result())
    expect(
        len(first) == len(again) and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True)),
        "two calls of load_data() yielded different data: no shuffling or randomness; calibration must be reproducible.",
    )
    _same_as_preprocess(loader.result(), first, calib_photos, "calib_images/")


@pytest.mark.points(2)
@pytest.mark.check("p2.load_data.skips_non_images")
def test_skips_non_image_files(loader: Attempt[ModuleType], non_image_folder: tuple[Path, list[Path]]) -> None:
    """skips files that are not images (README.txt, .DS_Store, notes.md ...) and keeps every image"""
    folder, photos = non_image_folder
    module = loader.result()
    try:
        run = _load_data(module, folder, 50)
    except student.StudentCodeError as error:
        raise with_hint(error, _crash_cause(module, error, photos)) from None
    arrays = _batches_of(run) if run.batches else []  # yielding nothing gets this test's message
    others = ", ".join(sorted(p.name for p in folder.iterdir() if p not in photos))
    missing = [path.name for path in photos if not any(_same_tensor(a, _preprocess(module, path)) for a in arrays)]
    expect(
        len(arrays) == len(photos) and not missing,
        f"a folder with {len(photos)} images ({', '.join(p.name for p in photos)}) and the non-image files {others} "
        f"gave {len(arrays)} batches with NUM_IMAGES = 50"
        + (f", none of them from {', '.join(missing)}" if missing else "")
        + ": in load_data(), yield every image and skip only the files that are not images, for example those "
        "for which Image.open() raises PIL.UnidentifiedImageError.",
    )


# ---------------------------------------------------------------- preprocessing


@pytest.mark.points(3)
@pytest.mark.check("p2.preprocess.matches_reference")
def test_preprocess_matches_reference(loader: Attempt[ModuleType], calib_photos: list[Path]) -> None:
    """preprocess() gives RGB, NCHW, [0, 1] float32 tensors that match the grader's on photos"""
    module = loader.result()
    rgb = [p for p in calib_photos if not _trap_kinds(p) & {"grayscale", "RGBA", "palette"}]
    # Ordinary photos, plus the non-square and large ones: a crop or a squeeze shows there.
    chosen = [p for p in rgb if not _trap_kinds(p)][:6] + [p for p in rgb if _trap_kinds(p)]
    errors = []
    for path in chosen:
        actual = _preprocess(module, path)
        reference = images.reference_tensor(path)
        problem = diagnose(actual, reference, f"preprocess({path.name})")
        expect(problem is None, problem or "")
        expect(
            actual.flags["C_CONTIGUOUS"],
            f"preprocess({path.name}) is not C-contiguous (a transposed or flipped view): "
            "return np.ascontiguousarray(array).",
        )
        errors.append(float(np.abs(actual - reference).mean()))
    expect(
        float(np.mean(errors)) <= MEAN_TOLERANCE,
        f"preprocess() differs from the image resized to 224x224 by {np.mean(errors):.3f} on average "
        f"(allowed {MEAN_TOLERANCE}): resize the whole image, without cropping.",
    )


@pytest.mark.points(2)
@pytest.mark.check("p2.preprocess.any_image_mode")
def test_preprocess_any_image_mode(
    loader: Attempt[ModuleType],
    mode_photos: list[Path],
    calib_photos: list[Path],
    tmp_path: Path,
    classifier: Classifier,
) -> None:
    """preprocess() handles grayscale, RGBA and palette images like the same picture in RGB"""
    module = loader.result()
    _preprocess(module, _ordinary(calib_photos)[0])  # fails on plain photos too? Then that is the message
    for path in mode_photos:
        what = f"preprocess({path.name}), a {MODE_NAMES[_mode(path)]} image (mode '{_mode(path)}'),"
        actual, crash = _try_preprocess(module, path)
        if crash is not None:
            fail(f"{what} failed, though it works on RGB photos. Fix: {CONVERT_FIX}\n{crash}")
        expect(
            isinstance(actual, np.ndarray) and actual.shape == classifier.input_shape,
            f"{what} is {_describe(actual)}, expected {classifier.input_shape}. Fix: {CONVERT_FIX}",
        )
        as_rgb = tmp_path / f"{path.stem}_rgb.png"  # lossless: the same picture, stored as plain RGB
        with Image.open(path) as image:
            image.convert("RGB").save(as_rgb)
        plain = _preprocess(module, as_rgb)
        gap = (
            float(np.abs(actual - plain).mean())
            if isinstance(plain, np.ndarray) and plain.shape == actual.shape
            else np.inf
        )
        expect(
            gap <= 1e-3,
            f"{what} differs from the same picture stored as RGB (mean |diff| {gap:.3g}). Fix: {CONVERT_FIX}",
        )


# ---------------------------------------------------------------- Polygraphy


@pytest.fixture
def polygraphy_launcher(worker_resource: object | None) -> polygraphy_cli.Launcher | None:
    """In a batch worker, the `polygraphy` process this practice's worker setup forked; else None (a new program)."""
    return worker_resource if isinstance(worker_resource, polygraphy_cli.Launcher) else None


@pytest.mark.points(1)
@pytest.mark.check("p2.polygraphy.imports_script")
def test_polygraphy_imports_script(student_dir: Path, loader: Attempt[ModuleType]) -> None:
    """Polygraphy imports the file as --data-loader-script does and draws data from load_data()"""
    loader.result()  # the student's own import error, shown clearly, comes first
    from polygraphy.mod import import_from_script
    from polygraphy.tools.args.util import parse_script_and_func_name

    script, name = parse_script_and_func_name(str(student_dir / STUDENT_FILE), default_func_name="load_data")
    try:
        func = import_from_script(script, name=name)
    except Exception as error:  # Polygraphy 0.53 reports script errors as a KeyError
        fail(f"Polygraphy could not import load_data from {STUDENT_FILE}: {type(error).__name__}: {error}")
    expect(
        callable(func), f"Polygraphy found load_data in {STUDENT_FILE}, but it is {_describe(func)}, not a function."
    )
    with pytest.MonkeyPatch.context() as patch:  # the module Polygraphy imported, with the course's folder
        patch.setitem(func.__globals__, "CALIB_DIR", datasets.CALIB_DIR)
        first = student.take(func, 1)
    expect(first, "load_data(), imported by Polygraphy, yielded nothing.")


@pytest.mark.points(2)
@pytest.mark.check("p2.polygraphy.run_onnxrt")
def test_polygraphy_run_onnxrt(
    student_dir: Path,
    loader: Attempt[ModuleType],
    classifier: Classifier,
    tmp_path: Path,
    polygraphy_launcher: polygraphy_cli.Launcher | None,
) -> None:
    """`polygraphy run <model> --onnxrt --data-loader-script` runs on the loader's data"""
    _load_data(loader.result(), datasets.CALIB_DIR, 1)  # the student's own error first, shown clearly
    script = polygraphy_cli.loader_script(student_dir / STUDENT_FILE, datasets.CALIB_DIR, 4, tmp_path / "loader.py")
    completed = polygraphy_cli.run_onnxrt(classifier.path, script, cwd=tmp_path, launcher=polygraphy_launcher)
    output = completed.stdout + completed.stderr
    expect(
        polygraphy_cli.MISMATCH_WARNING not in output,
        f"Polygraphy warns that the data's name does not match the model's input '{classifier.input_name}' "
        "(it only warns, the real calibration would be fed nothing useful): yield {'input': tensor}.",
    )
    expect(
        polygraphy_cli.SHAPE_WARNING not in output,
        f"Polygraphy warns that the batches' shape does not match the model's input {classifier.input_shape} and "
        "transposes them itself in `run`; INT8 calibration feeds the raw buffer. Yield NCHW (1, 3, 224, 224) tensors.",
    )
    tail = "\n".join(output.strip().splitlines()[-8:])
    expect(completed.returncode == 0, f"polygraphy run --onnxrt failed (exit {completed.returncode}):\n{tail}")


# ---------------------------------------------------------------- INT8 on the CPU (ONNX Runtime, QDQ)


@pytest.fixture(scope="module")
def int8(course_run: Attempt[Run], classifier: Classifier) -> Attempt[Int8Accuracy]:
    """Static INT8 quantization calibrated with the loader's data, measured against FP32 (cached by content)."""

    def work() -> Int8Accuracy:
        # The key is graded by its own test: calibrate with the data under the model's input name.
        batches = [{classifier.input_name: array} for array in _batches_of(course_run.result())]
        try:
            return int8_accuracy.measure(classifier.path, batches)
        except CalibrationError as error:
            raise student.StudentCodeError(
                f"INT8 calibration could not use load_data()'s data: {error}. Fix the contract tests above first."
            ) from None

    return attempt(work)


@pytest.mark.points(3)
@pytest.mark.check("p2.int8.agrees_with_fp32")
def test_int8_agrees_with_fp32(int8: Attempt[Int8Accuracy], grade: Grade) -> None:
    """INT8 calibrated with your loader keeps FP32's top-1 on >= 75 % of held-out photos"""
    result = int8.result()
    grade.note(result.summary())
    expect(
        result.agreement >= MIN_AGREEMENT,
        f"INT8 agrees with FP32 on {result.agreement:.0%} of {result.held_out} held-out photos, expected "
        f">= {MIN_AGREEMENT:.0%}: the calibration data do not look like the model's real inputs "
        f"(RGB in [0, 1]). {result.summary()}",
    )


@pytest.mark.points(2)
@pytest.mark.check("p2.int8.labelled_accuracy")
def test_int8_labelled_accuracy(int8: Attempt[Int8Accuracy], grade: Grade) -> None:
    """INT8 top-1 on the labelled ImageNet photos stays within 0.10 of FP32"""
    result = int8.result()
    grade.note(result.summary())
    expect(
        result.top1_drop <= MAX_TOP1_DROP + 1e-9,
        f"INT8 top-1 is {result.int8_top1:.2f} against FP32 {result.fp32_top1:.2f} on {result.labelled} labelled "
        f"photos (drop {result.top1_drop:.2f}, allowed {MAX_TOP1_DROP:.2f}): calibrate with correctly "
        f"preprocessed photos. {result.summary()}",
    )


# ---------------------------------------------------------------- the Jetson's calibration cache


def _board_tensorrt() -> str | None:
    """This machine's TensorRT release (the backend's probe), or None where it has no TensorRT.

    The cache is made on the board; graded where TensorRT is absent, the board's release is unknown and the
    cache's version is not checked (never guessed).
    """
    from grader.backends import tensorrt as trt_backend

    probe = trt_backend.probe_tensorrt()
    return probe.version if probe.available and probe.version not in (None, "unknown") else None


def _classifier_graph(classifier: Classifier) -> Any:
    """The lab classifier's ONNX graph, named as students know the file (the cached copy has a hash name)."""
    import onnx

    model = onnx.load(str(classifier.path), load_external_data=False)
    model.graph.name = "lab_classifier.onnx"
    return model


@pytest.mark.points(2)
@pytest.mark.check("p2.calibration_cache.scale")
def test_calibration_cache_scale(student_dir: Path, classifier: Classifier) -> None:
    """your calib.cache (from the Jetson) fits the lab classifier and has the input scale of [0, 1] data (about 1/127)"""
    path = student_dir / "calib.cache"
    if not path.exists():
        pytest.skip(
            "not graded on this machine: no calib.cache next to data_loader.py. Make it on the Jetson with "
            "polygraphy convert lab_classifier.onnx --int8 --data-loader-script ./data_loader.py "
            "--calibration-cache calib.cache -o lab_classifier_int8.engine, then hand it in with your file."
        )
    try:
        cache = calibration_cache.read(path)
    except calibration_cache.CacheFormatError as error:
        fail(f"calib.cache is not a TensorRT calibration cache: {error}")
    # The cache against its use: the board's TensorRT (where known) and the model it calibrates.
    problems = calibration_cache.check(cache, trt_version=_board_tensorrt(), onnx_model=_classifier_graph(classifier))
    expect(not problems, "calib.cache: " + "\ncalib.cache: ".join(problems))
    amax = cache.amax(classifier.input_name)
    low, high = INPUT_AMAX_RANGE
    expect(
        low <= amax <= high,
        f"calib.cache gives the input '{classifier.input_name}' a range of {amax:.3g} (scale {amax / 127:.3g}); "
        f"[0, 1] data give about 1 (scale 1/127 = 0.00787). "
        + ("It was calibrated on 0..255 pixels: divide by 255." if amax > 100 else "Check the preprocessing."),
    )


# ---------------------------------------------------------------- GPU tier (Jetson, TensorRT 10.3)


@pytest.mark.points(3)
@pytest.mark.requires("tensorrt", "gpu", "pycuda", "trtexec")
@pytest.mark.check("p2.tensorrt.int8_from_loader")
def test_tensorrt_int8_from_your_loader(
    student_dir: Path,
    loader: Attempt[ModuleType],
    classifier: Classifier,
    tmp_path: Path,
    grade: Grade,
    polygraphy_launcher: polygraphy_cli.Launcher | None,
) -> None:
    """TensorRT INT8 (Polygraphy calibration + trtexec --int8 --calib) keeps FP32's accuracy"""
    from grader.backends import tensorrt as trt_backend
    from grader.backends import trtexec
    from grader.practices.practice2 import accuracy

    loader.result()
    script = polygraphy_cli.loader_script(
        student_dir / STUDENT_FILE, datasets.CALIB_DIR, NUM_IMAGES, tmp_path / "loader.py"
    )
    cache_path = tmp_path / "calib.cache"
    completed = polygraphy_cli.calibrate_int8(
        classifier.path,
        script,
        cache_path,
        tmp_path / "polygraphy_int8.engine",
        cwd=tmp_path,
        launcher=polygraphy_launcher,
    )
    tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-8:])
    expect(completed.returncode == 0 and cache_path.exists(), f"polygraphy convert --int8 failed:\n{tail}")
    int8_engine = tmp_path / "int8.engine"
    trtexec.build_engine(classifier.path, int8_engine, precision="int8-fp32", calibration_cache=cache_path)
    fp32_engine = trt_backend.cached_engine(classifier.path, precision="fp32")
    evaluation = datasets.eval_set()
    result = accuracy.compare(
        trt_backend.logits(fp32_engine, evaluation.labelled),
        trt_backend.logits(int8_engine, evaluation.labelled),
        evaluation.labels,
        trt_backend.logits(fp32_engine, evaluation.held_out),
        trt_backend.logits(int8_engine, evaluation.held_out),
    )
    grade.note("TensorRT " + result.summary())
    expect(
        result.agreement >= MIN_AGREEMENT and result.top1_drop <= MAX_TOP1_DROP + 1e-9,
        f"TensorRT INT8 vs FP32: agreement {result.agreement:.2f} (need >= {MIN_AGREEMENT}), top-1 drop "
        f"{result.top1_drop:.2f} (allowed {MAX_TOP1_DROP}). {result.summary()}",
    )


# ---------------------------------------------------------------- hidden: the same rules, other cases (cut from the student release)


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p2.preprocess.str_paths")
def test_preprocess_accepts_str_paths(loader: Attempt[ModuleType], calib_photos: list[Path]) -> None:
    """preprocess() takes the path as a str as well as a Path (its signature: str | Path)"""
    module = loader.result()
    path = _ordinary(calib_photos)[0]
    as_path = _preprocess(module, path)
    as_str, crash = _try_preprocess(module, str(path))
    if crash is not None:
        fail(
            f"preprocess({str(path)!r}), the path given as a str, failed; its signature promises str | Path. "
            f"Fix in data_loader.py, preprocess(): Image.open() takes both, or start with Path(image_path).\n{crash}"
        )
    expect(
        _same_tensor(as_path, as_str),
        f"preprocess() gives {_describe(as_str)} for the path as a str and {_describe(as_path)} for the same "
        "path as a Path: treat both alike (its signature promises str | Path).",
    )


@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
@pytest.mark.check("p2.load_data.every_image_extension")
def test_every_image_file_counts(loader: Attempt[ModuleType], calib_photos: list[Path], tmp_path: Path) -> None:
    """load_data() keeps every image, whatever its file's extension (.JPG, .jpeg, .PNG, .bmp)"""
    module = loader.result()
    names = ["a_photo.JPG", "b_photo.jpeg", "c_photo.PNG", "d_photo.bmp"]
    for name, source in zip(names, _ordinary(calib_photos)[7:], strict=False):
        with Image.open(source) as image:
            image.convert("RGB").save(tmp_path / name)
    run = _load_data(module, tmp_path, 50)
    arrays = _batches_of(run) if run.batches else []  # yielding nothing gets this test's message
    missing = [name for name in names if not any(_same_tensor(a, _preprocess(module, tmp_path / name)) for a in arrays)]
    expect(
        len(arrays) == len(names) and not missing,
        f"a folder holding only the images {', '.join(names)} gave {len(arrays)} batches"
        + (f", none of them from {', '.join(missing)}" if missing else "")
        + ": in load_data(), every image counts, whatever the case or format of its extension. Tell images "
        "from other files by opening them with PIL rather than by a list of extensions.",
    )
