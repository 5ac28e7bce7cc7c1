"""Repository root: make a confused start fail with a helpful message, not a stack trace."""

import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Stop early when pytest runs from a Python that does not have the lab installed."""
    if not config.pluginmanager.has_plugin("trtlab"):
        raise pytest.UsageError(
            f"The lab's grader is not installed for this Python ({sys.executable}).\n"
            "Run ./setup.sh once, then use the lab's environment:\n"
            "    source .venv/bin/activate && pytest assignments/practice1"
        )
