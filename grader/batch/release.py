"""``python -m grader release OUT_DIR``."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options."""
    parser.add_argument("out_dir")


def run(args: argparse.Namespace) -> int:
    """Write the bundle."""
    raise SystemExit("not yet")
