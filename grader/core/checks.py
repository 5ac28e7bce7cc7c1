"""What the suites use to check student work and fail with one clear message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

import pytest

from grader.core.student import StudentCodeError

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Fail the current test with ``message`` only (no grader traceback)."""
    pytest.fail(message, pytrace=False)


def expect(condition: object, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)


class Attempt(Generic[T]):
    """The outcome of running student code once, shared by several tests.

    Fixtures run the student's function once (``attempt``); each test then calls
    ``result()``, which re-raises the student's failure inside that test, so every
    dependent test fails with the same clear message instead of a fixture "error".
    """

    def __init__(self, value: T | None = None, error: StudentCodeError | None = None) -> None:
        self._value = value
        self._error = error

    def result(self) -> T:
        """The value, or the student's failure raised again."""
        if self._error is not None:
            raise StudentCodeError(str(self._error), self._error.kind)
        return self._value  # type: ignore[return-value]


def attempt(work: Callable[[], T]) -> Attempt[T]:
    """Run ``work`` now; keep its value or the StudentCodeError it raised."""
    try:
        return Attempt(value=work())
    except StudentCodeError as error:
        return Attempt(error=error)
