"""Blocking I/O that is no Session work, reached by a `def` route phase two moves onto the event
loop: `requests.get(...)`, `time.sleep(...)`, a method of a synchronous client held by a
module-level name (`session = requests.Session()`, `cache = redis.Redis()`), by an instance
(`self.session = httpx.Client()`) or by a parameter handed one, in the route or in a project
function it calls. Phase one's `def` ran it in the threadpool; as an `async def` the route runs it on the
loop, where every other request waits for it. `check` judges Session work only, so phase two
says so in a follow-up naming the chain."""

from __future__ import annotations

from collections.abc import Iterable

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.clients import BLOCKING_CLIENT_CLASSES, BLOCKING_FUNCTIONS

# How far down the call graph to look: the helpers a route calls and theirs, as `unverified_chains` does.
_DEPTH = 6


def follow_ups(project: Project, routes: Iterable[FunctionId]) -> list[str]:
    notes = []
    for route in sorted(routes, key=lambda fid: (project.functions[fid][0].path, project.functions[fid][1].line)):
        module, function = project.functions[route]
        if function.is_async:
            continue  # it ran on the loop before phase two too
        chain = _first_blocking(project, route)
        if chain is None:
            continue
        notes.append(
            f"{module.path}:{function.line}: {function.qualname} now runs on the event loop, and so does the "
            f"blocking I/O it reaches, which is no Session work (`check` does not report it): {' -> '.join(chain)}; "
            "wrap that call in `await run_in_threadpool(...)` or use an async client"
        )
    return notes


def _first_blocking(project: Project, route: FunctionId) -> list[str] | None:
    """The chain from `route` to the first blocking call it may run on the loop: its own calls
    first, then its callees' (breadth first), each call not awaited and not offloaded. A client
    handed down (`convert(price, session=session)`, or a parameter defaulting to one) is followed
    into the parameter that receives it."""
    queue: list[tuple[FunctionId, list[str], dict[str, str]]] = [(route, [], {})]
    seen = {route}
    while queue:
        fid, path, held = queue.pop(0)
        module, function = project.functions[fid]
        for call in function.calls:
            what = None if call.awaited or call.offloaded or call.greenlet else (
                _blocking(project, call, held) or _held_client(project, fid, call)
            )
            if what is not None:
                return [*path, f"{what} ({module.path}:{call.line})"]
        if len(path) >= _DEPTH:
            continue
        for edge in project.all_calls_from.get(fid, []):
            if edge.callee in seen or edge.call.offloaded:
                continue
            seen.add(edge.callee)
            name = project.functions[edge.callee][1].qualname
            queue.append((edge.callee, [*path, f"{name}()"], _handed(project, edge.callee, edge.call, held)))
    return None


def _client(project: Project, ref: str | None) -> str | None:
    """The synchronous client class of the module-level instance `ref` names, or None."""
    target = project.resolve(ref) if ref and "(" not in ref else None
    value = target.value if target is not None and target.kind == "value" else None
    if value is not None and value.kind == "call" and (made := project.canonical(value.ref)) in BLOCKING_CLIENT_CLASSES:
        return made
    return None


def _handed(project: Project, callee: FunctionId, call: facts.Call, held: dict[str, str]) -> dict[str, str]:
    """The callee's parameters holding a synchronous client: by default, or passed one (a
    module-level instance, or a parameter of the caller holding one)."""
    params = project.functions[callee][1].params
    found = {p.name: made for p in params if (made := _client(project, p.default_ref)) is not None}
    positional = [p for p in params if p.positional and not p.variadic]
    if positional and positional[0].name in ("self", "cls"):
        positional = positional[1:]
    for arg in call.args:
        if arg.keyword is not None:
            param = arg.keyword
        elif arg.position is not None and arg.position < len(positional):
            param = positional[arg.position].name
        else:
            continue
        made = _client(project, arg.ref) or (held.get(arg.name) if arg.name else None)
        if made is not None:
            found[param] = made
        else:
            found.pop(param, None)  # what the call passes replaces the default
    return found


def _held_client(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """`self.session.get()` in a method of a class whose instances hold a synchronous client
    (`self.session = httpx.Client(...)` in `__init__`, or in a project base), as a reason would
    spell it; else None."""
    head, _, rest = (call.func or "").partition(".")
    attribute, _, method = rest.partition(".")
    if head != "$self" or not attribute or not method or "." in method or "(" in method:
        return None
    classes = project.flow.classes
    owner = classes.owner(fid)
    if owner is None:
        return None
    for ancestor in classes.mro(owner):
        for _, expression in classes.assigned.get((ancestor, attribute), ()):
            made = project.canonical(expression[:-2]) if expression.endswith("()") and "(" not in expression[:-2] else None
            if made in BLOCKING_CLIENT_CLASSES:
                return f"`self.{attribute}.{method}()` ({made})"
    return None


def _blocking(project: Project, call: facts.Call, held: dict[str, str]) -> str | None:
    """`requests.get()`, or `session.get()` on an instance of a synchronous client class (held by
    a module-level name or by a parameter handed one), as a reason would spell it; else None."""
    if call.receiver is not None and call.method is not None and call.receiver in held:
        return f"`{call.receiver}.{call.method}()` ({held[call.receiver]})"
    if call.callee is None:
        return None
    called = project.canonical(call.callee)
    if called in BLOCKING_FUNCTIONS:
        return f"`{called}()`"
    holder, _, method = call.callee.rpartition(".")
    made = _client(project, holder) if holder else None
    return f"`{project.written(holder)}.{method}()` ({made})" if made is not None else None
