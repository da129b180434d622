"""What a project function or method given the route's Session returns, as far as a commit's expiry goes.

After the route's commit, the object a helper handed back (`item = crud_item.get(db, pk)`) is
expired like one the route loaded itself (or, on an async stack that keeps objects, stale where
the synchronous one reloaded it). `expired_reads` refreshes it the same way only when this module
shows what comes back (`returned`); anything else stays "the result of a call", which blocks the
route where it is read after the commit.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.held_commits import CALL_DEPTH
from async_migrate.codemods.held_session import SYNC, held_attribute, held_attributes
from async_migrate.codemods.phase2 import expired_lists, returned_values

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.expired_reads import Models
    from async_migrate.codemods.project import FunctionId, Project

# Query terminals that give one instance, and those of them that may give None instead.
_ONE_TERMINALS = frozenset({"get", "one", "scalar_one", "first", "one_or_none", "scalar_one_or_none", "scalar"})
_MAYBE_TERMINALS = frozenset({"get", "first", "one_or_none", "scalar_one_or_none", "scalar"})
# Session methods after which what the helper returns may be no instance of the Session.
_DETACHES = frozenset({"expunge", "expunge_all", "close", "delete"})
# Session methods that take only a mapped instance: a local passed to one is an ORM object.
_TAKES_INSTANCE = frozenset({"add", "refresh"})
# Session methods that neither write nor expire what it holds (nor hand it on).
_KEEPS = frozenset({"add", "add_all", "refresh", "get", "exec", "execute", "scalars", "scalar", "query"})


@dataclass(frozen=True, slots=True)
class Returned:
    """`shape`: one, maybe (one or None), list, none (no ORM object; scalar while joining:
    a number or a string), or arg: the caller's argument `arg` (a local name of the caller)
    handed back as it is."""

    shape: str
    cls: str | None = None
    arg: str = ""


def returned(
    project: Project, models: Models, fid: FunctionId, function: facts.Function, binding: facts.Binding, session: str,
    holders: Collection[str] = (),
) -> Returned | None:
    """What the call bound by `binding` in function `fid` returns, when it is given the Session
    `session` (the one that commits), or is a method of an instance built from it here
    (`repo = ItemRepo(db)`); None when the call or its result cannot be followed.

    The call graph is followed (`Project.all_calls_from`, so methods of project classes and
    instances too) into the helper and through the helpers it calls in turn (`item =
    find_item(db, pk)`, `item = repo_fn(db, db_obj=item)`). What is shown:

    - one object its Session loaded: `db.get(M, pk)` (`db.get(self.model, pk)` included: `get`
      only ever returns a mapped instance or None), a query of one mapped entity ended by
      `.first()`, `.one()` and kin, `db.merge(obj)`, a local bound once to one of those, or a
      local it adds to (or refreshes on) the Session unconditionally (`db_obj = self.model(...)`);
    - a list of them: `...all()` of a query of one mapped entity;
    - one of its own parameters handed back (`return db_obj`): what the caller passed;
    - no object: `None` and literals only, the `.rowcount` of the Session's `execute()`, no
      `return` at all, or a return annotation naming only scalar types (`-> int`), in builtin or
      typing containers (`-> list[str]`, `-> dict[str, int | None]`).

    `holders`: the function's parameters holding an instance that keeps that Session
    (`dependency_objects.holding`), whose methods are judged as those of one built here.

    Anything else (a call it cannot follow, a result it cannot tell is an entity, a helper that
    detaches objects, several implementations) is unknown: None.
    """
    call = bound_call(function, binding)
    if call is None:
        return None
    if any(a.name == session for a in call.args):
        result = _call_result(project, models, fid, call, frozenset({session}), 0, held=False)
    elif held_session(project, fid, function, call, {session}) == session or (
        call.receiver in holders and on_holder(project, fid, call)
    ):
        result = _call_result(project, models, fid, call, frozenset(), 0, held=True)
    elif on_holder(project, fid, call):
        # an instance handed in (`repo: ItemRepo = Depends(get_repo)`): its Session may be
        # this one or not, so only a result holding no object is shown
        result = _call_result(project, models, fid, call, frozenset(), 0, held=True)
        return Returned("none") if result is not None and result.shape in ("none", "scalar") else None
    else:
        return None
    return Returned("none") if result is not None and result.shape == "scalar" else result


def on_holder(project: Project, fid: FunctionId, call: facts.Call) -> bool:
    """A method call on an instance of a class holding a Session (`repo.get(pk)`)."""
    from async_migrate.codemods.phase2.holders import holder_of

    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index]
    return call.receiver is not None and bool(edges) and all(holder_of(project, e.callee) is not None for e in edges)


def held_session(
    project: Project, fid: FunctionId, function: facts.Function, call: facts.Call, names: set[str]
) -> str | None:
    """`repo.get(...)` on a local bound once, here, to an instance of a class holding the
    Session it was built from (`repo = ItemRepo(db)`): that Session's name."""
    from async_migrate.codemods.phase2.holders import holder_of

    if call.receiver is None or call.method is None:
        path = holder_path(project, fid, call)
        return path if path in names else None
    bound = [b for b in function.bindings if b.name == call.receiver]
    built = bound_call(function, bound[0]) if len(bound) == 1 and bound[0].line < call.line else None
    passed = [a.name for a in built.args if a.name in names] if built is not None else []
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index]
    if len(passed) != 1 or not edges or any(holder_of(project, e.callee) is None for e in edges):
        path = holder_path(project, fid, call)
        return path if path in names else None
    return passed[0]


def holder_path(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """`repo.db` for `repo.get(pk)` (`uow.items.session` for `uow.items.get(pk)`, `uow.session`
    for the `__exit__` a `with uow:` runs) on an instance, however it came (a dependency, a
    parameter, an attribute), of classes holding the Session in one attribute: that Session, as
    the caller can spell it."""
    receiver = _dotted_receiver(call)
    if receiver is None:
        return None
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index and e.call.func == call.func]
    held = {held_attribute(project, e.callee, SYNC) for e in edges}
    if len(held) != 1 or (attribute := held.pop()) is None:
        return None
    return f"{receiver}.{attribute}"


def session_chain(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """`repo.session` for `repo.session.commit()` (`self.repo.db`, `uow.session`): a method called
    on an attribute chain the flow reads as only a Session, as the function spells it; None for a
    bare name (`db.commit()`, whose receiver the facts keep) and anything else."""
    from async_migrate.codemods.flow import SESSION

    chain = _dotted_receiver(call)
    if chain is None or "." not in chain:
        return None
    if chain in _held_paths(project, fid):
        # a holder's own `self.db.commit()`: its objects are judged through its callers
        return None
    values = project.flow.evaluate(fid, f"${chain}")
    return chain if values and all(v.kind == SESSION for v in values) else None


def _dotted_receiver(call: facts.Call) -> str | None:
    """`repo.session` for a call written `repo.session.commit()`: the dotted names the method is
    called on; None when the call is on anything else (a subscript, a call's result)."""
    func = call.func or ""
    receiver = func[1:].rpartition(".")[0] if func.startswith("$") else ""
    if not receiver or not all(part.isidentifier() for part in receiver.split(".")):
        return None
    return receiver


def _held_paths(project: Project, fid: FunctionId) -> frozenset[str]:
    """`self.db` for each Session attribute of the holder class a method belongs to."""
    _, function = project.functions[fid]
    if not function.params:
        return frozenset()
    return frozenset(f"{function.params[0].name}.{attribute}" for attribute in held_attributes(project, fid, SYNC))


def _session_method(call: facts.Call, params: frozenset[str]) -> str | None:
    """The Session method a call runs on one of `params` (`db`, `self.db`), or None."""
    if call.receiver in params:
        return call.method
    for path in params:
        if call.func is not None and call.func.startswith(f"${path}.") and call.func.count(".") == path.count(".") + 1:
            return call.func.rsplit(".", 1)[1]
    return None


def handed_back(project: Project, models: Models, fid: FunctionId, call: facts.Call, session: str) -> str | None:
    """The caller's local name that a call given the Session hands back as it is:
    `note` for `persist(db, note)` when `persist` ends `return obj`."""
    if not any(a.name == session for a in call.args):
        return None
    result = _call_result(project, models, fid, call, frozenset({session}), 0, held=False)
    return result.arg if result is not None and result.shape == "arg" else None


def hands_back_refreshed(project: Project, fid: FunctionId, call: facts.Call, session: str, depth: int = 0) -> bool:
    """Whether every helper the call may run refreshes the object it hands back after its
    last commit: `db.commit(); db.refresh(db_obj); return db_obj`, the refresh a statement of
    its own body (it runs on every path to the one `return`, its last statement) after every
    statement that commits, flushes or expires, or hands the Session on. A helper whose one
    `return` hands its Session to another that does so (`return super().update(db, db_obj=db_obj,
    obj_in=data)` in an override, after no other Session work) hands back what that one refreshed.
    Read from the facts alone: phase two (`expired_reads`) and phase one and `check`
    (`phase1.expired_deps`, an object bound from a helper run in the threadpool) ask the same."""
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index]
    if not edges or not all(e.certain for e in edges) or depth > CALL_DEPTH:
        return False
    for edge in edges:
        _, helper = project.functions[edge.callee]
        params = [p for p, passed in edge.session_args.items() if passed == session]
        if len(params) != 1 or helper.is_async or helper.is_generator or len(helper.returned) != 1:
            return False
        if not helper.ends_in_return:
            return False
        work = [
            c.line for c in helper.calls
            if c.receiver == params[0] and c.method not in _KEEPS or any(a.name == params[0] for a in c.args)
        ]
        if _delegated(project, edge.callee, helper, params[0], work, depth):
            continue
        returned = helper.returned[0]
        name = returned[1:]
        if not returned.startswith("$") or not name.isidentifier():
            return False
        refreshed = [c.line for c in helper.calls if _refreshes(c, params[0], name)]
        if not refreshed or max(work, default=0) > max(refreshed):
            return False
    return True


def _delegated(
    project: Project, fid: FunctionId, helper: facts.Function, session: str, work: list[int], depth: int
) -> bool:
    """`return other(db, db_obj=db_obj, ...)` as the helper's last statement, its only Session
    work, where `other` hands back refreshed the object it is given (`hands_back_refreshed`)."""
    terms = helper.returned_terms
    if len(terms) != 1 or terms[0][1][:1] != ("call",) or not isinstance(terms[0][1][1], int):
        return False
    call = next((c for c in helper.calls if c.index == terms[0][1][1]), None)
    if call is None or call.nested or not call.top or any(line != call.line for line in work):
        return False
    return hands_back_refreshed(project, fid, call, session, depth + 1)


def _refreshes(call: facts.Call, session: str, name: str) -> bool:
    """`session.refresh(name)` as a whole statement of the function's own body, outside any
    compound statement, with no other argument."""
    return (
        call.top and not call.nested and call.receiver == session and call.method == "refresh"
        and len(call.args) == 1 and call.args[0].position == 0 and call.args[0].name == name
    )


def bound_call(function: facts.Function, binding: facts.Binding) -> facts.Call | None:
    """The call whose result `binding` binds as it is (`item = crud.get(db, pk)`)."""
    calls = {c.index: c for c in function.calls}
    for term in function.holds.get(binding.name, ()):
        if term[:1] == ("call",) and isinstance(term[1], int):
            call = calls.get(term[1])
            if call is not None and call.line == binding.line and not call.nested:
                return call
    return None


def _call_result(
    project: Project, models: Models, fid: FunctionId, call: facts.Call, sessions: frozenset[str], depth: int,
    held: bool,
) -> Returned | None:
    """`held`: the callee is a method working on the Session its instance holds."""
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == call.index]
    if not edges or not all(e.certain for e in edges) or depth > CALL_DEPTH:
        return None
    found: list[Returned] = []
    for edge in edges:
        params = _held_paths(project, edge.callee) if held else frozenset(
            p for p, passed in edge.session_args.items() if passed in sessions
        )
        result = _function_result(project, models, edge.callee, params, depth, held)
        if result is None:
            return None
        if result.shape == "arg":
            argument = _argument(project, edge.callee, call, result.arg)
            if argument is None:
                return None
            result = Returned("arg", None, argument)
        found.append(result)
    return _join(found)


def function_result(project: Project, models: Models, fid: FunctionId, params: frozenset[str]) -> Returned | None:
    """What function `fid` returns when its parameter in `params` is the Session (a dependency
    FastAPI hands the route's), as `returned` reads a helper the route calls."""
    return _function_result(project, models, fid, params, 0, held=False)


def _function_result(
    project: Project, models: Models, callee: FunctionId, params: frozenset[str], depth: int, held: bool
) -> Returned | None:
    module, helper = project.functions[callee]
    # the Session it is given, not one it opens: an object of that is detached on return
    if len(params) != 1 or not held and not params <= project.session_names(callee):
        return None
    if helper.is_async or helper.is_generator or helper.abstract:
        return None
    if any(_session_method(c, params) in _DETACHES for c in helper.calls):
        return None  # an object it detaches is no instance of the Session any more
    if helper.returns_no_object:
        return Returned("scalar")
    node = expired_lists.function_node(models.tree(module.path), helper)
    if node is not None and returned_values.returns_values(
        node, lambda written: _mapped_class(models, module, written),
        lambda cls, attribute: models.column(f"{cls}.{attribute}"),
    ):
        return Returned("scalar")  # `[i.name for i in db.scalars(select(Item))]`: column values
    if any(not written for written, _ in helper.returned_terms):
        return None  # a return the notation cannot spell (`db.get(...) or Item()`)
    if not helper.returned_terms:
        return Returned("none")  # no `return`: None
    found = []
    for written, term in helper.returned_terms:
        result = _expression(project, models, callee, helper, node, written, term, params, depth, held)
        if result is None:
            return None
        found.append(result)
    return _join(found)


def _mapped_class(models: Models, module: facts.Module, written: str) -> str | None:
    """The mapped class a name as written in `module` stands for (`Item`, `models.Item`)."""
    head, _, rest = written.partition(".")
    ref = module.imports.get(head, f"{module.name}.{head}") + (f".{rest}" if rest else "")
    cls = models.resolve(ref)
    return cls if cls is not None and models.mapped(cls) else None


def _expression(
    project: Project,
    models: Models,
    fid: FunctionId,
    helper: facts.Function,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    written: str,
    term: tuple,
    params: frozenset[str],
    depth: int,
    held: bool,
) -> Returned | None:
    """What one returned expression (as written, and its term) holds."""
    if term == ("none",):
        return Returned("none" if written == "None" else "scalar")
    head = written.partition("(")[0]
    root = head[1:].split(".", 1)[0] if written.startswith("$") else ""
    if written.endswith("()") and any(head.startswith(f"${path}.") for path in params):
        if _values_only(project, models, fid, helper, node, written, term, params):
            return Returned("scalar")  # `return db.execute(stmt).one()` of columns: a Row of values
        return _session_result(models, helper, written, term, params)
    if root and _counted(helper, written, root, params):
        return Returned("scalar")  # `return result.rowcount` of the Session's `execute()`: a number
    if root and written == f"${root}":
        if root in {p.name for p in helper.params}:
            return Returned("arg", None, root)
        bound = [b for b in helper.bindings if b.name == root]
        terms = helper.holds.get(root, ())
        if len(bound) != 1 or len(terms) != 1:
            return None
        if _given_to_session(node, root, params):
            return Returned("one", _mapped(models, bound[0].expr))
        return _expression(project, models, fid, helper, node, bound[0].expr, terms[0], params, depth + 1, held)
    if term[:1] == ("call",) and isinstance(term[1], int):
        call = next((c for c in helper.calls if c.index == term[1]), None)
        if call is None:
            return None
        if held and helper.params and call.func is not None and call.func.startswith(f"${helper.params[0].name}."):
            result = _call_result(project, models, fid, call, frozenset(), depth + 1, held=True)  # `self.find(...)`
        elif not held and any(a.name in params for a in call.args):
            result = _call_result(project, models, fid, call, params, depth + 1, held=False)
        else:
            return None
        if result is not None and result.shape == "arg" and result.arg not in {p.name for p in helper.params}:
            return None  # a local of this helper handed through another: not followed
        return result
    return None


def _counted(helper: facts.Function, written: str, root: str, params: frozenset[str]) -> bool:
    """`$result.rowcount` (`.lastrowid`) where `result` is bound once, to the Session's `execute()`,
    or `$db.execute().rowcount` itself."""
    if any(written in (f"${path}.execute().rowcount", f"${path}.execute().lastrowid") for path in params):
        return True
    if written not in (f"${root}.rowcount", f"${root}.lastrowid"):
        return False
    bound = [b for b in helper.bindings if b.name == root]
    return len(bound) == 1 and any(bound[0].expr == f"${path}.execute()" for path in params)


def _session_result(
    models: Models, helper: facts.Function, written: str, term: tuple, params: frozenset[str]
) -> Returned | None:
    """`db.get(...)`, `db.merge(...)`, `db.scalars(select(M)...).first()`, `...all()`."""
    terminal = written[: -len("()")].rsplit(".", 1)[-1]
    load = helper.loads[term[1]] if term[:1] == ("load",) else None
    cls = models.resolve(load.model) if load is not None else None
    if written.count("(") == 1 and terminal in ("get", "merge"):
        # `get` gives a mapped instance or None whatever its first argument; `merge` the
        # persistent copy of the object it is given
        if load is not None and load.session not in params:
            return None
        known = cls if cls is not None and models.mapped(cls) else None
        return Returned("maybe" if terminal == "get" else "one", known)
    if terminal not in _ONE_TERMINALS | {"all"} or load is None:
        return None
    if load.session not in params or cls is None or not models.mapped(cls):
        return None
    return Returned("list" if terminal == "all" else "maybe" if terminal in _MAYBE_TERMINALS else "one", cls)


def _values_only(
    project: Project, models: Models, fid: FunctionId, helper: facts.Function,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None, written: str, term: tuple, params: frozenset[str],
) -> bool:
    """`return db.execute(stmt).one()` (`.all()`, `.first()`, ...) where every statement the helper
    builds holds no entity (columns, raw SQL, bulk DML returning columns) and each statement its
    Session runs is built here (inline, or a local it binds): rows of values, which no commit expires."""
    if node is None or term[:1] == ("load",):
        return False
    terminal = written[: -len("()")].rsplit(".", 1)[-1]
    if terminal not in (_ONE_TERMINALS - {"get"}) | {"all"}:
        return False
    runs = [c for c in helper.calls if c.receiver in params and c.method in ("execute", "scalars", "scalar")]
    local = {b.name for b in helper.bindings} - {p.name for p in helper.params}
    if not runs or any(
        not c.args or c.args[0].position != 0 or c.args[0].name is not None and c.args[0].name not in local
        for c in runs
    ):
        return False  # a statement handed in (`run(db, stmt)`) may select anything
    module = project.functions[fid][0]
    return expired_lists.no_entity(
        [node], lambda name: expired_lists.mapped_name(models, module, name),
        lambda name: expired_lists.table_name(models, module, name),
    )


def _given_to_session(node: ast.FunctionDef | ast.AsyncFunctionDef | None, name: str, params: frozenset[str]) -> bool:
    """`db.add(name)` or `db.refresh(name)` as a statement of the function's own body (not
    under an `if`): whatever `name` holds when it returns is a mapped instance of the Session."""
    if node is None:
        return False
    for statement in node.body:
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
            continue
        func = value.func
        if ast.unparse(func.value) in params and func.attr in _TAKES_INSTANCE:
            if value.args and isinstance(value.args[0], ast.Name) and value.args[0].id == name:
                return True
    return False


def _mapped(models: Models, expression: str) -> str | None:
    cls = models.resolve(expression.partition("(")[0]) if not expression.startswith("$") else None
    return cls if cls is not None and models.mapped(cls) else None


def _argument(project: Project, callee: FunctionId, call: facts.Call, param: str) -> str | None:
    """The caller's local name passed for the callee's parameter `param`, when it is one."""
    _, function = project.functions[callee]
    positional = [p.name for p in function.params if p.positional and p.name not in ("self", "cls")]
    for arg in call.args:
        if arg.keyword == param or arg.keyword is None and arg.position is not None and (
            arg.position < len(positional) and positional[arg.position] == param
        ):
            return arg.name
    return None


def _join(found: list[Returned]) -> Returned | None:
    """One answer for several return statements (or implementations)."""
    shapes = {r.shape for r in found}
    if not found:
        return None
    if shapes <= {"none", "scalar"}:
        return Returned("scalar" if "scalar" in shapes else "none")
    if "scalar" in shapes:
        return None  # a number or a string where others return objects: no refresh fits both
    classes = {r.cls for r in found if r.shape != "none"}
    cls = classes.pop() if len(classes) == 1 else None
    if "arg" in shapes:
        arguments = {r.arg for r in found}
        return found[0] if shapes == {"arg"} and len(arguments) == 1 else None
    if "list" in shapes:
        return Returned("list", cls) if shapes == {"list"} and cls is not None else None
    return Returned("one" if shapes == {"one"} else "maybe", cls)
