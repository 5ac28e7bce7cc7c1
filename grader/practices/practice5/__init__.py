"""Practice 5: Reading trtexec's profiles, layer info and summaries."""

from grader.core.practice import Practice

PRACTICE = Practice(5, "Profile parsing", "profile_parser.py")
