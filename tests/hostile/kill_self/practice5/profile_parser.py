"""Hostile entry: the submission SIGKILLs its own process (expected: crashed, "SIGKILL")."""

import os
import signal


def parse_profile(path):
    os.kill(os.getpid(), signal.SIGKILL)
