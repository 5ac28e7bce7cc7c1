"""Hostile entry: a segmentation fault through ctypes, like pycuda misuse on the Jetson (expected: crashed, "SIGSEGV")."""

import ctypes


def parse_profile(path):
    ctypes.memset(16, 0, 1)  # writes into page 0, which is never mapped
    return []
