"""What a GraphQL resolver does with a synchronous Session, on the event loop.

graphql-core (under Strawberry, Ariadne and Graphene) awaits an `async def` resolver on the
event loop and calls a plain `def` one in place, on the loop too: unlike a FastAPI handler, no
resolver runs in the threadpool, so phase one cannot help one by making it `def`.

The Session usually reaches a resolver through the GraphQL context (`info.context["db"]`,
`info.context.db`), which the value flow does not follow. Evidence is read without it:

- the Session work the flow does see (a Session the resolver opens, a helper opening one);
- a call handing something to a project helper's parameter declared as a synchronous Session
  (`crud.list_books(info.context["db"])`): Session work with the context's Session;
- a Session method called, not awaited, on what the context holds (`info.context["db"].get(Author,
  1)`, `db.scalars(...)` on a local bound to `info.context.db`);
- on a field resolver (a method), `self.obj.rel` where the type declares `obj` as a mapped class
  and `rel` is a lazy relationship of it: a lazy load.

Without evidence, a resolver that reads the context is unverified, never clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.vocabulary.graphql import INFO_TYPES, RESOLVER_DECORATORS
from async_migrate.codemods.vocabulary.sqlalchemy import SESSION_IO_METHODS

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.project import Handler, Project

# Relationship strategies whose attribute read queries when the object did not load it.
_LAZY = frozenset({"select", "True", "dynamic", "write_only", "raise_on_sql"})


@dataclass(slots=True)
class ResolverWork:
    blocking: list[Blocking] = field(default_factory=list)
    context_reads: list[int] = field(default_factory=list)  # lines reading `info.context`
    info: str | None = None  # the parameter carrying the GraphQL info
    # Attributes read on the parent object (Ariadne's `obj`, Graphene's `root`): (line, `obj.author`)
    parent_reads: list[tuple[int, str]] = field(default_factory=list)


def resolver_work(project: Project, handler: Handler, blocking: list[Blocking] | None = None) -> ResolverWork:
    """The resolver's blocking calls: `blocking` (what the flow found; by default the Session work
    `session_work` sees) and the evidence above."""
    function = handler.function
    if blocking is None:
        blocking = _flow_blocking(project, handler)
    work = ResolverWork(list(blocking))
    work.info = info_param(project, function)
    if work.info is not None:
        work.context_reads = sorted({line for line, name, attr in function.attributes
                                     if name == work.info and attr == "context"})
    parent = _parent_param(project, handler)
    if parent is not None:
        work.parent_reads = [(line, f"{name}.{attr}") for line, name, attr in function.attributes if name == parent]
        if parent in ("self", "cls"):  # Graphene's unbound `resolve_x(self, info)`: reads kept in `uses`
            work.parent_reads = [
                (line, f"{parent}.{member}") for line, _, term, member, how in function.uses
                if how == "read" and term == ("name", parent)
            ]
    seen = {(b.line, b.call) for b in work.blocking}
    for call in function.calls:
        found = session_helper_call(project, call)
        if found is not None and (call.line, found) not in seen:
            seen.add((call.line, found))
            work.blocking.append(Blocking(call.line, found, call.offloaded))
    if work.info is not None:
        for line, text in _context_session_calls(project, function, work.info):
            if (line, text) not in seen:
                seen.add((line, text))
                work.blocking.append(Blocking(line, text))
    for line, read in _lazy_reads(project, handler):
        if (line, read) not in seen:
            seen.add((line, read))
            work.blocking.append(Blocking(line, read))
    work.blocking = [b for b in work.blocking if not b.offloaded]
    work.blocking.sort(key=lambda b: b.line)
    return work


def _flow_blocking(project: Project, handler: Handler) -> list[Blocking]:
    from async_migrate.codemods.session_work import session_work

    work = session_work(project, handler.id)
    found = list(work.blocking)
    found += [Blocking(opened.line, f"{opened.callee}()") for opened in project.opens_directly(handler.id)]
    if work.any and not found:
        found += [Blocking(handler.function.line, f"uses the Session `{name}`") for name in work.used]
    return found


def describe_work(work: ResolverWork, unverified: list[tuple[int, str]]) -> str:
    """What a resolver does on the loop, for phase one's reason and `check`'s message."""
    if work.blocking:
        calls = ", ".join(f"line {b.line} ({b.call})" for b in work.blocking)
        return f"does synchronous Session work on the event loop at {calls}"
    if unverified:
        line, text = unverified[0]
        return f"unverified: {text} (line {line}); the analysis cannot tell whether it blocks the event loop"
    if work.parent_reads:
        line, read = work.parent_reads[0]
        return (
            f"unverified: reads `{read}` (line {line}) on the parent object, which may be an ORM object "
            "whose relationship loads lazily (a query) on the event loop; the analysis does not know what "
            "the parent field returns"
        )
    if work.context_reads:
        return (
            f"unverified: reads the GraphQL context (`{work.info}.context`, line {work.context_reads[0]}), "
            "which the analysis does not follow; it cannot tell whether the resolver does synchronous Session "
            "work with what the context holds"
        )
    return "does no synchronous Session work"


def _parent_param(project: Project, handler: Handler) -> str | None:
    """The parameter the parent field's value arrives in: the first of a resolver that is no
    method of a class (Ariadne's `obj`, a Strawberry `resolver=` function's `root`), or of a
    Graphene `resolve_<field>`, which Graphene calls unbound. None when that is the info."""
    from async_migrate.codemods.classes import project_classes

    function = handler.function
    params = [p for p in function.params if p.name not in ("self", "cls")]
    method = project_classes(project).owner(handler.id) is not None
    decorated = any(project.canonical(d.callee) in RESOLVER_DECORATORS for d in function.decorators)
    graphene = method and not decorated and (function.name.startswith("resolve_") or function.name == "mutate")
    if method and not graphene:
        return None
    first = function.params[0].name if graphene and function.params else params[0].name if params else None
    return None if first == info_param(project, function) else first


def info_param(project: Project, function: facts.Function) -> str | None:
    """The parameter a resolver gets the GraphQL info in: annotated `Info`, else named `info`."""
    for param in function.params:
        if any(project.canonical(ref) in INFO_TYPES for ref in param.annotation):
            return param.name
    return next((p.name for p in function.params if p.name == "info"), None)


def session_helper_call(project: Project, call: facts.Call) -> str | None:
    """`crud.list_books(...)` when an argument lands on a parameter of the project helper
    declared as a synchronous Session."""
    target = project.function(call.callee)
    if target is None or not call.args:
        return None
    params = target[1].params
    offset = 1 if params and params[0].name in ("self", "cls") and call.method else 0
    for arg in call.args:
        if arg.keyword is not None:
            param = next((p for p in params if p.name == arg.keyword), None)
        elif arg.position is not None and arg.position + offset < len(params):
            param = params[arg.position + offset]
        else:
            param = None
        if param is not None and project.declared_session(param) is not None:
            return f"{call.callee}(...)"
    return None


def _context_session_calls(project: Project, function: facts.Function, info: str) -> list[tuple[int, str]]:
    """`info.context["db"].scalars(...)`, or on a local bound to `info.context.db`: a Session
    method called, not awaited, on a value the context holds. `get` counts only given a project
    class first (`db.get(Author, 1)`), not a dict's `get("key")`."""
    context = ("attr", ("name", info), "context")

    def from_context(term: tuple) -> bool:
        if len(term) == 3 and term[0] in ("key", "attr") and term[1] == context:
            return True
        return term[:1] == ("name",) and any(from_context(held) for held in function.holds.get(term[1], ()))

    found: list[tuple[int, str]] = []
    for line, receiver, term, member, how in function.uses:
        if how != "call" or member not in SESSION_IO_METHODS or not from_context(term):
            continue
        # a call on a subscript records no method name: the calls of the line stand for it
        calls = [c for c in function.calls if c.line == line and c.method in (member, None)]
        if member == "get":
            calls = [c for c in calls if c.args and c.args[0].ref and _is_class(project, c.args[0].ref)]
        if calls and not any(c.awaited for c in calls):
            found.append((line, f"{receiver}.{member}()"))
    return found


def _is_class(project: Project, ref: str) -> bool:
    from async_migrate.codemods.classes import project_classes

    return project_classes(project).resolve(ref) is not None


def _lazy_reads(project: Project, handler: Handler) -> list[tuple[int, str]]:
    """`self.instance.reviews` in a method of a type declaring `instance: Private[Book]`."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    owner = classes.owner(handler.id)
    if owner is None:
        return []
    declared = classes.by_ref[owner][1].annotations
    found: list[tuple[int, str]] = []
    for line, receiver, term, member, how in handler.function.uses:
        if how != "read" or len(term) != 3 or term[0] != "attr" or term[1] != ("name", "self"):
            continue
        for ref in declared.get(term[2], ()):
            model = classes.resolve(ref)
            if model is None:
                continue
            strategy = _relationship(classes, model, member)
            if strategy is not None and strategy in _LAZY:
                found.append((line, f"{receiver}.{member} (lazy load of {model.rpartition('.')[2]}.{member})"))
                break
    return found


def _relationship(classes: Classes, model: str, name: str) -> str | None:
    """Its strategy when `name` is a relationship of `model`: declared, or a backref another class declares."""
    from async_migrate.codemods.backrefs import project_backrefs

    return project_backrefs(classes).relationship(model, name)
