"""Hostile entry: a syntax error (expected: graded, 0 points, "has a syntax error at line")."""


def parse_profile(path):
    return []


return parse_profile  # noqa: F706 - deliberate: Python rejects the file at compile time
