"""Engine options that change what a Session on the engine reaches or how its transactions run.

Two engines on one URL still differ when one maps the default schema to another
(`schema_translate_map={None: "reporting"}`: every table is read and written in that schema, a
tenant's or a report's) or runs at another isolation level (`isolation_level="AUTOCOMMIT"`:
each statement commits by itself, so a failed request's writes stay). `reach_options` reads
them, as written, from an engine's construction:

    create_engine(url, isolation_level=..., execution_options={"schema_translate_map": ...})
    create_engine(url).execution_options(schema_translate_map=...)   # a later call wins

`updated_in_place` finds `engine.update_execution_options(...)`, which changes the engine after
its construction: the async engine then takes the options from it at runtime.

Shape: `{"isolation_level": "'AUTOCOMMIT'", "schema_translate_map": "{None: 'reporting'}"}`;
None when the engine is not one construction phase two reads (a factory, `**options`, a
dict of options it cannot read key by key).
"""

from __future__ import annotations

import ast

from async_migrate.codemods.astcollect.syntax import name_chain
from async_migrate.codemods.phase2.stack_source import Sources
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_ENGINE_CONSTRUCTORS

# Execution options after which a Session reaches other tables, or keeps or loses other writes.
REACH = ("schema_translate_map", "isolation_level", "postgresql_readonly", "postgresql_deferrable")
_ENGINES = SYNC_ENGINE_CONSTRUCTORS | ASYNC_ENGINE_CONSTRUCTORS


def reach_options(sources: Sources, ref: str | None) -> dict[str, str] | None:
    """The REACH options of the engine a module-level reference names, as written."""
    found = sources.assignment(ref) if ref else None
    if found is None:
        return None
    module, node = found
    options: dict[str, str] = {}
    # The outermost `.execution_options(...)` is the last applied: it wins over what it wraps.
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "execution_options":
        if node.args or not _read(node.keywords, options):
            return None
        node = node.func.value
    if not isinstance(node, ast.Call):
        return None
    dotted = name_chain(node.func)
    absolute = module.imports.get(dotted.split(".")[0]) if dotted else None
    if dotted is None or absolute is None:
        return None
    callee = sources.project.canonical(".".join([absolute, *dotted.split(".")[1:]]))
    if callee not in _ENGINES:
        return None
    for keyword in node.keywords:
        if keyword.arg is None:
            return None
        if keyword.arg == "execution_options":
            if not isinstance(keyword.value, ast.Dict):
                return None
            pairs = []
            for key, value in zip(keyword.value.keys, keyword.value.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    return None
                pairs.append(ast.keyword(arg=key.value, value=value))
            _read(pairs, options)
        elif keyword.arg == "isolation_level":
            # an execution option of the same name, set on the connection, overrides it
            options.setdefault("isolation_level", ast.unparse(keyword.value))
    return options


def updated_in_place(sources: Sources, ref: str | None) -> tuple[str, int] | None:
    """Where `update_execution_options(...)` is called on the engine `ref` names (a module-level
    reference): in a project function, or at the top level of the engine's own module. None: nowhere."""
    if ref is None:
        return None
    project = sources.project
    engine = project.canonical(ref)
    method = f"{engine}.update_execution_options"
    for module in project.modules.values():
        for function in module.functions:
            for call in function.calls:
                if call.callee is not None and project.canonical(call.callee) in (method, f"{ref}.update_execution_options"):
                    return module.path, call.line
    found = sources.assignment(ref)
    tree = sources.tree(found[0]) if found is not None else None
    if found is None or tree is None:
        return None
    module = found[0]
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(statement):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update_execution_options"
            ):
                continue
            dotted = name_chain(node.func.value)
            if dotted is not None and project.canonical(module.imports.get(dotted, f"{module.name}.{dotted}")) == engine:
                return module.path, node.lineno
    return None


def differences(sync: dict[str, str], reused: dict[str, str]) -> list[str]:
    """Each REACH option the two engines set differently: `name` (the reused engine's value, the
    synchronous one's), in REACH order."""
    shown = []
    for name in REACH:
        if sync.get(name) != reused.get(name):
            mine, theirs = reused.get(name), sync.get(name)
            shown.append(
                f"`{name}` is {f'`{mine}`' if mine is not None else 'not set'} on it and "
                f"{f'`{theirs}`' if theirs is not None else 'not set'} on the synchronous engine"
            )
    return shown


def _read(keywords: list[ast.keyword], options: dict[str, str]) -> bool:
    for keyword in keywords:
        if keyword.arg is None:
            return False
        if keyword.arg in REACH:
            options.setdefault(keyword.arg, ast.unparse(keyword.value))
    return True
