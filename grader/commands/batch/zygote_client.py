"""The parent's side of ``grader.commands.batch.zygote``: start the forking server, hand it jobs.

Each job's descriptors are made here, in the parent: the result channel (an AF_UNIX SOCK_SEQPACKET
pair), a key pipe (the key is written and the write end closed before the worker exists), an output
pipe and a status pipe. The worker's ends travel to the zygote with SCM_RIGHTS and are closed here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.commands.batch import allocator
from grader.commands.batch.sandbox import Plan


class ZygoteError(RuntimeError):
    """The forking server could not start or stopped."""


@dataclass
class WorkerEnds:
    """The parent's ends of one forked worker's descriptors, and the worker's pid (process A)."""

    pid: int
    channel: socket.socket
    out_fd: int
    status_fd: int


class ZygoteClient:
    """The client side of ``grader.commands.batch.zygote``."""

    def __init__(self, scratch: Path, log: Path) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = parent_end
        env = {**os.environ, **allocator.malloc_environment(os.environ), "PYTHONHASHSEED": "0"}
        scratch.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "grader.commands.batch.zygote",
                    str(child_end.fileno()),
                    str(os.getpid()),
                    str(scratch),
                ],
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,
                env=env,
            )
        child_end.close()
        self.sock.settimeout(600)
        try:
            ready = json.loads(self.sock.recv(1 << 20) or b"{}")
        except (OSError, ValueError) as error:
            raise ZygoteError(f"the worker server did not start: {error} (see {log})") from None
        if ready.get("type") != "ready":
            raise ZygoteError(f"the worker server did not start (see {log})")
        self.ready = ready
        self.sock.settimeout(60)

    def start(self, plan: Plan, fds: list[int]) -> int:
        """Fork a worker for ``plan``; return its pid (process A)."""
        socket.send_fds(self.sock, [json.dumps({"plan": plan.to_json()}).encode()], fds)
        reply = json.loads(self.sock.recv(1 << 16) or b"{}")
        if reply.get("type") != "started":
            raise ZygoteError(f"the worker server refused a job: {reply}")
        return int(reply["pid"])

    def fork_worker(self, plan: Plan, key: bytes, *, watched: bool) -> WorkerEnds:
        """Make one worker's descriptors and fork it. ``watched``: the parent's ends are for the event loop
        (non-blocking; the channel attests each sender's pid, set before the worker can send anything)."""
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if watched:
            parent_end.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            parent_end.setblocking(False)
        key_r, key_w = os.pipe()
        os.write(key_w, key)
        os.close(key_w)
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            pid = self.start(plan, [child_end.fileno(), key_r, out_w, status_w])
        finally:
            for fd in (key_r, out_w, status_w):
                os.close(fd)
            child_end.close()
        if watched:
            for fd in (out_r, status_r):
                os.set_blocking(fd, False)
        return WorkerEnds(pid, parent_end, out_r, status_r)

    def close(self) -> None:
        """Stop the server."""
        try:
            self.sock.close()
        finally:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
