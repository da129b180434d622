"""SQLModel's names the tool knows: its Session (which adds `exec`), engine and relationships."""

from __future__ import annotations

SQLMODEL_SESSION_TYPES = frozenset({"sqlmodel.Session", "sqlmodel.orm.session.Session"})
# Where `exec` is a coroutine.
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session.AsyncSession"
ASYNC_SESSION_TYPES = frozenset({SQLMODEL_ASYNC_SESSION})
ENGINE_CONSTRUCTORS = frozenset({"sqlmodel.create_engine"})
# `lazy=` sits inside `sa_relationship_kwargs={...}`.
RELATIONSHIP_CONSTRUCTORS = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship"})

MODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
