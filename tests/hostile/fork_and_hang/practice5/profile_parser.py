"""Hostile entry: leaves a detached child that sleeps forever (expected: graded, 0 points; no process survives the batch)."""

import os
import time


def parse_profile(path):
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
    return "not a list"
