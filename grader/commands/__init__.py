"""The grader's commands that are not a practice's: ``inspect`` (more move here with the layout work)."""
