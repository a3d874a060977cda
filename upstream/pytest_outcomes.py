"""A pytest plugin that writes each test's outcome to a JSON file.

``run.py`` loads it with ``-p pytest_outcomes --outcomes-json PATH`` to compare
two runs test by test. The file holds ``outcomes`` (test id: ``passed``,
``failed``, ``error`` for setup, teardown or collection, ``skipped``, ``xfailed``
or ``xpassed``) and ``skip_reasons`` (test id: reason, for skipped tests).
"""

from __future__ import annotations

import json
import pathlib

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--outcomes-json``."""
    parser.addoption(
        "--outcomes-json",
        type=pathlib.Path,
        help="write {test id: outcome} to this file",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Record outcomes when ``--outcomes-json`` is given."""
    path: pathlib.Path | None = config.getoption("outcomes_json")

    if path is not None:
        config.pluginmanager.register(Recorder(path), "outcomes-recorder")


class Recorder:
    """Collects the outcome of every test and writes them when the run ends."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.outcomes: dict[str, str] = {}
        self.skip_reasons: dict[str, str] = {}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module that fails to import counts as an error."""
        if report.failed:
            self.outcomes[report.nodeid] = "error"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the outcome of the call, or of a setup or teardown that failed."""
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "skipped"

            if isinstance(report.longrepr, tuple):
                self.skip_reasons[report.nodeid] = report.longrepr[2]
        elif report.when == "call":
            outcome = "passed"
        else:
            return

        if self.outcomes.get(report.nodeid) != "error":
            self.outcomes[report.nodeid] = outcome

    def pytest_sessionfinish(self) -> None:
        """Write the outcomes."""
        data = {"outcomes": self.outcomes, "skip_reasons": self.skip_reasons}
        self.path.write_text(json.dumps(data, indent=1, sort_keys=True))
