"""The library's models and its Flask-SQLAlchemy-Lite extension."""

from __future__ import annotations

from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy import orm
from sqlalchemy import String

db = SQLAlchemy()


class Base(orm.DeclarativeBase):
    """The declarative base of the library's models."""


class Author(Base):
    """An author; no two authors share a name."""

    __tablename__ = "author"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(String(100), unique=True)
    books: orm.Mapped[list[Book]] = orm.relationship(back_populates="author")

    def __str__(self) -> str:
        return self.name


class Book(Base):
    """A book by one author, with its reviews."""

    __tablename__ = "book"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    title: orm.Mapped[str] = orm.mapped_column(String(200))
    year: orm.Mapped[int]
    author_id: orm.Mapped[int] = orm.mapped_column(ForeignKey("author.id"))
    author: orm.Mapped[Author] = orm.relationship(back_populates="books")
    reviews: orm.Mapped[list[Review]] = orm.relationship(
        back_populates="book", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.title


class Review(Base):
    """A reader's review of a book, edited inline on the book's form."""

    __tablename__ = "review"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    book_id: orm.Mapped[int] = orm.mapped_column(ForeignKey("book.id"))
    book: orm.Mapped[Book] = orm.relationship(back_populates="reviews")
    reviewer: orm.Mapped[str] = orm.mapped_column(String(100))
    rating: orm.Mapped[int]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.rating}/5"
