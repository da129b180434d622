"""Commits and rollbacks an `async def` handler makes through objects holding its AsyncSession.

`await repo.restock_all(10)` on a repository a dependency builds (`self.db.commit()` inside),
leaving `async with uow:` (or `async with UnitOfWork(db) as uow:`, built on the `with` line) whose
`__aexit__` commits or rolls back `self.session`, `await self.db.commit()` in a class-based view
holding the request's AsyncSession, and a commit through a module-level singleton (`db =
SessionLocal()`, `crud = CRUD(SessionLocal())`) expire what the Session holds as `await
db.commit()` does; the handler names no Session of its own there. Read by check's AM314
(`async_expired`), by the Session as the handler can spell it (`repo.db`, or `db` where the
holder is built on the handler's own `db`). `held_expires` says whether a commit there expires:
None where the analysis cannot read the sessionmaker (AM314 then reports it unverified).
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.cached_sessions import cached_sessions
from async_migrate.codemods.held_session import ASYNC, SYNC, held_attribute, held_attributes, init_held_async
from async_migrate.codemods.project import FunctionId, Project

# How many project calls deep a walk from a handler into what holds or is handed its Session
# goes: an instance's own methods (`self.save()` calling `self._flush()` calling
# `self.db.commit()`) and the helpers given the Session (`phase2.expired_helpers`). Deeper chains
# are not followed: no commit found there, no object shown to come back.
CALL_DEPTH = 6

# In the text of a point that rolls back: a rollback expires whatever `expire_on_commit` says.
ROLLS_BACK = "rolls back"
# In the text of a point done through another object, which may hold another Session.
UNSURE = "through an object it holds"
_EXITS = ("__aexit__",)


def held_commits(project: Project, fid: FunctionId) -> dict[str, dict[int, str]]:
    """Commits and rollbacks of AsyncSessions a handler reaches only through objects holding them,
    by the Session as the handler can spell it (`repo.db`, `uow.session`, `self.db`, `crud.db`):
    the line each expires at and how (`ROLLS_BACK` in the text of a rollback). An awaited method of
    an instance (a dependency's, a parameter's, `self.repo`'s, a module-level one's) whose class
    holds an AsyncSession in one attribute and commits or rolls it back, itself or through its own
    methods (`await repo.restock_all(10)`), at the call; `async with uow:` (or `async with
    UnitOfWork(db) as uow:`) whose `__aexit__` does, at the block's last line (as `db` where the
    holder keeps the handler's own `db`); `await self.db.commit()` in a method of a class holding
    its AsyncSession as `self.db`."""
    cache = cast("dict[FunctionId, dict[str, dict[int, str]]]", project.derived.setdefault("held_commits.found", {}))
    if fid not in cache:
        cache[fid] = _held_commits(project, fid)
    return cache[fid]


def _held_commits(project: Project, fid: FunctionId) -> dict[str, dict[int, str]]:
    _, function = project.functions[fid]
    ends = {(expression, start): end for expression, start, end in function.async_locked}
    entered = {
        b.line: b for b in function.bindings if b.entered and b.asynchronous and b.end and b.expr.endswith("()")
    }
    built = dict(function.async_built)
    found: dict[str, dict[int, str]] = {}
    for edge in project.all_calls_from.get(fid, ()):
        call, func = edge.call, edge.call.func or ""
        if call.nested:
            continue
        attribute = _held_attribute(project, edge.callee)
        if attribute is None:
            continue
        methods = _expiring_cached(project, edge.callee, attribute)
        if not methods:
            continue
        how = ROLLS_BACK if methods - {UNSURE} == {"rollback"} else "commits"
        if UNSURE in methods:
            how += f" ({UNSURE})"
        method = edge.callee[1].rpartition(".")[2]
        binding = entered.get(call.line)
        if call.index != -1 and method in _EXITS and binding is not None and call.func is None:
            # `async with UnitOfWork(db) as uow:`: the holder is built on the `with` line
            kept = _kept_argument(project, edge.callee, attribute, call, binding.expr[:-2])
            path = kept or f"{binding.name}.{attribute}"
            written = f"async with {binding.expr.rpartition('.')[2][:-2]}(...) as {binding.name}:"
            found.setdefault(path, {})[binding.end] = (
                f"end of `{written}` (line {call.line}), whose __aexit__ {how} `{path}`,"
            )
            continue
        if call.index == -1 and method in _EXITS and func.endswith(f"().{method}") and call.line in built:
            # `async with UnitOfWork(db):`, bound to no name: only the handler's own `db` can
            # hold what it loaded
            made = func[: -len(f"().{method}")]
            construction = next((c for c in function.calls if c.line == call.line and made in (c.func, c.callee)), None)
            kept = _kept_argument(project, edge.callee, attribute, construction, made) if construction else None
            if kept is not None:
                written = f"async with {made.rpartition('.')[2]}(...):"
                found.setdefault(kept, {})[built[call.line]] = (
                    f"end of `{written}` (line {call.line}), whose __aexit__ {how} `{kept}`,"
                )
            continue
        if func.startswith("$"):
            receiver, _, called = func[1:].rpartition(".")
        elif call.func is None and call.callee and "." in call.callee and call.index != -1:
            # a module-level instance: `crud.save()`, `crud.item.save()` on an imported module
            receiver, _, called = _spelled(project.functions[fid][0], call.callee).rpartition(".")
        else:
            continue
        if not receiver:
            continue
        path = f"{receiver}.{attribute}"
        if call.index == -1 and method in _EXITS and (f"${receiver}", call.line) in ends:
            end = ends[(f"${receiver}", call.line)]
            found.setdefault(path, {})[end] = f"end of `async with {receiver}:` (line {call.line}), whose __aexit__ {how},"
        elif call.index != -1 and call.awaited:
            found.setdefault(path, {})[call.line] = f"`{receiver}.{called}()`, which {how} `{path}`,"
    # a project method's commit (`self.uow.commit()`) is the edge's, on the Session it holds
    through = {line for lines in found.values() for line in lines}
    for attribute in _self_held(project, fid):
        for c in function.calls:
            if c.line in through:
                continue
            if c.awaited and not c.nested and c.func in (f"$self.{attribute}.commit", f"$self.{attribute}.rollback"):
                method = c.func.rpartition(".")[2]
                how = " (rolls back)" if method == "rollback" else ""
                found.setdefault(f"self.{attribute}", {})[c.line] = f"`self.{attribute}.{method}()`{how}"
    for path, line, text in _chain_commits(project, fid):
        found.setdefault(path, {}).setdefault(line, text)
    return found


def _chain_commits(project: Project, fid: FunctionId) -> list[tuple[str, int, str]]:
    """`await repo.session.commit()` (`uow.session`, `self.uow.session`): the handler's own commit
    or rollback of an AsyncSession it reaches through attributes of an object holding it, which
    expires what that Session loaded as `await db.commit()` does; no project method runs, so no
    call edge shows it."""
    from async_migrate.codemods.held_session import object_held_async

    found = []
    for c in project.functions[fid][1].calls:
        func = c.func or ""
        chain, _, method = func[1:].rpartition(".")
        if not (c.awaited and not c.nested and func.startswith("$") and method in _EXPIRING and "." in chain):
            continue
        if all(part.isidentifier() for part in chain.split(".")) and object_held_async(project, fid, f"${chain}"):
            how = " (rolls back)" if method == "rollback" else ""
            found.append((chain, c.line, f"`{chain}.{method}()`{how}"))
    return found


def held_expires(project: Project, fid: FunctionId, path: str) -> bool | None:
    """Whether a commit of the AsyncSession `path` (`repo.db`, `self.db`, `crud.db`) expires its
    objects: as the sessionmaker or `AsyncSession(...)` it comes from says, where the analysis can
    read it (a dependency building the holder from the AsyncSession it is given, an `__init__`
    taking it from a dependency or opening it, a module-level instance built on one). None when
    not known."""
    from async_migrate.codemods.async_expired import _expires_on_commit, _held_expires

    module, function = project.functions[fid]
    head, _, attribute = path.partition(".")
    if head == "self":
        first, dot, rest = attribute.partition(".")
        init = _init_param(project, fid, first)
        if init is None:
            return None
        if not dot:
            return _expires_on_commit(project, init)
        # `self.uow.session` in a view whose `__init__` keeps the holder a dependency builds
        found = _held_expires(project, init)
        return found if found is not None else _class_dependency_expires(project, init, rest)
    param = next((p for p in function.params if p.name == head), None)
    if param is not None:
        found = _held_expires(project, param)
        return found if found is not None else _class_dependency_expires(project, param, attribute)
    if any(b.name == head for b in function.bindings):
        return _inline_expires(project, fid, head, attribute)
    receiver, _, attribute = path.rpartition(".")
    target = project.resolve(_unspelled(module, receiver))
    value = target.value if target is not None and target.kind == "value" else None
    if target is None or target.module is None or value is None or value.kind != "call":
        return None
    # `crud = CRUD(SessionLocal())`: the argument the `__init__` keeps, opened at import
    given = _given(project, value.ref, attribute, value.args)
    return _maker_expires(project, target.module.name, given[:-2]) if given and given.endswith("()") else None


def _given(project: Project, made: str | None, attribute: str, args: tuple[facts.CallArg, ...]) -> str | None:
    """The argument, as written, of `made(...)` (a project class's construction) that its
    `__init__` keeps as `self.<attribute>`; None when there is no one such."""
    from async_migrate.codemods.classes import project_classes

    cls = project_classes(project).resolve(made)
    stored = _assignment(project, cls, attribute) if cls is not None else None
    if stored is None or not stored[1].startswith("$") or "." in stored[1]:
        return None
    name = stored[1][1:]
    positional = [p.name for p in project.functions[stored[0]][1].params[1:] if p.positional and not p.variadic]
    unnamed = [a for a in args if a.keyword is None]
    chosen = [a for a in args if a.keyword == name]
    if not chosen and name in positional:
        chosen = unnamed[positional.index(name):positional.index(name) + 1]
    return chosen[0].text if len(chosen) == 1 else None


def module_sessions(project: Project, fid: FunctionId) -> dict[str, bool | None]:
    """Names a handler calls AsyncSession methods on that are module-level AsyncSessions
    (`db = SessionLocal()` at module level, imported or not): one Session the whole process
    shares. Each with whether its commit expires (None when not known). Kept per function (the
    dict returned is the caller's own): asked for each function every handler's walk reaches."""
    known = cast("dict[FunctionId, dict[str, bool | None]]", project.derived.setdefault("held_commits.by_function", {}))
    found = known.get(fid)
    if found is None:
        found = known[fid] = _module_sessions(project, fid)
    return dict(found)


def _module_sessions(project: Project, fid: FunctionId) -> dict[str, bool | None]:
    _, function = project.functions[fid]
    local = {p.name for p in function.params} | {b.name for b in function.bindings}
    found: dict[str, bool | None] = {}
    for call in function.calls:
        name = call.receiver
        if name is None or name in local or name in found or call.nested or not call.callee:
            continue
        expires = _module_session(project, call.callee.rpartition(".")[0])
        if expires is not _NO_SESSION:
            found[name] = cast("bool | None", expires)
    # `db = get_session()` on an `@lru_cache` function opening it: the Session its first call made
    for name, (_, expires) in cached_sessions(project, fid).items():
        found.setdefault(name, expires)
    return found


_NO_SESSION = object()


def _module_session(project: Project, ref: str) -> object:
    """Whether the module-level AsyncSession `ref` names expires on commit (None: not known), or
    `_NO_SESSION` when it names none; once per reference."""

    cache = cast("dict[str, object]", project.derived.setdefault("held_commits.module_sessions", {}))
    if ref in cache:
        return cache[ref]
    found: object = _NO_SESSION
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if target is not None and target.module is not None and value is not None and value.kind == "call" and value.ref:
        if project.is_async_session_type(value.ref):
            found = _keyword(value) != "False"
        elif (maker := _async_maker(project, target.module.name, value.ref)) is not None:
            own = _keyword(value)
            found = own != "False" if own is not None else _keyword(maker) != "False"
    cache[ref] = found
    return found


def _spelled(module: facts.Module, ref: str) -> str:
    """A reference as the module spells it: through the name it imports (`crud.item.save` for
    `app.crud.item.save` after `from app import crud`), or its own definition's name."""
    found = [(len(target), name + ref[len(target):]) for name, target in module.imports.items() if ref.startswith(f"{target}.")]
    if found:
        return max(found)[1]  # `from app.db import crud` over `import app.db`: as the handler writes it
    return ref[len(module.name) + 1:] if ref.startswith(f"{module.name}.") else ref


def _unspelled(module: facts.Module, spelled: str) -> str:
    """The reference of a dotted name as the module spells it: `_spelled` reversed."""
    head, dot, rest = spelled.partition(".")
    target = module.imports.get(head)
    return f"{target}{dot}{rest}" if target is not None else f"{module.name}.{spelled}"


def _keyword(value: facts.Value) -> str | None:
    return next((arg.text for arg in value.args if arg.keyword == "expire_on_commit"), None)


def _async_maker(project: Project, home: str, ref: str) -> facts.Value | None:
    for candidate in (f"{home}.{ref}", ref):
        target = project.resolve(candidate)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None:
            return value if project.makes_async_sessions(value) else None
    return None


def _maker_expires(project: Project, home: str, ref: str) -> bool | None:
    """Whether what `ref()` opens, in module `home`, expires on commit: an `async_sessionmaker`'s
    (or `AsyncSession`'s) `expire_on_commit=`, True by default. None for anything else."""

    if project.is_async_session_type(ref) or project.is_async_session_type(f"{home}.{ref}"):
        return None  # `AsyncSession(engine)` as written in an argument: its keywords are not kept
    maker = _async_maker(project, home, ref)
    return None if maker is None else _keyword(maker) != "False"


def _assignment(project: Project, cls: str, attribute: str) -> tuple[FunctionId, str] | None:
    """The one assignment of `self.<attribute>` in the `__init__` instances of `cls` run."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    if cls not in classes.by_ref:
        return None
    for ancestor in classes.mro(cls):
        stores = classes.assigned.get((ancestor, attribute), [])
        init = [s for s in stores if s[0][1].rpartition(".")[2] == "__init__"]
        if init:
            return init[0] if len(init) == 1 and len(stores) == 1 else None
    return None


def _kept_argument(project: Project, method: FunctionId, attribute: str, call: facts.Call, made: str) -> str | None:
    """The handler's own name (`db`) a holder built on the `with` line keeps as `attribute`:
    `UnitOfWork(db)` (`made`, the class `method` is defined on) with `self.session = session` in
    its `__init__`. None for anything else (a factory's call, whose arguments are its own)."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    cls = classes.owner(method)
    if cls is None or classes.resolve(made) != cls:
        return None
    stored = _assignment(project, cls, attribute)
    if stored is None or not stored[1].startswith("$") or "." in stored[1] or "(" in stored[1]:
        return None
    init, name = project.functions[stored[0]][1], stored[1][1:]
    positional = [p.name for p in init.params[1:] if p.positional and not p.variadic]
    for arg in call.args:
        if arg.name is None:
            continue
        if arg.keyword == name or arg.keyword is None and arg.position is not None and arg.position < len(positional) and positional[arg.position] == name:
            return arg.name
    return None


def _inline_expires(project: Project, fid: FunctionId, name: str, attribute: str) -> bool | None:
    """`held_expires` of a holder a `with` line builds that opens its AsyncSession itself
    (`self.session = SessionLocal()` in its `__init__`)."""
    from async_migrate.codemods.classes import project_classes

    _, function = project.functions[fid]
    bound = [b for b in function.bindings if b.name == name]
    if len(bound) != 1 or not bound[0].expr.endswith("()"):
        return None
    cls = project_classes(project).resolve(bound[0].expr[:-2])
    stored = _assignment(project, cls, attribute) if cls is not None else None
    if stored is None or not stored[1].endswith("()"):
        return None
    return _maker_expires(project, stored[0][0], stored[1][:-2])


def _class_dependency_expires(project: Project, param: facts.Param, attribute: str) -> bool | None:
    """`held_expires` of a parameter FastAPI builds from a project class (`items: Items =
    Depends()`) whose `__init__` keeps the AsyncSession a dependency gives it as `attribute`."""
    from async_migrate.codemods.async_expired import _expires_on_commit
    from async_migrate.codemods.classes import project_classes

    cls = project_classes(project).resolve(project.param_dependency(param))
    stored = _assignment(project, cls, attribute) if cls is not None else None
    if stored is None or not stored[1].startswith("$") or "." in stored[1]:
        return None
    given = next((p for p in project.functions[stored[0]][1].params if p.name == stored[1][1:]), None)
    return _expires_on_commit(project, given) if given is not None else None


def _init_param(project: Project, fid: FunctionId, attribute: str) -> facts.Param | None:
    """The `__init__` parameter a class-based view keeps as `self.<attribute>`."""
    module, function = project.functions[fid]
    owner = function.qualname.rpartition(".")[0]
    stored = _assignment(project, f"{module.name}.{owner}", attribute) if owner else None
    if stored is None or not stored[1].startswith("$") or "." in stored[1]:
        return None
    return next((p for p in project.functions[stored[0]][1].params if p.name == stored[1][1:]), None)


def _self_held(project: Project, fid: FunctionId) -> list[str]:
    """The attribute in which the class of a method handler (a class-based view's route) holds an
    AsyncSession, by its `__init__` or its class body's annotation: none for a function."""
    _, function = project.functions[fid]
    if not function.params or function.params[0].name != "self":
        return []
    attribute = _held_attribute(project, fid)
    return [] if attribute is None else [attribute]


def _held_attribute(project: Project, method: FunctionId) -> str | None:
    """The one attribute in which the class of `method` holds an AsyncSession (`self.db`): by
    declaration (`held_session.held_attribute`), else, where it declares none, the one whose
    commit or rollback a method of the class awaits."""
    from async_migrate.codemods.classes import project_classes

    if held_attributes(project, method, ASYNC):
        return held_attribute(project, method, ASYNC)
    classes = project_classes(project)
    cls = classes.owner(method)
    if cls is None:
        return None
    # untyped (`def __init__(self, session)`), every construction handing it an AsyncSession
    kept = init_held_async(project, classes, cls)
    if len(kept) == 1:
        return next(iter(kept))
    cache = cast("dict[str, str | None]", project.derived.setdefault("held_commits.awaited_attribute", {}))
    if cls not in cache:
        # declared nowhere (`self.session = self.session_factory()` in `__aenter__`): an
        # attribute whose commit or rollback a method awaits holds an AsyncSession
        held = sorted({
            func[6:].rpartition(".")[0]
            for ancestor in classes.mro(cls) for owned in classes.methods.get(ancestor, {}).values()
            for c in project.functions[owned][1].calls
            if c.awaited and not c.nested and (func := c.func or "").startswith("$self.")
            and func.endswith((".commit", ".rollback")) and func.count(".") == 2
        })
        cache[cls] = held[0] if len(held) == 1 else None
    return cache[cls]


def commits_held(
    project: Project, method: FunctionId, kind: str, attribute: str | None = None,
    seen: frozenset[FunctionId] = frozenset(),
) -> bool:
    """Whether a method commits the Session of `kind` its instance holds (`self.db.commit()`; an
    AsyncSession's awaited), itself or through other methods it calls on `self`, at most
    `CALL_DEPTH` deep. `attribute`: the one holding it, kept through every method; without it,
    each method's own `held_attributes` (a method of no holder commits none)."""
    _, function = project.functions[method]
    if method in seen or len(seen) > CALL_DEPTH or not function.params:
        return False
    attributes = (attribute,) if attribute is not None else held_attributes(project, method, kind)
    if not attributes:
        return False
    own = f"${function.params[0].name}."
    commits = {f"{own}{name}.commit" for name in attributes}
    if any(c.func in commits and (c.awaited or kind == SYNC) for c in function.calls):
        return True
    return any(
        (e.call.func or "").startswith(own) and commits_held(project, e.callee, kind, attribute, seen | {method})
        for e in project.all_calls_from.get(method, ())
    )


_EXPIRING = ("commit", "rollback")


def _expiring_cached(project: Project, method: FunctionId, attribute: str, names: tuple[str, ...] | None = _EXPIRING) -> set[str]:
    """`_expiring` of a method, once per project: every handler calling it asks the same."""
    cache = cast("dict[tuple, set[str]]", project.derived.setdefault("held_commits.expiring", {}))
    key = (method, attribute, names)
    if key not in cache:
        cache[key] = _expiring(project, method, attribute, frozenset(), names)
    return cache[key]


def _expiring(
    project: Project, method: FunctionId, attribute: str | None, seen: frozenset[FunctionId],
    names: tuple[str, ...] | None = _EXPIRING,
) -> set[str]:
    """The methods of the AsyncSession its instance holds as `attribute` that a method awaits
    (those of `names`: `commit`, `rollback` by default, which expire it; any for None), itself or
    through other methods called on `self`; `UNSURE` beside them where it is done through another
    object holding an AsyncSession (`await self.items.save()`, at any depth), which may hold
    another Session than `attribute`."""
    _, function = project.functions[method]
    if method in seen or len(seen) > CALL_DEPTH or not function.params:
        return set()
    own = f"${function.params[0].name}."
    found = {
        called for c in function.calls
        if c.awaited and attribute is not None and (func := c.func or "").startswith(f"{own}{attribute}.")
        and "." not in (called := func[len(own) + len(attribute) + 1:]) and (names is None or called in names)
    }
    for e in project.all_calls_from.get(method, ()):
        func = e.call.func or ""
        if not func.startswith(own) or e.call.nested:
            continue
        if "." not in func[len(own):]:
            found |= _expiring(project, e.callee, attribute, seen | {method}, names)
        elif e.call.awaited and (other := _held_attribute(project, e.callee)) is not None:
            through = _expiring(project, e.callee, other, seen | {method}, names)
            found |= {*through, UNSURE} if through - {UNSURE} else set()
    return found
