"""Hostile entry: swaps the code of the grader's checks for no-ops (expected: invalid, "tampering detected")."""

import grader.core.checks
import grader.core.student


def _never_fail(*args, **kwargs):
    return None


grader.core.checks.expect.__code__ = _never_fail.__code__
grader.core.checks.fail.__code__ = _never_fail.__code__


def parse_profile(path):
    return []
