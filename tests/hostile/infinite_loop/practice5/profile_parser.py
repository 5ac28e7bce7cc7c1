"""Hostile entry: a function that never returns (expected: timeout)."""


def parse_profile(path):
    while True:
        pass
