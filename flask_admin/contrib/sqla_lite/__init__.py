from ._probe import probe_app as probe_app
from ._proxy import SessionProxy as SessionProxy
from ._resolver import resolve_session_source as resolve_session_source
from ._resolver import SessionSource as SessionSource
from ._resolver import SharedSessionWarning as SharedSessionWarning
from ._view import ModelView as ModelView

__all__ = [
    "ModelView",
    "SessionProxy",
    "SessionSource",
    "SharedSessionWarning",
    "probe_app",
    "resolve_session_source",
]
