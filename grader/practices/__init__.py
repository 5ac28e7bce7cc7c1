"""One package per practice: its metadata, grading suite, domain knowledge and test data.

``grader/practices/practiceN/__init__.py`` declares ``PRACTICE`` (a ``grader.core.practice.Practice``)
and imports nothing heavy; ``suite.py`` holds the tests. A practice folder's test entry
(``test_practiceN.py``) star-imports its suite; the tests grade the student file that sits next to
that entry. The batch grader writes its own pristine entry, so editing the entry never changes what
an instructor grades. Suite modules are not named ``test_*.py``: pytest only collects them through
an entry.

``PRACTICES`` is read from the packages found here: adding ``practice6/`` adds a practice.
"""

from __future__ import annotations

import importlib
import pkgutil

from grader.core.practice import Practice, number_of_module


def _discover() -> dict[int, Practice]:
    """Every ``practiceN`` package's ``PRACTICE``, by number."""
    found: dict[int, Practice] = {}
    for info in pkgutil.iter_modules(__path__, f"{__name__}."):
        number = number_of_module(info.name)
        if not info.ispkg or number is None:
            continue
        practice = getattr(importlib.import_module(info.name), "PRACTICE", None)
        if not isinstance(practice, Practice) or practice.number != number:
            raise ImportError(f"{info.name} must declare PRACTICE = Practice({number}, ...)")
        found[number] = practice
    return dict(sorted(found.items()))


PRACTICES: dict[int, Practice] = _discover()


def practice_of_module(module_name: str) -> Practice | None:
    """The practice whose package defines ``module_name``, or None."""
    number = number_of_module(module_name)
    return PRACTICES.get(number) if number is not None else None
