"""Hostile entry: a fork bomb, bounded at 5000 forks so it can never take a machine down (expected: crashed, "process limit")."""

import os
import time


def parse_profile(path):
    for _ in range(5000):
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
    return []
