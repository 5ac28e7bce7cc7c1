"""Where the lab's folders are: the repository root the grader runs from, and NVIDIA's reference files beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# ../shared/reference: real trtexec exports and logs kept beside the repository (tests skip without them).
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
