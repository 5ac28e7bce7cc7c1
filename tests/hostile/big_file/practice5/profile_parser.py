"""Hostile entry: writes a 2 GB file in its working folder (expected: crashed, "file size limit")."""


def parse_profile(path):
    block = b"\0" * (16 << 20)
    with open("huge.bin", "wb") as handle:
        for _ in range(128):
            handle.write(block)
    return []
