"""Offline, reproducible environment for every grading run (tests, CLI, batch workers).

Hub clients and Ultralytics read these variables when they are first imported, so
``apply`` runs before any suite imports them (the plugin calls it in ``pytest_configure``).
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "TRTLAB_CACHE_DIR"

# Fixed values: no hub downloads, no pip auto-installs from inside Ultralytics.
OFFLINE_VARS = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "YOLO_OFFLINE": "1",
    "YOLO_AUTOINSTALL": "0",
    "MPLBACKEND": "Agg",
}


def user_cache_home() -> Path:
    """The user's cache folder as it was before the grader redirected XDG_CACHE_HOME."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def apply(scratch: Path) -> dict[str, str | None]:
    """Set the offline variables; return the previous values so they can be restored.

    Ultralytics writes settings (and probes DNS) under YOLO_CONFIG_DIR, onnxruntime writes
    under XDG_CACHE_HOME at import: both go to a throw-away ``scratch`` folder. The lab's
    artifact cache, Hugging Face and torch hub caches keep pointing at the user's real cache,
    so weights downloaded once (e.g. resnet50 on the Jetson) stay usable offline.
    """
    home = user_cache_home()
    values: dict[str, str] = dict(OFFLINE_VARS)
    for name, default in (
        (CACHE_ENV, home / "trt-lab"),
        ("HF_HOME", home / "huggingface"),
        ("TORCH_HOME", home / "torch"),
    ):
        values[name] = os.environ.get(name) or str(default)
    values["YOLO_CONFIG_DIR"] = str(scratch / "ultralytics")
    values["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    for folder in (values["YOLO_CONFIG_DIR"], values["XDG_CACHE_HOME"]):
        Path(folder).mkdir(parents=True, exist_ok=True)
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    return previous


def restore(previous: dict[str, str | None]) -> None:
    """Undo ``apply``."""
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
