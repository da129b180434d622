"""Objects a route builds and hands to a project helper (phase two's lazy-load analysis).

`user = User(...); db.add(user); await db.commit(); return {"n": org_size(user)}` with `def
org_size(u): return len(u.org.items)`: no query loaded `user`, so the value flow has no origin for
the helper's parameter and the read is judged by names, where a relationship declared eager
(`lazy="joined"`) counts as loaded. On an object the code built, one declared eager loads on first
read too (it loads with a query of its class, and none ran), raising MissingGreenlet under
AsyncSession. `handed_built` finds, for a parameter of a function of a route's closure, a call in
that closure handing it such an object (or a relationship path on one, `org_size(user.org)`, or a
parameter of the caller that is handed one in turn), so the read counts as on a built object.

`handed_read` follows the other way, for `check` (AM314): from a call handing an object to the
parameter it binds in each project function the call may run, to the first attribute read of it
there or in a function it hands that parameter on to (`summarize(author)` reading `a.id`); a
call into a project module the analysis cannot read is reported as such, for an unverified verdict.

`handed_back` finds the project functions a call may run that return an object no query loaded
(`product = repo.add(Product(...))`, `add` returning the object it is given), for phase two's
response reads and `check`'s: a relationship declared eager does not load on such an object.
`inline_argument` tells why, for a helper handing back its argument given a call written in place
(`lend(get(book_id))`): the flow follows an object into a call from a name only, so the query in
`get`, and its eager loads, are not known to load what the route returns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 4  # helpers handing the object on to helpers


@dataclass(frozen=True, slots=True)
class Handed:
    """A built object reaching a helper's parameter: its mapped class (None below it, `user.org`),
    what the caller passes as written, the caller, the helper and the line of the call."""

    model: str | None
    param: str
    passed: str
    caller: str
    helper: str
    line: int
    untraced: bool = False  # no origin the flow finds, built or not: no query known to load it

    def describe(self, receiver: str) -> str:
        what = f"the {self.model.rpartition('.')[2]} object" if self.model else "reached from an object"
        start = f"`{receiver}` is" if receiver == self.param else f"`{receiver}` is reached from `{self.param}`,"
        if self.untraced:
            return (
                f"{start} `{self.passed}`, which {self.caller} hands to {self.helper}() at line {self.line} and the "
                "tool traces to no query (one it builds, or one code it does not follow returns), so none is known "
                "to load it"
            )
        return (
            f"{start} {what} `{self.passed}` that {self.caller} builds and hands to "
            f"{self.helper}() at line {self.line}, which no query loads"
        )

    def fix(self, attribute: str) -> str:
        return (
            f"fix: load `{attribute}` in {self.caller} before handing `{self.passed}` to {self.helper}() (an "
            "awaited refresh naming it, on the object that holds it), or migrate the route by hand"
        )


def handed_built(
    project: Project,
    members: Collection[FunctionId],
    fid: FunctionId,
    name: str,
    built: Callable[[facts.Function, str], str | None],
    traced: Callable[[FunctionId, str], bool],
    depth: int = 0,
) -> Handed | None:
    """A call from `members` (a route's closure) handing parameter `name` of `fid` an object the
    caller built (`built(function, local)` gives its mapped class), directly or through the
    caller's own parameter, or one the flow traces to no query (`traced(caller, local)` false);
    None when no call does."""
    _, function = project.functions[fid]
    params = [p for p in function.params if not p.variadic]
    param = next((p for p in params if p.name == name), None)
    if param is None or param.depends or depth > _DEPTH or name in ("self", "cls"):
        return None
    positional = [p for p in params if p.positional and p.name not in ("self", "cls")]
    position = positional.index(param) if param in positional else -1  # `parameter_of`'s convention
    for edge in project.all_calls_to.get(fid, ()):
        if edge.caller not in members:
            continue
        passed = next(
            (a for a in edge.call.args if a.keyword == name or (a.keyword is None and a.position == position)),
            None,
        )
        if passed is None:
            continue
        caller_module, caller = project.functions[edge.caller]
        written = passed.name or passed.expr or ""
        local, dot, _ = written.partition(".")
        if not local or "(" in local:
            continue
        model = built(caller, local)
        shown = f"{caller_module.name}.{caller.qualname}"
        if model is not None:
            return Handed(None if dot else model, name, written, shown, function.qualname, edge.call.line)
        deeper = handed_built(project, members, edge.caller, local, built, traced, depth + 1)
        if deeper is not None:
            return Handed(None if dot else deeper.model, name, written, shown, function.qualname, edge.call.line,
                          deeper.untraced)
        if not traced(edge.caller, local) and not any(p.name == local for p in caller.params):
            return Handed(None, name, written, shown, function.qualname, edge.call.line, untraced=True)
    return None


def parameter_of(function: facts.Function, arg: facts.Arg) -> facts.Param | None:
    """The parameter an argument of a call to `function` binds: by keyword, or by position past a
    method's `self`/`cls`. None for one a variadic parameter takes (`*args`, `**kwargs`)."""
    params = [p for p in function.params if not p.variadic]
    if arg.keyword is not None:
        return next((p for p in params if p.name == arg.keyword), None)
    positional = [p for p in params if p.positional and p.name not in ("self", "cls")]
    return positional[arg.position] if arg.position is not None and arg.position < len(positional) else None


@dataclass(frozen=True, slots=True)
class HandedRead:
    """What a function handed an object does with it: `read` as written there (`a.id`,
    `getattr(a, ...)`) in `helper` (module.qualname), reached through `path` (the functions it
    was handed on through, the first the one called); or, `read` empty, `unseen` says why the
    analysis cannot tell (a project module it cannot read, a variadic parameter)."""

    helper: str
    read: str
    path: tuple[str, ...] = ()
    unseen: str = ""


def handed_read(
    project: Project, fid: FunctionId, call: facts.Call, name: str, depth: int = 0,
    seen: frozenset[tuple[FunctionId, str]] = frozenset(),
) -> HandedRead | None:
    """The first read of what `name` holds in the project functions `call` (in `fid`) hands it to,
    sync or async, methods too, and in the functions those hand it on to; reads inside the callable
    a `run_sync` runs, or after the function's own `refresh(...)` of it, are not reads. None when
    none reads it, or the call runs no project code."""
    args = [a for a in call.args if a.name == name]
    edges = [e for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index]
    if not args or depth > _DEPTH:
        return None
    if not edges:
        return _unread(project, call.callee)
    for edge in edges:
        module, helper = project.functions[edge.callee]
        shown = f"{module.name}.{helper.qualname}"
        for arg in args:
            param = parameter_of(helper, arg)
            if param is None:
                return HandedRead(shown, "", (shown,), "a parameter taking any number of arguments, not followed")
            if (edge.callee, param.name) in seen:
                continue
            found = _read_in(project, edge.callee, helper, param.name, depth, seen | {(edge.callee, param.name)})
            if found is not None:
                return HandedRead(found.helper, found.read, (shown, *found.path), found.unseen)
    return None


def _unread(project: Project, callee: str | None) -> HandedRead | None:
    """A call into project code the analysis cannot read: a module outside PATH or unparsable
    (`Project._unseen`), or one missing from a package of the project (`core.formatting.shown`
    where only `core` is read)."""
    from async_migrate.codemods.classes import project_classes

    if callee is None:
        return None
    module = project._unseen(callee)
    if module is not None:
        return HandedRead(callee, "", (), project._unseen_what(module))
    classes = project_classes(project)
    owner, _, method = callee.rpartition(".")
    if classes.resolve(owner) is not None:
        # `AuthorOut.model_validate(author)`: a method the project class inherits from a library
        return HandedRead(
            callee, "", (), f"a method `{owner.rpartition('.')[2]}` inherits from code outside the project, which "
            f"the analysis does not read (`{method}` may read every attribute it maps)",
        )
    if classes.unread(callee):
        return HandedRead(callee, "", (), f"in `{callee.rpartition('.')[0]}`, a project module the tool did not read")
    return None


def _read_in(
    project: Project, fid: FunctionId, function: facts.Function, param: str, depth: int,
    seen: frozenset[tuple[FunctionId, str]],
) -> HandedRead | None:
    module, _ = project.functions[fid]
    shown = f"{module.name}.{function.qualname}"
    refreshed = min(
        (c.line for c in function.calls if c.method == "refresh" and c.args and c.args[0].name == param),
        default=None,
    )
    reads = sorted(
        [(line, f"{param}.{attribute}") for line, receiver, attribute in function.attributes if receiver == param]
        + [
            (c.line, f"getattr({param}, ...)") for c in function.calls
            if c.callee in ("getattr", "builtins.getattr") and c.args and c.args[0].position == 0
            and c.args[0].name == param
        ],
        key=lambda read: read[0],
    )
    for line, written in reads:
        if line in function.greenlet_lines or refreshed is not None and line > refreshed:
            continue
        return HandedRead(shown, written)
    for call in function.calls:
        if call.line in function.greenlet_lines or refreshed is not None and call.line > refreshed:
            continue
        if call.callee in ("getattr", "builtins.getattr"):
            continue
        found = handed_read(project, fid, call, param, depth + 1, seen)
        if found is not None:
            return HandedRead(found.helper, found.read, found.path, found.unseen)
    return None


def handed_back(
    project: Project, fid: FunctionId, call: facts.Call, seen: frozenset[int] = frozenset()
) -> list[FunctionId]:
    """The project functions call `call` of `fid` may run that may hand back an object no query
    loaded (`returns_unloaded`): `product = repo.add(Product(...))` with `def add(self, obj): ...
    return obj`. Empty when the call runs none, or only ones returning what their queries load.
    `seen`: the indexes of the calls of `fid` already asked, each argument's binding followed back."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    if call.callee is not None and classes.built_by(call.callee) is not None:
        return []
    found = callees(project, fid, call)
    return found if any(
        returns_unloaded(project, c, _DEPTH) and not _returns_loaded_arguments(project, fid, call, c, seen | {call.index})
        for c in found
    ) else []


@dataclass(frozen=True, slots=True)
class InlineArgument:
    """What a helper hands back: its parameter `param`, given the result of a call written in
    place as the argument (`inner`, as written with its arguments elided), of project functions
    (`loaders`) returning what their queries load: `lend(get(book_id))`. The flow follows an object
    into a call only from a name, so none of those queries is known to load what the route returns."""

    param: str
    outer: str  # the helper's call as it would be written with the name: `lend(book)`, `rename(..., item)`
    inner: str
    loaders: str


def inline_argument(project: Project, fid: FunctionId, call: facts.Call) -> InlineArgument | None:
    """The call written in place whose result `call` of `fid` hands back (`InlineArgument`), when
    every project function `call` may run returns only one parameter, given that same call's
    result; None for anything else (an object built in place, a name, a loader handing back an
    object no query loads)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    _, caller = project.functions[fid]
    found: set[InlineArgument] = set()
    for callee in callees(project, fid, call):
        _, function = project.functions[callee]
        params = {p.name for p in function.params} - {"self", "cls"}
        returned = {term[1] for term in function.results if term[0] == "name" and term[1] in params}
        if len(returned) != 1 or len(function.results) != len([t for t in function.results if t[0] == "name"]):
            return None
        name = returned.pop()
        if any(term[1] != name for term in function.results):
            return None
        arg = next((a for a in call.args if (p := parameter_of(function, a)) is not None and p.name == name), None)
        if arg is None or arg.name is not None:
            return None
        at = arg.position if arg.keyword is None else arg.keyword
        inner = next((c for c in caller.calls if c.argument_of == call.index and c.argument_at == at), None)
        if inner is None or inner.callee is not None and classes.built_by(inner.callee) is not None:
            return None
        loaders = callees(project, fid, inner)
        if not loaders or handed_back(project, fid, inner, frozenset({call.index})):
            return None
        given = name if arg.keyword is None else f"{arg.keyword}={name}"
        outer = f"{_written(call)}({given if len(call.args) == 1 else '..., ' + given})"
        found.add(InlineArgument(name, outer, _written(inner), shown_functions(project, loaders)))
    return found.pop() if len(found) == 1 else None


def _written(call: facts.Call) -> str:
    """The called expression as written, near enough: `service.get`, `fetch`."""
    if call.receiver is not None and call.method is not None:
        return f"{call.receiver}.{call.method}"
    return (call.callee or call.method or "").rpartition(".")[2]


def _returns_loaded_arguments(
    project: Project, fid: FunctionId, call: facts.Call, callee: FunctionId, seen: frozenset[int]
) -> bool:
    """Whether `callee` may hand back an unloaded object only by returning parameters, and `call`
    hands each of those a name `fid` bound to a project call handing back none
    (`order = get_order(session, id)`, then `return cancel_order(session, order)`)."""
    _, function = project.functions[callee]
    params = {p.name for p in function.params} - {"self", "cls"}
    returned = {term[1] for term in function.results if term[0] == "name" and term[1] in params}
    others = [term for term in function.results if not (term[0] == "name" and term[1] in params)]
    if not returned or (others and returns_unloaded(project, callee, _DEPTH, others)):
        return False
    _, caller = project.functions[fid]
    for name in returned:
        arg = next((a for a in call.args if (p := parameter_of(function, a)) is not None and p.name == name), None)
        bound = _bound(caller, arg.name) if arg is not None and arg.name is not None else None
        # a binding already asked about (`a = f(b)` and `b = g(a)` in a loop) proves nothing
        if bound is None or bound.index in seen or not callees(project, fid, bound):
            return False
        if handed_back(project, fid, bound, seen):
            return False
    return True


def returns_unloaded(project: Project, fid: FunctionId, depth: int = _DEPTH, terms: list | None = None) -> bool:
    """Whether what project function `fid` returns may be an object no query loaded: one of its
    parameters (`def add(self, obj): ...; return obj`: what its caller built, perhaps), or what a
    project function it calls hands back so (`movement = self.movements.add(Movement(...))`), or
    one it builds and neither writes to nor calls on. What it returns from a query
    (`session.scalars(...)`, `session.get(...)`) is not. `terms`: only these of its results."""
    from async_migrate.codemods.classes import project_classes

    if depth <= 0 or fid not in project.functions:
        return False
    classes = project_classes(project)
    _, function = project.functions[fid]
    params = {p.name for p in function.params} - {"self", "cls"}
    for term in function.results if terms is None else terms:
        if term[0] == "name":
            if term[1] in params:
                return True
            call = _bound(function, term[1])
        elif term[0] == "call":
            call = next((c for c in function.calls if c.index == term[1]), None)
        else:
            continue
        if call is None:
            continue
        if call.callee is not None and (model := classes.built_by(call.callee)) is not None:
            # one it builds and returns as built: a function writing to it or calling on it
            # (`order.lines.append(...)`, `order.total = t`) may have set a relationship, which
            # is left to the built-object analysis
            if term[0] == "name" and classes.is_mapped(model) and not _touched(function, term[1]):
                return True
            continue
        if any(returns_unloaded(project, c, depth - 1) for c in callees(project, fid, call)):
            return True
    return False


def _touched(function: facts.Function, name: str) -> bool:
    """Whether the function writes an attribute of `name` or calls on what it holds."""
    return any(receiver == name for _, receiver, _ in function.stores) or any(
        use[1] == name or use[1].startswith(f"{name}.") for use in function.uses if use[4] != "read"
    )


def shown_functions(project: Project, fids: list[FunctionId]) -> str:
    """`module.qualname` of each, joined by "or"."""
    return " or ".join(f"{project.functions[f][0].name}.{project.functions[f][1].qualname}" for f in fids)


def callees(project: Project, fid: FunctionId, call: facts.Call) -> list[FunctionId]:
    """The project functions `call` of function `fid` may run."""
    found = {e.callee for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index}
    if not found and call.callee is not None and (target := project.function(call.callee)) is not None:
        found = {(target[0].name, target[1].key)}
    return sorted(found)


def _bound(function: facts.Function, name: str) -> facts.Call | None:
    """The call a local name holds, when the function binds it once, to a call."""
    held = function.holds.get(name, ())
    if len(held) != 1 or held[0][0] != "call":
        return None
    return next((c for c in function.calls if c.index == held[0][1]), None)
