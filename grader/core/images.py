"""The grader's own image handling: which files are images, and the reference preprocessing.

Reference preprocessing is the lab's input contract (README of Practice 2): decode, convert
to RGB whatever the file's mode, resize the whole image to 224x224 (no crop), scale to
[0, 1], NCHW float32 with a batch dimension of 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@contextmanager
def pil_open_preserved() -> Iterator[None]:
    """Undo a library's global patch of ``PIL.Image.open`` made inside the block.

    Importing Ultralytics replaces ``Image.open`` with an opener that, on a file Pillow cannot
    identify, tries to pip-install pi-heif and raises ModuleNotFoundError offline. In one grading
    process that would break every later practice's image loading (students' loaders included).
    """
    original = Image.open
    try:
        yield
    finally:
        Image.open = original  # type: ignore[method-assign]


def is_image(path: Path) -> bool:
    """True when Pillow can identify ``path`` as an image (content, not only the extension)."""
    if not path.is_file() or path.name.startswith("."):
        return False
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError):
        return False


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The images in ``folder``, in sorted file-name order (non-images left out)."""
    return [path for path in sorted(Path(folder).iterdir(), key=lambda p: p.name) if is_image(path)]


def reference_tensor(path: str | os.PathLike[str], size: int = 224) -> np.ndarray:
    """The contract's tensor for one image: 1x3xSIZExSIZE float32 RGB in [0, 1], C-contiguous."""
    with Image.open(path) as image:
        rgb = image.convert("RGB").resize((size, size), Image.BILINEAR)
    array = np.asarray(rgb, dtype=np.float32) / 255.0
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def reference_batch(paths: list[Path], size: int = 224) -> np.ndarray:
    """Reference tensors of several images, stacked to Nx3xSIZExSIZE."""
    return np.concatenate([reference_tensor(path, size) for path in paths])
