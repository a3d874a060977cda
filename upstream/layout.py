"""What the upstream series is made of, besides its patches.

The pinned Flask-Admin release, the files that are new upstream and the files of
this repository they are produced from, and what is excluded or differs, each
with its reason. Used by ``run.py`` and its pytest plugins; standard library only.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import dataclasses
import pathlib
import re

UPSTREAM = pathlib.Path(__file__).resolve().parent
"""This directory."""

ROOT = UPSTREAM.parent
"""The repository."""

FLASK_ADMIN_VERSION = "2.2.1"
"""The Flask-Admin release the series applies to."""

SDIST_SHA256 = "08b4b6b63d2100598add70c1dc9a695f484e3c16c894c09ac70af26acb26a87d"
"""SHA-256 of ``flask_admin-2.2.1.tar.gz`` as published on PyPI."""

EXTRAS = "all"
"""The extra of Flask-Admin installed for its suite, as its tox envs do."""

TEST_GROUP = "tests"
"""The dependency group of Flask-Admin's ``pyproject.toml`` installed for its suite."""

OUR_TEST_DIR = "tests/sqla"
"""Our tests, copied into the patched tree and run against the patched base view."""

UPSTREAM_TEST_DIR = "flask_admin/tests/sqla_lite"
"""Where our tests go in Flask-Admin's test layout."""

OUR_TEST_DEPENDENCIES_SKIPPED = {
    "flask-admin": "installed from the tree under test",
    "playwright": "only the browser test uses it, which is not under tests/sqla",
}
"""Entries of our ``tests`` dependency group not installed for the runs."""

EXCLUDED_TEST_FILES = {
    "test_cli.py": (
        "tests the add-on's 'flask admin-sessions' command, which is not part of the"
        " upstream series"
    ),
    "test_compat_table.py": (
        "tests the docs' stock-vs-add-on table script, which compares against stock"
        " Flask-Admin and is not part of the upstream series"
    ),
    "test_credentials.py": (
        "also checks the add-on's 'flask admin-sessions' output, and imports the"
        " masking helper from the add-on's path"
    ),
    "test_teardown.py": (
        "tests the release from the add-on view's blueprint teardown; the series"
        " still releases from the 'appcontext_tearing_down' receiver, and moving"
        " that into the base view's 'create_blueprint' is a patch still to write"
    ),
    "test_concurrent_edits.py": (
        "tests the add-on's concurrent edit check, which would be its own opt-in"
        " pull request at the end of the upstream stack"
        " (upstream/concurrent-edits-issue.md)"
    ),
    "concurrent_edits.py": (
        "the models and steps of test_concurrent_edits.py, excluded with it"
    ),
}
"""Files of :data:`OUR_TEST_DIR` that are not copied upstream nor run, and why."""

ADDON_ONLY_TESTS = {
    "test_registration.py": {
        "test_stock_view_fails_with_lite_outside_app_context": (
            "asserts the stock 2.2.1 failure that the series fixes"
        ),
        "test_stock_view_refuses_a_sessionmaker": (
            "asserts the stock 2.2.1 refusal that the series removes"
        ),
        "test_stock_view_warns_for_flask_sqlalchemy_session": (
            "compares the stock view with the add-on; upstream has one view, whose"
            " deprecation of 'db.session' test_basic.py covers"
        ),
        "test_no_warning_for_accepted_sources": (
            "the add-on accepts 'db.session' and a scoped_session silently; upstream"
            " keeps the maintainers' DeprecationWarning for session objects"
        ),
    },
}
"""Tests dropped from the upstream copy of our tests, by file, and why."""

INTENDED_DIFFERENCES = {
    "test_registration.py::test_stock_view_fails_with_lite_outside_app_context": (
        "the patched base view builds with a Flask-SQLAlchemy-Lite db outside an"
        " application context: the stock failure this test asserts is fixed"
    ),
    "test_registration.py::test_stock_view_refuses_a_sessionmaker": (
        "the patched base view accepts a sessionmaker, which stock 2.2.1 refuses"
    ),
    "test_registration.py::test_no_warning_for_accepted_sources[fsa-session]": (
        "the patched base view keeps the maintainers' DeprecationWarning for"
        " Flask-SQLAlchemy's db.session; the add-on accepts it silently"
    ),
    "test_registration.py::test_no_warning_for_accepted_sources[scoped_session]": (
        "the patched base view keeps the maintainers' DeprecationWarning for a"
        " scoped_session; the add-on accepts it silently"
    ),
}
"""Our tests (``file::name``) expected to fail against the patched base view, and
why."""

SESSION_DEPRECATION = "Passing a session object directly is deprecated"
"""The start of Flask-Admin's warning for a session passed directly, which its own
pytest configuration ignores."""


@dataclasses.dataclass(frozen=True)
class Service:
    """A server some of Flask-Admin's tests need."""

    name: str
    port: int
    paths: tuple[str, ...]
    """Test paths that need it."""

    host_variable: str | None = None
    """The environment variable Flask-Admin's tests read the host from."""


SERVICES = (
    Service(
        "MongoDB server",
        27017,
        ("flask_admin/tests/mongoengine", "flask_admin/tests/pymongo"),
        host_variable="MONGOCLIENT_HOST",
    ),
    Service(
        "Azurite (the Azure Blob Storage emulator)",
        10000,
        ("flask_admin/tests/fileadmin/test_fileadmin_azure.py",),
    ),
)
"""Servers the runner looks for on the local host; their tests run only if found."""

POSTGRES_TESTS = ("flask_admin/tests/sqla/test_postgres.py",)
"""Tests that need PostgreSQL with the ``hstore`` and ``citext`` extensions."""

POSTGIS_TESTS = ("flask_admin/tests/geoa",)
"""Tests that need PostgreSQL with PostGIS."""


Transform = cabc.Callable[[str], str]
"""Turns one of our files into its upstream version; raises ``ValueError`` when
the file no longer has what the transform expects."""


def verbatim(text: str) -> str:
    """Copy the file unchanged."""
    return text


def replacing(*pairs: tuple[str, str]) -> Transform:
    """Replace each ``old`` text, which must occur exactly once, with ``new``."""

    def transform(text: str) -> str:
        for old, new in pairs:
            if text.count(old) != 1:
                raise ValueError(f"expected exactly one {old!r}")

            text = text.replace(old, new)

        return text

    return transform


def chained(*transforms: Transform) -> Transform:
    """Apply the transforms in order."""

    def transform(text: str) -> str:
        for step in transforms:
            text = step(text)

        return text

    return transform


def reexporting(package: str) -> Transform:
    """Import the names our ``__init__.py`` takes from ``._module`` from
    ``package.module`` instead (``_view`` is Flask-Admin's ``view``)."""

    def transform(text: str) -> str:
        tree = ast.parse(text)
        imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
        lines = [
            '"""Per-request SQLAlchemy sessions: the names of the Flask-Admin-SQLA-Lite'
            " add-on,\nprovided by :mod:`flask_admin.contrib.sqla` itself.\n"
            '"""\n\n',
        ]

        for node in imports:
            if node.level != 1 or node.module is None:
                raise ValueError("expected only 'from .module import name' imports")

            module = "view" if node.module == "_view" else node.module
            lines.extend(
                f"from {package}.{module} import {alias.name}\n" for alias in node.names
            )

        exports = [node for node in tree.body if not isinstance(node, ast.ImportFrom)]

        if not exports:
            raise ValueError("expected '__all__' after the imports")

        start = exports[0].lineno - 1
        lines.append("\n")
        lines.extend(text.splitlines(keepends=True)[start:])
        return "".join(lines)

    return transform


def without_tests(names: cabc.Iterable[str]) -> Transform:
    """Drop the named module-level test functions, and imports left unused."""

    def transform(text: str) -> str:
        wanted = set(names)
        tree = ast.parse(text)
        spans = []

        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in wanted:
                wanted.remove(node.name)
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                spans.append((first, _end_line(node)))

        if wanted:
            raise ValueError(f"expected test functions {sorted(wanted)}")

        return _drop_unused_imports(_drop_lines(text, spans))

    return transform


def code_blocks(text: str) -> str:
    """Show Sphinx doctest blocks as code blocks: Flask-Admin's docs do not run
    ``sphinx.ext.doctest``."""
    for directive, language in (("testcode", "python"), ("doctest", "pycon")):
        text = re.sub(
            rf"^\.\. {directive}::$",
            f".. code-block:: {language}",
            text,
            flags=re.MULTILINE,
        )

    if re.search(r"^\.\. test\w+::", text, flags=re.MULTILINE):
        raise ValueError("expected no doctest directives but testcode and doctest")

    return text


def _end_line(node: ast.stmt) -> int:
    if node.end_lineno is None:  # pragma: no cover - set by ast.parse
        raise ValueError("ast.parse gave no end line")

    return node.end_lineno


def _drop_lines(text: str, spans: list[tuple[int, int]]) -> str:
    """Remove 1-based inclusive line spans and the blank lines after each."""
    lines = text.splitlines(keepends=True)
    keep = [True] * len(lines)

    for first, last in spans:
        index = first - 1

        while index < last or (index < len(lines) and not lines[index].strip()):
            keep[index] = False
            index += 1

    kept = [line for line, wanted in zip(lines, keep, strict=True) if wanted]
    return "".join(kept).rstrip("\n") + "\n"


def _drop_unused_imports(text: str) -> str:
    """Remove module-level imports whose names the module no longer uses."""
    tree = ast.parse(text)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }
    spans = []
    imports = [
        node
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]

    for node in imports:
        bound = {(a.asname or a.name).split(".")[0] for a in node.names}

        if not bound & used:
            spans.append((node.lineno, _end_line(node)))

    if not spans:
        return text

    lines = text.splitlines(keepends=True)
    drop = {line for first, last in spans for line in range(first - 1, last)}
    block_end = _end_line(imports[-1])
    kept: list[str] = []

    for index, line in enumerate(lines):
        if index in drop:
            continue

        # Import sections are separated by one blank line; drop the second
        # blank line a removed section leaves behind.
        in_block = index < block_end
        if in_block and not line.strip() and kept and not kept[-1].strip():
            continue

        kept.append(line)

    return "".join(kept)


@dataclasses.dataclass(frozen=True)
class Generated:
    """A file that is new upstream, produced from one of this repository's files."""

    target: str
    """Its path in the Flask-Admin tree."""

    source: str
    """The path of the file it is produced from, in this repository."""

    transform: Transform = verbatim

    docs: bool = False
    """Whether it belongs to the docs, which only a git checkout of Flask-Admin has:
    the sdist ships no ``doc/``."""

    def render(self) -> str:
        """Read the source and return the upstream file's text."""
        path = ROOT / self.source

        try:
            return self.transform(path.read_text())
        except ValueError as error:
            raise ValueError(
                f"cannot produce {self.target} from {self.source}: {error}. Update"
                " upstream/layout.py to match the file."
            ) from error


CORE = "flask_admin/contrib/sqla_lite"

_PROXY_CLASS_DOC = """\
    Flask-Admin keeps the object it is given as ``session`` in its forms, ajax
    loaders and validators, and uses it like a ``scoped_session``. Handing it this
    proxy makes every one of those code paths use the view's session of the
    current request, without touching any session when the view is built.
"""

_PROXY_CLASS_DOC_UPSTREAM = """\
    The SQLAlchemy ``ModelView`` keeps this proxy as ``self.session`` and hands it
    to its forms, ajax loaders and validators, which use it like a
    ``scoped_session``. Every one of those code paths then uses the view's
    session of the current request, and building the view touches no session.
"""

_PROXY_SESSION_DOC = '''\
        """The proxy itself. Flask-Admin checks for a ``session`` attribute to
        recognise a database object it does not need to warn about.
'''

_PROXY_SESSION_DOC_UPSTREAM = '''\
        """The proxy itself, so that code written for a view given a ``db``,
        which reaches the session as ``view.session.session``, keeps working.
'''

PROXY_UPSTREAM = replacing(
    (_PROXY_CLASS_DOC, _PROXY_CLASS_DOC_UPSTREAM),
    (_PROXY_SESSION_DOC, _PROXY_SESSION_DOC_UPSTREAM),
)
"""Our proxy's docstrings describe how stock Flask-Admin 2.2 treats the object it is
given; upstream the view makes the proxy itself and no longer checks for a
``session`` attribute."""

_API_MODEL_VIEW = """\
    .. autoclass:: ModelView
        :members: session_name, session_source, get_session, concurrency_check,
            list_template, get_row_state, row_state

        Class inherits configuration options and hooks from
        ``flask_admin.contrib.sqla.ModelView`` and they're not displayed here.
"""

_API_MODEL_VIEW_UPSTREAM = """\
    .. class:: ModelView

        The same class as :class:`flask_admin.contrib.sqla.ModelView`, under the
        import path of the Flask-Admin-SQLA-Lite add-on. Its session hook is
        :meth:`~flask_admin.contrib.sqla.ModelView.get_session`, configured by
        :attr:`~flask_admin.contrib.sqla.ModelView.session_name`; the source it
        resolves is :attr:`~flask_admin.contrib.sqla.ModelView.session_source`.
"""

API_PAGE_UPSTREAM = replacing((_API_MODEL_VIEW, _API_MODEL_VIEW_UPSTREAM))
"""Upstream ``sqla_lite.ModelView`` *is* ``sqla.ModelView``: the API page points
there instead of documenting the class a second time as a subclass."""

GUIDE_UPSTREAM = chained(
    code_blocks,
    replacing(
        (
            ":meth:`~flask_admin.contrib.sqla_lite.ModelView.get_session`",
            ":meth:`~flask_admin.contrib.sqla.ModelView.get_session`",
        ),
        (
            "    from flask_admin.contrib.sqla_lite import ModelView\n",
            "    from flask_admin.contrib.sqla import ModelView\n",
        ),
    ),
)
"""The guide in Flask-Admin's docs: code blocks instead of doctests, and the view
imported from ``flask_admin.contrib.sqla``, where it lives upstream."""

GENERATED = (
    # The resolver moves into contrib/sqla, where the base ModelView uses it.
    Generated("flask_admin/contrib/sqla/_context.py", f"{CORE}/_context.py"),
    Generated("flask_admin/contrib/sqla/_masking.py", f"{CORE}/_masking.py"),
    Generated(
        "flask_admin/contrib/sqla/_proxy.py", f"{CORE}/_proxy.py", PROXY_UPSTREAM
    ),
    Generated(
        "flask_admin/contrib/sqla/_resolver.py",
        f"{CORE}/_resolver.py",
        replacing(
            (
                " See :doc:`/compatibility` for the rules.",
                " See :doc:`/api/mod_contrib_sqla_lite`.",
            )
        ),
    ),
    # The add-on's import path, for apps written against it; _view.py, which
    # adapts the stock view, is not needed upstream.
    Generated(
        "flask_admin/contrib/sqla_lite/__init__.py",
        f"{CORE}/__init__.py",
        reexporting("flask_admin.contrib.sqla"),
    ),
    Generated(
        "doc/api/mod_contrib_sqla_lite.rst",
        "doc/api/mod_contrib_sqla_lite.rst",
        API_PAGE_UPSTREAM,
        docs=True,
    ),
    Generated(
        "doc/sqla_multi_tenant.rst",
        "doc/guides/multi-tenant.rst",
        GUIDE_UPSTREAM,
        docs=True,
    ),
)
"""The new upstream files that are not tests."""


def generated_tests() -> list[Generated]:
    """Our test package in Flask-Admin's test layout, minus what only the add-on
    has."""
    files = []

    for path in sorted((ROOT / OUR_TEST_DIR).glob("*.py")):
        if path.name in EXCLUDED_TEST_FILES:
            continue

        dropped = ADDON_ONLY_TESTS.get(path.name)
        files.append(
            Generated(
                f"{UPSTREAM_TEST_DIR}/{path.name}",
                f"{OUR_TEST_DIR}/{path.name}",
                verbatim if dropped is None else without_tests(dropped),
            )
        )

    return files
