"""Descriptions of session sources with the credentials in them masked."""

from __future__ import annotations

import re
import typing as t

from sqlalchemy.engine import URL

_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s'\"]*):[^\s'\"]*@")
"""A URL's ``user:password@``; greedy up to the last ``@`` of the token, since
a password written unquoted into a URL may itself hold an ``@``."""

_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|secret|token|api_key|apikey)=)[^&;\s'\"]*",
    re.IGNORECASE,
)
"""A secret passed as a URL query argument, as psycopg and PyMySQL accept it."""


def mask(text: str) -> str:
    """Return ``text`` with the passwords of the URLs in it replaced by ``***``."""
    text = _USERINFO.sub(r"\g<head>:***@", text)
    return _QUERY_SECRET.sub(r"\g<head>***", text)


def describe(value: object) -> str:
    """Return ``repr(value)`` with credentials masked."""
    return mask(repr(value))


def is_database_url(value: object) -> t.TypeGuard[str | bytes | URL]:
    """Whether ``value`` is a database URL, as a string or a SQLAlchemy ``URL``."""
    if isinstance(value, URL):
        return True

    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")

    return isinstance(value, str) and "://" in value
