"""Hostile entry: an exception at import time (expected: graded, 0 points, "Importing ... raised")."""

raise RuntimeError("this submission fails as soon as it is imported")
