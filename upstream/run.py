"""Flask-Admin's CI matrix, run here on the upstream pull-request stack.

Each PR under ``upstream/prs/`` is applied in order with ``git am`` on the base:
Flask-Admin's git snapshot at :data:`BASE_COMMIT` plus PR #2953 as released in
2.2.1 (merged upstream after that snapshot). For every PR, the stack up to it
runs the envs of upstream's ``tests.yaml`` and tox config, and each result is
compared with the unpatched base: a new failure is a test that fails with the
PR but not on the base (pytest envs), or a message of a checker (typing,
style, docs) that the base does not print.

Usage::

    python upstream/run.py --matrix            # every env (CPU heavy)
    python upstream/run.py --matrix --quick    # sqlalchemy1 on 3.10, typing, style
    python upstream/run.py --matrix --envs py313,docs --prs 07-concurrent-edits
    python upstream/run.py --work DIR          # a checkout with the stack as commits

Standard library only; see ``upstream/README.rst``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
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
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

UPSTREAM = pathlib.Path(__file__).resolve().parent
BUILD = UPSTREAM.parent / "build" / "upstream"
PRS = UPSTREAM / "prs"

BASE_COMMIT = "e386a191e44017fa751c7d2c0adcb86301f6084a"
"""pallets-eco/flask-admin master, the newest snapshot we could read (2026-08-03)."""

BASE_GIT = os.environ.get(
    "FLASK_ADMIN_GIT",
    "/work/.mirror/pallets-eco+flask-admin/repo"
    if os.path.isdir("/work/.mirror/pallets-eco+flask-admin/repo")
    else "https://github.com/pallets-eco/flask-admin",
)

PR_2953_SDIST = (
    "2.2.1",
    "08b4b6b63d2100598add70c1dc9a695f484e3c16c894c09ac70af26acb26a87d",
)
PR_2953_FILES = [
    "flask_admin/contrib/sqla/validators.py",
    "flask_admin/contrib/sqla/form.py",
]
"""The Unique validator's lazy session (#2953): in the 2.2.1 release, not in the
snapshot. The base takes these two files from the 2.2.1 sdist; drop this once
the snapshot has the PR."""


@dataclasses.dataclass(frozen=True)
class Env:
    """One CI env: its Python, its uv.lock groups, and the tox env it follows."""

    name: str
    python: str
    tox: str
    groups: tuple[str, ...] = ("tests",)
    pytest: bool = True


ENVS = (
    Env("py310", "3.10", "py310"),
    Env("py311", "3.11", "py311"),
    Env("py312", "3.12", "py312"),
    Env("py313", "3.13", "py313"),
    Env("py310-min", "3.10", "py310-min"),
    Env("py310-sqlalchemy1", "3.10", "py310-sqlalchemy1"),
    Env("py313-sqlalchemy1", "3.13", "py314-sqlalchemy1"),
    Env("py313-noflaskbabel", "3.13", "py314-noflaskbabel"),
    Env("typing", "3.13", "typing", ("typing",), pytest=False),
    Env("style", "3.13", "style", (), pytest=False),
    Env("docs", "3.13", "docs", ("docs",), pytest=False),
)
"""Upstream's envs; Python 3.14 is not installed here, so its envs run on 3.13."""

QUICK = ("py310-sqlalchemy1", "typing", "style")
QUICK_TESTS = (
    "flask_admin/tests/sqla",
    "flask_admin/tests/geoa",
    "flask_admin/tests/test_base.py",
)
"""What the quick form runs of the suite: the tests of what the stack changes
(``base.py``, ``contrib/sqla``, ``contrib/geoa``, ``contrib/sqla_lite``)."""

SERVICES = {
    27017: ("flask_admin/tests/mongoengine", "flask_admin/tests/pymongo"),
    10000: ("flask_admin/tests/fileadmin/test_fileadmin_azure.py",),
}
"""MongoDB and Azurite: their tests run only if the port answers on localhost."""


class RunError(Exception):
    """A step failed; the message says which and what to do."""


def run(
    command: list[str],
    *,
    cwd: pathlib.Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, its output captured; raise :class:`RunError` if it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True)
    if result.returncode != 0:
        raise RunError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result


def git(*args: str, cwd: pathlib.Path) -> str:
    return run(["git", *args], cwd=cwd).stdout.strip()


def stack() -> list[pathlib.Path]:
    """The PR directories that hold a patch, in order."""
    return sorted(d for d in PRS.iterdir() if any(d.glob("*.patch")))


# The trees -----------------------------------------------------------------------


def sdist_files(version: str, sha256: str, names: list[str]) -> dict[str, bytes]:
    """Files of Flask-Admin's sdist from PyPI, its SHA-256 checked."""
    import tarfile

    target = BUILD / f"flask_admin-{version}.tar.gz"
    if not target.exists():
        with tempfile.TemporaryDirectory() as tmp:
            pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
            run([*pip, "--no-binary", ":all:", f"flask-admin=={version}", "-d", tmp])
            shutil.move(next(pathlib.Path(tmp).glob("*.tar.gz")), target)
    if hashlib.sha256(target.read_bytes()).hexdigest() != sha256:
        raise RunError(
            f"{target} does not have the pinned SHA-256; delete it and retry."
        )
    with tarfile.open(target) as archive:
        top = archive.getnames()[0].split("/")[0]
        files = {name: archive.extractfile(f"{top}/{name}") for name in names}
        return {name: file.read() for name, file in files.items() if file is not None}


def build_stack(repo: pathlib.Path) -> list[str]:
    """Make ``repo``: the base, then a commit per PR; return the base's and PRs'."""
    if not (repo / ".git").exists():
        try:
            run(["git", "clone", "-q", "--no-checkout", BASE_GIT, str(repo)])
        except RunError as error:
            raise RunError(
                f"{error}The base is commit {BASE_COMMIT[:12]} of Flask-Admin's"
                " repository: set FLASK_ADMIN_GIT to a clone or mirror that has it."
            ) from None
    git("checkout", "-q", "-f", "-B", "stack", BASE_COMMIT, cwd=repo)
    identity = ["-c", "user.name=upstream/run.py", "-c", "user.email=run.py@localhost"]
    if PR_2953_FILES:
        for name, data in sdist_files(*PR_2953_SDIST, PR_2953_FILES).items():
            (repo / name).write_bytes(data)
        message = "base: PR #2953 as released in 2.2.1"
        git(*identity, "commit", "-q", "-am", message, cwd=repo)
    commits = [git("rev-parse", "HEAD", cwd=repo)]
    for pr in stack():
        for patch in sorted(pr.glob("*.patch")):
            am = ["git", *identity, "am", "-q", "--committer-date-is-author-date"]
            result = subprocess.run([*am, str(patch)], cwd=repo, capture_output=True)
            if result.returncode != 0:
                git("am", "--abort", cwd=repo)
                raise RunError(
                    f"{pr.name}/{patch.name} does not apply to {BASE_COMMIT[:12]}:\n"
                    f"{result.stderr.decode()}Rebase the stack: doc/upstream.rst."
                )
        commits.append(git("rev-parse", "HEAD", cwd=repo))
    return commits


def checkout(repo: pathlib.Path, commit: str, env: Env) -> pathlib.Path:
    """The env's worktree, at ``commit`` and clean. One path for every tree of an env
    lets mypy and Jinja reuse their caches for the files a PR does not change; one
    tree per env lets envs run in parallel."""
    tree = BUILD / "trees" / env.name
    if not tree.exists():
        git("worktree", "add", "-q", "--detach", str(tree), commit, cwd=repo)
    git("checkout", "-q", "-f", "--detach", commit, cwd=tree)
    git("clean", "-q", "-f", "-d", "-x", "-e", "__pycache__", cwd=tree)  # pyc kept
    return tree


# The envs ------------------------------------------------------------------------


def python(version: str) -> str:
    """The interpreter of a Python version: pyenv's, else ``pythonX.Y`` on PATH."""
    root = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv"))
    found = sorted(root.glob(f"versions/{version}.*/bin/python"))
    path = str(found[-1]) if found else shutil.which(f"python{version}")
    if path is None:
        raise RunError(f"Python {version} is not installed; install it with pyenv.")
    return path


def uv() -> str:
    """uv, installed once into the build directory (tox's uv-venv-lock-runner)."""
    tools = BUILD / "tools"
    if not (tools / "bin" / "uv").exists():
        run([sys.executable, "-m", "venv", str(tools)])
        run([str(tools / "bin" / "pip"), "install", "-q", "uv"])
    return str(tools / "bin" / "uv")


def tox_env(tree: pathlib.Path, env: str) -> tuple[list[list[str]], dict[str, str]]:
    """The commands (as strings) and ``setenv`` of a tox env of ``pyproject.toml``."""
    if sys.version_info < (3, 11):
        raise RunError("upstream/run.py needs Python 3.11 or later (tomllib).")
    else:
        import tomllib

        tox = tomllib.loads((tree / "pyproject.toml").read_text())["tool"]["tox"]
        config = {**tox["env_run_base"], **tox["env"].get(env, {})}
        commands = config["commands"]
        strings = [[part for part in c if isinstance(part, str)] for c in commands]
        return strings, config.get("setenv", {})


def pre_commit_pins(tree: pathlib.Path) -> list[str]:
    """The hook repositories of ``.pre-commit-config.yaml`` as PyPI pins."""
    text = (tree / ".pre-commit-config.yaml").read_text()
    pins = dict(
        re.findall(r"repo: https://github.com/[\w-]+/([\w-]+)\s+rev: v([\w.]+)", text)
    )
    return [
        f"ruff=={pins['ruff-pre-commit']}",
        f"pre-commit-hooks=={pins['pre-commit-hooks']}",
    ]


def make_venv(env: Env, tree: pathlib.Path) -> pathlib.Path:
    """The env's virtual environment, from the base tree's ``uv.lock``, made once."""
    venv = BUILD / "venvs" / env.name
    if (venv / "ready").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    run([uv(), "venv", "-q", "-p", python(env.python), str(venv)])
    environ = {**os.environ, "VIRTUAL_ENV": str(venv)}
    if env.name == "style":
        run([uv(), "pip", "install", "-q", *pre_commit_pins(tree)], env=environ)
    else:
        requirements = venv / "requirements.txt"
        groups = [arg for group in env.groups for arg in ("--group", group)]
        export = [uv(), "export", "-q", "--frozen", "--no-hashes", "--no-emit-project"]
        run([*export, "--extra", "all", *groups, "-o", str(requirements)], cwd=tree)
        run([uv(), "pip", "install", "-q", "-r", str(requirements)], env=environ)
        for command in tox_env(tree, env.tox)[0]:
            if command[:2] == ["uv", "pip"]:  # the env's own installs and uninstalls
                run([uv(), *command[1:]], env=environ)
    (venv / "ready").write_text(run([uv(), "pip", "freeze"], env=environ).stdout)
    return venv


@dataclasses.dataclass
class Result:
    """One env on one tree: failing items (test ids or messages) and counts."""

    failures: list[str]
    counts: dict[str, int]


def variables(
    env: Env, venv: pathlib.Path, tree: pathlib.Path, database: dict[str, str]
) -> dict[str, str]:
    """The environment of an env's commands: the tox env's ``setenv``, the database,
    and the caches of the env's venv: mypy's and Jinja's (``jinja_cache.py``)."""
    return {
        **os.environ,
        **tox_env(tree, env.tox)[1],
        **database,
        "MYPY_CACHE_DIR": str(venv / "mypy-cache"),
        "JINJA_CACHE_DIR": str(venv / "jinja-cache"),
        "PYTHONPATH": str(UPSTREAM),
    }


def run_pytest(
    env: Env,
    venv: pathlib.Path,
    tree: pathlib.Path,
    environ: dict[str, str],
    quick: bool,
) -> Result:
    """The tox env's pytest on ``tree``, outcomes read from its JUnit XML."""
    report = BUILD / "reports" / f"{env.name}.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    absent = [
        path
        for port, paths in SERVICES.items()
        if not reachable(port)
        for path in paths
    ]
    command = [
        *(str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("-p", "jinja_cache"),
        *(f"--junitxml={report}", f"--basetemp={BUILD / 'tmp' / env.name}"),
        *(f"--ignore={path}" for path in absent),
        *(QUICK_TESTS if quick else ()),
    ]
    subprocess.run(command, cwd=tree, capture_output=True, env=environ)
    if not report.exists():
        return Result(["pytest did not run"], {"failed": 1})
    failures, counts = [], dict.fromkeys(("passed", "failed", "skipped"), 0)
    for case in ET.parse(report).iter("testcase"):
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
            failures.append(f"{case.get('classname')}::{case.get('name')}")
        elif case.find("skipped") is not None:
            outcome = "skipped"
        counts[outcome] += 1
    return Result(failures, counts)


def checker_commands(
    env: Env, venv: pathlib.Path, tree: pathlib.Path
) -> list[list[str]]:
    """What the typing, docs or style env runs. Docs runs without intersphinx, which
    needs the network. Style runs pre-commit's hooks itself, at their pinned
    versions, since pre-commit would fetch them from GitHub."""
    if env.name != "style":
        tox = tox_env(tree, env.tox)[0]
        commands = [[str(venv / "bin" / c[0]), *c[1:]] for c in tox]
        if env.name == "docs":
            conf = (tree / "doc" / "conf.py").read_text().split("extensions = [")[1]
            listed = re.findall(r'"([\w.]+)"', conf.split("]")[0])
            offline = [name for name in listed if name != "sphinx.ext.intersphinx"]
            commands[0] += ["-D", f"extensions={','.join(offline)}"]
        return commands
    files = git("ls-files", cwd=tree).splitlines()
    text = [f for f in files if b"\0" not in (tree / f).read_bytes()[:8192]]
    python = [f for f in text if f.endswith((".py", ".pyi"))]
    unstatic = [f for f in text if not f.startswith("flask_admin/static/")]
    bin = venv / "bin"
    return [
        [
            str(bin / "ruff"),
            "check",
            "--force-exclude",
            "--output-format=concise",
            *python,
        ],
        [str(bin / "ruff"), "format", "--force-exclude", "--check", *python],
        [str(bin / "check-merge-conflict"), *text],
        [str(bin / "debug-statement-hook"), *python],
        [str(bin / "fix-byte-order-marker"), *text],
        [str(bin / "trailing-whitespace-fixer"), *unstatic],
        [str(bin / "end-of-file-fixer"), *unstatic],
    ]


MESSAGE = re.compile(r"[\w./-]+\.(py|pyi|rst|txt|toml|cfg|html|js|css|md|ya?ml)\b")


def run_checker(
    env: Env,
    venv: pathlib.Path,
    tree: pathlib.Path,
    environ: dict[str, str],
    quick: bool,
) -> Result:
    """A checker env; its items are the output lines naming a file, less numbers."""
    failures: set[str] = set()
    for number, command in enumerate(checker_commands(env, venv, tree)):
        # A mypy cache per command: their options differ, and a shared cache
        # would be rewritten by each, then found stale by the next.
        cache = {"MYPY_CACHE_DIR": f"{environ['MYPY_CACHE_DIR']}/{number}"}
        result = subprocess.run(
            command, cwd=tree, capture_output=True, text=True, env=environ | cache
        )
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).splitlines()
            named = {
                re.sub(r":\d+", ":", line.strip())
                for line in lines
                if MESSAGE.search(line)
            }
            failures |= named or {
                f"{pathlib.Path(command[0]).name} exited {result.returncode}"
            }
    return Result(sorted(failures), {"failed": len(failures)})


def reachable(port: int) -> bool:
    """Whether something answers on ``port`` of localhost."""
    try:
        socket.create_connection(("localhost", port), timeout=1).close()
    except OSError:
        return False
    return True


EXTENSIONS = "FLASK_ADMIN_UPSTREAM_PG_EXTENSIONS"
"""Names the PostgreSQL extensions the env's database has: part of the base
results' cache key, as the geoalchemy tests fail without PostGIS."""

PSQL = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1"]


@contextlib.contextmanager
def database(env: Env) -> Iterator[dict[str, str]]:
    """``SQLALCHEMY_DATABASE_URI`` of a fresh database for a pytest env, with the
    suite's extensions, dropped at the end; none if one is given or no PostgreSQL
    answers (its tests then fail alike on the base and on every PR)."""
    if not env.pytest or "SQLALCHEMY_DATABASE_URI" in os.environ or not reachable(5432):
        yield {}
        return
    name = f"flask_admin_upstream_{os.getpid()}_{env.name}"
    run([*PSQL, "-c", f'CREATE DATABASE "{name}"', "test"])
    created = []
    for extension in ("hstore", "citext", "postgis"):  # PostGIS if installed
        create = f"CREATE EXTENSION IF NOT EXISTS {extension}"
        if not subprocess.run(
            [*PSQL, "-c", create, name], capture_output=True
        ).returncode:
            created.append(extension)
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": f"postgresql://postgres@127.0.0.1/{name}",
            EXTENSIONS: ",".join(created),
        }
    finally:
        run([*PSQL, "-c", f'DROP DATABASE IF EXISTS "{name}"', "test"])


# The matrix ----------------------------------------------------------------------


def base_result(
    env: Env,
    venv: pathlib.Path,
    tree: pathlib.Path,
    environ: dict[str, str],
    quick: bool,
) -> Result:
    """The env's result on the base, cached: the base changes only with
    :data:`BASE_COMMIT`, the env's dependencies, its database's extensions or the
    quick test selection."""
    key = [
        git("rev-parse", "HEAD^{tree}", cwd=tree),
        (venv / "ready").read_text(),
        environ.get(EXTENSIONS, ""),
    ]
    digest = hashlib.sha256(json.dumps([*key, quick, QUICK_TESTS]).encode()).hexdigest()
    cache = BUILD / "base-results" / f"{env.name}-{digest[:16]}.json"
    if cache.exists():
        return Result(**json.loads(cache.read_text()))
    result = (run_pytest if env.pytest else run_checker)(
        env, venv, tree, environ, quick
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(dataclasses.asdict(result)))
    return result


def cell(result: Result, new: int, env: Env) -> str:
    """A table cell: the counts, and the new failures if any."""
    if env.pytest:
        c = result.counts
        text = f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
    else:
        text = f"{len(result.failures)} messages" if result.failures else "ok"
    return f"{text}, {new} NEW" if new else text


def rst_table(table: dict[str, dict[str, str]], seconds: dict[str, float]) -> str:
    """The matrix as an RST list table, for ``doc/upstream.rst``."""
    envs = list(seconds)
    lines = [".. list-table::", "    :header-rows: 1", ""]
    rows = [["PR", *envs]]
    rows += [
        [label, *(row.get(env, "") for env in envs)] for label, row in table.items()
    ]
    rows.append(["seconds (all trees)", *(str(seconds[env]) for env in envs)])
    for row in rows:
        lines += [f"    * - {row[0]}", *(f"      - {value}" for value in row[1:])]
    return "\n".join(lines) + "\n"


def run_env(
    env: Env, repo: pathlib.Path, commits: dict[str, str], quick: bool
) -> tuple[dict[str, str], int]:
    """One env on the base and on each PR: its table column and new failures."""
    column, new_failures = {}, 0
    tree = checkout(repo, commits["base"], env)
    venv = make_venv(env, tree)
    with database(env) as db:
        environ = variables(env, venv, tree, db)
        base = base_result(env, venv, tree, environ, quick)
        for label, commit in commits.items():
            if label == "base":
                result = base
            else:
                tree = checkout(repo, commit, env)
                runner = run_pytest if env.pytest else run_checker
                result = runner(env, venv, tree, environ, quick)
            new = sorted(set(result.failures) - set(base.failures))
            new_failures += len(new)
            column[label] = cell(result, len(new), env)
            news = "".join(f"\n    new: {item}" for item in new)
            print(f"{label:38} {env.name:18} {column[label]}{news}", flush=True)
    return column, new_failures


def matrix(envs: list[Env], quick: bool, jobs: int, prs: list[str] | None) -> int:
    """Run ``envs`` on the base and on each PR (or those of ``prs``), ``jobs`` envs
    at a time, each in its own tree; print the table and save it."""
    repo = BUILD / "flask-admin"
    labels = ["base", *(pr.name for pr in stack())]
    commits = dict(zip(labels, build_stack(repo), strict=True))
    if unknown := set(prs or ()) - set(labels):
        raise RunError(f"unknown PRs {', '.join(sorted(unknown))}")
    commits = {k: v for k, v in commits.items() if k == "base" or k in (prs or labels)}
    git("worktree", "prune", cwd=repo)
    uv()  # once, before the envs' threads need it
    table: dict[str, dict[str, str]] = {label: {} for label in commits}
    seconds: dict[str, float] = {}
    new_failures = 0

    def timed(env: Env) -> tuple[dict[str, str], int, float]:
        started = time.monotonic()
        return (*run_env(env, repo, commits, quick), time.monotonic() - started)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for env, (column, new, took) in zip(envs, pool.map(timed, envs), strict=True):
            for label, text in column.items():
                table[label][env.name] = text
            new_failures += new
            seconds[env.name] = round(took)
    saved = BUILD / ("matrix-quick" if quick else "matrix")
    saved.with_suffix(".json").write_text(json.dumps([table, seconds], indent=1))
    saved.with_suffix(".rst").write_text(rst_table(table, seconds))
    print("seconds per env: " + ", ".join(f"{e} {s}" for e, s in seconds.items()))
    print(f"{len(commits) - 1} PRs x {len(envs)} envs: {new_failures} new failures")
    return 1 if new_failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matrix", action="store_true", help="run the CI matrix")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--envs", help="comma-separated env names")
    parser.add_argument("--work", type=pathlib.Path, help="make a checkout to edit")
    parser.add_argument("--prs", help="comma-separated PR names (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="envs run at once (2)")
    args = parser.parse_args()
    BUILD.mkdir(parents=True, exist_ok=True)
    by_name = {env.name: env for env in ENVS}
    prs = args.prs.split(",") if args.prs else None
    names = args.envs.split(",") if args.envs else QUICK if args.quick else by_name
    try:
        if args.work:
            commits = build_stack(args.work.resolve())
            print(f"{args.work}: base {commits[0][:12]}, the PRs on the branch 'stack'")
            return 0
        if not args.matrix:
            parser.error("say --matrix (and --quick or --envs), or --work DIR")
        unknown = set(names) - set(by_name)
        if unknown:
            known = ", ".join(by_name)
            raise RunError(f"unknown envs {', '.join(sorted(unknown))}; known: {known}")
        return matrix([by_name[name] for name in names], args.quick, args.jobs, prs)
    except RunError as error:
        print(f"upstream/run.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
