"""Practice 2's batch worker setup: a ``polygraphy`` process forked before any student code runs.

The suite's ``polygraphy run`` test starts the Polygraphy command line. In a batch worker, Polygraphy is
already imported (the zygote preloads it, ``PRACTICE.preload``); a process forked now runs the command
without importing it again (~2 s on 2 cores), and is safe to fork because no torch op has run yet
(``grader.core.prefork`` says why that matters).
"""

from __future__ import annotations

import sys

from grader.backends import polygraphy_cli
from grader.core.prefork import PreforkedRun

# Imported by the zygote (PRACTICE.preload) when Polygraphy is installed; without it a new program costs the same.
COMMAND_LINE_MODULE = "polygraphy.tools"


def setup(close_fds: tuple[int, ...]) -> PreforkedRun | None:
    """The helper that will run one ``polygraphy`` command (``Practice.worker_setup``), or None."""
    if COMMAND_LINE_MODULE not in sys.modules:
        return None
    try:
        return PreforkedRun(polygraphy_cli.main_in_this_process, close_fds)
    except OSError:  # no process left under the limit: the test starts the program itself, as before
        return None
