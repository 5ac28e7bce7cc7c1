"""Hostile entry: writes fake result files everywhere it can and prints fake JSON (expected: graded, 0 points)."""

import json
import os
from pathlib import Path

FAKE = {"score": 999, "tests": [{"name": "all", "score": 999, "max_score": 1, "status": "passed"}]}


def _forge():
    print(json.dumps(FAKE))
    print("TRTLAB-RESULT " + json.dumps({"nodeid": "*", "status": "passed"}))
    for folder in [Path.cwd(), *Path.cwd().parents, Path(os.environ.get("HOME", "/")), Path("/tmp")]:
        for name in ("results.json", "result.json", "gradebook.csv", "report.html", "feedback.md"):
            try:
                (folder / name).write_text(json.dumps(FAKE))
            except OSError:
                pass


_forge()


def parse_profile(path):
    _forge()
    return []
