"""The grading pytest plugin: points, visibility, hardware gating and reports.

``hooks`` is the one module registered with pytest (entry point ``trtlab``); ``scoring``
holds the results model and ``report`` turns results into the terminal table and the
Gradescope JSON.
"""
