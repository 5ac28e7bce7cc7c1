"""Practice 5 tests: run `pytest solutions/practice5` from the repository root.

The tests live once, in grader/suites/practice5; this entry grades the file next to it.
Editing this file changes nothing in how your instructor grades your work.
"""

from grader.suites.practice5 import *  # noqa: F401,F403
