"""A helper taking an optional Session that opens its own when called without one (AM329).

`def get_user(user_id, db: Session | None = None): db = db or SessionLocal()`, and the same
with `if db is None: db = SessionLocal()` (closed in a `finally` under a flag) or a getter
(`session = session or get_session()`): the jobs and helpers that pass no Session reach the
fallback, the routes pass theirs. Migrated, the route's AsyncSession goes to the parameter, but
the fallback branch would still open a synchronous Session, which phase two does not move onto
the async sessionmaker (nor its closing, which needs an await): so the helper blocks with this
reason instead of the general ones (work on a Session not received, a Session closed only on
some paths), which misname the shape.
"""

from __future__ import annotations

from async_migrate.codemods.flow import mentions
from async_migrate.codemods.project import FunctionId, Project


def fallbacks(project: Project, fid: FunctionId) -> dict[str, tuple[int, str]]:
    """Each Session parameter of `fid` the body rebinds to a call (the Session it opens when
    given none): parameter -> (line, the call as written)."""
    _, function = project.functions[fid]
    params = project.session_params.get(fid) or {}
    # `if db is None: db = SessionLocal()` closed on every path: the twin's fallback opens from
    # the async sessionmaker and awaits the closing, as any Session opened by assignment
    moved = {(o.name, o.line) for o in project.opens_directly(fid) if o.index == -1 and o.line in function.closed_always}
    found: dict[str, tuple[int, str]] = {}
    for binding in function.bindings:
        if binding.entered or binding.name not in params or binding.name in found:
            continue
        if (binding.name, binding.line) in moved:
            continue
        if binding.expr.startswith("$") or not binding.expr.endswith(")") or mentions(binding.expr, binding.name):
            continue  # itself, a `scoped_session` global (`_bound_registry` names it), or built from itself
        found[binding.name] = (binding.line, project.written(binding.expr))
    return found


def reason(param: str, line: int, opening: str) -> str:
    return (
        f"falls back on a Session of its own when called without one (`{param}` bound to `{opening}` at line "
        f"{line}): the migrated callers would hand `{param}` their AsyncSession, but phase two does not move "
        "that branch onto the async sessionmaker (nor await its closing), so it would open a synchronous "
        f"Session on the event loop; make `{param}` required and open the Session (`with {opening} as {param}:`) "
        "in the callers that pass none, or open it from the sessionmaker in an `if` and close it in a `finally` "
        f"(`if {param} is None: {param} = SessionLocal(); own = True` ... `finally: if own: {param}.close()`), "
        "then rerun phase two"
    )
