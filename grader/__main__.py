"""Command line: ``python -m grader selfcheck | profile | inspect | batch | worker | similarity | gradescope | release``."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from grader.core import offline

# name -> (the command's module, its one-line help); each module offers add_arguments(parser) and run(args).
COMMANDS = {
    "selfcheck": (
        "grader.commands.selfcheck",
        "grade solutions/ (must earn 100%%) and assignments/ (must earn 0%%) and print both tables",
    ),
    "profile": (
        "grader.commands.profile",
        "summary table and plot of a trtexec profile (JSON export, saved stdout, or an engine on the Jetson)",
    ),
    "inspect": (
        "grader.commands.inspect",
        "what a trtexec/TensorRT file holds (profile or layer-info JSON, log, calibration cache), read by content",
    ),
    "batch": (
        "grader.commands.batch.cli",
        "grade a class: one folder or .zip per student, isolated, parallel, resumable",
    ),
    "gradescope": (
        "grader.commands.gradescope",
        "write the Gradescope autograder zip: setup.sh, run_autograder, the grader with its hidden tests",
    ),
    "release": (
        "grader.commands.release",
        "write the student bundle: assignments, visible tests, photos, README; no solutions or hidden tests",
    ),
    "similarity": (
        "grader.commands.similarity",
        "flag pairs of alike submissions for a human; never changes grades",
    ),
    "worker": ("grader.commands.worker", "grade a cluster batch's submissions on this machine (a Dask worker)"),
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The parser with one subcommand per entry of ``COMMANDS``, and the commands' modules by name."""
    parser = argparse.ArgumentParser(prog="python -m grader", description="TensorRT lab grader")
    subcommands = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = modules[name] = importlib.import_module(module_name)
        module.add_arguments(
            subcommands.add_parser(
                name,
                help=help_text,
                description=module.__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m grader`` and the ``trt-lab`` script."""
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    # ultralytics' settings and onnxruntime's cache go to a folder that goes away with the command
    with tempfile.TemporaryDirectory(prefix="trtlab-", ignore_cleanup_errors=True) as scratch:
        previous = offline.apply(Path(scratch))
        try:
            return int(modules[args.command].run(args))
        finally:
            offline.restore(previous)


if __name__ == "__main__":
    sys.exit(main())
