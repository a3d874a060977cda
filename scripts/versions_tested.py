"""Write the compatibility page's "Versions tested" table from the JUnit XML
that the tox matrix wrote, so the table says what ran and what passed.

Run the matrix, then this script::

    tox -m matrix
    python scripts/versions_tested.py

It reads ``.tox/results/<env>.xml`` for each env of the ``matrix`` label in
``tox.ini`` and writes ``doc/_includes/versions_tested.rst``; an env without
results is listed as not run.
"""

from __future__ import annotations

import collections.abc as cabc
import configparser
import dataclasses
import pathlib
import sys
import xml.etree.ElementTree as ElementTree

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / ".tox" / "results"
OUTPUT = ROOT / "doc" / "_includes" / "versions_tested.rst"


@dataclasses.dataclass(frozen=True)
class EnvResult:
    """What one tox env ran, with which versions, and how it went."""

    env: str
    versions: dict[str, str]
    passed: int
    skipped: int
    failed: int
    seconds: float


def matrix_envs(tox_ini: pathlib.Path = ROOT / "tox.ini") -> list[str]:
    """The envs of the ``matrix`` label of ``tox.ini``, in its order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(tox_ini)

    for line in config["tox"]["labels"].splitlines():
        label, _, envs = line.partition("=")

        if label.strip() == "matrix":
            return [env.strip() for env in envs.split(",")]

    raise SystemExit(f"{tox_ini} has no 'matrix' label.")


def read_result(env: str, path: pathlib.Path) -> EnvResult:
    """Count the outcomes in one env's JUnit XML and read its versions."""
    suite = ElementTree.parse(path).getroot()

    if suite.tag == "testsuites":
        suite = suite[0]

    versions = {
        prop.attrib["name"]: prop.attrib["value"] for prop in suite.iter("property")
    }
    tests = int(suite.attrib["tests"])
    skipped = int(suite.attrib["skipped"])
    failed = int(suite.attrib["failures"]) + int(suite.attrib["errors"])
    seconds = float(suite.attrib["time"])
    return EnvResult(env, versions, tests - skipped - failed, skipped, failed, seconds)


def render(results: list[EnvResult], not_run: cabc.Sequence[str] = ()) -> str:
    """The reStructuredText table of ``results``, then a row per env of
    ``not_run``. Its version columns are the versions ``tests/conftest.py``
    records, in its order."""
    columns = list(dict.fromkeys(name for r in results for name in r.versions))
    header = ["tox env", *columns, "Passed", "Skipped", "Failed", "Seconds"]
    lines = [
        ".. This file is written by scripts/versions_tested.py from the JUnit XML",
        "   of `tox -m matrix`; do not edit it by hand.",
        "",
        ".. list-table::",
        "    :header-rows: 1",
        "",
    ]
    empty = ["not run", *([""] * (len(header) - 2))]
    rows = [
        header,
        *(_cells(result, columns) for result in results),
        *([f"``{env}``", *empty] for env in not_run),
    ]

    for row in rows:
        lines.append(f"    * - {row[0]}")
        lines.extend(f"      - {cell}".rstrip() for cell in row[1:])

    return "\n".join(lines) + "\n"


def _cells(result: EnvResult, columns: list[str]) -> list[str]:
    return [
        f"``{result.env}``",
        *(result.versions.get(column, "?") for column in columns),
        str(result.passed),
        str(result.skipped),
        str(result.failed),
        f"{result.seconds:.0f}",
    ]


def main(results_dir: pathlib.Path = RESULTS) -> None:
    """Write :data:`OUTPUT` from the results of every env of the matrix."""
    ran = []
    not_run = []

    for env in matrix_envs():
        path = results_dir / f"{env}.xml"

        if path.exists():
            ran.append(read_result(env, path))
        else:
            not_run.append(env)

    OUTPUT.write_text(render(ran, not_run))
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(ran)} envs ran, {len(not_run)} not")


if __name__ == "__main__":
    main(*(pathlib.Path(arg) for arg in sys.argv[1:2]))
