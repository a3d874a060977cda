"""Apply the upstream series to Flask-Admin's release and test it with Flask-Admin's
own suite, side by side with the unpatched release.

From nothing but PyPI: download the pinned sdist and check its hash, unpack it
twice, produce the new upstream files from this repository into one copy and
apply the patch series to it, create a fresh virtual environment, run the bundled
``flask_admin/tests`` on the unpatched then on the patched tree, and our
``tests/sqla`` against the patched base view. Exits non-zero if the patched tree
has a failure the unpatched tree does not, or if our tests fail.

Usage::

    python upstream/run.py                     # the full comparison (CI)
    python upstream/run.py --work DIR          # a git repo of the sdist + series
    python upstream/run.py --work DIR --onto X # ... rebased onto Flask-Admin X
    python upstream/run.py --checkout DIR      # apply to a Flask-Admin git checkout
    python upstream/run.py --refresh-constraints

Standard library only; see ``upstream/README.rst``.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc as cabc
import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse

import layout

BUILD = layout.ROOT / "build" / "upstream"
"""Scratch space, ignored by git: sdists, trees, the venv, logs, outcomes."""

PATCHES = layout.UPSTREAM / "patches"
CONSTRAINTS = layout.UPSTREAM / "constraints.txt"

BASE_PINS = {
    "wtforms==3.2.1": (
        "the WTForms Flask-Admin 2.2.1 was released against; 3.3 deprecates tuple"
        " SelectField choices, which fails its suite under filterwarnings=error"
    ),
    "sqlalchemy<2.1": (
        "SQLAlchemy 2.1 makes 'postgresql://' mean psycopg 3 and warns about"
        " Flask-Admin's test URIs, which fails its unpatched suite"
    ),
}
"""The only pins chosen by hand; ``--refresh-constraints`` resolves the rest."""

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
"""The server Flask-Admin's PostgreSQL tests use, unless ``SQLALCHEMY_DATABASE_URI``
names another. The runner creates a fresh database on it for each run."""

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "upstream/run.py",
    "GIT_AUTHOR_EMAIL": "run.py@localhost",
    "GIT_COMMITTER_NAME": "upstream/run.py",
    "GIT_COMMITTER_EMAIL": "run.py@localhost",
}
"""Who commits in the scratch repositories ``--work`` makes."""

BAD = frozenset({"failed", "error"})
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


class RunError(Exception):
    """A step failed; the message says which and what to do."""


def log(message: str) -> None:
    """Print a progress line."""
    print(f"[upstream] {message}", flush=True)


def run(
    command: list[str | os.PathLike[str]],
    *,
    cwd: pathlib.Path | None = None,
    env: dict[str, str] | None = None,
    capture: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, echoing it; raise :class:`RunError` if it fails."""
    shown = ("<script>" if "\n" in str(part) else str(part) for part in command)
    log("$ " + " ".join(shown))
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=capture,
        text=True,
        check=False,
    )

    if check and result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        raise RunError(f"command failed ({result.returncode}): {command[0]} {detail}")

    return result


# The release ---------------------------------------------------------------------


def pip(
    python: str | os.PathLike[str], command: str, *args: str | os.PathLike[str]
) -> None:
    """Run a quiet ``pip command`` with ``python``."""
    run([python, "-m", "pip", command, "--quiet", "--disable-pip-version-check", *args])


def fetch_sdist(version: str, sha256: str | None) -> pathlib.Path:
    """Download Flask-Admin's sdist from PyPI (once) and check its hash."""
    target = BUILD / "dist" / f"flask_admin-{version}.tar.gz"

    if not target.exists():
        with tempfile.TemporaryDirectory() as tmp:
            pip(
                sys.executable,
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"flask-admin=={version}",
                "--dest",
                tmp,
            )
            (downloaded,) = pathlib.Path(tmp).glob("*.tar.gz")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(downloaded, target)

    digest = hashlib.sha256(target.read_bytes()).hexdigest()

    if sha256 is None:
        log(f"{target.name}: sha256 {digest} (not pinned yet)")
    elif digest != sha256:
        raise RunError(
            f"{target} has sha256 {digest}, expected {sha256} (layout.SDIST_SHA256)."
            " Delete the file to download it again; if PyPI's file really changed,"
            " do not trust it."
        )
    else:
        log(f"{target.name}: sha256 {digest} matches the pin")

    return target


def unpack(sdist: pathlib.Path, parent: pathlib.Path) -> pathlib.Path:
    """Extract a fresh copy of the sdist under ``parent``; return its top directory."""
    shutil.rmtree(parent, ignore_errors=True)
    parent.mkdir(parents=True)

    with tarfile.open(sdist) as archive:
        archive.extractall(parent, filter="data")

    (tree,) = parent.iterdir()
    return tree


# The series ----------------------------------------------------------------------


def generate(tree: pathlib.Path, *, docs: bool) -> list[str]:
    """Write the new upstream files, produced from this repository, into ``tree``."""
    written = []

    for item in (*layout.GENERATED, *layout.generated_tests()):
        if item.docs and not docs:
            continue

        try:
            text = item.render()
        except ValueError as error:
            raise RunError(str(error)) from error

        target = tree / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(item.target)

    return written


def series() -> list[pathlib.Path]:
    """The patch files, in order."""
    patches = sorted(PATCHES.glob("*.patch"))

    if not patches:
        raise RunError(f"no patches in {PATCHES}")

    return patches


def touched_files(patch: pathlib.Path) -> list[str]:
    """The paths a patch changes."""
    return re.findall(r"^diff --git a/\S+ b/(\S+)$", patch.read_text(), re.MULTILINE)


def missing_from(tree: pathlib.Path, patch: pathlib.Path) -> list[str] | None:
    """If the patch only changes files ``tree`` lacks, return them; else ``None``.

    The sdist ships no ``doc/``, so the docs patch only applies to a checkout.
    """
    files = touched_files(patch)

    if any((tree / name).exists() for name in files):
        return None

    return files


def hunk_failures(patch: pathlib.Path, stderr: str) -> list[str]:
    """Name the hunks git could not apply, from its ``patch failed`` errors."""
    hunks: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    current = ""

    for line in patch.read_text().splitlines():
        if match := re.match(r"^diff --git a/\S+ b/(\S+)$", line):
            current = match[1]
        elif match := re.match(r"^@@ -(\d+)", line):
            hunks[current].append((int(match[1]), line))

    failures = []

    for path, start in re.findall(r"error: patch failed: (\S+):(\d+)", stderr):
        for number, (old_start, header) in enumerate(hunks[path], start=1):
            if old_start == int(start):
                failures.append(f"hunk #{number} of {path}: {header}")

    return failures


def apply_series(tree: pathlib.Path) -> None:
    """Apply every patch that concerns ``tree`` with ``git apply``.

    ``tree`` is not a git repository (a ceiling stops git from finding this one),
    so ``git apply`` patches files like ``patch`` would.
    """
    env = {"GIT_CEILING_DIRECTORIES": str(tree.parent)}

    for patch in series():
        missing = missing_from(tree, patch)

        if missing is not None:
            log(f"skip {patch.name}: the tree has none of {', '.join(missing)}")
            continue

        check = run(
            ["git", "apply", "--check", "--verbose", patch],
            cwd=tree,
            env=env,
            capture=True,
            check=False,
        )

        if check.returncode != 0:
            hunks = hunk_failures(patch, check.stderr)
            where = "; ".join(hunks) if hunks else "see git's message below"
            raise RunError(
                f"{patch.name} does not apply to {tree.name}: {where}\n"
                f"{check.stderr.strip()}\nRebase the series: doc/upstream.rst."
            )

        run(["git", "apply", patch], cwd=tree, env=env)
        log(f"applied {patch.name}")


# Environments --------------------------------------------------------------------


def dependency_group(pyproject: pathlib.Path, name: str) -> list[str]:
    """The requirements of a PEP 735 dependency group, includes resolved."""
    groups: dict[str, list[str | dict[str, str]]]

    if sys.version_info < (3, 11):
        raise RunError("upstream/run.py needs Python 3.11 or later (tomllib)")
    else:
        import tomllib

        groups = tomllib.loads(pyproject.read_text())["dependency-groups"]

    def resolve(group: str) -> cabc.Iterator[str]:
        for entry in groups[group]:
            if isinstance(entry, str):
                yield entry
            else:
                yield from resolve(entry["include-group"])

    return list(resolve(name))


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement string."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)

    if match is None:
        raise RunError(f"cannot read the requirement {requirement!r}")

    return re.sub(r"[-_.]+", "-", match[0]).lower()


def our_test_requirements() -> list[str]:
    """Our ``tests`` group, without what the runs install otherwise or not at all."""
    return [
        requirement
        for requirement in dependency_group(layout.ROOT / "pyproject.toml", "tests")
        if requirement_name(requirement) not in layout.OUR_TEST_DEPENDENCIES_SKIPPED
    ]


def create_venv(path: pathlib.Path, *, reuse: bool) -> pathlib.Path:
    """Create a fresh virtual environment; return its Python."""
    python = path / "bin" / "python"

    if reuse and python.exists():
        log(f"reusing {path}")
        return python

    shutil.rmtree(path, ignore_errors=True)
    run([sys.executable, "-m", "venv", path])
    return python


def install(
    python: pathlib.Path, tree: pathlib.Path, *, constraints: list[str]
) -> None:
    """Install ``tree`` with its extras and the test requirements of both suites."""
    pip(
        python,
        "install",
        *constraints,
        f"{tree}[{layout.EXTRAS}]",
        *dependency_group(tree / "pyproject.toml", layout.TEST_GROUP),
        *our_test_requirements(),
    )


def reinstall(python: pathlib.Path, tree: pathlib.Path) -> None:
    """Replace the installed Flask-Admin with ``tree``, dependencies unchanged."""
    pip(python, "install", "--no-deps", "--force-reinstall", tree)


# Servers -------------------------------------------------------------------------

POSTGRES_SETUP = """
import json, sys
import psycopg2

server, database_url, name, action = sys.argv[1:]
admin = psycopg2.connect(server)
admin.autocommit = True
with admin.cursor() as cursor:
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    if action == "create":
        cursor.execute(f'CREATE DATABASE "{name}"')
admin.close()
if action == "create":
    database = psycopg2.connect(database_url)
    database.autocommit = True
    with database.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS hstore")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS citext")
        cursor.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        )
        postgis = cursor.fetchone() is not None
        if postgis:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    database.close()
    print(json.dumps({"postgis": postgis}))
"""


@dataclasses.dataclass
class Postgres:
    """A database of its own for each run, on the configured server."""

    python: pathlib.Path
    server: str
    """The SQLAlchemy URL of a database on the server, such as its ``test``."""

    def url(self, name: str, *, libpq: bool = False) -> str:
        """The URL of the database ``name``: SQLAlchemy's, or libpq's (no driver)."""
        parts = urllib.parse.urlsplit(self.server)._replace(path=f"/{name}")

        if libpq:
            parts = parts._replace(scheme="postgresql")

        return urllib.parse.urlunsplit(parts)

    def setup(self, name: str, action: str, *, check: bool = True) -> str:
        """Run the setup script to ``create`` or ``drop`` the database ``name``."""
        server = self.url(urllib.parse.urlsplit(self.server).path[1:], libpq=True)
        database = self.url(name, libpq=True)
        command: list[str | os.PathLike[str]] = [self.python, "-c", POSTGRES_SETUP]
        command += [server, database, name, action]
        return run(command, capture=True, check=check).stdout

    def create(self, name: str) -> bool:
        """Create the empty database ``name``; return whether PostGIS is in it."""
        postgis: bool = json.loads(self.setup(name, "create"))["postgis"]
        return postgis

    def drop(self, name: str) -> None:
        """Drop the database ``name``."""
        self.setup(name, "drop", check=False)


LABELS = ("unpatched", "patched")


def database_name(label: str) -> str:
    """The database of one run of Flask-Admin's suite."""
    return f"flask_admin_upstream_{label}"


def connect_postgres(python: pathlib.Path) -> tuple[Postgres | None, bool]:
    """Create a fresh database per run; return the server (``None`` if it is not
    reachable) and whether PostGIS is available."""
    server = os.environ.get("SQLALCHEMY_DATABASE_URI", DEFAULT_POSTGRES)
    postgres = Postgres(python, server)

    try:
        postgis = [postgres.create(database_name(label)) for label in LABELS]
    except RunError:
        if os.environ.get("SQLA_LITE_REQUIRE_SERVERS") == "1":
            raise

        log("PostgreSQL is not reachable: its tests are excluded")
        return None, False

    return postgres, all(postgis)


def reachable(host: str, port: int) -> bool:
    """Whether a TCP server answers at ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        return False

    return True


def excluded_paths(postgres: Postgres | None, postgis: bool) -> dict[str, str]:
    """Flask-Admin's tests that cannot run here, with the reason."""
    excluded = {}

    for service in layout.SERVICES:
        host = "localhost"

        if service.host_variable is not None:
            host = os.environ.get(service.host_variable, host)

        if not reachable(host, service.port):
            for path in service.paths:
                excluded[path] = f"no {service.name} on {host}:{service.port}"

    if postgres is None:
        for path in (*layout.POSTGRES_TESTS, *layout.POSTGIS_TESTS):
            excluded[path] = "no PostgreSQL server"
    elif not postgis:
        for path in layout.POSTGIS_TESTS:
            excluded[path] = "the PostgreSQL server has no PostGIS extension"

    return excluded


# Test runs -----------------------------------------------------------------------


@dataclasses.dataclass
class Outcomes:
    """The outcome of every test of one run."""

    label: str
    by_test: dict[str, str]
    skip_reasons: dict[str, str]

    def count(self, outcome: str) -> int:
        """How many tests had ``outcome``."""
        return sum(1 for value in self.by_test.values() if value == outcome)

    def bad(self) -> set[str]:
        """The tests that failed or errored."""
        return {test for test, value in self.by_test.items() if value in BAD}


def pytest_run(
    python: pathlib.Path,
    label: str,
    arguments: list[str],
    *,
    cwd: pathlib.Path,
    env: dict[str, str],
) -> Outcomes:
    """Run pytest with the outcome recorder; return the outcomes."""
    path = BUILD / f"outcomes-{label}.json"
    path.unlink(missing_ok=True)
    result = run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "pytest_outcomes",
            "--outcomes-json",
            path,
            "-p",
            "no:cacheprovider",
            "-q",
            "--tb=short",
            *arguments,
        ],
        cwd=cwd,
        env={"PYTHONPATH": str(layout.UPSTREAM), **env},
        check=False,
    )

    if result.returncode not in (0, 1) or not path.exists():
        raise RunError(f"pytest could not run the {label} tests ({result.returncode})")

    data = json.loads(path.read_text())
    return Outcomes(label, data["outcomes"], data["skip_reasons"])


def flask_admin_suite(
    python: pathlib.Path,
    tree: pathlib.Path,
    label: str,
    excluded: dict[str, str],
    postgres: Postgres | None,
) -> Outcomes:
    """Run Flask-Admin's bundled suite on ``tree``, from the tree itself."""
    ignores = [f"--ignore={path}" for path in excluded]
    env = {}

    if postgres is not None:
        env["SQLALCHEMY_DATABASE_URI"] = postgres.url(database_name(label))

    return pytest_run(python, label, ["flask_admin/tests", *ignores], cwd=tree, env=env)


def our_test_files() -> list[str]:
    """Our test modules that concern the view, relative to the repository."""
    return [
        f"{layout.OUR_TEST_DIR}/{path.name}"
        for path in sorted((layout.ROOT / layout.OUR_TEST_DIR).glob("test_*.py"))
        if path.name not in layout.EXCLUDED_TEST_FILES
    ]


def our_suite(python: pathlib.Path) -> Outcomes:
    """Run our tests against the installed (patched) Flask-Admin's base view."""
    arguments = [
        "-c",
        str(layout.ROOT / "pyproject.toml"),
        "--rootdir",
        str(layout.ROOT),
        "-o",
        "addopts=",
        "-p",
        "pytest_retarget",
        *our_test_files(),
    ]
    return pytest_run(python, "ours", arguments, cwd=layout.ROOT, env={})


# The report ----------------------------------------------------------------------


def report(
    unpatched: Outcomes,
    patched: Outcomes,
    ours: Outcomes,
    excluded: dict[str, str],
) -> list[str]:
    """Print the comparison; return the problems that make the run fail."""
    print("\n" + "=" * 78)
    print(
        f"Flask-Admin {layout.FLASK_ADMIN_VERSION}'s bundled suite (flask_admin/tests)"
    )
    print(f"  {'':10}{'unpatched':>12}{'patched':>12}")

    for outcome in OUTCOMES:
        before, after = unpatched.count(outcome), patched.count(outcome)
        print(f"  {outcome:10}{before:>12}{after:>12}")

    print(f"  {'total':10}{len(unpatched.by_test):>12}{len(patched.by_test):>12}")
    print("Skipped, by reason:")
    reasons = [
        collections.Counter(run.skip_reasons.values()) for run in (unpatched, patched)
    ]

    for reason in sorted(set(reasons[0]) | set(reasons[1])):
        print(f"  {reasons[0][reason]:>4} {reasons[1][reason]:>4}  {reason}")
    added = sorted(set(patched.by_test) - set(unpatched.by_test))
    removed = sorted(set(unpatched.by_test) - set(patched.by_test))
    print(f"\nTests only in the patched tree: {len(added)}")

    for name, tests in by_file(added):
        counts = collections.Counter(patched.by_test[test] for test in tests)
        print(f"  {name}: {dict(sorted(counts.items()))}")

    print(f"Tests only in the unpatched tree: {len(removed)}")

    for test in removed:
        print(f"  {test} ({unpatched.by_test[test]})")

    new = sorted(patched.bad() - unpatched.bad())
    both = sorted(patched.bad() & unpatched.bad())
    print(f"Failures in both trees (pre-existing): {len(both)}")

    for test in both:
        print(f"  {test}")

    print(f"\nOur tests ({layout.OUR_TEST_DIR}) against the patched base view:")
    print("  " + ", ".join(f"{o} {ours.count(o)}" for o in OUTCOMES))
    problems = [f"new failure in the patched tree: {test}" for test in new]
    problems += [f"our test failed: {test}" for test in sorted(ours.bad())]

    for key, reason in layout.INTENDED_DIFFERENCES.items():
        matches = [t for t in ours.by_test if t.endswith(f"/{key}")]
        outcomes = sorted({ours.by_test[t] for t in matches})
        print(f"  intended difference {key}: {', '.join(outcomes) or 'not found'}")
        print(f"    {reason}")

        if outcomes != ["xfailed"]:
            problems.append(
                f"intended difference {key} is {outcomes or 'missing'}, not xfailed:"
                " update layout.INTENDED_DIFFERENCES"
            )

    print("\nNot run here:")

    for path, reason in excluded.items():
        print(f"  {path}: {reason}")

    for name, reason in layout.EXCLUDED_TEST_FILES.items():
        print(f"  {layout.OUR_TEST_DIR}/{name}: {reason}")

    summary = {
        run.label: {o: run.count(o) for o in OUTCOMES}
        for run in (unpatched, patched, ours)
    }
    summary_path = BUILD / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=1))
    print(f"\nCounts written to {summary_path.relative_to(layout.ROOT)}")
    return problems


def by_file(tests: list[str]) -> list[tuple[str, list[str]]]:
    """Group test ids by file."""
    groups: dict[str, list[str]] = {}

    for test in tests:
        groups.setdefault(test.split("::")[0], []).append(test)

    return sorted(groups.items())


# Modes ---------------------------------------------------------------------------


def compare(*, reuse_venv: bool) -> int:
    """The full run: both trees, both suites, the comparison."""
    started = time.monotonic()
    sdist = fetch_sdist(layout.FLASK_ADMIN_VERSION, layout.SDIST_SHA256)
    unpatched = unpack(sdist, BUILD / "unpatched")
    patched = unpack(sdist, BUILD / "patched")
    generated = generate(patched, docs=False)
    log(f"generated {len(generated)} files from this repository")
    apply_series(patched)
    python = create_venv(BUILD / "venv", reuse=reuse_venv)
    install(python, unpatched, constraints=["--constraint", str(CONSTRAINTS)])
    postgres, postgis = connect_postgres(python)
    excluded = excluded_paths(postgres, postgis)

    try:
        before = flask_admin_suite(python, unpatched, "unpatched", excluded, postgres)
        reinstall(python, patched)
        after = flask_admin_suite(python, patched, "patched", excluded, postgres)
        ours = our_suite(python)
    finally:
        if postgres is not None:
            for label in LABELS:
                postgres.drop(database_name(label))

    problems = report(before, after, ours, excluded)
    print(f"Took {time.monotonic() - started:.0f} s.")

    if problems:
        print("\nFAILED:")

        for problem in problems:
            print(f"  {problem}")

        return 1

    print("\nOK: no new failures; our tests pass against the patched base view.")
    return 0


def git(work: pathlib.Path, *arguments: str, check: bool = True) -> int:
    """Run git in ``work`` as the scratch identity; return its exit code."""
    return run(["git", *arguments], cwd=work, env=GIT_IDENTITY, check=check).returncode


def import_sdist(work: pathlib.Path, sdist: pathlib.Path, version: str) -> None:
    """Replace the tracked files of ``work`` with the sdist; commit and tag it."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = unpack(sdist, pathlib.Path(tmp) / "sdist")

        for entry in tree.iterdir():
            shutil.move(entry, work / entry.name)

    git(work, "add", "--all")
    git(work, "commit", "--quiet", "--message", f"flask-admin {version} sdist")
    git(work, "tag", f"flask-admin-{version}")


def add_generated(work: pathlib.Path, *, docs: bool) -> None:
    """Write the generated files into ``work``, untracked and ignored."""
    written = generate(work, docs=docs)
    exclude = work / ".git" / "info" / "exclude"
    known = set(exclude.read_text().splitlines()) if exclude.exists() else set()
    new = [f"/{name}" for name in written if f"/{name}" not in known]

    with exclude.open("a") as file:
        file.writelines(f"{line}\n" for line in new)

    log(f"wrote {len(written)} generated files (untracked, in .git/info/exclude)")


def remove_generated(work: pathlib.Path) -> None:
    """Delete the generated files, before importing a release that may have them."""
    for item in (*layout.GENERATED, *layout.generated_tests()):
        (work / item.target).unlink(missing_ok=True)


def make_work(work: pathlib.Path, onto: str | None) -> int:
    """A git repository: the pinned sdist, the series as commits, generated files."""
    if work.exists() and any(work.iterdir()):
        raise RunError(f"{work} is not empty: choose a new directory")

    work.mkdir(parents=True, exist_ok=True)
    sdist = fetch_sdist(layout.FLASK_ADMIN_VERSION, layout.SDIST_SHA256)
    git(work, "init", "--quiet")
    import_sdist(work, sdist, layout.FLASK_ADMIN_VERSION)
    git(work, "checkout", "--quiet", "-b", "series")

    for patch in series():
        missing = missing_from(work, patch)

        if missing is None:
            git(work, "am", "--quiet", str(patch))
        else:
            log(f"skip {patch.name}: the sdist has none of {', '.join(missing)}")

    base = f"flask-admin-{layout.FLASK_ADMIN_VERSION}"

    if onto is not None:
        new_sdist = fetch_sdist(onto, None)
        git(work, "checkout", "--quiet", "-b", f"sdist-{onto}", base)
        git(work, "rm", "-r", "--quiet", ".")
        import_sdist(work, new_sdist, onto)
        git(work, "checkout", "--quiet", "series")
        base = f"flask-admin-{onto}"
        rebased = git(
            work,
            "rebase",
            "--onto",
            base,
            f"flask-admin-{layout.FLASK_ADMIN_VERSION}",
            "series",
            check=False,
        )

        if rebased != 0:
            log(
                "the rebase stopped on a conflict: resolve it, 'git add' the files"
                " and 'git rebase --continue' (doc/upstream.rst)"
            )

    add_generated(work, docs=False)
    log(
        "edit the commits, then export them with: git -C"
        f" {work} format-patch --zero-commit --no-signature --no-numbered -o"
        f" {PATCHES} {base}..series"
    )
    return 0


def apply_to_checkout(checkout: pathlib.Path) -> int:
    """Apply the whole series, docs included, to a Flask-Admin git checkout."""
    if not (checkout / ".git").exists() or not (checkout / "flask_admin").is_dir():
        raise RunError(f"{checkout} is not a git checkout of Flask-Admin")

    for patch in series():
        run(["git", "am", "--3way", patch], cwd=checkout)

    add_generated(checkout, docs=True)
    log("applied the series; the generated files are untracked: 'git add' them")
    return 0


def refresh_constraints() -> int:
    """Resolve the test environment from the hand-chosen pins; write the pins."""
    sdist = fetch_sdist(layout.FLASK_ADMIN_VERSION, layout.SDIST_SHA256)
    tree = unpack(sdist, BUILD / "unpatched")
    python = create_venv(BUILD / "venv", reuse=False)
    pins = BUILD / "base-pins.txt"
    pins.write_text("".join(f"{pin}\n" for pin in BASE_PINS))
    install(python, tree, constraints=["--constraint", str(pins)])
    frozen = run(
        [python, "-m", "pip", "freeze", "--exclude", "flask-admin"], capture=True
    ).stdout
    header = [
        f"# Versions for the runs against Flask-Admin {layout.FLASK_ADMIN_VERSION},",
        "# written by 'python upstream/run.py --refresh-constraints' from:",
        *(f"#   {pin}  ({reason})" for pin, reason in BASE_PINS.items()),
    ]
    CONSTRAINTS.write_text("\n".join(header) + "\n" + frozen)
    log(f"wrote {CONSTRAINTS.relative_to(layout.ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen mode."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--work", type=pathlib.Path, help="make a git repo to edit")
    mode.add_argument("--checkout", type=pathlib.Path, help="apply to a checkout")
    mode.add_argument("--refresh-constraints", action="store_true")
    parser.add_argument("--onto", help="with --work: rebase onto this release")
    parser.add_argument(
        "--reuse-venv", action="store_true", help="keep build/upstream/venv"
    )
    args = parser.parse_args(argv)

    if args.onto is not None and args.work is None:
        parser.error("--onto needs --work")

    try:
        if args.work is not None:
            return make_work(args.work.resolve(), args.onto)

        if args.checkout is not None:
            return apply_to_checkout(args.checkout.resolve())

        if args.refresh_constraints:
            return refresh_constraints()

        return compare(reuse_venv=args.reuse_venv)
    except RunError as error:
        print(f"\nupstream/run.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
