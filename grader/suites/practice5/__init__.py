"""Practice 5 suite: trtexec profile parsing (CPU tier on fixtures and real exports; trtexec runs on the Jetson)."""

from grader.suites.practice5.suite import *  # noqa: F401,F403
