"""A synchronous class built, in migrated code, around an async object.

A container's or service's async copy builds its members (`self.user_service =
UserService(self.user_repo, ...)`). When a member is handed an object of the async world (the
AsyncSession, a repository's or unit of work's async copy) but is itself the synchronous class,
its methods call that object as before: `self.users.get(user_id)` makes a coroutine nobody
awaits, and `if user is None` never holds; `self.uow.session.commit()` commits nothing. No
error, a wrong answer. This reads the rewritten project (phase two's self-check asks it of every
migrated function) for each such construction and each call of a method of the class that
would, on that object, make a coroutine without awaiting it (or call a method its copy lacks);
`check` (AM302) asks it of the object an `async def` handler calls such a member through.

Shapes: `Built(call line, member, class, parameter, what is handed, method, its call line, the call)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.flow import INSTANCE, Abstract
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.received import argument_values
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS


@dataclass(frozen=True, slots=True)
class Built:
    """`line`: the construction's line in the function read; `member` what it builds
    (`self.user_service`); `cls` the class built (its reference), `param` its `__init__`
    parameter handed `handed` (`the AsyncSession `session``, `` `self.users` (`UserRepoAsync`) ``);
    `method` the class's method calling `called` at `at` (path, line), which on that object
    `why` (is a coroutine left unawaited, or is not there)."""

    line: int
    member: str
    cls: str
    param: str
    handed: str
    method: str
    called: str
    at: tuple[str, int]
    why: str
    annotated: bool = True  # the parameter declares the class it receives

    def message(self, project: Project) -> str:
        short = project.flow.classes.short(self.cls)
        return (
            f"builds {self.member} as the synchronous `{short}`, handing its parameter `{self.param}` "
            f"{self.handed}, but `{short}.{self.method}` ({self.at[0]}:{self.at[1]}) calls `{self.called}()`"
            f"{self.why}; the member must be the class's async copy, its methods awaited"
            + ("" if self.annotated else (
                f" (annotate the parameter `{self.param}` of `{short}.__init__` with the class it receives: "
                f"phase two then moves `{short}` with it)"
            ))
        )


_COROUTINE = " without `await`: a coroutine nobody runs, and the method goes on with a wrong answer"


def found(project: Project, fid: FunctionId, sessions: set[str]) -> Iterator[Built]:
    """The constructions in `fid` (rewritten) of a synchronous class whose methods would call
    what the construction hands it as before: a coroutine of it without awaiting it, or a method
    its async copy does not have. `sessions`: the expressions holding the AsyncSession in `fid`
    (`session`, `$self.session`)."""
    classes = project.flow.classes
    for edge in project.all_calls_from[fid]:
        _, callee = project.functions[edge.callee]
        owner = classes.owner(edge.callee)
        if callee.name != "__init__" or owner is None:
            continue
        for arg in edge.call.args:
            param = facts.parameter_of(callee, arg)
            if param is None:
                continue
            written = arg.expr or (f"${arg.name}" if arg.name else None)
            handed_class: str | None = None
            if written is not None and (written in sessions or written.lstrip("$") in sessions):
                handed = f"the AsyncSession `{written.lstrip('$')}`"
            else:
                values = _values(project, fid, edge.call, arg)
                targets = sorted({str(v.target) for v in values if v.kind == INSTANCE})
                handed_class = next((t for t in targets if _is_async_class(project, t)), None)
                if handed_class is None:
                    continue
                short = classes.short(handed_class)
                handed = f"`{written.lstrip('$')}` (`{short}`)" if written else f"a new `{short}(...)`"
            for method, call, path in _calls_on(project, owner, edge.callee, param):
                if call.awaited or call.offloaded:
                    continue
                why = (
                    _instance_problem(project, handed_class, path) if handed_class is not None
                    else _COROUTINE if "." not in path and path in AWAITED_METHODS else None
                )
                if why is not None:
                    module, _ = project.functions[method]
                    yield Built(
                        edge.call.line, _member(project, fid, owner), owner, param, handed,
                        project.functions[method][1].name, (call.func or path).lstrip("$"), (module.path, call.line),
                        why, any(p.name == param and p.annotation for p in callee.params),
                    )
                    break  # one call names the problem of the construction's argument


def _member(project: Project, fid: FunctionId, cls: str) -> str:
    """What the construction in `fid` builds: `self.user_service` (`__init__` assigning it), the
    method itself (a provider method or cached_property returning it), else the class."""
    classes = project.flow.classes
    owner = classes.owner(fid)
    _, function = project.functions[fid]
    if owner is not None:
        built = [
            attribute for (ref, attribute), assigned in classes.assigned.items()
            if ref == owner and any(f == fid and expression == f"{cls}()" for f, expression in assigned)
        ]
        if len(built) == 1:
            return f"`self.{built[0]}`"
        if function.name != "__init__":
            return f"`{function.qualname}`"
    return f"a `{classes.short(cls)}`"


def _values(project: Project, fid: FunctionId, call: facts.Call, arg: facts.Arg) -> frozenset[Abstract]:
    """What the argument holds; a construction written in place among others
    (`PostService(self.posts, CommentRepoAsync(session), UnitOfWorkAsync(session))`): an instance
    of its class, the calls matched to the arguments in order when each such argument is one."""
    values = argument_values(project, project.flow, fid, call, arg)
    if values or arg.expr is not None or arg.name is not None or arg.ref is not None:
        return values
    unnamed = [a for a in call.args if a.expr is None and a.name is None and a.ref is None]
    inner = [c for c in project.functions[fid][1].calls if c.argument_of == call.index]
    if len(inner) != len(unnamed) or not inner[unnamed.index(arg)].callee:
        return frozenset()
    cls = project.flow.classes.resolve(inner[unnamed.index(arg)].callee or "")
    return frozenset({Abstract(INSTANCE, cls)}) if cls is not None else frozenset()


def _calls_on(
    project: Project, owner: str, init: FunctionId, param: str
) -> Iterator[tuple[FunctionId, facts.Call, str]]:
    """Calls in the methods of `owner` on the attributes `init` sets from `param`: (method, call,
    the path after the attribute: `get`, `session.commit`)."""
    classes = project.flow.classes
    attributes = [
        attribute for (ref, attribute), assigned in classes.assigned.items()
        if ref == owner and any(f == init and expression == f"${param}" for f, expression in assigned)
    ]
    for method in sorted(classes.methods.get(owner, {}).values()):
        if method not in project.functions:
            continue
        _, written = project.functions[method]
        for call in written.calls:
            for attribute in attributes:
                prefix = f"$self.{attribute}."
                if call.func is not None and call.func.startswith(prefix):
                    yield method, call, call.func[len(prefix):]


def _is_async_class(project: Project, ref: str) -> bool:
    """A class of the async world: a method of it is a coroutine function, or it holds an
    AsyncSession (an async repository's copy, a unit of work's `UnitOfWorkAsync`)."""
    methods = project.flow.classes.methods.get(ref, {})
    if any(project.functions[m][1].is_async and not project.functions[m][1].is_generator
           for m in methods.values() if m in project.functions):
        return True
    return bool(_async_attributes(project, ref))


def _instance_problem(project: Project, ref: str, path: str) -> str | None:
    """What is wrong with calling `path` on an instance of the async class `ref` as synchronous
    code does: a coroutine method of the class (`get`) or of the AsyncSession it holds
    (`session.commit`) left unawaited; a method the class does not have (its copy holds the
    methods the migrated code runs). None: nothing the analysis can tell."""
    classes = project.flow.classes
    first, _, rest = path.partition(".")
    if rest:
        return _COROUTINE if first in _async_attributes(project, ref) and rest in AWAITED_METHODS else None
    methods, _ = classes.method(ref, first)
    if methods:
        return _COROUTINE if any(
            m in project.functions and project.functions[m][1].is_async and not project.functions[m][1].is_generator
            for m in methods
        ) else None
    mro = classes.mro(ref)
    written = {base for cls in mro for base in classes.by_ref[cls][1].bases}
    closed = all(b == "object" or classes.resolve(b) is not None for b in written)
    if not closed or any(
        "__getattr__" in classes.methods.get(cls, {}) or (cls, first) in classes.assigned for cls in mro
    ):
        return None  # a base the analysis cannot read, or an attribute set on the instance, may have it
    return f", which `{classes.short(ref)}` does not have: AttributeError when it runs"


def _async_attributes(project: Project, ref: str) -> set[str]:
    """The attributes of `ref` its `__init__` sets from a parameter declared AsyncSession."""
    classes = project.flow.classes
    init = classes.methods.get(ref, {}).get("__init__")
    if init is None:
        return set()
    params = {f"${name}" for name in project.declared_async_session_params(init)}
    return {
        attribute for (owner, attribute), assigned in classes.assigned.items()
        if owner == ref and any(f == init and expression in params for f, expression in assigned)
    }


def member_calls(project: Project, fid: FunctionId) -> Iterator[tuple[facts.Call, FunctionId, Built]]:
    """Calls in `fid` of a synchronous method of such a member doing Session work (through what
    it holds), made through the object holding the member
    (`c.user_service.get_or_404(uid)`, `c` a `ContainerAsync` whose `__init__` builds
    `self.user_service` as the synchronous `UserService` around `UserRepoAsync`): (the call, the
    method, the construction)."""
    classes = project.flow.classes
    for edge in project.all_calls_from[fid]:
        if edge.via is None or edge.call.func is None or project.functions[edge.callee][1].is_async:
            continue
        if edge.callee not in project.work_chains:
            continue  # `c.user_service.label()`: nothing of what it holds runs
        base, _, attribute = edge.call.func.rpartition(".")[0].rpartition(".")
        if not base.startswith("$") or "." in base or not attribute:
            continue
        for value in project.flow.evaluate(fid, base):
            init = classes.methods.get(str(value.target), {}).get("__init__") if value.kind == INSTANCE else None
            built = next((
                b for b in _built_in(project, init) if b.member == f"`self.{attribute}`"
                and b.cls == classes.owner(edge.callee)
            ), None) if init is not None else None
            if built is not None:
                yield edge.call, edge.callee, built
                break


def _built_in(project: Project, init: FunctionId) -> list[Built]:
    """`found` for an `__init__` keeping its AsyncSession parameters, kept per project."""
    kept: dict[FunctionId, list[Built]] = project.derived.setdefault("built_with_async", {})  # type: ignore[assignment]
    if init not in kept:
        sessions = {f"${name}" for name in project.declared_async_session_params(init)}
        kept[init] = list(found(project, init, sessions))
    return kept[init]
