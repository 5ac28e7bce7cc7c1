"""A submission's workspace: built fresh from bytes before its worker starts, removed after it ends.

Every workspace lies under ``BATCH_ROOT/ws`` (covered in every sandbox but the workspace's own): the
pristine test entries, the student's files, ``calib_images``, ``home`` and ``tmp``, and a private view
of the artifact cache whose entries link to the read-only ``BATCH_ROOT/cache-ro``.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.commands.batch.submissions import Submission, remove_tree
from grader.commands.batch.trusted import layout


class Workspaces:
    """Builds and removes the workspaces of one batch."""

    def __init__(self, *, repo: Path, batch_root: Path, cache_dir: Path) -> None:
        self.repo = repo
        self.batch_root = batch_root
        self.cache_dir = cache_dir
        self.root = batch_root / "ws"

    def fresh(self, name: str) -> Path:
        """An empty folder ``ws/<name>`` (what a killed earlier run left there is removed)."""
        workspace = self.root / name
        if workspace.exists() or workspace.is_symlink():
            remove_tree(workspace)
        workspace.mkdir(parents=True)
        return workspace

    def for_submission(self, submission: Submission) -> Path:
        """A fresh workspace: pristine entries, the student's files, calib_images, a private cache view."""
        workspace = self.fresh(submission.safe_id)
        files = {number: {found.name: found.data, **found.extras} for number, found in sorted(submission.files.items())}
        layout(workspace, self.repo, files)
        for name in ("home", "tmp"):
            (workspace / name).mkdir()
        self._cache_view(workspace / "cache")
        return workspace

    def _cache_view(self, cache: Path) -> None:
        """``cache/<kind>/<item>`` links into the read-only view of the shared cache (no dot files)."""
        cache.mkdir()
        if not self.cache_dir.is_dir():
            return
        for kind in sorted(self.cache_dir.iterdir()):
            if not kind.is_dir() or kind.name.startswith("."):
                continue
            (cache / kind.name).mkdir()
            for item in kind.iterdir():
                if not item.name.startswith("."):
                    (cache / kind.name / item.name).symlink_to(self.batch_root / "cache-ro" / kind.name / item.name)

    @staticmethod
    def remove(workspace: Path) -> None:
        """Delete a workspace and everything in it."""
        remove_tree(workspace)


def chown_tree(path: Path, uid: int) -> None:
    """Give a workspace to the submission's slot user (root mode)."""
    os.lchown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def used_bytes(path: Path, stop_above: int) -> int:
    """Bytes used by a folder (stops counting past ``stop_above``)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
            if total > stop_above:
                return total
    return total
