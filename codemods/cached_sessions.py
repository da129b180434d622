"""AsyncSessions a handler gets from a cached function: one Session the whole process shares.

`@lru_cache def get_session(): return AsyncSession(engine)` (or `@cache`, `return
async_session_factory()` on an `async_sessionmaker`) opens its Session on the first call and
hands every later caller that same one, as a module-level `SESSION = async_session_factory()`
does: `db = get_session()` in a handler, and `await get_session().get(...)`, work on a Session
every request shares (AM338), and what its awaited queries load is read as on that module-level
one (AM314: lazily, or after a commit expired it). `held_commits.module_sessions` and
`process_wide_async` read the handler's names and calls through here.
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods.project import FunctionId, Project

# Decorators making a function hand every call the result of its first.
_CACHING = frozenset({"functools.lru_cache", "functools.cache"})
# What `cached_opener` answers for a function that is no cached AsyncSession opener.
NO_SESSION = object()


def cached_opener(project: Project, ref: str | None) -> object:
    """Whether the AsyncSession the cached function `ref` opens expires on commit (None: not
    known), or `NO_SESSION` where `ref` names no cached function returning one it opens."""
    from async_migrate.codemods.held_commits import _async_maker, _keyword

    cache = cast("dict[str | None, object]", project.derived.setdefault("cached_sessions.openers", {}))
    if ref in cache:
        return cache[ref]
    found: object = NO_SESSION
    resolved = project.function(ref) if ref else None
    if resolved is not None:
        module, function = resolved
        returned = function.returned[0] if len(function.returned) == 1 else ""
        if any(d.callee in _CACHING for d in function.decorators) and returned.endswith("()") and returned.count("(") == 1:
            made = returned[:-2]
            if project.is_async_session_type(made):
                # the facts keep no argument's value: a keyword given (or unpacked) leaves it unknown
                built = [c for c in function.calls if c.callee and project.is_async_session_type(c.callee)]
                found = None if len(built) != 1 or any(
                    a.keyword in (None, "expire_on_commit") and a.position is None for a in built[0].args
                ) else True
            elif (maker := _async_maker(project, module.name, made)) is not None:
                found = _keyword(maker) != "False"
    cache[ref] = found
    return found


def made_at(project: Project, ref: str) -> str:
    """Where the Session the cached function `ref` opens is made, as AM338 says it."""
    resolved = project.function(ref)
    where = f" at {resolved[0].path}:{resolved[1].line}" if resolved is not None else ""
    return f"by the first call of the cached `{ref.rpartition('.')[2]}()`{where}"


def cached_sessions(project: Project, fid: FunctionId) -> dict[str, tuple[str, bool | None]]:
    """The handler's locals bound once, to a call of a cached AsyncSession opener (`db =
    get_session()`): each with that function and whether its Session expires on commit."""
    _, function = project.functions[fid]
    params = {p.name for p in function.params}
    bound: dict[str, list[str]] = {}
    for binding in function.bindings:
        # `async with get_session() as db:` closes it at the block's end: not the shared one
        bound.setdefault(binding.name, []).append("" if binding.entered else binding.expr)
    found: dict[str, tuple[str, bool | None]] = {}
    for name, exprs in bound.items():
        if name in params or len(exprs) != 1 or not exprs[0].endswith("()") or exprs[0].count("(") != 1:
            continue
        expires = cached_opener(project, exprs[0][:-2])
        if expires is not NO_SESSION:
            found[name] = (exprs[0][:-2], cast("bool | None", expires))
    return found
