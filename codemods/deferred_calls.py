"""Calls that hand a class or function the arguments it is called with later.

A dependency-injection container rarely builds its unit of work by a plain call: it hands the
class and its constructor arguments to something that calls it on first use or per request
(`partial(UnitOfWork, SessionLocal)`, dependency-injector's `providers.Singleton(UnitOfWork,
session_factory=SessionLocal)`, a hand-written `Singleton(UnitOfWork, SessionLocal)` keeping
them in `*args`/`**kwargs`). Those arguments land in the constructor's parameters all the same:
a session factory so handed is what the class opens its Session with, and an unannotated
parameter that never hears of it reads as holding nothing (no Session work: a false all-clear).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from async_migrate.codemods.vocabulary.dependency_injector import CALLING_PROVIDERS
from async_migrate.codemods.vocabulary.python import PARTIALS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import Project

# Callees that call their first argument with the rest, later.
DEFERRING = PARTIALS | CALLING_PROVIDERS


def hands_arguments(
    project: Project, callee: str | None, target: facts.Function | None, args: Sequence[tuple[int | None, str | None]]
) -> bool:
    """Whether a call of `callee` (the project function it runs, `__init__` for a class: `target`)
    hands its first positional argument the others, given as (position, keyword) pairs: a
    partial, a calling provider, or a project callable taking one positional parameter and
    keeping every other argument in `*args` / `**kwargs` (`Singleton(factory, *args)`)."""
    if not any(position == 0 for position, _ in args):
        return False
    if callee is not None and project.canonical(callee) in DEFERRING:
        return True
    if target is None:
        return False
    params = [p for p in target.params if p.name not in ("self", "cls")]
    named = [p for p in params if p.positional]
    star = any(p.variadic == "*" for p in params)
    stars = any(p.variadic == "**" for p in params)
    if len(named) != 1 or not (star or stars):
        return False
    for position, keyword in args:
        if position == 0:
            continue
        if position is not None and not star:
            return False
        if keyword is not None and (not stars or any(p.name == keyword for p in params)):
            return False
    return True
