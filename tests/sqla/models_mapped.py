"""The test models in SQLAlchemy 2.0 style: ``DeclarativeBase``, ``Mapped``."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy import orm
from sqlalchemy import String


class Base(orm.DeclarativeBase):
    """The declarative base of the test models."""


class Team(Base):
    """A team; its name is unique."""

    __tablename__ = "team"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(50), unique=True)

    def __str__(self) -> str:
        return self.name


class Person(Base):
    """A person, with a team chosen through a relationship field."""

    __tablename__ = "person"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(50))
    score: orm.Mapped[int] = orm.mapped_column(default=0)
    team_id: orm.Mapped[int | None] = orm.mapped_column(ForeignKey("team.id"))
    team: orm.Mapped[Team | None] = orm.relationship()
    addresses: orm.Mapped[list[Address]] = orm.relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Address(Base):
    """An address of a person, edited inline on the person's form."""

    __tablename__ = "address"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    street: orm.Mapped[str] = orm.mapped_column(String(100))
    person_id: orm.Mapped[int] = orm.mapped_column(ForeignKey("person.id"))
    person: orm.Mapped[Person] = orm.relationship(back_populates="addresses")

    def __str__(self) -> str:
        return self.street
