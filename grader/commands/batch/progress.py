"""A plain-text progress bar with ETA on stderr (one line per finished student when not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def duration(seconds: float) -> str:
    """``1m05s`` or ``42s``."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Counts finished submissions and estimates the time left from the ones graded so far."""

    WIDTH = 28

    def __init__(self, total: int, jobs: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.jobs = max(1, jobs)
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.tty = self.stream.isatty()
        self._last_width = 0

    def eta(self) -> str:
        """Time left at the rate observed so far."""
        if self.done == 0:
            return "?"
        rate = (time.monotonic() - self.started) / self.done
        return duration(rate * (self.total - self.done))

    def line(self, running: list[tuple[str, float]]) -> str:
        """The bar and what runs now."""
        filled = int(self.WIDTH * self.done / self.total) if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        now = ", ".join(f"{name} {duration(seconds)}" for name, seconds in running[:3])
        return f"[{bar}] {self.done}/{self.total}  ETA {self.eta()}" + (f"  running: {now}" if now else "")

    def update(self, running: list[tuple[str, float]]) -> None:
        """Redraw (terminal only)."""
        if self.tty:
            text = self.line(running)
            self.stream.write("\r" + text + " " * max(0, self._last_width - len(text)))
            self.stream.flush()
            self._last_width = len(text)

    def finished(self, student: str, status: str, score: str, running: list[tuple[str, float]]) -> None:
        """One more student done."""
        self.done += 1
        if self.tty:
            self.update(running)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {student}: {status} {score}  ETA {self.eta()}\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty and self._last_width:
            self.stream.write("\n")
            self.stream.flush()
