"""Practice 3 suite: GPU-simulated DLA build and the DLA placement simulator (CPU tier real work; builds on the Jetson)."""

from grader.suites.practice3.suite import *  # noqa: F401,F403
