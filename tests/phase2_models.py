"""The models module most phase-two tests that run an application start from: `Base`, `User`
(id, name) and `Item` (id, name, owner_id to users.id), each test adding its own columns,
relationships and classes."""

from __future__ import annotations

import textwrap

USER = """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""
ITEM = """
class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""


def _names(shared: str, extra: str) -> str:
    names = {n.strip() for n in f"{shared},{extra}".split(",") if n.strip()}
    return ", ".join(sorted(names))


def _body(lines: str) -> str:
    return textwrap.indent(textwrap.dedent(lines).strip("\n"), "    ") + "\n" if lines.strip() else ""


def user_item_models(
    item: str = "", *, user: str = "", before: str = "", after: str = "", core: str = "",
    orm: str = "relationship", base: str = "DeclarativeBase",
) -> str:
    """The text of models.py: `item` and `user` are lines (dedented here) added to those classes'
    bodies; `before` classes go between Base and User, `after` ones after Item; `core` and `orm`
    name what the module imports from `sqlalchemy` and `sqlalchemy.orm` besides what these
    classes need (comma-separated); `base` is what `Base` derives from."""
    head = (
        f"\nfrom sqlalchemy import {_names('ForeignKey, String', core)}\n"
        f"from sqlalchemy.orm import {_names('DeclarativeBase, Mapped, mapped_column', orm)}\n"
        f"\n\nclass Base({base}):\n    pass\n\n\n"
    )
    middle = textwrap.dedent(before).strip("\n") + "\n\n\n" if before.strip() else ""
    tail = "\n\n" + textwrap.dedent(after).rstrip() + "\n" if after.strip() else ""
    return head + middle + USER.lstrip() + _body(user) + "\n\n" + ITEM.lstrip() + _body(item) + tail
