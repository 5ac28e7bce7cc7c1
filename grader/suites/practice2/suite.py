"""Practice 2 suite: ``data_loader.py`` (preprocess, load_data, CALIB_DIR, NUM_IMAGES).

CPU tier: the loader's contract, its tensors against the grader's reference preprocessing,
the real Polygraphy CLI consuming it, and real INT8 quantization (ONNX Runtime, QDQ) calibrated
with it and measured against FP32 on photos never used for calibration.
GPU tier (Jetson): Polygraphy's TensorRT INT8 calibration, trtexec's INT8 build, TensorRT FP32 vs INT8.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

from grader import calibration_cache, datasets, images, int8_accuracy, models, student
from grader.accuracy import Int8Accuracy
from grader.backends import polygraphy_cli
from grader.backends.onnxruntime import CalibrationError, OnnxRuntimeRunner
from grader.checks import Attempt, attempt, expect, fail
from grader.plugin.hooks import Grade
from grader.practices import PRACTICES

STUDENT_FILE = PRACTICES[2].student_file
NUM_IMAGES = 100  # the course's calibration set size
TAKE_LIMIT = 1000  # stops a loader that never ends
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

SIGNATURES = {
    "preprocess": "(image_path) -> np.ndarray",
    "load_data": "() -> Iterator[dict[str, np.ndarray]]",
}


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


def _load_data(module: ModuleType, calib_dir: Path, num_images: int) -> Run:
    """Call the student's load_data() with the grader's settings and collect what it yields."""
    func = student.function(module, "load_data", SIGNATURES["load_data"])
    with _settings(module, calib_dir, num_images):
        batches = student.take(func, TAKE_LIMIT)
    return Run(batches, calib_dir, num_images)


def _preprocess(module: ModuleType, path: Path) -> Any:
    """The student's preprocess(path)."""
    return student.call(student.function(module, "preprocess", SIGNATURES["preprocess"]), path)


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

    def same(array: np.ndarray, other: Any) -> bool:
        return (
            isinstance(other, np.ndarray) and other.shape == array.shape and bool(np.allclose(array, other, atol=1e-6))
        )

    for index, (array, path) in enumerate(zip(arrays, paths, strict=False)):
        if same(array, _preprocess(module, path)):
            continue
        match = next((p.name for p in paths if same(array, _preprocess(module, p))), None)
        fail(
            f"batch {index} should be preprocess({path.name}), image #{index} of {where} in sorted file-name order"
            + (f", but it is {match}" if match else ", but it is no image of the folder as preprocess() makes it")
            + ": iterate over sorted(CALIB_DIR.iterdir()), skip non-images, and preprocess each image."
        )


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
    if float(np.abs(actual[:, ::-1] - reference).mean()) < error / 3:
        return f"{what} is in BGR order (cv2.imread reads BGR): convert to RGB (PIL's convert('RGB'), or array[..., ::-1])."
    return (
        f"{what} differs from the image resized to 224x224 (mean |diff| {error:.3f}): resize the whole image "
        "to 224x224, without cropping, and keep the pixel order (no flips or rotations)."
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def loader(student_dir: Path) -> Attempt[ModuleType]:
    """The student's data_loader.py, imported (or why not)."""
    return attempt(lambda: student.load(student_dir / STUDENT_FILE))


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


@pytest.fixture(scope="module")
def course_run(loader: Attempt[ModuleType]) -> Attempt[Run]:
    """load_data() as the course runs it: calib_images/, NUM_IMAGES = 100."""
    return attempt(lambda: _load_data(loader.result(), datasets.CALIB_DIR, NUM_IMAGES))


@pytest.fixture(scope="module")
def second_run(loader: Attempt[ModuleType], course_run: Attempt[Run]) -> Attempt[Run]:
    """The same call again, for determinism."""
    return attempt(lambda: _load_data(loader.result(), datasets.CALIB_DIR, NUM_IMAGES))


@cache
def _trap_kinds(path: Path) -> frozenset[str]:
    """Which trap kinds an image is (mode and geometry that naive loaders break on); read once per file."""
    with Image.open(path) as image:
        width, height = image.size
        kinds = {"grayscale": image.mode == "L", "RGBA": image.mode == "RGBA", "palette": image.mode == "P"}
    kinds["non-square"] = width != height
    kinds["large"] = max(width, height) >= 1000
    return frozenset(kind for kind, present in kinds.items() if present)


@pytest.fixture(scope="module")
def trap_folder(calib_photos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A folder with one image of each trap kind, two ordinary photos and several non-image files."""
    folder = tmp_path_factory.mktemp("p2-traps")
    wanted = {"grayscale", "RGBA", "palette", "non-square", "large"}
    chosen: list[Path] = []
    for path in calib_photos:
        kinds = _trap_kinds(path)
        if kinds & wanted:
            chosen.append(path)
            wanted -= kinds
    ordinary = [p for p in calib_photos if not _trap_kinds(p)][:2]
    assert not wanted, f"calib_images/ lacks trap images: {wanted}"  # a broken lab, not a student error
    for path in chosen + ordinary:
        shutil.copy(path, folder / path.name)
    (folder / "README.txt").write_text("not an image\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(64))
    (folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    (folder / "labels.csv").write_text("file,label\n", encoding="utf-8")
    return folder, images.image_files(folder)


# ---------------------------------------------------------------- the loader's contract


@pytest.mark.points(2)
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
def test_yields_num_images(loader: Attempt[ModuleType], course_run: Attempt[Run]) -> None:
    """yields exactly NUM_IMAGES batches (default 100; the grader also tries 7)"""
    module = loader.result()
    default = getattr(module, "NUM_IMAGES", None)
    expect(
        isinstance(default, int) and default >= NUM_IMAGES,
        f"NUM_IMAGES is {default!r}; the course calibrates with {NUM_IMAGES} images: set NUM_IMAGES = {NUM_IMAGES}.",
    )
    run = course_run.result()
    expect(
        len(run.batches) == NUM_IMAGES,
        f"with NUM_IMAGES = {NUM_IMAGES}, load_data() yielded {len(run.batches)} batches"
        + (" (stopped by the grader: does it ever end?)" if len(run.batches) >= TAKE_LIMIT else "")
        + ": yield exactly NUM_IMAGES, read from the module setting when load_data() is called.",
    )
    small = _load_data(module, datasets.CALIB_DIR, 7)
    expect(
        len(small.batches) == 7,
        f"with NUM_IMAGES = 7, load_data() yielded {len(small.batches)} batches: read NUM_IMAGES inside "
        "load_data(), not a copy taken at import time.",
    )


@pytest.mark.points(2)
def test_reads_calib_dir_when_called(loader: Attempt[ModuleType], trap_folder: tuple[Path, list[Path]]) -> None:
    """reads CALIB_DIR when load_data() is called (the grader points it at another folder)"""
    folder, photos = trap_folder
    module = loader.result()
    run = _load_data(module, folder, 3)
    expect(
        len(run.batches) == 3,
        f"with CALIB_DIR = {folder.name}/ and NUM_IMAGES = 3, load_data() yielded {len(run.batches)} batches: "
        "read the module's CALIB_DIR and NUM_IMAGES inside load_data().",
    )
    _same_as_preprocess(module, _batches_of(run), photos, f"CALIB_DIR = {folder.name}/ (set by the grader)")


@pytest.mark.points(1)
def test_calib_dir_default(loader: Attempt[ModuleType], student_dir: Path) -> None:
    """CALIB_DIR defaults to the repository's calib_images/, found from the file (not the cwd)"""
    module = loader.result()
    value = getattr(module, "CALIB_DIR", None)
    expect(isinstance(value, Path), f"CALIB_DIR is {_describe(value)} {value!r}, expected a pathlib.Path.")
    expected = (student_dir / STUDENT_FILE).resolve().parents[2] / "calib_images"
    expect(
        value.is_absolute() and value.resolve() == expected.resolve(),
        f"CALIB_DIR is {str(value)!r}, which depends on the working directory or points elsewhere; "
        "expected the repository's calib_images/: Path(__file__).resolve().parents[2] / 'calib_images'.",
    )


@pytest.mark.points(2)
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
def test_survives_traps_and_skips_non_images(
    loader: Attempt[ModuleType], trap_folder: tuple[Path, list[Path]], classifier: Classifier
) -> None:
    """survives grayscale, RGBA, palette, non-square and large images; skips non-image files"""
    folder, photos = trap_folder
    run = _load_data(loader.result(), folder, 50)
    names = ", ".join(sorted(p.name for p in folder.iterdir() if p not in photos))
    expect(
        len(run.batches) == len(photos),
        f"a folder with {len(photos)} images and the non-image files {names} gave {len(run.batches)} batches "
        f"(NUM_IMAGES = 50): yield every image and skip files that are not images.",
    )
    for array, path in zip(_batches_of(run), photos, strict=True):
        kinds = ", ".join(sorted(_trap_kinds(path))) or "ordinary"
        expect(
            array.shape == classifier.input_shape and array.dtype == np.float32,
            f"the batch of {path.name} ({kinds}) is {_describe(array)}, expected {classifier.input_shape} float32: "
            "convert every image to RGB and resize it to 224x224.",
        )


# ---------------------------------------------------------------- preprocessing


@pytest.mark.points(3)
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
            f"preprocess({path.name}) is not C-contiguous (a transposed view): return np.ascontiguousarray(array).",
        )
        errors.append(float(np.abs(actual - reference).mean()))
    expect(
        float(np.mean(errors)) <= MEAN_TOLERANCE,
        f"preprocess() differs from the image resized to 224x224 by {np.mean(errors):.3f} on average "
        f"(allowed {MEAN_TOLERANCE}): resize the whole image, without cropping.",
    )


@pytest.mark.points(2)
def test_preprocess_any_image_mode(
    loader: Attempt[ModuleType], trap_folder: tuple[Path, list[Path]], tmp_path: Path, classifier: Classifier
) -> None:
    """preprocess() handles grayscale, RGBA and palette images like the same picture in RGB"""
    module = loader.result()
    _, photos = trap_folder
    for path in photos:
        modes = _trap_kinds(path) & {"grayscale", "RGBA", "palette"}
        if not modes:
            continue
        what = f"preprocess({path.name}) ({', '.join(sorted(modes))})"
        actual = _preprocess(module, path)
        expect(
            isinstance(actual, np.ndarray) and actual.shape == classifier.input_shape,
            f"{what} is {_describe(actual)}, expected {classifier.input_shape}: call image.convert('RGB') "
            "before anything else.",
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
            f"{what} differs from the same picture stored as RGB (mean |diff| {gap:.3g}): "
            "call image.convert('RGB') first, whatever the file's mode.",
        )


# ---------------------------------------------------------------- Polygraphy


@pytest.mark.points(1)
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
def test_polygraphy_run_onnxrt(
    student_dir: Path, loader: Attempt[ModuleType], classifier: Classifier, tmp_path: Path
) -> None:
    """`polygraphy run <model> --onnxrt --data-loader-script` runs on the loader's data"""
    _load_data(loader.result(), datasets.CALIB_DIR, 1)  # the student's own error first, shown clearly
    script = polygraphy_cli.loader_script(student_dir / STUDENT_FILE, datasets.CALIB_DIR, 4, tmp_path / "loader.py")
    completed = polygraphy_cli.run_onnxrt(classifier.path, script, cwd=tmp_path)
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


@pytest.mark.points(2)
def test_calibration_cache_scale(student_dir: Path, classifier: Classifier) -> None:
    """your calib.cache (from the Jetson) has the input scale of [0, 1] data (about 1/127)"""
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
    expect(
        classifier.input_name in cache.scales,
        f"calib.cache has no entry for the model input '{classifier.input_name}' (it has {len(cache.scales)} "
        "tensors): was it made with the lab classifier?",
    )
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
def test_tensorrt_int8_from_your_loader(
    student_dir: Path, loader: Attempt[ModuleType], classifier: Classifier, tmp_path: Path, grade: Grade
) -> None:
    """TensorRT INT8 (Polygraphy calibration + trtexec --int8 --calib) keeps FP32's accuracy"""
    from grader import accuracy
    from grader.backends import tensorrt as trt_backend
    from grader.backends import trtexec

    loader.result()
    script = polygraphy_cli.loader_script(
        student_dir / STUDENT_FILE, datasets.CALIB_DIR, NUM_IMAGES, tmp_path / "loader.py"
    )
    cache_path = tmp_path / "calib.cache"
    completed = polygraphy_cli.calibrate_int8(
        classifier.path, script, cache_path, tmp_path / "polygraphy_int8.engine", cwd=tmp_path
    )
    tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-8:])
    expect(completed.returncode == 0 and cache_path.exists(), f"polygraphy convert --int8 failed:\n{tail}")
    int8_engine = tmp_path / "int8.engine"
    trtexec.build_engine(classifier.path, int8_engine, int8=True, calibration_cache=cache_path)
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
