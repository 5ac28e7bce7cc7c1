"""Hostile entry: prints 100 MB (expected: crashed, "output limit")."""

import sys


def parse_profile(path):
    line = "x" * (1 << 20)
    for _ in range(100):
        sys.stdout.write(line)
    return []
