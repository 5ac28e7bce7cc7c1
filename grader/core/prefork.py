"""A process forked at a batch worker's start that later runs one command-line tool in-process.

A batch worker is forked from the zygote with torch, ONNX Runtime and Polygraphy already imported.
Starting ``polygraphy run`` as a new program re-imports all of that (about 2 s on 2 cores), while
forking the worker when the test needs it is unsafe: by then the submission has run torch ops, and
GNU OpenMP's thread pool does not survive a fork (a child that runs torch ops again hangs). So the
worker forks this helper first, before any student code or torch op has run; the helper waits, and
when a test asks, runs the tool's own ``main()`` with the test's argv, working folder and
environment, writes stdout and stderr to files, and exits with the tool's exit code: a subprocess in
every respect the test can see, minus the imports. One helper runs one command; later calls, and
every call outside a batch worker, start the real program.

Generic (it knows no tool and no practice): a practice's worker setup (``Practice.worker_setup``) forks
one with the tool's entry point, and the practice's tests hand it to the backend that runs the tool.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

Entry = Callable[[list[str]], int]
POLL_S = 0.01


class PreforkedRun:
    """One forked, idle process that will run ``entry(args)`` once, when asked."""

    def __init__(self, entry: Entry, close_fds: Iterable[int] = ()) -> None:
        read_end, self._request = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._request)
            for fd in close_fds:  # the result channel and its key stay with the worker
                try:
                    os.close(fd)
                except OSError:
                    pass
            _serve(read_end, entry)
        os.close(read_end)
        self.used = False

    def run(
        self, program: str, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run the entry with ``args`` as ``program ARGS`` would run (raises TimeoutExpired like subprocess.run)."""
        self.used = True
        with tempfile.TemporaryDirectory(prefix="trtlab-prefork-") as scratch:
            out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
            request = {"argv": [program, *args], "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
            try:
                os.write(self._request, json.dumps(request).encode())
            finally:
                os.close(self._request)
            code = self._wait(timeout, [program, *args])
            stdout = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
            stderr = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
        return subprocess.CompletedProcess([program, *args], code, stdout, stderr)

    def _wait(self, timeout: float, command: list[str]) -> int:
        """The helper's exit code; killed and TimeoutExpired after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise subprocess.TimeoutExpired(command, timeout)
            time.sleep(POLL_S)

    def close(self) -> None:
        """Tell an unused helper to exit (it also exits on its own when the worker does)."""
        if not self.used:
            self.used = True
            os.close(self._request)
            os.waitpid(self.pid, 0)


def _serve(read_end: int, entry: Entry) -> None:
    """The helper (never returns): wait for one request, run it, exit with its code."""
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    if not chunks:  # the worker finished without asking
        os._exit(0)
    request = json.loads(b"".join(chunks))
    code = 1
    try:
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        code = entry(sys.argv[1:])
    except SystemExit as error:
        code = error.code if isinstance(error.code, int) else (0 if error.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as the program's own traceback, like Python would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)
