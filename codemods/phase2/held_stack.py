"""The synchronous stack held by a module-level instance, as the async stack analysis sees it.

`db = Database(url)` whose `__init__` sets `self.engine = create_engine(url)` and
`self.SessionLocal = sessionmaker(bind=self.engine, ...)` (see `held_makers`): the sessionmaker
is `db.SessionLocal`, bound to `db.engine`, and the async stack goes after `db = ...` at module
level, built from `db.engine.url`. `candidates` gives each such sessionmaker as a `Found` whose
name is the attribute as written (`db.SessionLocal`: configure calls and listeners name it so)
and whose value is the sessionmaker call with `self.` read as the instance. An argument that
reads what only the `__init__` binds (its parameters, its locals) cannot be written at module
level: it is marked local, and the analysis does not carry it (a bind so marked blocks, AM234).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from async_migrate.codemods import facts, held_makers
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import split
from async_migrate.codemods.phase2 import expired_lists
from async_migrate.codemods.phase2.stack_extras import Texts
from async_migrate.codemods.phase2.stack_plan import Build, EngineBuild, Found
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS


@dataclass(slots=True)
class HeldFound(Found):
    held: held_makers.Held | None = None

    @property
    def anchor(self) -> str:
        """The module-level name the async stack follows: the instance."""
        assert self.held is not None
        return self.held.instance


def candidates(project: Project, texts: Texts) -> list[HeldFound]:
    """Every sessionmaker a module-level instance of a project class holds."""
    classes = project_classes(project)
    found = []
    for module in project.modules.values():
        for name, value in module.values.items():
            cls = classes.resolve(value.ref) if value.kind == "call" else None
            if cls is None:
                continue
            attributes = sorted({a for (c, a) in classes.assigned if c in classes.mro(cls)})
            for attribute in attributes:
                held = held_makers.held(project, f"{module.name}.{name}.{attribute}")
                if held is not None and held.instance == name:
                    found.append(_found(project, texts, held, value))
    return found


def _found(project: Project, texts: Texts, held: held_makers.Held, instance: facts.Value) -> HeldFound:
    _, init = project.functions[held.init]
    callee = next(
        (c.callee for c in init.calls if project.canonical(c.callee) in PLAIN_SESSIONMAKERS),
        "sqlalchemy.orm.sessionmaker",
    )
    value = facts.Value("call", instance.line, ref=callee, args=tuple(_arguments(project, texts, held)))
    return HeldFound(held.module, held.written, value, held=held)


def _arguments(project: Project, texts: Texts, held: held_makers.Held) -> list[facts.CallArg]:
    init_module, init = project.functions[held.init]
    read = texts.get(init_module.path)
    if read is None:
        return _bind_from_facts(project, held, init)
    _, tree = read
    call = held_makers.call(tree, init, held.attribute)
    node = expired_lists.function_node(tree, init)
    if call is None or node is None:
        return _bind_from_facts(project, held, init)
    own = held_makers.init_locals(node)
    elsewhere = init_module.path != held.module.path
    found = []
    written: list[tuple[str | None, ast.expr]] = [
        ("*", a.value) if isinstance(a, ast.Starred) else (None, a) for a in call.args
    ]
    written += [(k.arg or "**", k.value) for k in call.keywords]
    for position, (keyword, expression) in enumerate(written):
        text = ast.unparse(expression)
        bind = keyword == "bind" or (keyword is None and position == 0)
        if bind:
            attribute = held_makers.engine_attribute(project, held, text)
            if attribute is not None:
                found.append(facts.CallArg(keyword, f"{held.instance}.{attribute}", ref=held.attribute_ref(attribute)))
                continue
        names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
        local = bool(names & own) or (elsewhere and bool(names))
        spelled = dotted(expression)
        ref = f"{init_module.name}.{spelled}" if spelled is not None and not local else None
        found.append(facts.CallArg(keyword, text, ref=ref, local=local))
    return found


def _bind_from_facts(project: Project, held: held_makers.Held, init: facts.Function) -> list[facts.CallArg]:
    """Without the module's text: only the bind, when it is `self.<engine>`."""
    call = next((c for c in init.calls if project.canonical(c.callee) in PLAIN_SESSIONMAKERS), None)
    bind = next((a for a in call.args if a.keyword == "bind" or a.position == 0), None) if call else None
    written = split(bind.expr)[0].removeprefix("$") + "".join(split(bind.expr)[1]) if bind and bind.expr else ""
    attribute = held_makers.engine_attribute(project, held, written) if written else None
    if bind is None or attribute is None:
        return [facts.CallArg("bind", written or "?", local=True)] if bind is not None else []
    return [facts.CallArg("bind", f"{held.instance}.{attribute}", ref=held.attribute_ref(attribute))]


def engine_build(project: Project, maker: HeldFound, bind: facts.CallArg) -> EngineBuild | None:
    """How the held engine is built: the one engine construction of the `__init__` that sets
    the attribute, when the attribute is set from it. None: not shown."""
    held = maker.held
    assert held is not None
    attribute = (bind.ref or "").rpartition(".")[2]
    classes = project_classes(project)
    assigned = [f for c in classes.mro(held.cls) for f in classes.assigned.get((c, attribute), [])]
    if len(assigned) != 1:
        return None
    fid, expression = assigned[0]
    head, steps = split(expression)
    if steps != ("()",) or project.canonical(head) not in SYNC_ENGINE_CONSTRUCTORS:
        return None
    module, function = project.functions[fid]
    calls = [e for e in module.engines if e.scope == function.key]
    if len(calls) != 1:
        return None
    return EngineBuild(
        Build.FACTORY, module.path, calls[0].line, function=f"{module.name}.{function.qualname}", calls=calls
    )


def method_scopes(project: Project, maker: HeldFound) -> set[str]:
    """"module.qualname" of every method of the holding class and its project bases: a listener
    registered there on `self.engine` (or the sessionmaker) is on the synchronous stack."""
    assert maker.held is not None
    classes = project_classes(project)
    scopes = set()
    for cls in classes.mro(maker.held.cls):
        for fid in classes.methods.get(cls, {}).values():
            module, function = project.functions[fid]
            scopes.add(f"{module.name}.{function.qualname}")
    return scopes


def unmatched(project: Project, ref: str, held: list[HeldFound]) -> str | None:
    """Why a configured sessionmaker name matches nothing in the project; None when it does
    (a module-level name or function, a class, a held sessionmaker, or a library's name)."""
    target = project.resolve(ref)
    tops = {name.split(".")[0] for name in project.modules}
    if target is not None and (target.kind != "external" or ref.split(".")[0] not in tops):
        return None
    if project_classes(project).resolve(ref) is not None or held_makers.held(project, ref) is not None:
        return None
    home, _, name = ref.rpartition(".")
    if home in project.modules and name in project.modules[home].values:
        return None  # `Maker: sessionmaker | None = None` set later under `global`: resolved as the None
    message = f"sessionmakers names `{ref}`, which phase two does not find in the project"
    owner, _, attribute = ref.rpartition(".")
    cls = project_classes(project).resolve(owner)
    instead = sorted(
        f"{h.held.module.name}.{h.held.written}" for h in held
        if h.held is not None and h.held.attribute == attribute and cls in project_classes(project).mro(h.held.cls)
    )
    if instead:
        message += f" (`{attribute}` is set on each instance: name it through the instance, `{instead[0]}`)"
    return message + "; the setting would be ignored: correct it, or remove it"
