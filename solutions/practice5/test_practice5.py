"""Practice 5 tests: run `pytest solutions/practice5` from the repository root.

The tests live once, in grader/practices/practice5/suite.py; this entry grades the file next to it.
Editing this file changes nothing in how your instructor grades your work.
"""

from grader.practices.practice5.suite import *  # noqa: F401,F403
