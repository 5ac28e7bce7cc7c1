"""The worker's instructions (``sandbox.Plan``): its environment, what it may read, what stays covered, its uid.

Kept read-only: the repository, the Python installation, model caches and a read-only view of the
artifact cache; covered: ``solutions/``, ``tests/``, ``.git``, the suites' source (the zygote imported it
already, so hidden tests stay unread), the submissions folder, OUT and every other workspace.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from grader.commands.batch import allocator
from grader.commands.batch.sandbox import SLOT_UID_BASE, SLOT_UID_SPAN, Limits, Plan, hidden_paths

OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "YOLO_OFFLINE", "YOLO_AUTOINSTALL")


def slot_uid_base(batch_root: Path) -> int:
    """The first of this batch's 256 slot uids (root mode): one range per batch, no user owns any of them."""
    batch_number = int(hashlib.sha256(str(batch_root).encode()).hexdigest()[:8], 16) % (SLOT_UID_SPAN // 256)
    return SLOT_UID_BASE + 256 * batch_number


def worker_environment(workspace: Path) -> dict[str, str]:
    """The worker's environment variables (empty ones are dropped): nothing of the instructor's but the caches."""
    home = workspace / "home"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(workspace / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "TRTLAB_CACHE_DIR": str(workspace / "cache"),
        "HF_HOME": os.environ.get("HF_HOME", ""),
        "TORCH_HOME": os.environ.get("TORCH_HOME", ""),
    }
    for name in OFFLINE_SWITCHES:
        env[name] = os.environ.get(name, "1" if "OFFLINE" in name else "0")
    env["MPLBACKEND"] = "Agg"
    env.update(allocator.malloc_environment(os.environ))  # for the worker's own programs (polygraphy run)
    # The grader's plugin by name and no other: the same plugins as the trusted run, whatever else is
    # installed, and no scan of every package's entry points per submission.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return {k: v for k, v in env.items() if v}


def pytest_arguments(repo: Path, workspace: Path, practices: list[int], tier: str = "") -> list[str]:
    """The worker's pytest command line: the handed-in practices, the lab's config, the grader's plugin
    (``tier``: that tier's tests only, as a cluster's worker runs them)."""
    return [
        *[f"assignments/practice{n}" for n in practices],
        "-c",
        str(repo / "pyproject.toml"),
        "--rootdir",
        str(workspace),
        "-q",
        "-s",
        "-p",
        "grader.plugin.hooks",
        "-p",
        "pytest_timeout",
        "-p",
        "no:cacheprovider",
        *(["--grade-tier", tier] if tier else []),
    ]


class Planner:
    """Builds the plans of one batch's workers."""

    def __init__(
        self, *, repo: Path, batch_root: Path, cache_dir: Path, limits: Limits, threads: int, hide: list[str]
    ) -> None:
        self.repo = repo
        self.batch_root = batch_root
        self.cache_dir = cache_dir
        self.limits = limits
        self.threads = threads
        self.extra_hide = hide

    def plan(self, job: str, workspace: Path, practices: list[int], mode: str, uid: int, tier: str = "") -> Plan:
        """The worker's instructions (``tier``: run that tier's tests only)."""
        hide = self.covered()
        return Plan(
            forbidden=[*hide, str(self.batch_root / "ws"), str(self.batch_root / "zygote")],
            job=job,
            workspace=str(workspace),
            args=pytest_arguments(self.repo, workspace, practices, tier),
            env=worker_environment(workspace),
            mode=mode,
            uid=uid,
            hide=hidden_paths(hide),
            keep=self.kept(workspace),
            limits=self.limits.describe(),
            threads=self.threads,
            start_dir=str(workspace / "assignments"),
        )

    def probe_plan(self, workspace: Path, mode: str, uid: int) -> Plan:
        """A probe worker's instructions: report what it can see and do, run no pytest."""
        plan = self.plan("probe", workspace, [], mode, uid)
        plan.action = "probe"
        plan.probe_paths = {
            "hidden:solutions": str(self.repo / "solutions"),
            "hidden:tests": str(self.repo / "tests"),
            "readonly:repo": str(self.repo),
            "readonly:cache": str(self.batch_root / "cache-ro"),
        }
        return plan

    def covered(self) -> list[str]:
        """Folders no worker may see: the answers, the self-tests, the history, the suites, the batch's own."""
        hide = [str(self.repo / name) for name in ("solutions", "tests", ".git")]
        hide += [str(self.repo / "grader" / "practices")]  # imported by the zygote already: hidden tests stay unread
        return hide + self.extra_hide

    def kept(self, workspace: Path) -> list[list[str]]:
        """Binds back into the sandbox: the workspace (writable), the cache's read-only view, what Python needs."""
        keep = [[str(workspace), str(workspace), "rw"], [str(self.cache_dir), str(self.batch_root / "cache-ro"), "ro"]]
        return keep + [[path, path, "ro"] for path in self.needed_paths()]

    def needed_paths(self) -> list[str]:
        """Folders a worker must read: the repository, the Python installation, model caches."""
        paths = {str(self.repo), sys.prefix, sys.base_prefix, sys.exec_prefix}
        shared = self.repo.parent / "shared" / "reference"  # real NVIDIA exports Practice 5 grades against
        if shared.is_dir():
            paths.add(str(shared.resolve()))
        paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
        for entry in sys.path:
            # Installed packages only: the current folder (sys.path[0]) may be the instructor's home.
            if entry and os.path.isdir(entry) and ("-packages" in entry or entry.startswith(sys.base_prefix)):
                paths.add(os.path.realpath(entry))
        for name in ("HF_HOME", "TORCH_HOME"):
            value = os.environ.get(name)
            if value and os.path.isdir(value):
                paths.add(os.path.realpath(value))
        return _outermost(paths)


def _outermost(paths: set[str]) -> list[str]:
    """The paths not inside another one of them (and never ``/``), shallowest first."""
    kept: list[str] = []
    for path in sorted(paths, key=lambda p: (len(Path(p).parts), p)):
        if path == "/" or any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            continue
        kept.append(path)
    return kept
