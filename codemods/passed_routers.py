"""The module-level router a function registers routes on through a parameter.

A class-based view registers its methods in `__init__` on the router it is handed
(`def __init__(self, router): router.add_api_route("", self.list_doctors)`, built at import as
`view = DoctorView(router)` or in `create_app()`); a plain function does the same
(`register(router)`). The registration names only a parameter, so its prefix was unknown and the
route showed as "GET …". Where every call of the function the index reads hands that parameter
the same module-level router, the routes are that router's, and compose with its prefix and
the includes above it (`routes.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts

if TYPE_CHECKING:
    from async_migrate.codemods.project import Project


def passed_router(project: Project, module: facts.Module, added: facts.Registration) -> str | None:
    """The reference of the module-level router every call of the function holding `added`
    (`receiver.add_api_route(...)` on its parameter) hands that parameter; None where the
    registration is on no parameter, the function is called nowhere the index reads, or a call
    hands another router or something else."""
    receiver = added.receiver
    if receiver is None or not receiver.isidentifier() or added.base is not None or added.held is not None:
        return None
    function = _registering(module, added.line, receiver)
    if function is None:
        return None
    names = [p.name for p in function.params]
    owner, _, name = function.qualname.rpartition(".")
    method = bool(owner) and name == "__init__" and project.flow.classes.owner((module.name, function.key)) is not None
    if function.params[names.index(receiver)].variadic or (owner and not method):
        return None  # `*routers`; a method other than `__init__` is called on instances the index may not follow
    position = names.index(receiver) - (1 if method else 0)
    called = f"{module.name}.{owner if method else function.qualname}"
    given: set[str | None] = set()
    for other in project.modules.values():
        for made in other.constructions:
            if project.canonical(made.ref) == called:
                given.add(_given(made.args, position, receiver))
    for edge in project.all_calls_to.get((module.name, function.key), ()):
        unpacked = edge.call.splatted or edge.call.unpacks_keywords
        given.add(None if unpacked else _passed(edge.call.args, position, receiver))
    if len(given) != 1:
        return None
    router = given.pop()
    target = project.resolve(router)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
        return None
    return target.ref if project.is_router_type(target.value.ref) else None


def _registering(module: facts.Module, line: int, receiver: str) -> facts.Function | None:
    """The function whose call on line `line` registers on its parameter `receiver`, never
    rebound in it."""
    for function in module.functions:
        if not any(c.line == line and (c.func or "").startswith(f"${receiver}.") for c in function.calls):
            continue
        if receiver in {p.name for p in function.params} and not any(b.name == receiver for b in function.bindings):
            return function
    return None


def _given(args: tuple[facts.CallArg, ...], position: int, keyword: str) -> str | None:
    """The module-level name a module-level call hands the parameter, or None."""
    if any(a.keyword in ("*", "**") for a in args):
        return None
    positional = [a for a in args if a.keyword is None]
    found = [a for a in args if a.keyword == keyword] or positional[position:position + 1]
    return found[0].ref if found and not found[0].local else None


def _passed(args: list[facts.Arg], position: int, keyword: str) -> str | None:
    """The module-level name a call in a function hands the parameter, or None."""
    found = [a for a in args if a.keyword == keyword or (a.keyword is None and a.position == position)]
    return found[0].ref if len(found) == 1 and found[0].expr is None else None
