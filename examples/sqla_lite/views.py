"""The admin and its views, built at import time: no app or app context needed.

The views are given the Flask-SQLAlchemy-Lite ``db`` before any app exists, and
use the session of the current request whenever they touch the database.
"""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

from models import Author
from models import Book
from models import db
from models import Review


class AuthorView(ModelView):
    """Authors: searchable by name; the unique name is checked by the form."""

    column_searchable_list = ["name"]
    column_filters = ["name"]
    can_export = True


class BookView(ModelView):
    """Books: the author is chosen through an ajax lookup, reviews edited inline,
    the year edited in the list."""

    can_view_details = True
    column_editable_list = ["year"]
    can_export = True
    column_list = ["title", "year", "author"]
    column_searchable_list = ["title", "author.name"]
    column_filters = ["year", "author.name"]
    named_filter_urls = True
    column_labels = {"author.name": "Author name"}
    column_export_list = ["title", "year", "author"]
    form_columns = ["title", "year", "author"]
    form_ajax_refs = {
        "author": {"fields": ["name"], "page_size": 10, "placeholder": "Find an author"}
    }
    inline_models = [Review]


admin = Admin(name="Library")
admin.add_view(AuthorView(Author, db))
admin.add_view(BookView(Book, db))
