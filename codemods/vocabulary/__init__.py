"""Every table of library names the tool knows, one module per library.

`fastapi`, `starlette`, `sqlalchemy`, `sqlmodel`, `dependency_injector`, `fastapi_sqlalchemy`, `fastapi_sqla`, and
`python` (the standard library and AnyIO). Names are absolute references as the collector resolves them (`sqlalchemy.orm.Session`)
or bare method names. A name that belongs to two libraries at once (SQLModel's Session is a
SQLAlchemy Session) is joined here.
"""

from __future__ import annotations

from async_migrate.codemods.vocabulary import fastapi, fastapi_sqla, python, sqlalchemy, sqlmodel, starlette

SYNC_SESSION_TYPES = sqlalchemy.SYNC_SESSION_TYPES | sqlmodel.SQLMODEL_SESSION_TYPES | fastapi_sqla.SESSION_TYPES
ASYNC_SESSION_TYPES = sqlalchemy.ASYNC_SESSION_TYPES | sqlmodel.ASYNC_SESSION_TYPES | fastapi_sqla.ASYNC_SESSION_TYPES
SYNC_ENGINE_CONSTRUCTORS = sqlalchemy.SYNC_ENGINE_CONSTRUCTORS | sqlmodel.ENGINE_CONSTRUCTORS
# Calls that build an engine: recorded with their arguments as written (facts.EngineCall).
ENGINE_CONSTRUCTORS = SYNC_ENGINE_CONSTRUCTORS | sqlalchemy.FROM_CONFIG | sqlalchemy.ASYNC_ENGINE_CONSTRUCTORS
RELATIONSHIP_CONSTRUCTORS = sqlalchemy.RELATIONSHIP_CONSTRUCTORS | sqlmodel.RELATIONSHIP_CONSTRUCTORS
# What a mapped class may inherit without code of its own reading relationships, and the
# decorators that run a method when its attribute is read (`computed_field` sits on a property).
MODEL_BASES = sqlalchemy.MODEL_BASES | sqlmodel.MODEL_BASES | python.PLAIN_BASES | {"pydantic.BaseModel"}
PROPERTY_DECORATORS = python.PROPERTY_DECORATORS | sqlalchemy.PROPERTY_DECORATORS | {"pydantic.computed_field"}
# Classes whose attributes are values they were given, looked up by name (`request.state.posts`):
# an attribute read on one is no relationship of it, whatever the name.
ATTRIBUTE_BAGS = starlette.STATE_TYPES | python.NAMESPACE_TYPES
# Calls that run the function they are given in a worker thread.
OFFLOADERS = fastapi.THREADPOOL | python.TO_THREAD
