"""The test models in SQLAlchemy 1.4 style: ``declarative_base()``, ``Column``.

The same tables as :mod:`.models_mapped`; this style also works on 2.x.
"""

from __future__ import annotations

import typing as t

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import orm
from sqlalchemy import String

Base: t.Any = orm.declarative_base()
"""The declarative base of the test models (untyped, as in 1.4)."""


class Team(Base):  # type: ignore[misc]
    """A team; its name is unique."""

    __tablename__ = "team"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), unique=True, nullable=False)

    def __str__(self) -> str:
        return str(self.name)


class Person(Base):  # type: ignore[misc]
    """A person, with a team chosen through a relationship field."""

    __tablename__ = "person"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    score = Column(Integer, nullable=False, default=0)
    team_id = Column(Integer, ForeignKey("team.id"))
    team = orm.relationship(Team)
    addresses = orm.relationship(
        "Address", back_populates="person", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return str(self.name)


class Address(Base):  # type: ignore[misc]
    """An address of a person, edited inline on the person's form."""

    __tablename__ = "address"

    id = Column(Integer, primary_key=True)
    street = Column(String(100), nullable=False)
    person_id = Column(Integer, ForeignKey("person.id"), nullable=False)
    person = orm.relationship(Person, back_populates="addresses")

    def __str__(self) -> str:
        return str(self.street)
