"""The admin the tests drive: views over the test models, built with no app context."""

from __future__ import annotations

import typing as t

from flask import Flask

from flask_admin import Admin
from flask_admin.contrib.sqla_lite import ModelView

from .models import Address
from .models import Person
from .models import Team
from .sources import SourceSetup

try:
    from flask_babel import Babel
except ImportError:  # pragma: no cover - Flask-Admin needs Babel only if installed
    Babel = None


class PersonOptions:
    """Every feature that reaches the session: search, filters, sorting,
    details, export, an ajax relationship field and inline addresses."""

    column_list = ["name", "score", "team"]
    column_searchable_list = ["name"]
    column_filters = ["name", "score"]
    column_sortable_list = ["name", "score"]
    column_default_sort = "name"
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 20
    form_columns = ["name", "score", "team"]
    form_ajax_refs = {"team": {"fields": ["name"]}}
    inline_models = [Address]


class PersonSelectOptions:
    """A person form whose team is a plain relationship select field."""

    form_columns = ["name", "score", "team"]


class TeamOptions:
    """A team form; the unique name gets Flask-Admin's ``Unique`` validator."""

    form_columns = ["name"]


AnyModelView: t.TypeAlias = t.Any
"""A stock or our ``ModelView``: Flask-Admin has no type information."""


def build_views(
    source: object,
    base: type[AnyModelView] = ModelView,
    **options: t.Any,
) -> list[AnyModelView]:
    """Build the person, person-select and team views on ``base``."""

    def view(options_class: type, model: type, endpoint: str) -> AnyModelView:
        view_class = type(f"{endpoint.title()}View", (options_class, base), {})
        return view_class(model, source, endpoint=endpoint, **options)

    return [
        view(PersonOptions, Person, "person"),
        view(PersonSelectOptions, Person, "person_select"),
        view(TeamOptions, Team, "team"),
    ]


def build_app(
    setup: SourceSetup, views: list[AnyModelView], **admin_options: t.Any
) -> Flask:
    """Create an app with the source's extension and an admin over ``views``,
    built with ``admin_options``."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    setup.init_app(app)

    if Babel is not None:
        Babel(app)

    admin = Admin(app, **admin_options)

    for view in views:
        admin.add_view(view)

    return app
