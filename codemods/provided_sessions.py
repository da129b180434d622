"""A Session a dependency-injector container hands every request: what a provider makes is one.

`session_factory = providers.Singleton(SessionLocal)` builds one Session, the first time it is
asked, and hands that one to every caller for the life of the container: the process's. So does
`providers.Resource(get_db)`: a resource is initialised once and every injection gets what it
yielded until it is shut down (a `Closing[Provide[...]]` marker shuts it down after the call it
was injected into, while other requests may hold it still). A provider handed such a one
(`user_service = providers.Factory(UserService, session=session_factory)`) builds objects working
on it, and a single-instance provider handed any Session (`providers.Singleton(UserService,
session=per_call_session)`) builds one object holding one Session for good.

`providers.Object(SessionLocal())` hands every caller the one Session opened as the class body
ran. Not the process's: what a `Factory` makes (one per call), nor a `ThreadLocalSingleton` (one
per thread) or a `ContextLocalSingleton` (one per context) of a Session maker. A provider whose
product is given at run time (`providers.Dependency()`, an abstract provider, a selector) may be
one Session for the process: said so, as not certain, where Session work is done on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods.flow import CLASS, FACTORY, INSTANCE, SESSION
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.dependency_injector import (
    CALLING_PROVIDERS,
    OBJECT_PROVIDERS,
    ONCE_INITIALISED_PROVIDERS,
    SINGLE_INSTANCE_PROVIDERS,
    UNREAD_PROVIDERS,
)

_DEPTH = 8  # providers handed providers deeper than this are not followed


@dataclass(frozen=True, slots=True)
class _Provider:
    cls: str  # the container class declaring it
    attribute: str
    kind: str  # the provider's canonical reference
    provided: str  # the resolved reference of its first argument, "" when none
    args: tuple[str, ...]  # `facts.ClassFacts.provider_args`
    where: str  # `path:line`

    @property
    def single(self) -> bool:
        return self.kind in SINGLE_INSTANCE_PROVIDERS or self.kind in ONCE_INITIALISED_PROVIDERS


@dataclass(frozen=True, slots=True)
class Shared:
    """Why what a provider makes is, or works on, one Session the whole process shares."""

    # What it makes, as a noun phrase: "the Session `Container.db = providers.Singleton(SessionLocal)`
    # (container.py:12) builds once and hands to every request", "what `Container.users = ...` builds on" that
    words: str
    remedy: str  # what to do instead
    # False: the provider's product is given at run time (an override, a selector's choice), so it
    # may as well be one Session per request.
    certain: bool = True


def shared_provided(project: Project, ref: str) -> Shared | None:
    """Whether what the container provider `ref` names (`container.Container.user_service`, or an
    attribute of a module-level instance of the container) makes is, or is handed, a Session the
    whole process shares; None where it is not, or where the provider cannot be read."""
    known: dict[str, Shared | None] = project.derived.setdefault("provided_sessions", {})  # type: ignore[assignment]
    if ref not in known:
        known[ref] = None  # cycle guard
        provider = _provider(project, ref)
        known[ref] = _shared(project, provider, 0) if provider is not None else None
    return known[ref]


def _provider(project: Project, ref: str) -> _Provider | None:
    owner, _, attribute = ref.rpartition(".")
    if not owner:
        return None
    classes = project.flow.classes
    holders = [v.target for v in project.flow.ref(owner) if v.kind in (INSTANCE, CLASS) and isinstance(v.target, str)]
    for holder in holders:
        for cls in classes.mro(holder):
            entry = classes.by_ref.get(cls)
            if entry is None or attribute not in entry[1].built:
                continue
            module, declared = entry
            kind = project.canonical(declared.built[attribute]) or declared.built[attribute]
            if attribute not in declared.provides:
                return None
            line = declared.provider_lines.get(attribute, declared.line)
            return _Provider(
                cls, attribute, kind, declared.provides[attribute], declared.provider_args.get(attribute, ()),
                f"{module.path}:{line}",
            )
    return None


def _written(project: Project, provider: _Provider) -> str:
    kind = provider.kind.rpartition(".")[2]
    made = provider.provided.rpartition(".")[2]
    more = (", ..." if made else "...") if provider.args else ""
    made = made or ("" if provider.kind in UNREAD_PROVIDERS else "...")
    if provider.attribute.endswith("(...)"):  # written in place, as another provider's argument
        within = f"{project.flow.classes.short(provider.cls)}.{provider.attribute.removesuffix('(...)')}"
        return f"`providers.{kind}({made}{more})` given to `{within}` ({provider.where})"
    return (
        f"`{project.flow.classes.short(provider.cls)}.{provider.attribute} = providers.{kind}({made}{more})` "
        f"({provider.where})"
    )


def _makes_session(project: Project, provided: str) -> bool:
    """Whether calling what a provider is given makes a Session (a sessionmaker, `Session`
    itself), or a generator function yields one (a resource's)."""
    if not provided:
        return False
    target = project.resolve(provided)
    if target is not None and target.kind == "function" and target.function is not None and target.module is not None:
        fid: FunctionId = (target.module.name, target.function.key)
        expressions = [*target.function.yielded, *target.function.returned]
        kinds = {v.kind for e in expressions for v in project.flow.evaluate(fid, e)}
        return SESSION in kinds and FACTORY not in kinds
    values = project.flow.ref(provided)
    if any(v.kind == FACTORY for v in values):
        # a sessionmaker: each call opens a Session; a `scoped_session` gives its thread's, which
        # a single-instance provider keeps as well
        return True
    return any(v.kind == CLASS for v in values) and project.is_sync_session_type(provided)


def _is_session(project: Project, provided: str) -> bool:
    """Whether what `providers.Object` is given is a Session: one opened in place
    (`SessionLocal()`), or a module-level name holding one."""
    if provided.endswith("()"):
        return _makes_session(project, provided[:-2])
    kinds = {v.kind for v in project.flow.ref(provided)} if provided else set()
    return SESSION in kinds and FACTORY not in kinds


def _handed(project: Project, provider: _Provider, written: str) -> _Provider | None:
    """The provider an argument of `provider` names: a sibling (`session_factory`, also through
    `.provided`/`.provider`), `Container.x`, or one written in place."""
    if not written:
        return None
    if written.endswith(")") and not written.endswith("()") and "(" in written:
        kind, _, provided = written[:-1].partition("(")
        where = provider.where
        return _Provider(provider.cls, f"{provider.attribute}(...)", project.canonical(kind) or kind, provided, (), where)
    head = written.split(".")[0]
    classes = project.flow.classes
    if any(head in classes.by_ref[cls][1].built for cls in classes.mro(provider.cls) if cls in classes.by_ref):
        return _provider(project, f"{provider.cls}.{head}")
    module = classes.by_ref[provider.cls][0] if provider.cls in classes.by_ref else None
    if module is None:
        return None
    parts = written.split(".")
    base = module.imports.get(parts[0]) or (f"{module.name}.{parts[0]}" if parts[0] in module.values else None)
    if base is None or len(parts) < 2:
        return None
    return _provider(project, ".".join([base, *parts[1:2]]))


def _holds(project: Project, provider: _Provider, depth: int) -> _Provider | None:
    """The provider among `provider`'s arguments making a Session or an object handed one."""
    if depth >= _DEPTH:
        return None
    for written in provider.args:
        handed = _handed(project, provider, written)
        if handed is None:
            continue
        if _makes_session(project, handed.provided) or _holds(project, handed, depth + 1) is not None:
            return handed
    return None


def _shared(project: Project, provider: _Provider, depth: int) -> Shared | None:
    short = f"{project.flow.classes.short(provider.cls)}.{provider.attribute}"
    if depth < _DEPTH and provider.kind in OBJECT_PROVIDERS and _is_session(project, provider.provided):
        return Shared(
            f"the Session {_written(project, provider)} hands to every request as it is",
            f"give each request its own Session: make `{short}` a `providers.Factory` of the sessionmaker",
        )
    if depth < _DEPTH and provider.kind in UNREAD_PROVIDERS:
        return Shared(
            f"what {_written(project, provider)} is given at run time, which the analysis cannot read",
            f"make sure what `{short}` is given is a Session per request (a `providers.Factory` of the "
            "sessionmaker), then say so with `# async-migrate: ignore[AM126] reason`",
            certain=False,
        )
    if depth >= _DEPTH or provider.kind not in CALLING_PROVIDERS | ONCE_INITIALISED_PROVIDERS:
        return None
    for written in provider.args:
        if written.endswith("()") and _makes_session(project, written[:-2]):
            opened = f"{written[:-2].rpartition('.')[2]}()"
            return Shared(
                f"what {_written(project, provider)} builds on the Session `{opened}` there opens once, as the "
                "class body runs, for every request",
                f"give each request its own Session: hand `{short}` a `providers.Factory` of the sessionmaker "
                f"instead of `{opened}`",
            )
        handed = _handed(project, provider, written)
        inner = _shared(project, handed, depth + 1) if handed is not None else None
        if inner is not None:
            return Shared(f"what {_written(project, provider)} builds on {inner.words}", inner.remedy, inner.certain)
    if not provider.single:
        return None
    once = (
        "initialises once and hands to every request until it is shut down (a `Closing[...]` marker shuts it "
        "down after one request, while others may be using it)"
        if provider.kind in ONCE_INITIALISED_PROVIDERS
        else "builds once and hands to every request"
    )
    if _makes_session(project, provider.provided):
        return Shared(
            f"the Session {_written(project, provider)} {once}",
            f"give each request its own Session: make `{short}` a `providers.Factory` of the sessionmaker, or take "
            "the Session from a FastAPI dependency yielding one per request",
        )
    held = _holds(project, provider, depth)
    if held is not None:
        resolved = project.flow.classes.resolve(provider.provided) if provider.provided else None
        made = project.flow.classes.short(resolved) if resolved else "object"
        return Shared(
            f"the {made} {_written(project, provider)} {once}, with the one Session it was built with "
            f"(from `{project.flow.classes.short(held.cls)}.{held.attribute}`, {held.where})",
            f"make `{short}` a `providers.Factory`, which builds one per injection, with a Session of its own",
        )
    return None
