"""The models every admin test uses: a team, people in it, and their addresses.

In SQLAlchemy 2.0 style on 2.x (:mod:`.models_mapped`), in 1.4 style on 1.4
(:mod:`.models_classic`, which ``test_model_styles.py`` also runs on 2.x).
"""

from __future__ import annotations

import typing as t

from sqlalchemy import orm

SQLALCHEMY_2 = hasattr(orm, "DeclarativeBase")
"""Whether this SQLAlchemy has the 2.0 declarative API."""

if t.TYPE_CHECKING or SQLALCHEMY_2:
    from .models_mapped import Address as Address
    from .models_mapped import Base as Base
    from .models_mapped import Person as Person
    from .models_mapped import Team as Team
else:
    from .models_classic import Address as Address
    from .models_classic import Base as Base
    from .models_classic import Person as Person
    from .models_classic import Team as Team
