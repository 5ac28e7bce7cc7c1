"""Hostile entry: makes every pytest report say "passed" (expected: invalid, "tampering detected")."""

import _pytest.reports
import pytest

_pytest.reports.TestReport.passed = property(lambda self: True)
_pytest.reports.TestReport.failed = property(lambda self: False)


class _AlwaysPass:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        report.outcome = "passed"
        report.longrepr = None
        return report


def _config():
    import gc

    for obj in gc.get_objects():
        if type(obj).__name__ == "Config" and hasattr(obj, "pluginmanager"):
            return obj
    return None


config = _config()
if config is not None:
    config.pluginmanager.register(_AlwaysPass(), "always-pass")


def parse_profile(path):
    return []
