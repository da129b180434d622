"""SQLModel's names the tool knows: its Session (which adds `exec`), engine and relationships."""

from __future__ import annotations

SQLMODEL_SESSION_TYPES = frozenset({"sqlmodel.Session", "sqlmodel.orm.session.Session"})
# Where `exec` is a coroutine.
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session.AsyncSession"
ASYNC_SESSION_TYPES = frozenset({SQLMODEL_ASYNC_SESSION})
# The package it lives in: importing from it (its `AsyncSession`, `*`) may bring it in.
SQLMODEL_ASYNC_PACKAGE = "sqlmodel.ext.asyncio"
ENGINE_CONSTRUCTORS = frozenset({"sqlmodel.create_engine"})
# `lazy=` sits inside `sa_relationship_kwargs={...}`.
RELATIONSHIP_CONSTRUCTORS = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship"})

MODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
# Class methods that build a new instance of the model they are called on, whatever they are
# given (`sqlmodel_validate`): on a table model, `Hero.model_validate(hero_in)` is `Hero(...)`.
BUILDERS = frozenset({"model_validate", "from_orm", "parse_obj"})
