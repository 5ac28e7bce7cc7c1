"""Hostile entry: tries to delete files outside its workspace (expected: graded, 0 points; nothing outside changes)."""

import glob
import os
import shutil
import sys
from pathlib import Path


def _vandalize():
    targets = [Path(sys.prefix) / "trtlab-hostile-sentinel.txt"]
    targets += [Path(p) for p in glob.glob("/tmp/trtlab-hostile-sentinel-*/*")]
    cache = Path(os.environ.get("TRTLAB_CACHE_DIR", "/nonexistent"))
    targets += [p.resolve() for p in cache.glob("*/*")]
    targets += [p for p in Path.cwd().parent.glob("*") if p != Path.cwd()]
    for target in targets:
        try:
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        except OSError:
            pass


def parse_profile(path):
    _vandalize()
    return []
