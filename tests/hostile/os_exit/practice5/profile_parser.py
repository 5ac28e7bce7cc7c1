"""Hostile entry: os._exit(0) inside a function: the process vanishes mid-test (expected: crashed)."""

import os


def parse_profile(path):
    os._exit(0)
