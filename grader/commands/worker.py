"""``python -m grader worker SCHEDULER_ADDRESS``: this machine grades a cluster batch's submissions.

    python -m grader worker tcp://PC:8786 [--nthreads N] [--name NAME]

Probes the machine once (TensorRT, a GPU, pycuda, trtexec, DLA cores) and joins the Dask scheduler
at SCHEDULER_ADDRESS as a worker whose resources say which tiers of tests it can run: ``tier-cpu``
always, ``tier-gpu`` only where TensorRT, a GPU, pycuda and trtexec are all found, so GPU-tier work
(tests that ``requires`` them) lands only on such a machine. Each submission it receives is graded in
the same sandbox, limits and signed result channel as ``python -m grader batch``, N at a time. Work
from a batch whose grader version or suite hash differs from this machine's is refused.

TEST setting: ``TRTLAB_WORKER_TIERS=cpu,gpu`` makes this worker advertise exactly those tiers whatever
the probe finds (the self-tests' way to route GPU-tier work without the hardware; never on a real
lab: the GPU tier's tests would all be skipped, so "not graded" for every student).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

TIERS_ENV = "TRTLAB_WORKER_TIERS"
GPU_TIER_NEEDS = ("tensorrt", "gpu", "pycuda", "trtexec")  # what the GPU tier's tests require between them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The worker command's options."""
    parser.add_argument("scheduler", help="the Dask scheduler's address, e.g. tcp://192.168.1.10:8786")
    parser.add_argument(
        "--nthreads", type=int, default=1, help="submissions graded at once on this machine (default 1)"
    )
    parser.add_argument("--name", default=None, help="this worker's name in the batch (default: host name and pid)")


def probe_tiers() -> tuple[list[str], dict[str, str]]:
    """The tiers this machine can run and what the probe found (or the TEST setting's tiers)."""
    from grader.backends import requirements

    found = {name: requirements.capability(name) for name in (*GPU_TIER_NEEDS, "dla")}
    facts = {name: (cap.detail if cap.available else f"no ({cap.detail})") for name, cap in found.items()}
    forced = os.environ.get(TIERS_ENV, "").strip()
    if forced:
        tiers = sorted({part.strip() for part in forced.split(",") if part.strip()})
        unknown = [tier for tier in tiers if tier not in ("cpu", "gpu")]
        if unknown or not tiers:
            raise SystemExit(f"{TIERS_ENV}={forced!r}: expected tiers among cpu,gpu, e.g. cpu,gpu")
        return tiers, facts
    gpu = all(found[name].available for name in GPU_TIER_NEEDS)
    return (["cpu", "gpu"] if gpu else ["cpu"]), facts


def run(args: argparse.Namespace) -> int:
    """Probe, then serve the scheduler until it goes away or Ctrl-C."""
    from grader.backends import requirements
    from grader.commands.batch import remote
    from grader.commands.batch.cli import BATCH_SCHEMA

    if args.nthreads < 1:
        raise SystemExit("--nthreads must be positive")
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    tiers, facts = probe_tiers()
    root = Path(tempfile.mkdtemp(prefix="trtlab-worker-"))
    remote.SERVICE = remote.Service(name, tiers, args.nthreads, root, requirements.fingerprint(), BATCH_SCHEMA)
    shown = ", ".join(f"{key}: {value}" for key, value in facts.items())
    forced = f" ({TIERS_ENV} set: a TEST setting)" if os.environ.get(TIERS_ENV) else ""
    print(f"worker {name}: tiers {', '.join(tiers)}{forced}; {shown}", file=sys.stderr, flush=True)
    resources = {f"tier-{tier}": float(args.nthreads) for tier in tiers}
    # SIGTERM ends the worker as Ctrl-C does: its folder (workspaces, trusted runs) is removed
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        asyncio.run(_serve(args.scheduler, name, args.nthreads, resources, root))
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        raise SystemExit(f"worker {name}: cannot reach the scheduler at {args.scheduler}: {error}") from None
    finally:
        from grader.commands.batch.submissions import remove_tree

        remove_tree(root)
    return 0


async def _serve(address: str, name: str, nthreads: int, resources: dict[str, float], root: Path) -> None:
    """A ``distributed.Worker`` with the tiers as resources, until it closes."""
    from distributed import Worker

    worker = Worker(
        address,
        name=name,
        nthreads=nthreads,
        resources=resources,
        local_directory=str(root / "dask"),
        memory_limit=0,  # the sandbox limits each submission; Dask must not pause or kill the grader
        death_timeout=60,
    )
    await worker
    print(f"worker {name}: joined {address}", file=sys.stderr, flush=True)
    await worker.finished()
