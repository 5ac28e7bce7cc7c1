"""Hostile entry: memory that grows and is really used, page by page (expected: crashed, "memory limit")."""


def parse_profile(path):
    blocks = []
    while True:
        blocks.append(b"x" * (64 << 20))
