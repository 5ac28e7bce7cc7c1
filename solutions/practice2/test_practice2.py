"""Practice 2 tests: run `pytest solutions/practice2` from the repository root.

The tests live once, in grader/practices/practice2/suite.py; this entry grades the file next to it.
Editing this file changes nothing in how your instructor grades your work.
"""

from grader.practices.practice2.suite import *  # noqa: F401,F403
