"""The "Versions tested" table is written from the tox matrix's JUnit XML."""

from __future__ import annotations

import pathlib

from scripts import versions_tested

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
<testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10" time="313">
<properties>
<property name="Python" value="3.10.13" />
<property name="SQLAlchemy" value="1.4.54" />
</properties>
</testsuite></testsuites>
"""


def test_counts_outcomes_and_reads_versions(tmp_path: pathlib.Path) -> None:
    """Passed is what was neither skipped, failed nor in error."""
    path = tmp_path / "sqlalchemy1-py310.xml"
    path.write_text(JUNIT)

    result = versions_tested.read_result("sqlalchemy1-py310", path)

    assert (result.passed, result.skipped, result.failed) == (4, 3, 3)
    assert result.versions == {"Python": "3.10.13", "SQLAlchemy": "1.4.54"}
    table = versions_tested.render([result])
    assert "      - SQLAlchemy\n" in table
    assert "      - 1.4.54\n" in table
    assert table.endswith("      - 3\n      - 313\n")


def test_committed_table_covers_the_matrix() -> None:
    """The committed table has one row per env of the matrix."""
    rows = versions_tested.OUTPUT.read_text().split("    * - ")[2:]
    envs = [row.splitlines()[0].strip("`") for row in rows]

    assert sorted(envs) == sorted(versions_tested.matrix_envs())
