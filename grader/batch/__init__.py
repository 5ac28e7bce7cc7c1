"""Instructor batch grading (threat model written below once the design settles)."""
