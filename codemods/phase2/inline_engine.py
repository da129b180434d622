"""A sessionmaker built with its engine inline: `sessionmaker(bind=create_engine(url, ...))`.

No name holds that engine, but the sessionmaker does: `SessionLocal.kw["bind"]` is the very
engine every synchronous Session uses (`X.session_factory.kw["bind"]` through a
`scoped_session`). The async engine reads its URL there, so it reaches the same database
whatever the URL expression does when evaluated (a settings object, an environment read, a
function call), and the `create_engine(...)` call, read from the sessionmaker's argument,
goes through the same keyword policy and blockers as a named engine's
(`engine_options.check_build`, `engine_kwargs`).
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.phase2.stack_plan import Build, EngineBuild, Found
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS


def build(project: Project, maker: Found, bind: facts.CallArg) -> tuple[EngineBuild, str] | None:
    """How the inline engine is built, and the expression naming it at run time; None when `bind`
    is no engine constructor's call the tool reads whole (a project factory, a method called on
    the engine, unpacked arguments)."""
    if bind.local or maker.value is None:
        return None
    module = maker.module
    read = engine_call(project, module, bind)
    if read is None:
        return None
    callee, args = read
    call = facts.EngineCall(line=maker.line, callee=callee, args=tuple(args))
    # `scoped_session(sessionmaker(...))` stands for the stack under the scoped_session's name.
    scoped = module.values.get(maker.name) is not maker.value
    holder = f"{maker.name}.session_factory" if scoped else maker.name
    return EngineBuild(Build.CALL, module.path, maker.line, calls=[call]), f'{holder}.kw["bind"]'


def engine_call(
    project: Project, module: facts.Module, bind: facts.CallArg
) -> tuple[str, list[facts.CallArg]] | None:
    """The engine constructor `bind` (an argument written in `module`) calls in place, canonical,
    with its arguments read from the text; None when it is no such call read whole (a name, a
    project factory, a method called on the engine, unpacked arguments)."""
    if bind.ref is not None:
        return None
    try:
        node = ast.parse(bind.text, mode="eval").body
    except SyntaxError:
        return None
    if type(node) is not ast.Call:
        return None
    callee = project.canonical(_in(module, dotted(node.func)))
    if callee not in SYNC_ENGINE_CONSTRUCTORS:
        return None
    if any(type(a) is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords):
        return None  # `**options` may hold anything, creator= included
    written: list[tuple[str | None, ast.expr]] = [(None, a) for a in node.args]
    written += [(k.arg, k.value) for k in node.keywords]
    args = []
    for keyword, value in written:
        text = ast.get_source_segment(bind.text, value)
        if text is None:
            return None
        args.append(facts.CallArg(keyword=keyword, text=text, ref=_in(module, dotted(value))))
    return callee, args


def _in(module: facts.Module, name: str | None) -> str | None:
    """A name as written in `module`, as a reference the project resolves through its imports."""
    return f"{module.name}.{name}" if name is not None else None
