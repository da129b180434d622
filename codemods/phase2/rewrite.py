"""Phase two's rewrite of one file: the async stack pieces it hosts, then its migrated functions."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

import libcst as cst

from async_migrate.codemods import facts, imports, twin_names
from async_migrate.codemods.phase2 import import_order, stack_codemods
from async_migrate.codemods.phase2.plan import FilePlan, StackNames
from async_migrate.codemods.phase2.stack_plan import ModuleEdit
from async_migrate.codemods.phase2.to_async import MigrateToAsyncSession


@dataclass(slots=True)
class Plan:
    stack: ModuleEdit | None
    functions: FilePlan | None
    names: StackNames


def apply(module: cst.Module, module_facts: facts.Module, plan: Plan) -> cst.Module:
    if plan.stack is not None:
        module = stack_codemods.rewrite(module, module_facts, plan.stack)
    if plan.functions is not None and (
        plan.functions.functions or plan.functions.alias_twins or plan.functions.parallel
        or plan.functions.parallel_additions
        or plan.functions.imports  # a module re-exporting a twin (rewrites/project_calls.py)
    ):
        context = imports.context_for(module_facts.path, module_facts.name)
        functions, names = free_dependency(module_facts, plan.functions, plan.names)
        functions = free_twins(module_facts, functions)
        module = MigrateToAsyncSession(context, functions, names).transform_module(module)
        introduced = {f.twin for f in plan.functions.functions.values() if f.twin}
        introduced |= {twin for _, twin, _ in plan.functions.alias_twins}
        if introduced:
            module = sink_introduced(module, introduced)
    return module


def free_dependency(module: facts.Module, plan: FilePlan, names: StackNames) -> tuple[FilePlan, StackNames]:
    """The plan and stack names for one module, with the async dependency imported under a free
    name (`get_async_db_session_2`) where the module binds its name to something else (a function
    of its own, another import): imported as it is, one would shadow the other, and a route's
    `Depends(...)` would get the module's object."""
    from async_migrate.codemods.phase2.twins import module_names

    home, name = names.dependency_module, names.dependency
    if not home or home == module.name or (home, name) not in plan.imports:
        return plan, names
    if name not in module_names(module) or module.imports.get(name) == f"{home}.{name}":
        return plan, names
    taken = module_names(module) | {n for _, n in plan.imports} | {local for *_, local in plan.aliased_imports}
    local = twin_names.free(name, taken.__contains__)
    plan = replace(
        plan, imports=plan.imports - {(home, name)}, aliased_imports=plan.aliased_imports | {(home, name, local)}
    )
    return plan, replace(names, dependency=local)


def free_twins(module: facts.Module, plan: FilePlan) -> FilePlan:
    """The plan with each twin its calls import from another module under a free local name
    (`from crud import get_user_async as get_user_async_2`), in its calls and `Depends(...)`, where
    this module binds the twin's name to something else. A twin is named free where it is written and where the run calling
    it imports it; an earlier run's twin, reused, was named for that run's callers only, and
    imported as it is here it would replace the module's own function of that name."""
    from async_migrate.codemods.phase2.twins import module_names

    bound = module_names(module)
    clashing = {
        (home, name) for home, name in plan.imports
        if home != module.name and name in bound and module.imports.get(name) != f"{home}.{name}"
    }
    renamed = {
        action.rename for fplan in _function_plans(plan) for action in fplan.calls.values()
        if action.rename is not None
    }
    redepends = [fplan.redepend for fplan in _function_plans(plan)]
    redepends += [*plan.router_redepend.values(), *plan.include_redepend.values()]
    renamed |= {new for renames in redepends for new in renames.values()}
    clashing = {(home, name) for home, name in clashing if name in renamed}
    if not clashing:
        return plan
    taken = bound | {n for _, n in plan.imports} | {local for *_, local in plan.aliased_imports}
    locals_: dict[str, str] = {}
    aliased = set(plan.aliased_imports)
    for home, name in sorted(clashing):
        local = locals_[name] = twin_names.free(name, taken.__contains__)
        taken.add(local)
        aliased.add((home, name, local))
    for fplan in _function_plans(plan):
        for index, action in list(fplan.calls.items()):
            if action.rename in locals_ and action.local_import is None:
                fplan.calls[index] = replace(action, rename=locals_[action.rename])
    for renames in redepends:
        renames.update({old: locals_[new] for old, new in renames.items() if new in locals_})
    return replace(plan, imports=plan.imports - clashing, aliased_imports=aliased)


def _function_plans(plan: FilePlan) -> list:
    """Every function plan of a file: its functions' and those of its parallel classes' copies."""
    found = list(plan.functions.values())
    for _, methods in [*plan.parallel.values(), *plan.parallel_additions.values()]:
        found.extend(methods.values())
    return found


def _statements(code: str) -> list[ast.stmt]:
    """One top-level statement's `ast`, also where it is newer than the running Python
    (`type AdminUser = Annotated[...]` read on 3.11 as the assignment it binds like)."""
    try:
        return ast.parse(code).body
    except SyntaxError:
        from async_migrate.codemods.astcollect.newer import readable

        return ast.parse(readable(code)).body


def sink_introduced(module: cst.Module, introduced: set[str]) -> cst.Module:
    """Move each top-level statement the rewrite added (a twin beside its original, an alias twin
    beside its alias) below the statements binding what it reads at import: a twin dependency
    annotated with the AsyncSession alias, which goes below a hand-written async dependency
    further down the module (`async def get_db_async(db: async_session_dependency)` above
    `async_session_dependency = ...`), would raise NameError on import. Moved statements keep
    their order; a moved twin drags along the alias twin naming it on the next round."""
    for _ in range(len(module.body)):
        units = [_statements(module.code_for_node(s)) for s in module.body]
        flat = [s for unit in units for s in unit]
        postponed = import_order.future_annotations(flat)
        first: dict[str, int] = {}
        for index, unit in enumerate(units):
            for name in import_order.bindings(unit):
                first.setdefault(name, index)
        move = None
        for index, unit in enumerate(units):
            if not set(import_order.bindings(unit)) & introduced:
                continue
            later = [first[n.name] for s in unit for n in import_order.needs(s, flat, postponed)
                     if first.get(n.name, -1) > index]
            if later:
                move = (index, max(later))
                break
        if move is None:
            return module
        index, after = move
        body = list(module.body)
        statement = body.pop(index)
        statement = statement.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)
        body.insert(after, statement)  # `after` shifted up by the pop: right below it
        if index < len(body) and index != after:
            following = body[index]
            if isinstance(following, (cst.FunctionDef, cst.ClassDef)) and index > 0 and not any(
                line.comment for line in following.leading_lines
            ):
                body[index] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)
        module = module.with_changes(body=body)
    return module
