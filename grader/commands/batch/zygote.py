"""The warm forking server: imports the heavy libraries once, then forks one sandboxed worker per submission.

Started by the batch parent (``python -m grader.commands.batch.zygote FD PARENT_PID SCRATCH``) with one end of a SOCK_SEQPACKET
socket pair. It never runs student code: each job message carries a ``sandbox.Plan`` and four file
descriptors (SCM_RIGHTS: result channel, key pipe, output pipe, status pipe) that the parent created;
the zygote forks, the child becomes the submission's sandbox (``sandbox.run_job``), and the zygote
closes its copies at once, so it never holds a key or another job's descriptors when it forks.
Forking after the imports saves every submission the ~2 s of importing torch, ONNX Runtime, pytest
and the suites; each submission still starts from the zygote's pristine memory.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pkgutil
import signal
import socket
import sys
import time
from pathlib import Path

# Imported once here, with every practice's own ``preload`` after them; anything missing on this machine
# is skipped (the Jetson has no timm, say).
PRELOAD = (
    "numpy",
    "PIL.Image",
    "onnx",
    "onnxruntime",
    "torch",
    "torch.onnx",
    "torchvision",
    "timm",
    "matplotlib",
    "matplotlib.pyplot",
    "pytest",
    "pytest_timeout",
    "grader.plugin.hooks",
    "grader.commands.batch.stream",
    "grader.commands.batch.sandbox",
    "grader.core.student",
    "grader.core.checks",
)


def preload_modules() -> list[str]:
    """The libraries to import before forking: ``PRELOAD``, then what each practice declares, each once."""
    from grader.practices import PRACTICES

    names = list(PRELOAD)
    for practice in PRACTICES.values():
        names += [name for name in practice.preload if name not in names]
    return names


def preload() -> list[str]:
    """Import the libraries and every suite module; return what could not be imported."""
    missing = []
    for name in preload_modules():
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional on some machines
            missing.append(name)
    import grader.practices

    for info in pkgutil.walk_packages(grader.practices.__path__, "grader.practices."):
        try:
            importlib.import_module(info.name)
        except Exception as error:  # noqa: BLE001 - reported, graded as the suite's own failure
            missing.append(f"{info.name} ({type(error).__name__}: {error})")
    return missing


def _reap() -> None:
    """Collect finished workers (their status reaches the parent through the status pipe)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(control: socket.socket) -> None:
    """Fork a worker per job message until the parent closes the socket."""
    from grader.commands.batch import sandbox

    me = os.getpid()
    control.settimeout(0.5)
    while True:
        _reap()
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 8)
        except TimeoutError:
            continue
        except OSError:
            return
        if not message:
            return
        request = json.loads(message)
        plan = sandbox.Plan.from_json(request["plan"])
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"type": "error", "job": plan.job, "error": "expected 4 descriptors"}).encode())
            continue
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                sandbox.run_job(plan, *fds, zygote_pid=me)
            finally:
                os._exit(sandbox.EXIT_SETUP)
        for fd in fds:
            os.close(fd)
        del request, plan, fds
        control.send(json.dumps({"type": "started", "pid": pid}).encode())


def main(argv: list[str]) -> int:
    """Entry point: ``python -m grader.commands.batch.zygote CONTROL_FD PARENT_PID SCRATCH``."""
    from grader.commands.batch import sandbox
    from grader.core import offline

    control = socket.socket(fileno=int(argv[0]))
    sandbox.die_with_parent(int(argv[1]))
    # Orphans of a submission (a setsid daemon where no pid namespace could be made) become the zygote's
    # children, so the parent can still find and end them.
    sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C does
    offline.apply(Path(argv[2]))
    started = time.monotonic()
    missing = preload()
    # Everything imported so far lives as long as the worker: freezing it keeps every garbage
    # collection in a worker from walking it (pytest alone runs gc.collect() 4 times at exit: 0.5 s with
    # torch loaded) and from touching, so copying, the shared pages.
    gc.collect()
    gc.freeze()
    # No hardware probe here: probing DLA cores creates a TensorRT builder, i.e. a CUDA context, which a
    # forked worker cannot use. Workers probe for themselves (cheap where nothing is installed).
    control.send(
        json.dumps(
            {
                "type": "ready",
                "pid": os.getpid(),
                "import_s": round(time.monotonic() - started, 2),
                "missing": missing,
            },
            default=str,
        ).encode()
    )
    serve(control)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
