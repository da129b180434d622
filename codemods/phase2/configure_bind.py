"""The engine a synchronous sessionmaker is given after it is built: `X.configure(bind=engine)`.

    SessionLocal = sessionmaker(autocommit=False, autoflush=False)
    SessionLocal.configure(bind=engine)          # module level, or in init_db() / a lifespan

`configure` on a `scoped_session` configures the sessionmaker inside it, so calls on either
count. Calls in the tests do not: a conftest binding the sessionmaker to a test database says
nothing about the application's. The bind is read only when it cannot mean two things: every
bind (the constructor's and each configure call's) names the same module-level engine.
Otherwise `resolve` says why, naming each call and its line, and phase two blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.stack_plan import Found
from async_migrate.codemods.project import Project
from async_migrate.codemods.rules import Rule
from async_migrate.codemods.rules.am234_sessionmaker_bound_to_local import RULE as AM234
from async_migrate.codemods.rules.am274_several_configure_binds import RULE as AM274
from async_migrate.codemods.rules.am275_configure_bind_import_cycle import RULE as AM275
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary.sqlalchemy import SCOPED_SESSION_MAKERS

_LITERALS = frozenset({"True", "False", "None"})


@dataclass(frozen=True, slots=True)
class Call:
    """One `X.configure(...)` call on the sessionmaker (or its scoped_session)."""

    module: facts.Module
    configure: facts.Configure
    function: str | None  # the function it runs in, as written (`init_db`); None: module level

    @property
    def where(self) -> str:
        inside = f", in `{self.function}()`" if self.function else ""
        return f"{self.module.path}:{self.configure.line}{inside}"

    def describe(self, receiver: str) -> str:
        shown = ", ".join(f"{a.keyword}={a.text}" if a.keyword not in (None, "*", "**") else f"{a.keyword or ''}{a.text}"
                          for a in self.configure.args)
        return f"`{receiver}.configure({shown})` ({self.where})"


@dataclass(frozen=True, slots=True)
class Bind:
    """What the sessionmaker is bound to. `arg` None and `problem` None: not bound at all."""

    arg: facts.CallArg | None = None
    # The engine's home (module name, name) when a configure call binds it: the async engine's
    # module may spell it otherwise, or have to import it.
    engine: tuple[str, str] | None = None
    problem: tuple[Rule, str, int, str] | None = None
    calls: tuple[Call, ...] = ()


def calls(project: Project, maker: Found) -> list[Call]:
    """The `configure(...)` calls outside the tests on `maker` or a scoped_session around it."""
    canonical = project.canonical
    names = {canonical(f"{maker.module.name}.{maker.name}")}
    for module in project.modules.values():
        for name, value in module.values.items():
            if value.kind != "call" or canonical(value.ref) not in SCOPED_SESSION_MAKERS:
                continue
            factory = next((a for a in value.args if a.keyword in (None, "session_factory")), None)
            if factory is not None and factory.ref is not None and canonical(factory.ref) in names:
                names.add(canonical(f"{module.name}.{name}"))
    found = []
    for module in project.modules.values():
        if is_test_path(module.path):
            continue
        for configure in module.configures:
            if canonical(configure.target) in names:
                function = module.function(configure.scope) if configure.scope else None
                found.append(Call(module, configure, function.qualname if function else configure.scope))
    found.sort(key=lambda c: (c.module.path, c.configure.line))
    return found


def resolve(project: Project, maker: Found, own: facts.CallArg | None) -> Bind:
    """The engine `maker` stands for, given its constructor's bind (`own`) and its configure calls."""
    found = calls(project, maker)
    binding: list[tuple[Call, facts.CallArg]] = []
    for call in found:
        arg = _bind_of(call.configure)
        if arg is not None:
            binding.append((call, arg))
    if not binding:
        return Bind(own, calls=tuple(found))
    receiver = maker.name
    path, line = maker.module.path, maker.line
    canonical = project.canonical
    keys: dict[str, list[str]] = {}
    if own is not None:
        own_key = canonical(own.ref) if own.ref is not None and not own.local else f"`{own.text}`"
        keys.setdefault(own_key or own.text, []).append(f"`{receiver} = sessionmaker({own.text}, ...)` ({path}:{line})")
    for call, arg in binding:
        key = canonical(arg.ref) if arg.ref is not None and not arg.local and arg.keyword == "bind" else None
        keys.setdefault(key or f"{call.where}: {arg.text}", []).append(call.describe(receiver))
    if len(keys) > 1:
        listed = "; ".join(", ".join(described) for described in keys.values())
        return Bind(problem=(
            AM274, path, line,
            f"`{receiver}` is bound to more than one engine: {listed}; which one its Sessions use depends "
            "on which call ran last, and the async engine stands for one: bind it to one engine (a second "
            "database gets a sessionmaker of its own), or name an async engine factory in "
            "[tool.async-migrate] async-engine-factory",
        ), calls=tuple(found))
    call, arg = binding[0]
    target = project.resolve(arg.ref) if arg.ref is not None and not arg.local else None
    # A name the configuring function rebinds (`global engine`) is not the engine built at import.
    rebound = _assigned_through_global(call, arg)
    if arg.keyword != "bind" or target is None or target.kind != "value" or target.module is None or rebound:
        assign = "assign the engine to a module-level name"
        if arg.keyword == "**":
            what = f"may bind it through `**{arg.text}`, which phase two cannot read"
        elif arg.local:
            what = f"binds `{arg.text}`, local to `{call.function}()`"
        elif rebound:
            what = (f"binds `{arg.text}`, the module-level name `{call.function}()` assigns at run time "
                    f"(`global {arg.text}`): at import, where the async engine is built, no engine is there yet")
            assign = "build the engine at import, at module level,"
        else:
            what = f"binds `{arg.text}`, not a module-level engine"
        return Bind(problem=(
            AM234, call.module.path, call.configure.line,
            f"`{receiver}` ({path}:{line}) gets its engine from {call.describe(receiver)}, which {what}; "
            f"the async engine is built at module level and must name the synchronous one: {assign} and bind "
            "that, or name an async engine factory in [tool.async-migrate] async-engine-factory",
        ), calls=tuple(found))
    home = target.module
    name = target.ref.rsplit(".", 1)[-1]
    if home is not maker.module and _imports(project, home, maker.module.name):
        return Bind(problem=(
            AM275, call.module.path, call.configure.line,
            f"{call.describe(receiver)} binds `{name}`, defined in {home.path}, which imports {maker.module.path} "
            f"(where `{receiver}` is, and the async engine goes): importing the engine there would be an "
            "import cycle; move the engine to a module of its own (or bind it in sessionmaker(...)), or name "
            "an async engine factory in [tool.async-migrate] async-engine-factory",
        ), calls=tuple(found))
    return Bind(arg, (home.name, name), calls=tuple(found))


def _assigned_through_global(call: Call, arg: facts.CallArg) -> bool:
    """Whether the function making `call` declares the name `arg` binds `global` (and so sets it)."""
    function = call.module.function(call.configure.scope) if call.configure.scope else None
    return function is not None and arg.text in function.declared_globals


def keywords(bind: Bind) -> Iterator[tuple[Call, facts.CallArg]]:
    """The keywords the configure calls set besides the engine (`expire_on_commit=False`), in call order."""
    for call in bind.calls:
        for arg in call.configure.args:
            if arg.keyword not in (None, "bind", "*", "**"):
                yield call, arg


def effective(maker: Found, bind: Bind) -> tuple[facts.Value, list[str]]:
    """The sessionmaker's arguments once its configure calls ran: the engine they bind, and their
    literal keywords over the constructor's; with a note for each keyword not carried."""
    assert maker.value is not None
    args = {a.keyword if a.keyword is not None else f"#{n}": a for n, a in enumerate(maker.value.args)}
    notes = []
    if bind.arg is not None and bind.engine is not None:
        args.pop("#0", None)
        args["bind"] = facts.CallArg("bind", bind.engine[1], ref=f"{bind.engine[0]}.{bind.engine[1]}")
    for call, arg in keywords(bind):
        literal = arg.text in _LITERALS or arg.text.lstrip("-").isdigit()
        if call.configure.scope is None and call.module is maker.module or literal:
            args[arg.keyword or ""] = facts.CallArg(arg.keyword, arg.text, ref=arg.ref)
        else:
            args.pop(arg.keyword or "", None)
            notes.append(
                f"{call.where}: `{arg.keyword}={arg.text}` from `{maker.name}.configure(...)` is not carried "
                "to the async sessionmaker (it names something phase two would have to import); set it by hand"
            )
    value = facts.Value("call", maker.value.line, ref=maker.value.ref, args=tuple(args.values()))
    return value, notes


def _bind_of(configure: facts.Configure) -> facts.CallArg | None:
    """The engine a configure call binds (`bind=`), or a `**mapping` that may hold it."""
    for arg in configure.args:
        if arg.keyword in ("bind", "**"):
            return arg
    return None


def _imports(project: Project, start: facts.Module, target: str) -> bool:
    """Whether importing `start` imports the module `target` (its module-level imports, followed)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module.name in seen:
            continue
        seen.add(module.name)
        refs = [r for key, value in module.imports.items() for r in (value.split(",") if key == "*" else [value])]
        for ref in refs:
            for found in _modules_of(project, ref):
                if found.name == target:
                    return True
                todo.append(found)
    return False


def _modules_of(project: Project, ref: str) -> Iterator[facts.Module]:
    """The project modules importing `ref` runs: each package on the way, and the module itself."""
    parts = ref.split(".")
    for end in range(1, len(parts) + 1):
        module = project.modules.get(".".join(parts[:end]))
        if module is not None:
            yield module
