"""Session aliases whose `Depends()` keywords the async alias would not keep.

    DbSession = Annotated[Session, Depends(get_db)]
    AuditDb = Annotated[Session, Depends(get_db, use_cache=False)]

Phase two rewrites every parameter typed with a synchronous Session alias to the one async
alias, which carries the keywords of one synchronous alias (`async_stack._plan_alias`) or of the
async alias it reuses. A parameter typed with another alias whose keywords differ would change
meaning: without `use_cache=False` it shares the request's Session, without (or with)
`scope="function"` its Session closes at another time. Those routes block (AM244).
A `Depends(...)` default keeps its own keywords (`rewrites/session_params.py`) and is not read here.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.closure import Closure
from async_migrate.codemods.phase2.stack_plan import StackPlan
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules import Reason
from async_migrate.codemods.rules.am244_session_alias_options_differ import RULE as AM244


def blocked(project: Project, closure: Closure, stack: StackPlan) -> dict[FunctionId, list[Reason]]:
    """Migrated route -> AM244 reasons, for each Session parameter of the route, or of a dependency
    twinned with it, typed with an alias whose `Depends()` keywords differ from the async alias's."""
    target = _async_options(project, stack)
    if target is None:
        return {}
    found: dict[FunctionId, list[Reason]] = {}
    for route in sorted(closure.migrated_routes):
        for fid in (route, *closure.dependency_twins.get(route, ())):
            module, function = project.functions[fid]
            for param in function.params:
                differing = _differing(project, param, target)
                if differing is None:
                    continue
                alias, options = differing
                written = ", ".join(f"{k}={v}" for k, v in options) or "no keywords"
                expected = ", ".join(f"{k}={v}" for k, v in target) or "no keywords"
                found.setdefault(route, []).append(AM244.reason(
                    f"{module.path}:{param.line}: parameter `{param.name}` is typed `{alias}`, whose `Depends()` "
                    f"has {written}, and phase two would give it the async alias, which has {expected}: "
                    + _meaning(options, target)
                    + "; write it as `Depends(<async dependency>, ...)` with its keywords by hand, or keep the route"
                ))
    return found


def _async_options(project: Project, stack: StackPlan) -> tuple[tuple[str, str], ...] | None:
    if stack.alias_edit is not None:
        return tuple(sorted(stack.alias_edit[1].options))
    piece = stack.async_alias
    if piece is None or not piece.exists:
        return None
    target = project.resolve(f"{piece.module}.{piece.name}")
    if target is None or target.kind != "value" or target.value is None:
        return None
    return tuple(sorted(target.value.depends_options))


def _differing(
    project: Project, param: facts.Param, target: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    if param.default or project.declared_session(param) is None:
        return None
    from async_migrate.codemods.phase2.rewrites.session_params import _is_sync_alias

    for ref in param.annotation:
        if not _is_sync_alias(project, ref):
            continue
        resolved = project.resolve(ref)
        if resolved is None or resolved.value is None:
            continue
        options = tuple(sorted(resolved.value.depends_options))
        if options != target:
            return ref.rsplit(".", 1)[-1], options
    return None


def _meaning(options: tuple[tuple[str, str], ...], target: tuple[tuple[str, str], ...]) -> str:
    own, theirs = dict(options), dict(target)
    if own.get("use_cache") != theirs.get("use_cache"):
        return (
            "it would share the request's Session instead of opening its own, so what it commits "
            "commits the route's pending work too"
            if own.get("use_cache") == "False" else
            "it would open a Session of its own instead of sharing the request's"
        )
    if own.get("scope") != theirs.get("scope"):
        return "its Session would be committed and closed at another point of the request (`scope`)"
    return "FastAPI would run its dependency differently"
