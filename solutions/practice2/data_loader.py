"""Practice 2 (reference): the Polygraphy data loader that feeds INT8 calibration.

Use it on the Jetson exactly as the course text does:
    polygraphy convert lab_classifier.onnx --int8 --data-loader-script ./data_loader.py \
        --calibration-cache calib.cache -o lab_classifier_int8.engine
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

# Found from this file, not from the working directory: Polygraphy imports the script from anywhere.
CALIB_DIR = Path(__file__).resolve().parents[2] / "calib_images"
NUM_IMAGES = 100
INPUT_NAME = "input"
SIZE = 224


def preprocess(image_path: str | Path) -> np.ndarray:
    """One image as the model expects it: 1x3x224x224 float32, RGB, values in [0, 1], C-contiguous."""
    with Image.open(image_path) as image:
        rgb = image.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)  # grayscale, RGBA, palette -> RGB
    array = np.asarray(rgb, dtype=np.float32) / 255.0  # HWC in [0, 1]
    return np.ascontiguousarray(array.transpose(2, 0, 1)[np.newaxis])  # NCHW


def _image_paths(folder: Path) -> Iterator[Path]:
    """Images in sorted file-name order; anything Pillow cannot identify is skipped."""
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError):
            continue
        yield path


def load_data() -> Iterator[dict[str, np.ndarray]]:
    """Polygraphy's data loader: ``{"input": batch}`` for the first NUM_IMAGES images of CALIB_DIR."""
    # Module settings are read here, at call time, so a grader (or you) can change them.
    count = 0
    for path in _image_paths(Path(CALIB_DIR)):
        if count == NUM_IMAGES:
            break
        yield {INPUT_NAME: preprocess(path)}
        count += 1
