"""The grader's image handling: image detection, reference tensors, and Ultralytics' PIL patch undone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from grader.core import images


def test_image_files_skip_non_images_in_name_order(tmp_path: Path) -> None:
    """Images by content, sorted by name; text, hidden and empty files are left out."""
    Image.new("RGB", (30, 20), "red").save(tmp_path / "b.png")
    Image.new("L", (20, 20)).save(tmp_path / "a.jpg")
    (tmp_path / "README.txt").write_text("text")
    (tmp_path / ".DS_Store").write_bytes(b"\x00" * 16)
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert [p.name for p in images.image_files(tmp_path)] == ["a.jpg", "b.png"]


def test_reference_tensor_contract(tmp_path: Path) -> None:
    """1x3x224x224 float32 in [0, 1], RGB order, C-contiguous, from any mode."""
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(tmp_path / "x.png")
    tensor = images.reference_tensor(tmp_path / "x.png")
    assert tensor.shape == (1, 3, 224, 224) and tensor.dtype == np.float32 and tensor.flags["C_CONTIGUOUS"]
    assert np.allclose(tensor[0, 0], 1.0) and np.allclose(tensor[0, 1:], 0.0)


def test_ultralytics_patch_of_pil_is_undone() -> None:
    """After the grader imports Ultralytics, Image.open is Pillow's own again (no pi-heif install on text files)."""
    code = (
        "from PIL import Image\n"
        "from grader.core.images import pil_open_preserved\n"
        "genuine = Image.open\n"
        "with pil_open_preserved():\n"
        "    import ultralytics  # noqa: F401\n"
        "    patched = Image.open is not genuine\n"
        "print(patched, Image.open is genuine)\n"
    )
    stdout = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    out = stdout.strip().splitlines()[-1].split()  # Ultralytics may print its settings notice first
    assert out == ["True", "True"]
