"""Phase two's rewrite of one file: the async stack pieces it hosts, then its migrated functions."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from async_migrate.codemods import facts, imports
from async_migrate.codemods.phase2 import stack_codemods
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
        or plan.functions.imports  # a module re-exporting a twin (rewrites/project_calls.py)
    ):
        context = imports.context_for(module_facts.path, module_facts.name)
        module = MigrateToAsyncSession(context, plan.functions, plan.names).transform_module(module)
    return module
