import doctest
import importlib.metadata

# Project --------------------------------------------------------------

project = "Flask-Admin SQLA-Lite"
release = importlib.metadata.version("flask-admin-sqla-lite")
version = release.partition(".dev")[0]

# General --------------------------------------------------------------

default_role = "code"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.extlinks",
]
exclude_patterns = ["_build", "_includes"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
extlinks = {
    "issue": (
        "https://github.com/pallets-eco/flask-admin/issues/%s",
        "flask-admin #%s",
    ),
    "sqla": ("https://docs.sqlalchemy.org/en/20/%s", None),
    "lite": ("https://flask-sqlalchemy-lite.readthedocs.io/en/latest/%s", None),
    "fsa": ("https://flask-sqlalchemy.readthedocs.io/en/stable/%s", None),
    "admin": ("https://flask-admin.readthedocs.io/en/latest/%s", None),
}
# Sphinx's default flags include IGNORE_EXCEPTION_DETAIL, which checks only the
# type of an exception; leave it out so the messages quoted in the docs are
# compared too. NORMALIZE_WHITESPACE lets a long message wrap over lines.
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
)
# Every group of snippets runs in a new temporary directory, and Flask(__name__)
# uses it as the app's root path, so relative SQLite files land there.
doctest_global_setup = """
import os
import tempfile

__name__ = "example"
_doc_cwd = os.getcwd()
_doc_tmp = tempfile.TemporaryDirectory()
os.chdir(_doc_tmp.name)
"""
doctest_global_cleanup = """
os.chdir(_doc_cwd)
_doc_tmp.cleanup()
"""

# HTML -----------------------------------------------------------------

html_theme = "furo"
html_title = f"{project} {version}"
html_copy_source = False
html_show_copyright = False
html_use_index = False
html_domain_indices = False
pygments_style = "default"
pygments_style_dark = "github-dark"
