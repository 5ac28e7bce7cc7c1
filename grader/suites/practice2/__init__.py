"""Practice 2 suite: the Polygraphy calibration data loader and real INT8 accuracy."""

from grader.suites.practice2.suite import *  # noqa: F401,F403
