"""Hostile entry: memory that grows without end (expected: crashed, "memory limit")."""


def parse_profile(path):
    blocks = []
    while True:
        blocks.append(bytearray(256 << 20))
