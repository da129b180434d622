"""Phase two's rewrites of calls and parameters: one registered unit per kind, each choosing
its calls when `plan.py` plans a function and editing them when `to_async.py` rewrites it.

`CALL_REWRITES` is ordered: the planner offers each call of a migrated function to every
unit in turn, and the first that answers decides (an action, or `LEAVE` to keep the call
as written). `to_async.py` hands each planned call to the unit that owns its kind.

A new rewrite: a module here with a `CallRewrite` subclass (its `kinds`, `plan`, `edit`,
and `async_with` when it can be a `with` item), new members in `CallKind`, an entry in
`CALL_REWRITES` at the place its calls must be tried, and a test that runs the migrated
code. A new awaited Session method needs none of this: it is one line in
`vocabulary/sqlalchemy.py`.
"""

from __future__ import annotations

from async_migrate.codemods.phase2.rewrites.base import LEAVE, CallAction, CallKind, CallRewrite, Leave
from async_migrate.codemods.phase2.rewrites.call_mappings import CallMappings
from async_migrate.codemods.phase2.rewrites.engine_open import EngineOpen
from async_migrate.codemods.phase2.rewrites.project_calls import ProjectCalls
from async_migrate.codemods.phase2.rewrites.query_chains import KeptQuery, LegacyQuery
from async_migrate.codemods.phase2.rewrites.session_casts import SessionCasts
from async_migrate.codemods.phase2.rewrites.session_methods import SessionMethods
from async_migrate.codemods.phase2.rewrites.session_open import SessionOpen
from async_migrate.codemods.phase2.rewrites.session_params import (
    Alias,
    Annotation,
    Depends,
    ParamAction,
    ParamKind,
    ParamRewrite,
    Received,
)

CALL_REWRITES: tuple[CallRewrite, ...] = (
    KeptQuery(),  # first: the head of a Query kept in a name is a chain LegacyQuery would block
    LegacyQuery(),  # a chain's outermost call may also be a Session method call
    SessionMethods(),  # on the Session, a Session the class holds, or a transaction from it
    ProjectCalls(),  # project functions, and objects built (`Repo(db)`, left alone)
    CallMappings(),
    EngineOpen(),  # before SessionOpen: `Session(engine)` is a Session class opened with arguments
    SessionOpen(),
    SessionCasts(),  # the type a cast of the Session names; the calls on it are the units' above
)

# Tried in order; a route's Session parameter is always one of the first two.
PARAM_REWRITES: tuple[ParamRewrite, ...] = (Depends(), Alias(), Annotation(), Received())

_CALLS = {kind: unit for unit in CALL_REWRITES for kind in unit.kinds}
_PARAMS = {unit.kind: unit for unit in PARAM_REWRITES}


def call_rewrite(kind: CallKind) -> CallRewrite:
    """The unit that edits calls planned as `kind`."""
    return _CALLS[kind]


def param_rewrite(kind: ParamKind) -> ParamRewrite:
    return _PARAMS[kind]


__all__ = [
    "CALL_REWRITES",
    "LEAVE",
    "PARAM_REWRITES",
    "CallAction",
    "CallKind",
    "CallRewrite",
    "Leave",
    "ParamAction",
    "ParamKind",
    "ParamRewrite",
    "call_rewrite",
    "param_rewrite",
]
