"""trtexec backend (Jetson): finding the binary; builds and profiles come with Practices 4-5."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

JETPACK_TRTEXEC = Path("/usr/src/tensorrt/bin/trtexec")


def find_trtexec() -> Path | None:
    """trtexec on PATH, else JetPack's ``/usr/src/tensorrt/bin/trtexec``, else None."""
    found = shutil.which("trtexec")
    if found:
        return Path(found)
    if JETPACK_TRTEXEC.is_file() and os.access(JETPACK_TRTEXEC, os.X_OK):
        return JETPACK_TRTEXEC
    return None
