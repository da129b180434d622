"""A project Query class behind the synchronous Sessions (`sessionmaker(query_cls=SoftDeleteQuery)`).

`session.query(...)` builds an instance of the sessionmaker's `query_cls`. A project subclass
of `Query` that overrides one of Query's own members (`get()` hiding soft-deleted rows,
`__new__`/`__init__` adding a filter to every query, `_iter()`) changes what the legacy chains
reaching it return. Phase two rewrites a chain into a `select()` run by an AsyncSession, which
has no Query class at all: the override would silently stop applying (soft-deleted rows
reappear, a 404 becomes a 200). So a chain is blocked when it reaches an override (a special or
private member: any chain; a public one: a chain calling it, or calling a Query method that calls
it, `first()` calling `limit()`), or when the class cannot be read (defined outside the project,
or on a base outside it); a chain calling a method the class adds (`.not_deleted()`) is blocked
naming that method and where it is defined. Other chains still migrate. The generated
async_sessionmaker keeps `query_cls=` (`engine_options.session_kwargs`): the Session behind each
AsyncSession builds its Queries from it for what runs there (`run_sync`, a Session subclass's methods).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.phase2.session_subclass import class_chain
from async_migrate.codemods.vocabulary.sqlalchemy import QUERY_BASES, QUERY_MEMBERS

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

# The Query methods each one calls on itself (SQLAlchemy 2.x): a chain reaches an override
# through them (`first()` runs `limit(1)`, `count()` runs `scalar()`, then `one()`).
_CALLS = {
    "first": ("limit", "_iter"),
    "all": ("_iter",),
    "one": ("_iter",),
    "one_or_none": ("_iter",),
    "scalar": ("one",),
    "count": ("_legacy_from_self", "scalar"),
    "filter_by": ("filter", "_filter_by_zero"),
    "where": ("filter",),
    "outerjoin": ("join",),
    "get": ("_get_impl", "_no_criterion_assertion"),
    "__iter__": ("_iter",),
}
# Special methods that change nothing a query returns.
_HARMLESS = frozenset({"__repr__", "__str__", "__init_subclass__", "__class_getitem__"})
_MANUAL = "write the statement as a `select()` by hand with what the class adds, or keep the route on the sync path"


@dataclass(frozen=True, slots=True)
class QueryClass:
    """The `query_cls=` of the sessionmaker the async stack stands for."""

    text: str  # as written: `SoftDeleteQuery`
    maker: str  # how a reason names the sessionmaker: "`SessionLocal` (app/database.py:10)"
    # Query members the class (or a project base) overrides: (name, "path:line")
    overrides: tuple[tuple[str, str], ...] = ()
    # Methods it adds: name -> "path:line"
    added: tuple[tuple[str, str], ...] = ()
    unread: str = ""  # why its methods cannot be read, when they cannot


def query_class(project: Project, arg: facts.CallArg, maker: str) -> QueryClass | None:
    """What `query_cls=<arg>` of a sessionmaker means for its legacy chains; None for `Query` itself."""
    canonical = project.canonical(arg.ref) or arg.ref
    if canonical in QUERY_BASES:
        return None
    chain = class_chain(project, arg.ref) if arg.ref is not None and not arg.local else []
    if not chain:
        return QueryClass(arg.text, maker, unread=f"`{arg.text}` is not a class defined in the project")
    overrides: dict[str, str] = {}
    added: dict[str, str] = {}
    unread = ""
    for name, module, cls in chain:
        prefix = cls.qualname + "."
        for function in module.functions:
            member = function.qualname.removeprefix(prefix)
            if not function.qualname.startswith(prefix) or "." in member:
                continue
            where = f"{module.path}:{function.line}"
            dunder = member.startswith("__") and member.endswith("__")
            if (dunder and member not in _HARMLESS) or member in QUERY_MEMBERS:
                overrides.setdefault(member, where)
            elif not dunder:
                added.setdefault(member, where)
        for base in cls.bases:
            base_name = project.canonical(base) or base
            if base_name not in QUERY_BASES and not class_chain(project, base) and not unread:
                unread = f"`{name.rpartition('.')[2]}` derives from `{base}`, defined outside the project"
    return QueryClass(arg.text, maker, tuple(overrides.items()), tuple(added.items()), unread)


def blockers(project: Project, fid: FunctionId, query: QueryClass | None) -> list[tuple[int, str]]:
    """(line, reason) for each legacy chain of `fid` on its Sessions that the query class changes."""
    if query is None:
        return []
    names = project.session_names(fid)
    _, function = project.functions[fid]
    kept = {k.root: k for k in function.query_vars}
    added = dict(query.added)
    found = []
    for call in function.calls:
        # on a Session the function names, or on the one its class holds (`self.db.query(...)`)
        if (call.receiver not in names or call.method != "query") and not (
            call.query_chain and holders.held_call(project, fid, call.func) == "query"
        ):
            continue
        chains = [c for c in (call.query_chain,) if c]
        if call.index in kept:
            chains = list(kept[call.index].chains) or chains
        shown = " ".join(re.sub(r"\n\s*", "", chains[0] if chains else f"{call.receiver}.query(...)").split())
        called = [m for chain in chains for m in _methods(chain)]
        used = [m for m in called if m in added]
        # A special or private member (`__init__`, `_iter`) may run for any chain; a public one
        # only for the chains reaching it.
        reached = _reached(called)
        overrides = [(n, w) for n, w in query.overrides if n.startswith("_") or n in reached]
        if used:
            method = used[0]
            found.append((call.line, (
                f"`.{method}()` in `{shown}` is a method of `{query.text}` ({added[method]}), the Query class "
                f"{query.maker} builds its Sessions with (`query_cls=`): AsyncSession has no Query class, and a "
                f"`select()` has no `.{method}()`; {_MANUAL}"
            )))
        elif overrides or query.unread:
            if overrides:
                listed = ", ".join(f"`{n}` ({w})" for n, w in overrides[:3])
                more = f" and {len(overrides) - 3} more" if len(overrides) > 3 else ""
                what = f"overrides Query's {listed}{more}, which this chain runs"
            else:
                what = f"cannot be read ({query.unread})"
            found.append((call.line, (
                f"`{shown}` runs on a Session built with `query_cls={query.text}` by {query.maker}, whose class "
                f"{what}: the `select()` it would become runs on an AsyncSession, which has no Query class, "
                f"so the class would no longer apply; {_MANUAL}"
            )))
    return found


def _reached(called: list[str]) -> set[str]:
    """The Query methods a chain calling `called` runs, those they call on themselves included."""
    reached: set[str] = set()
    todo = [*called, "__iter__"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_CALLS.get(name, ()))
    return reached


def _methods(chain: str) -> list[str]:
    """The methods called along a legacy chain (`db.query(M).live().first()` -> query, live, first)."""
    try:
        # parenthesised: a chain written over several lines continues inside its brackets
        tree = ast.parse(f"({chain})", mode="eval")
    except SyntaxError:
        return []
    return [
        node.func.attr for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
