"""SQLAlchemy's names the tool knows: Session and sessionmaker types, Session methods, engine
constructors and their keywords, relationships and loader options, legacy `Query` methods."""

from __future__ import annotations

from enum import Enum

# ------------------------------------------------------------------ sessions

SYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
    }
)
ASYNC_SESSION_TYPES = frozenset(
    {"sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession"}
)
PLAIN_SESSIONMAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
SCOPED_SESSION_MAKERS = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})
SYNC_SESSIONMAKERS = PLAIN_SESSIONMAKERS | SCOPED_SESSION_MAKERS
# Functions handing back the Session an ORM object belongs to (`object_session(user)`): called, a Session.
OBJECT_SESSION = frozenset({"sqlalchemy.orm.object_session", "sqlalchemy.orm.session.object_session"})
# Functions handing back an object's InstanceState (`inspect(user)`), whose `.session` is the Session
# the object belongs to.
INSTANCE_STATE = frozenset(
    {
        "sqlalchemy.inspect", "sqlalchemy.inspection.inspect",
        "sqlalchemy.orm.attributes.instance_state", "sqlalchemy.orm.base.instance_state",
    }
)
ASYNC_SESSIONMAKERS = frozenset(
    {"sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.session.async_sessionmaker"}
)
# sessionmaker() keywords that carry over to async_sessionmaker().
SESSION_CARRIED = ("autoflush", "autobegin", "join_transaction_mode", "info", "query_cls")

# Session methods that perform I/O on a synchronous Session: the lines a mixed route blocks on.
SESSION_IO_METHODS = frozenset(
    {
        "execute", "exec", "scalars", "scalar", "get", "get_one", "query", "commit", "rollback",
        "flush", "refresh", "delete", "merge", "close", "connection", "begin", "begin_nested",
        "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings", "delete_all", "merge_all",
        "reset", "invalidate", "prepare",
    }
)
# AsyncSession methods that are coroutines; every other Session method stays synchronous.
# `exec` is SQLModel's (sqlmodel.ext.asyncio.session.AsyncSession.exec is a coroutine).
AWAITED_METHODS = frozenset(
    {
        "execute", "exec", "scalars", "scalar", "get", "get_one", "stream", "stream_scalars",
        "commit", "rollback", "flush", "refresh", "delete", "merge", "close", "reset",
        "invalidate", "connection", "run_sync", "delete_all", "merge_all",
    }
)
# What an awaited `session.stream(...)`/`stream_scalars(...)` gives (AsyncResult, AsyncScalarResult)
# and an awaited `session.connection()` (AsyncConnection): the methods of each that are coroutines,
# and the result methods that give another async result view (`result.scalars().all()`).
ASYNC_RESULT_COROUTINES = frozenset(
    {
        "all", "fetchall", "fetchmany", "fetchone", "first", "one", "one_or_none", "scalar", "scalar_one",
        "scalar_one_or_none", "close", "freeze",
    }
)
ASYNC_RESULT_VIEWS = frozenset({"scalars", "mappings", "unique", "columns", "tuples", "yield_per"})
ASYNC_CONNECTION_COROUTINES = frozenset(
    {
        "execute", "exec_driver_sql", "scalar", "scalars", "stream", "stream_scalars", "commit", "rollback",
        "close", "invalidate", "run_sync", "get_raw_connection",
    }
)
SYNC_METHODS = frozenset(
    {
        "add", "add_all", "expunge", "expunge_all", "expire", "expire_all", "is_modified",
        "in_transaction", "in_nested_transaction", "get_transaction", "get_nested_transaction",
        "get_bind", "identity_key", "object_session", "no_autoflush",
    }
)
# Every public attribute of AsyncSession (SQLAlchemy 2.x; `exec` is SQLModel's): a method a
# project Session subclass adds under any other name is not reachable through it.
ASYNC_SESSION_ATTRIBUTES = frozenset(
    {
        "aclose", "add", "add_all", "autoflush", "begin", "begin_nested", "bind", "bind_mapper",
        "bind_table", "binds", "close", "close_all", "commit", "connection", "delete", "delete_all",
        "deleted", "dirty", "exec", "execute", "execution_options", "expire", "expire_all", "expunge",
        "expunge_all", "flush", "get", "get_async_bind", "get_bind", "get_nested_transaction",
        "get_one", "get_transaction", "identity_key", "identity_map", "in_nested_transaction",
        "in_transaction", "info", "invalidate", "is_active", "is_modified", "merge", "merge_all",
        "new", "no_autoflush", "object_session", "refresh", "reset", "rollback", "run_sync",
        "scalar", "scalars", "stream", "stream_scalars", "sync_session", "sync_session_class",
    }
)
# AsyncSession methods used as `async with`.
CONTEXT_METHODS = frozenset({"begin", "begin_nested"})
# Session methods AsyncSession lacks, and what to use instead. Phase two runs a direct call of
# one on the function's Session through `await session.run_sync(lambda s: s.<method>(...))`,
# the synchronous Session behind the AsyncSession on its greenlet; the text is for the calls it
# cannot rewrite so (in a nested function or a generator expression, on a held Session).
UNAVAILABLE_METHODS = {
    "bulk_save_objects": "use `insert()` statements or `await session.run_sync(...)`",
    "bulk_insert_mappings": "use `insert()` statements or `await session.run_sync(...)`",
    "bulk_update_mappings": "use `update()` statements or `await session.run_sync(...)`",
}
# Session methods AsyncSession lacks that no `run_sync` makes work alike: a call of one blocks
# the route (an AttributeError when it runs otherwise), with the text saying why.
ABSENT_METHODS = {
    "enable_relationship_loading": (
        "it makes the relationships of a transient or pending object load from its foreign keys when "
        "they are read, a lazy load AsyncSession cannot run on the event loop (MissingGreenlet); load the "
        "related objects with an awaited query instead, or keep the route on the sync path"
    ),
    "prepare": (
        "it is the first phase of a two-phase commit by hand, which AsyncSession offers no method for "
        "(a sessionmaker's `twophase=True` is carried over, and commit() runs both phases); keep the route "
        "on the sync path"
    ),
}

# ------------------------------------------------------------------ engines

SYNC_ENGINE_CONSTRUCTORS = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine.create.create_engine",
    }
)
FROM_CONFIG = frozenset(
    {
        "sqlalchemy.engine_from_config",
        "sqlalchemy.engine.engine_from_config",
        "sqlalchemy.engine.create.engine_from_config",
    }
)
CREATE_ASYNC_ENGINE = frozenset(
    {"sqlalchemy.ext.asyncio.create_async_engine", "sqlalchemy.ext.asyncio.engine.create_async_engine"}
)
ASYNC_ENGINE_CONSTRUCTORS = CREATE_ASYNC_ENGINE | {
    "sqlalchemy.ext.asyncio.async_engine_from_config",
    "sqlalchemy.ext.asyncio.engine.async_engine_from_config",
}
URL_TYPES = frozenset({"sqlalchemy.URL", "sqlalchemy.engine.URL", "sqlalchemy.engine.url.URL"})
# Sets up every mapper, which adds the attributes backrefs create to the classes they land on.
CONFIGURE_MAPPERS = frozenset({"sqlalchemy.orm.configure_mappers", "sqlalchemy.orm.mapper.configure_mappers"})
# A synchronous engine's Connection, as a parameter or return type names it.
SYNC_CONNECTION_TYPES = frozenset(
    {"sqlalchemy.Connection", "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection"}
)
# A synchronous engine, as a parameter or return type names it: a value so declared connects
# synchronously, whatever the caller hands (`def validate(engine: Engine)`).
SYNC_ENGINE_TYPES = frozenset({"sqlalchemy.Engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"})
# Engine methods whose call gives a synchronous Connection (`with engine.begin() as conn:`).
CONNECTION_OPENERS = frozenset({"connect", "begin"})
# The engine method handing out a pooled DB-API connection itself, outside any Connection.
RAW_CONNECTION = "raw_connection"
# Attributes of an engine, a Connection or a Session's bind that describe the database and do no
# I/O: its URL (`engine.url.database`, `session.bind.url`) and dialect (`engine.dialect.name`).
# What is read through them is a string or a setting, never a Session.
DESCRIPTIVE_ATTRIBUTES = frozenset({"url", "dialect"})
# Connection methods that talk to the database: each a blocking round trip.
CONNECTION_IO_METHODS = frozenset(
    {"execute", "scalar", "scalars", "exec_driver_sql", "commit", "rollback", "begin_nested"}
)

# create_engine() keywords that mean the same to create_async_engine() and carry over as written.
ENGINE_CARRIED = (
    "pool_size", "max_overflow", "pool_pre_ping", "pool_recycle", "pool_timeout", "pool_use_lifo",
    "pool_reset_on_return", "echo", "echo_pool", "hide_parameters", "isolation_level",
    "execution_options", "json_serializer", "json_deserializer", "logging_name", "pool_logging_name",
    "query_cache_size", "insertmanyvalues_page_size", "label_length", "max_identifier_length", "plugins",
)
# Accepted only by queue pools: an in-memory SQLite database gets StaticPool under aiosqlite.
QUEUE_POOL_ONLY = frozenset({"pool_size", "max_overflow", "pool_timeout", "pool_use_lifo"})
# The pool that keeps one connection for every checkout: how an in-memory SQLite database is
# shared between Sessions.
STATIC_POOLS = frozenset(f"{module}.StaticPool" for module in ("sqlalchemy", "sqlalchemy.pool", "sqlalchemy.pool.impl"))
# Pool classes an asyncio engine can use.
ASYNC_POOLS = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy", "sqlalchemy.pool", "sqlalchemy.pool.impl")
    for name in ("NullPool", "StaticPool", "AsyncAdaptedQueuePool")
)

# ------------------------------------------------------------------ relationships and loading

RELATIONSHIP_CONSTRUCTORS = frozenset(
    {
        "sqlalchemy.orm.relationship",
        "sqlalchemy.orm.relation",
        "sqlalchemy.orm._orm_constructors.relationship",
        "sqlalchemy.orm.dynamic_loader",  # lazy="dynamic"
        "sqlalchemy.orm._orm_constructors.dynamic_loader",
    }
)
# A mixin's or model's method building a mapped attribute per class (`@declared_attr def
# updated_at(cls) -> Mapped[datetime]: return mapped_column(...)`): the mapper maps what it
# returns under the method's name, as if the class body assigned it. `.directive` builds
# `__tablename__` and the like, no attribute.
DECLARED_ATTRS = frozenset(
    f"{module}.declared_attr{suffix}"
    for module in ("sqlalchemy.orm", "sqlalchemy.orm.decl_api", "sqlalchemy.ext.declarative")
    for suffix in ("", ".cascading")
)
# The relationship strategy a `Mapped[...]` variant implies when `lazy=` is absent.
ANNOTATED_STRATEGIES = {"WriteOnlyMapped": "write_only", "DynamicMapped": "dynamic"}
BACKREF_CONSTRUCTORS = frozenset({"sqlalchemy.orm.backref", "sqlalchemy.orm._orm_constructors.backref"})
# `relationship(lazy=...)` values that load up front, and values that never load implicitly.
# `Table` as SQLAlchemy exports it and where it is defined: a query of one gives rows of its
# column values, never an ORM object with relationships to load.
TABLE_TYPES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table", "sqlalchemy.sql.schema.Table"})
EAGER_STRATEGIES = frozenset({"selectin", "joined", "subquery", "immediate"})
NON_LOADING_STRATEGIES = frozenset({"raise", "raise_on_sql", "noload", "write_only"})
# Loader options that load relationships eagerly, by name and by reference.
LOADER_NAMES = frozenset({"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"})
LOADER_OPTIONS = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy.orm", "sqlalchemy.orm.strategy_options")
    for name in LOADER_NAMES
)
# Calls that load subclass columns with a query of the base class; recorded in a function's
# eager loads under the attribute name POLYMORPHIC.
POLYMORPHIC_LOADERS = frozenset({"selectin_polymorphic", "with_polymorphic"})
POLYMORPHIC = "<polymorphic>"
# Select methods that join tables.
JOIN_METHODS = frozenset({"join", "outerjoin", "join_from"})

# ------------------------------------------------------------------ legacy Query

# Query methods that carry over to `select()` one to one (Query name -> Select name).
QUERY_CARRIED: dict[str, str] = {
    "filter": "where",
    "filter_by": "filter_by",
    "order_by": "order_by",
    "limit": "limit",
    "offset": "offset",
    "distinct": "distinct",
    "options": "options",
    "join": "join",
    "outerjoin": "outerjoin",
    "group_by": "group_by",
    "having": "having",
    "with_for_update": "with_for_update",
    # A Query's execution options are its statement's (`Query._statement_20()`), read by the ORM
    # and by `do_orm_execute` listeners (`include_deleted=True`) alike.
    "execution_options": "execution_options",
}
# Carried methods whose `select()` counterpart takes `*args` / `**kwargs` exactly as the Query
# method does (same parameters, same meaning, SQLAlchemy 1.4 to 2.1): a starred argument is handed
# on as written (`.filter(*conditions)` -> `.where(*conditions)`, `.filter_by(**keys)`), no less
# readable than a named one. Query name -> the stars it may take.
QUERY_STARRED: dict[str, frozenset[str]] = {
    "filter": frozenset({"*"}),
    "filter_by": frozenset({"**"}),
    "order_by": frozenset({"*"}),
    "group_by": frozenset({"*"}),
    "distinct": frozenset({"*"}),
    "options": frozenset({"*"}),
}
# Execution options whose meaning differs once an AsyncSession runs the statement: it buffers
# every result (streaming needs `stream()`), and an ORM statement takes no isolation level.
QUERY_STREAMING_OPTIONS = frozenset({"yield_per", "stream_results", "max_row_buffer", "isolation_level"})
QUERY_ROW_TERMINALS = frozenset({"all", "first", "one", "one_or_none"})
QUERY_TERMINALS = QUERY_ROW_TERMINALS | {"scalar", "count", "get", "delete", "update"}
# Session methods whose result runs (or fetches) its query only when it is consumed: a Query,
# and the Result of `execute()`/`scalars()` (its rows fetched from the cursor as they are read).
LAZY_RESULTS = frozenset({"query", "execute", "scalars"})
# What consumes such a result: a Query's terminals, and a Result's.
RESULT_CONSUMERS = QUERY_TERMINALS | {
    "scalars", "scalar_one", "scalar_one_or_none", "fetchall", "fetchone", "fetchmany", "partitions",
    "mappings", "unique", "tuples", "exists", "__iter__",
}
# The names `sqlalchemy.orm.Query` defines (its public methods and the internals its terminals go
# through, SQLAlchemy 1.4 to 2.1): a project Query class defining one changes what a legacy chain
# returns, which its `select()` form would not keep (phase2/query_class.py).
QUERY_MEMBERS = frozenset(
    {
        "_add_compile_state_func", "_all_selected_columns", "_annotate", "_annotations",
        "_annotations_cache_key", "_assert_no_memoizations", "_auto_correlate", "_autoflush", "_bind_mapper",
        "_clone", "_clone_annotations_traverse_internals", "_compile_context", "_compile_options",
        "_compile_state", "_compile_state_funcs", "_connection_from_session", "_copy_internals", "_correlate",
        "_current_path", "_deannotate", "_distinct", "_distinct_on", "_effective_plugin_target",
        "_enable_assertions", "_entity_from_pre_ent_zero", "_executable_traverse_internals",
        "_execute_and_instances", "_execution_options", "_filter_by_zero", "_final_statement",
        "_for_update_arg", "_from_obj", "_from_selectable", "_gen_annotations_cache_key", "_generate",
        "_generate_compiler_dispatch", "_get_condition", "_get_existing_condition", "_get_impl", "_get_options",
        "_get_select_statement_only", "_group_by_clauses", "_has_hints_traverse_internals",
        "_has_prefixes_traverse_internals", "_has_row_limiting_clause", "_has_suffixes_traverse_internals",
        "_having_criteria", "_hints", "_is_default_generator", "_is_immutable", "_is_protocol", "_iter",
        "_iterate_from_elements", "_label_style", "_last_joined_entity", "_legacy_from_self", "_limit_clause",
        "_memoized_keys", "_memoized_select_entities", "_no_clauseelement_condition", "_no_criterion_assertion",
        "_no_criterion_condition", "_no_limit_offset", "_no_statement_condition", "_offset_clause",
        "_only_full_mapper_zero", "_order_by_clauses", "_params", "_prefixes", "_propagate_attrs",
        "_reset_memoizations", "_role_name", "_set_compile_options", "_set_enable_single_crit", "_set_entities",
        "_set_lazyload_from", "_set_memoized_attribute", "_set_op", "_set_propagate_attrs", "_set_select_from",
        "_setup_joins", "_should_log_debug", "_should_log_info", "_statement", "_statement_20",
        "_statement_hints", "_suffixes", "_syntax_extensions", "_update_compile_options", "_values",
        "_values_no_warn", "_where_criteria", "_with_annotations", "_with_compile_options",
        "_with_current_path", "_with_hint", "_with_invoke_all_eagers", "_with_options", "add_column",
        "add_columns", "add_entity", "all", "allows_lambda", "apply_labels", "as_scalar", "autoflush",
        "column_descriptions", "correlate", "count", "cte", "delete", "distinct", "enable_assertions",
        "enable_eagerloads", "except_", "except_all", "execution_options", "exists", "filter", "filter_by",
        "first", "from_statement", "get", "get_children", "get_execution_options", "get_label_style",
        "group_by", "having", "instances", "intersect", "intersect_all", "is_delete", "is_dml",
        "is_from_statement", "is_insert", "is_select", "is_single_entity", "is_text", "is_update", "join",
        "label", "lazy_loaded_from", "limit", "load_options", "merge_result", "offset", "one", "one_or_none",
        "only_return_tuples", "options", "order_by", "outerjoin", "params", "populate_existing", "prefix_with",
        "reset_joinpoint", "scalar", "scalar_subquery", "select_from", "selectable", "set_label_style", "slice",
        "statement", "subquery", "suffix_with", "supports_execution", "tuples", "union", "union_all", "update",
        "uses_inspection", "value", "values", "where", "whereclause", "with_entities", "with_for_update",
        "with_hint", "with_labels", "with_parent", "with_session", "with_statement_hint", "with_transformation",
        "yield_per"
    }
)
QUERY_BASES = frozenset({"sqlalchemy.orm.Query", "sqlalchemy.orm.query.Query"})
# Legacy Query methods with no exact counterpart in `select()` one to one.
QUERY_LEGACY = frozenset(
    {
        "with_entities", "from_self", "yield_per", "populate_existing", "slice", "exists", "union",
        "union_all", "intersect", "intersect_all", "except_", "except_all", "values", "value",
        "paginate", "select_from", "params", "correlate", "enable_eagerloads",
        "autoflush", "with_parent", "subquery", "scalar_subquery", "label", "as_scalar", "prefix_with",
        "suffix_with", "with_hint", "with_statement_hint", "reset_joinpoint", "with_transformation",
        "with_session", "instances", "merge_result", "set_label_style", "enable_assertions", "tuples",
        "with_labels", "from_statement", "add_columns", "add_column", "add_entity",
        "only_return_tuples", "column_descriptions",
    }
)
# What a `query(...)` argument is: functions that make an entity, functions and methods
# that make a column expression.
ENTITY_FUNCTIONS = frozenset({"aliased", "with_polymorphic"})
COLUMN_FUNCTIONS = frozenset(
    {"literal", "literal_column", "cast", "type_coerce", "case", "distinct", "null", "true", "false",
     "and_", "or_", "not_", "extract", "tuple_", "label", "over", "within_group", "collate"}
)
COLUMN_METHODS = frozenset({"label", "distinct", "desc", "asc", "cast", "op", "collate", "over"})

# Bases a mapped class may inherit from that bring no code reading its relationships: an
# attribute the tool finds nowhere in the project's class bodies is then not a property.
MODEL_BASES = frozenset(
    {"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta", "sqlalchemy.orm.MappedAsDataclass",
     "sqlalchemy.ext.asyncio.AsyncAttrs", "sqlalchemy.orm.decl_api.DeclarativeBase"}
)
# Bases whose every subclass is a mapped class or an abstract one (`class Base(DeclarativeBase)`).
DECLARATIVE_BASES = frozenset(
    {"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta", "sqlalchemy.orm.decl_api.DeclarativeBase",
     "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta"}
)
# Bases that make a mapped class a dataclass (`dataclasses.asdict` reads its every field).
MAPPED_AS_DATACLASS_BASES = frozenset({"sqlalchemy.orm.MappedAsDataclass", "sqlalchemy.orm.decl_api.MappedAsDataclass"})
# Calls whose result is a declarative base (`Base = declarative_base()`).
BASE_FACTORIES = frozenset(
    {"sqlalchemy.orm.declarative_base", "sqlalchemy.ext.declarative.declarative_base",
     "sqlalchemy.orm.decl_api.declarative_base"}
)
# `registry()`, whose `generate_base(cls=...)` makes a declarative base as `declarative_base` does.
MAPPER_REGISTRIES = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})
# Decorators that make a method run when the attribute is read (the python side of a hybrid).
PROPERTY_DECORATORS = frozenset({"sqlalchemy.ext.hybrid.hybrid_property", "sqlalchemy.ext.hybrid.hybrid_method"})
# `association_proxy("rel", "attr")`: reading it reads the relationship `rel`.
ASSOCIATION_PROXIES = frozenset(
    {"sqlalchemy.ext.associationproxy.association_proxy", "sqlalchemy.ext.associationproxy.AssociationProxy"}
)
# `@validates("attr")`: the method runs on the object when the attribute is written.
VALIDATES = frozenset({"sqlalchemy.orm.validates", "sqlalchemy.orm.util.validates", "sqlalchemy.orm.mapper.validates"})
# `undefer(Model.column)`: a deferred column loaded with the object (credited like an eager load).
UNDEFER_NAMES = frozenset({"undefer"})
# `aliased(Book)`: the class under another name in a select, loading with the options written on it.
ALIASED = frozenset({"sqlalchemy.orm.aliased", "sqlalchemy.orm.util.aliased", "sqlalchemy.orm._orm_constructors.aliased"})
UNDEFER_OPTIONS = frozenset({"sqlalchemy.orm.undefer", "sqlalchemy.orm.strategy_options.undefer"})
# `load_only(Model.a)`, `defer(Model.b)`: the query leaves columns unloaded, which load on first read.
NARROWING_NAMES = frozenset({"load_only", "defer"})
NARROWING_OPTIONS = frozenset(
    f"{module}.{name}" for module in ("sqlalchemy.orm", "sqlalchemy.orm.strategy_options") for name in NARROWING_NAMES
)
# Column constructors taking `deferred=True`, and `deferred(...)` itself.
DEFERRED_COLUMNS = frozenset({"sqlalchemy.orm.deferred", "sqlalchemy.orm._orm_constructors.deferred"})
DEFERRABLE_COLUMNS = frozenset({"sqlalchemy.orm.mapped_column", "sqlalchemy.orm.column_property",
                                "sqlalchemy.orm._orm_constructors.mapped_column",
                                "sqlalchemy.orm._orm_constructors.column_property"})

class Derived(Enum):
    """An object a Session method hands out whose own methods are coroutines on AsyncSession."""

    TRANSACTION = "transaction"  # AsyncSessionTransaction
    CONNECTION = "connection"  # AsyncConnection


# Session methods whose result is such an object: `begin()`/`begin_nested()`/`get_transaction()`
# give an AsyncSessionTransaction, `connection()` an AsyncConnection.
DERIVED_KINDS = {
    "begin": Derived.TRANSACTION, "begin_nested": Derived.TRANSACTION, "get_transaction": Derived.TRANSACTION,
    "get_nested_transaction": Derived.TRANSACTION, "connection": Derived.CONNECTION,
}
# What each is called after the rewrite, and the sync calls that give it (for reasons).
DERIVED_ASYNC_TYPES = {Derived.TRANSACTION: "AsyncSessionTransaction", Derived.CONNECTION: "AsyncConnection"}
DERIVED_SOURCES = {Derived.TRANSACTION: "begin()/begin_nested()", Derived.CONNECTION: "connection()"}
# Per kind: the coroutine methods (awaited after the rewrite) and the plain ones. A method in
# neither (`SessionTransaction.close()`, `Connection.begin()`) blocks the route.
DERIVED_AWAITED = {
    Derived.TRANSACTION: frozenset({"commit", "rollback"}),
    Derived.CONNECTION: frozenset(
        {
            "execute", "scalar", "scalars", "exec_driver_sql", "stream", "stream_scalars", "commit",
            "rollback", "close", "invalidate", "execution_options", "run_sync", "get_raw_connection",
            "get_isolation_level",
        }
    ),
}
# Per kind: methods the async object has but phase two does not rewrite there (a transaction an
# AsyncConnection begins is awaited, or entered with `async with`): a call of one blocks the route.
DERIVED_UNREWRITTEN: dict[Derived, frozenset[str]] = {
    Derived.TRANSACTION: frozenset(),
    Derived.CONNECTION: frozenset({"begin", "begin_nested"}),
}
# Per kind: the attributes that read the same on the async object. Any other blocks the route:
# `conn.connection` raises on an AsyncConnection (its DBAPI connection is `await
# conn.get_raw_connection()`, whose driver calls need the greenlet), `conn.engine` is an AsyncEngine.
DERIVED_ATTRIBUTES: dict[Derived, frozenset[str]] = {
    Derived.TRANSACTION: frozenset({"is_active", "nested"}),
    Derived.CONNECTION: frozenset({"info", "dialect", "closed", "invalidated", "default_isolation_level"}),
}
DERIVED_PLAIN: dict[Derived, frozenset[str]] = {
    Derived.TRANSACTION: frozenset(),
    Derived.CONNECTION: frozenset(
        {"in_transaction", "in_nested_transaction", "get_transaction", "get_nested_transaction"}
    ),
}

# Events whose target is a mapped class, its instances or one of its attributes (mapper,
# instance and attribute events): a listener for one never sits on an engine or a sessionmaker.
MODEL_EVENTS = frozenset({
    "before_insert", "after_insert", "before_update", "after_update", "before_delete", "after_delete",
    "before_mapper_configured", "mapper_configured", "before_configured", "after_configured",
    "instrument_class", "init", "init_failure", "first_init", "load", "refresh", "refresh_flush", "expire",
    "pickle", "unpickle", "set", "append", "append_wo_mutation", "remove", "bulk_replace", "modified",
    "init_scalar", "init_collection", "dispose_collection",
})
