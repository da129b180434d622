"""A response model's relationships on an object the route builds itself: loaded by a refresh.

A route that builds, adds and commits an object and returns it through a response model nesting
a relationship has FastAPI read that relationship while serialising, outside SQLAlchemy's
greenlet: MissingGreenlet under AsyncSession (AM222). No query loads the object, so there is no
query to add a loader option to (AM246); phase two adds `await db.refresh(book,
attribute_names=["author"])` instead (AM280). When it does: `plan`; the blocks it keeps say so
(`explain`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, replace

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import SCOPES, after_docstring, own_nodes
from async_migrate.codemods.classes import Classes, project_classes
from async_migrate.codemods.phase2.eager_flow import Flow
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.phase2.expired_reads import Refresh
from async_migrate.codemods.phase2.lazy_loads import UNTRACED, LazyLoadRisk
from async_migrate.codemods.phase2.partial_refresh import named_attributes
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am222_lazy_load_in_response import RULE as AM222
from async_migrate.codemods.rules.am250_lazy_load_in_model_code import RULE as AM250
from async_migrate.codemods.vocabulary.sqlalchemy import EAGER_STRATEGIES

# Session methods after which the object may be no longer in the Session, or not as it was built.
_DETACHES = frozenset({"delete", "expunge", "expunge_all", "close", "rollback", "expire", "expire_all", "reset"})
_SIMPLE = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)


@dataclass(frozen=True, slots=True)
class BuiltRefresh:
    """`await session.refresh(name, attribute_names=[...])` added to `fid` (the function building
    the object) after the statement holding its call `refresh.call`, for the route's response."""

    fid: FunctionId
    refresh: Refresh
    file: str
    line: int  # the line of the call the refresh follows
    model: str  # the built class, as reasons name it
    fields: tuple[str, ...]  # the response model fields it loads (`BookOut.author`)
    source: str = "it builds"  # where the object comes from, as reasons say it (`fetched_refresh`)
    # The code already refreshes those relationships there (`db.refresh(book, ["author"])` as the
    # last statement using the Session): nothing to add, and nothing blocks.
    present: bool = False

    def text(self) -> str:
        return self.refresh.awaited()


def plan(
    project: Project,
    route: FunctionId,
    risks: list[LazyLoadRisk],
    moving: set[FunctionId],
    trees: Callable[[str], ast.Module | None],
) -> BuiltRefresh | None:
    """The refresh that replaces all of `risks` (the route's lazy loads), or None to keep them.

    A route that creates an object and returns it through a response model nesting a relationship

        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        db.refresh(book)
        return book          # response_model=BookOut, BookOut.author

    gets `await db.refresh(book, attribute_names=["author"])` as a statement of its own after the
    last one that uses the Session; where that last one is already such a refresh naming them all
    (`db.refresh(book, ["author"])`), nothing is added (`BuiltRefresh.present`). A plain `refresh(book)` expires every attribute and loads only
    the columns, so one after the added refresh would undo it: the added one comes last, never
    merged into an existing one. A response field that is a property or hybrid property of the
    model (`BookOut.author_name`, `return self.author.name`) reads the relationship the same way,
    through model code (AM250); the same refresh loads it when the property reads the
    relationship on the object itself.

    The risks are converted only when every lazy-load risk of the route is a field of its
    response model itself (depth one, `LazyLoadRisk.served == 1`), either a relationship (AM222)
    or a property reading one directly (AM250, `self.author`), each a relationship of the built
    class with the default lazy strategy or an eager one (`lazy="joined"`, a `backref("items",
    lazy="selectin")`: those load with a query of the class, and no query loaded this object),
    and the object is built where the refresh can be placed so that it runs on every path to the
    return (`_placement`):

    - by the route, or by a helper migrating with it whose result the route returns (`return
      helper(db, ...)`, or through one local name), given the Session and followed by no other call;
    - as `name = Model(...)` of a mapped class with no `__init__` of the project's (one might hand
      the object to another Session), a statement of the function's own body (not in a branch, a
      loop, `with` or `try`), the only binding of the name;
    - added with `session.add(name)` on a Session the function takes as a parameter, then flushed
      or committed on it, each a statement of that body, as is the last statement using the Session
      (a call on it or passing it), which the refresh follows, and after which nothing is called;
    - returned by the function's last statement, `return name`, its only return; nothing in a
      nested scope uses the Session, and the function never deletes, expunges, expires, rolls back
      or closes.

    Everything else keeps its AM222 (or AM250) block: a nested path (`BookOut.author.publisher`, a
    property reading `self.author.publisher`), an object from a query (it gets its option on the
    query: `eager_flow`), one the analysis cannot trace, one a function that does not migrate with
    the route returns.
    """
    if not risks or any(loaded_as(r) is None for r in risks):
        return None
    built = _returned(project, route, moving)
    if built is None:
        return None
    fid, name, model = built
    classes = project_classes(project)
    flow = Flow(project, classes, set())
    found = refreshed(classes, model, risks)
    if found is None:
        return None
    attributes, fields = found
    # a refresh naming it loads a relationship declared eager as well: no query loaded this object
    if any(flow.relationship(model, a) not in ("select", *EAGER_STRATEGIES) for a in attributes):
        return None
    module, function = project.functions[fid]
    placed = _placement(project, fid, name, function_node(trees(module.path), function))
    if placed is None:
        return None
    session, anchor = placed
    node = function_node(trees(module.path), function)
    present = node is not None and any(
        isinstance(n, ast.Call) and n.lineno == anchor.line
        and set(attributes) <= set(named_attributes(n, name, (session,)) or ())
        for n in ast.walk(node)
    )
    return BuiltRefresh(
        fid,
        Refresh(anchor.index, session, name, False, attributes=attributes),
        module.path,
        anchor.line,
        classes.short(model),
        fields,
        present=present,
    )


def explain(project: Project, route: FunctionId, risks: list[LazyLoadRisk], moving: set[FunctionId]) -> list[LazyLoadRisk]:
    """`risks` kept (no refresh planned), saying where an object the route returns comes from
    when it builds it: "cannot trace the object to the query that loads it" misleads there; a
    property's block says what to add."""
    built = _returned(project, route, moving)
    if built is None:
        return risks
    fid, name, model = built
    module, function = project.functions[fid]
    why = (
        f"the object is `{name}`, a {project_classes(project).short(model)} built in {module.name}.{function.qualname} "
        f"(no query loads it), where the tool cannot show that an added refresh would load all of it on every path "
        f"to the return: add `await session.refresh({name}, attribute_names=[...])` by hand after the last statement "
        f"using the Session (and a refresh of the related object for a relationship further down)"
    )
    return [replace(r, message=r.message.replace(UNTRACED, why)) if r.served == 1 and UNTRACED in r.message else r
            for r in risks]


def refreshed(classes: Classes, model: str, risks: list[LazyLoadRisk]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(the relationships a refresh of an object of `model` loads for `risks`, the response model
    fields it loads as reasons name them: `BookOut.author_name through Book.author` for a
    property's), or None where a property's relationship is not one of `model`'s own (its class
    order): a same-named property of another class, read by name, says nothing about this object."""
    if any(r.reads and r.reads[0][0] not in classes.mro(model) for r in risks):
        return None
    return tuple(dict.fromkeys(a for r in risks if (a := loaded_as(r)) is not None)), tuple(dict.fromkeys(
        f"{r.path} through {classes.short(r.reads[0][0])}.{r.reads[0][1]}" if r.reads else r.path for r in risks
    ))


def loaded_as(risk: LazyLoadRisk) -> str | None:
    """The relationship of the returned object a refresh would load for `risk`, or None when a
    refresh cannot stand for it: a field of the response model itself that is a relationship
    (AM222), or one whose property or hybrid property reads a relationship of the object
    directly (AM250, `self.author`; not `self.author.publisher`, which the refresh leaves lazy)."""
    if risk.served != 1:
        return None
    if risk.code == AM222.code and risk.kind == "response":
        return risk.attribute
    if risk.code == AM250.code and len(risk.reads) == 1 and risk.dependency is None and not risk.offloaded:
        return risk.reads[0][1]
    return None


def _returned(project: Project, route: FunctionId, moving: set[FunctionId]) -> tuple[FunctionId, str, str] | None:
    """(the function building it, its local name, its class) of the object the route returns,
    when the route builds it or calls a helper moving with it that does, last of its Session work."""
    _, function = project.functions[route]
    term = _single(function, function.results)
    if term is None:
        return None
    if term[0] == "name":
        built = _built(project, route, term[1])
        if built is not None:
            return route, term[1], built
        term = _single(function, function.holds.get(term[1], ()))
        if term is None:
            return None
    if term[0] != "call":
        return None
    callees = {e.callee for e in project.all_calls_from.get(route, ()) if e.call.index == term[1]}
    call = next((c for c in function.calls if c.index == term[1]), None)
    if len(callees) != 1 or call is None or call.nested:
        return None
    (helper,) = callees
    names = project.session_names(route)
    # After the call nothing may run that could reach the Session (through it, or another way).
    later = [
        c for c in function.calls
        if c.index != call.index and (c.line > call.line or (_uses(c, names) and (c.nested or c.line == call.line)))
    ]
    if helper not in moving or helper == route or later or not any(a.name in names for a in call.args):
        return None
    _, called = project.functions[helper]
    term = _single(called, called.results)
    if term is None or term[0] != "name":
        return None
    built = _built(project, helper, term[1])
    return (helper, term[1], built) if built is not None else None


def _single(function: facts.Function, terms: tuple[tuple, ...]) -> tuple | None:
    """The one term, when there is exactly one."""
    return terms[0] if len(terms) == 1 else None


def _built(project: Project, fid: FunctionId, name: str) -> str | None:
    """The mapped class `name` is built from (`name = Model(...)`, or SQLModel's
    `name = Model.model_validate(model_in, update={...})` on a table model whose class does not
    override it, which builds a new object alike; its only value), or None."""
    _, function = project.functions[fid]
    held = function.holds.get(name, ())
    if len(held) != 1 or held[0][0] != "call" or sum(b.name == name for b in function.bindings) != 1:
        return None
    call = next((c for c in function.calls if c.index == held[0][1]), None)
    classes = project_classes(project)
    model = classes.built_by(call.callee) if call is not None and call.callee else None
    if model is None or not classes.is_mapped(model):
        return None
    if any("__init__" in classes.methods.get(a, {}) for a in classes.mro(model)):
        return None
    return model


def _uses(call: facts.Call, names: set[str]) -> bool:
    """The call works with the Session: on it, or given it."""
    return call.receiver in names or any(a.name in names for a in call.args)


def _placement(
    project: Project, fid: FunctionId, name: str, node: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> tuple[str, facts.Call] | None:
    """(the Session's name, the last call using it) when the refresh can follow that call's
    statement and run on every path to `return name` (the shapes `plan` lists), else None."""
    if node is None:
        return None
    _, function = project.functions[fid]
    body = after_docstring(node.body)
    if not body or not returns_name(body[-1], name):
        return None
    # with the bodies of the defs and classes at the top of the body (not deeper ones): a return,
    # yield or binding of the name there keeps the refresh out; no plan rests on what they do
    own = own_nodes(node.body) + [n for s in node.body if isinstance(s, SCOPES) for n in own_nodes(s.body)]
    if sum(isinstance(n, ast.Return) for n in own) != 1 or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        return None
    if sum(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in own) != 1:
        return None

    def statement(line: int) -> int | None:
        """The index in `body` of the simple statement holding `line`; None inside a compound one."""
        for index, stmt in enumerate(body):
            if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
                return index if isinstance(stmt, _SIMPLE) else None
        return None

    binding = next((b for b in function.bindings if b.name == name), None)
    bound = statement(binding.line) if binding is not None else None
    if bound is None or not _binds(body[bound], name):
        return None
    params = {p.name for p in function.params}
    names = project.session_names(fid)
    using = [c for c in function.calls if _uses(c, names)]
    if any(c.nested or (c.receiver in names and c.method in _DETACHES) for c in using):
        return None
    adds = [
        c for c in using
        if c.receiver in params and c.method == "add" and c.args and c.args[0].name == name
        and (at := statement(c.line)) is not None and at > bound
    ]
    if len(adds) != 1:
        return None
    add = adds[0]
    added = statement(add.line)
    assert added is not None
    anchor = max(using, key=lambda c: (c.line, c.index))
    last = statement(anchor.line)
    if last is None or last >= len(body) - 1:
        return None
    saved = any(
        c.receiver == add.receiver and c.method in ("commit", "flush")
        and (at := statement(c.line)) is not None and added <= at <= last and (at > added or c.index > add.index)
        for c in using
    )
    if not saved or add.receiver is None:
        return None
    # Between the refresh and the return nothing may run that could reach the Session another
    # way (a repository holding it, a helper committing): no call at all.
    end = body[last].end_lineno or body[last].lineno
    if any(c.line > end for c in function.calls):
        return None
    # The statement's outermost call: the rewrite adds a refresh once it has left that call, and
    # it leaves the outermost last, so the added one follows any refresh planned for an inner one.
    outermost = [c for c in function.calls if not c.nested and c.statement and statement(c.line) == last]
    if len(outermost) != 1:
        return None
    return add.receiver, outermost[0]


def returns_name(stmt: ast.stmt, name: str) -> bool:
    return isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) and stmt.value.id == name


def _binds(stmt: ast.stmt, name: str) -> bool:
    """`name = Model(...)`."""
    return (
        isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == name and isinstance(stmt.value, ast.Call)
    )
