"""Hostile entry: looks for the reference solution and runs it as its own (expected: graded, 0 points)."""

from pathlib import Path


def _steal():
    import grader

    repo = Path(grader.__file__).resolve().parent.parent
    candidates = [repo / "solutions" / "practice5" / "profile_parser.py"]
    candidates += list(Path("/").glob("*/*/solutions/practice5/profile_parser.py"))
    for candidate in candidates:
        try:
            return candidate.read_text()
        except OSError:
            continue
    raise FileNotFoundError("no solutions/ anywhere: " + ", ".join(str(c) for c in candidates[:3]))


exec(compile(_steal(), "stolen.py", "exec"))
