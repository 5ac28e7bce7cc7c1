"""One grading suite per practice, written once and pointed at any practice folder.

A practice folder's test entry (``test_practiceN.py``) star-imports its suite; the
tests grade the student file that sits next to that entry. The batch grader writes its
own pristine entry, so editing the entry never changes what an instructor grades.
Suite modules are not named ``test_*.py``: pytest only ever collects them through an entry.
"""
