"""Phase two through a `typing.Protocol` that declares a repository's methods for the code
using it (`class UserRepo(Protocol): def get(self, id: int) -> User | None: ...`, a service
taking `repo: UserRepo`).

Once the repository's methods become `async def` and the service awaits them, the Protocol
still declaring them synchronous runs but fails the service's type check (mypy, pyright):
`await self.repo.get(id)` awaits a `User | None`. Where every function typed with the
Protocol migrates in place (so awaits what it calls through it), the Protocol's
declarations of exactly the methods those functions reach migrated become `async def`.
Where code that stays synchronous is typed with it as well, the Protocol is left as it is
and a follow-up says so: one Protocol cannot describe both. A Protocol only the moving class
family implements joins that family (`holders._interfaces`) and moves with it, in place or
as its async copy beside the parallel classes; it is left to that reading here.
"""

from __future__ import annotations

from collections.abc import Iterable

from async_migrate.codemods.project import FunctionId, Project


def plan(
    project: Project, migrated: set[FunctionId], in_place: set[FunctionId], families: Iterable[str] = ()
) -> tuple[set[FunctionId], list[str]]:
    """(the Protocol declarations that become `async def`, follow-ups). `migrated` are the
    functions that end up `async def` somewhere (in place, as a twin or in a parallel class);
    `in_place` those that become `async def` themselves, so their calls are awaited. `families`:
    the classes moving as a family (`holders.py`), Protocols their classes alone implement among
    them, which move with the family (in place, or as its parallel async Protocol)."""
    classes = project.flow.classes
    moving: set[FunctionId] = set()
    notes: list[str] = []
    skipped = set(families)
    for ref in classes.protocols():
        if ref in skipped:
            continue
        declared = {n: fid for n, fid in classes.methods.get(ref, {}).items() if not n.startswith("__")}
        users = _users(project, ref, set(declared))
        reached = {
            project.functions[e.callee][1].name
            for user in users if user in in_place
            for e in project.all_calls_from[user]
            if e.callee in migrated and project.functions[e.callee][1].name in declared
        }
        wanted = {declared[n] for n in reached if not project.functions[declared[n]][1].is_async}
        if not wanted:
            continue
        staying = sorted(project.functions[u][1].qualname for u in users if u not in in_place)
        bodies = sorted(project.functions[f][1].name for f in wanted if not project.functions[f][1].abstract)
        short = classes.short(ref)
        names = ", ".join(sorted(project.functions[f][1].name for f in wanted))
        if staying:
            notes.append(
                f"the Protocol {short} still declares {names} synchronous, which the migrated code now awaits; "
                f"it is left as it is because code that stays synchronous is typed with it too "
                f"({', '.join(staying)}): type the migrated code with an async Protocol of its own"
            )
        elif bodies:
            notes.append(
                f"the Protocol {short} still declares {names} synchronous, which the migrated code now awaits; "
                f"it is left as it is because {', '.join(bodies)} has a body of its own: make it async by hand"
            )
        else:
            moving |= wanted
    return moving, notes


def _users(project: Project, ref: str, declared: set[str]) -> set[FunctionId]:
    """The functions typed with the Protocol: those with a parameter declared with it, and for
    an `__init__` storing one, each method of its class calling a method of that name (through
    `self.repo`, read by name: the conservative reading, a method reaching it any other way
    counts too)."""
    classes = project.flow.classes
    users: set[FunctionId] = set()
    for fid, (_, function) in project.functions.items():
        if not any(classes.resolve(r) == ref for p in function.params for r in p.annotation):
            continue
        owner = classes.owner(fid)
        if function.name != "__init__" or owner is None:
            users.add(fid)
            continue
        for cls in (owner, *classes.subclasses(owner)):
            for method in classes.methods.get(cls, {}).values():
                calls = project.functions[method][1].calls
                if any((c.method or (c.callee or "").rpartition(".")[2]) in declared for c in calls) or any(
                    project.functions[e.callee][1].name in declared for e in project.all_calls_from[method]
                ):
                    users.add(method)
    return users
