"""Command line: ``python -m grader selfcheck | profile | inspect | batch | release``."""

from __future__ import annotations

import argparse
import sys

from grader.core import offline


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m grader`` and the ``trt-lab`` script."""
    parser = argparse.ArgumentParser(prog="python -m grader", description="TensorRT lab grader")
    commands = parser.add_subparsers(dest="command", required=True)
    from grader.commands import selfcheck

    commands.add_parser(
        "selfcheck",
        help="grade solutions/ (must earn 100%%) and assignments/ (must earn 0%%) and print both tables",
    ).add_argument(
        "--practices",
        type=selfcheck.practice_numbers,
        default=None,
        help="comma-separated practice numbers (default: all), e.g. a practice you are adding",
    )
    from grader.commands import profile as profile_cli

    profile_cli.add_arguments(
        commands.add_parser(
            "profile",
            help="summary table and plot of a trtexec profile (JSON export, saved stdout, or an engine on the Jetson)",
            description=profile_cli.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    from grader.commands import inspect as inspect_cli

    inspect_cli.add_arguments(
        commands.add_parser(
            "inspect",
            help="what a trtexec/TensorRT file holds (profile or layer-info JSON, log, calibration cache), read by content",
            description=inspect_cli.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    from grader.commands.batch import cli as batch_cli

    batch_cli.add_arguments(
        commands.add_parser(
            "batch",
            help="grade a class: one folder or .zip per student, isolated, parallel, resumable",
            description=batch_cli.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    from grader.commands import release

    release.add_arguments(
        commands.add_parser(
            "release",
            help="write the student bundle: assignments, visible tests, photos, README; no solutions or hidden tests",
            description=release.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    offline.apply()
    if args.command == "selfcheck":
        return selfcheck.run(practices=args.practices)
    if args.command == "profile":
        return profile_cli.run(args)
    if args.command == "inspect":
        return inspect_cli.run(args)
    if args.command == "batch":
        return batch_cli.run(args)
    if args.command == "release":
        return release.run(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
