"""Parameters that receive the Session: they receive an AsyncSession.

One unit per way a parameter gets its Session (`ParamKind`): a route's or dependency's takes the
async dependency or alias, any other keeps its annotation with the type renamed, and a
constructor's unannotated one every caller hands the Session is annotated. Before/After:
`ParamRewrite`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.rewrites.base import unused
from async_migrate.codemods.project import Project
from async_migrate.codemods.tree import walk
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_SESSION_TYPES

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.plan import FilePlan, StackNames


class ParamKind(Enum):
    DEPENDS = "depends"  # `s: Session = Depends(dep)` -> `s: AsyncSession = Depends(async dep)`
    ALIAS = "alias"  # `s: SessionDep` -> `s: AsyncSessionDep` (the async Annotated alias)
    ANNOTATION = "annotation"  # the sync Session type inside the annotation becomes AsyncSession
    RECEIVED = "received"  # `def __init__(self, db)` (or `db: Any`) every caller hands the Session -> `db: AsyncSession`


@dataclass(slots=True)
class ParamAction:
    kind: ParamKind
    old: str = ""  # annotation: how the annotation spells the sync Session type


@dataclass(slots=True)
class ParamSite:
    """A parameter of a migrated function that receives the Session."""

    project: Project
    module: facts.Module
    param: facts.Param
    file: FilePlan  # imports added and dropped for the whole file
    stack: StackNames
    is_route: bool  # a route or a dependency: FastAPI provides the Session


class ParamRewrite:
    """A unit rewriting one kind of Session parameter.

    Before::

        @router.get("/books/{book_id}")
        def read_book(book_id: int, session: Session = Depends(get_session)): ...

        def count_books(session: "Session") -> int: ...

    After::

        @router.get("/books/{book_id}")
        async def read_book(book_id: int, session: AsyncSession = Depends(get_async_session)): ...

        async def count_books(session: "AsyncSession") -> int: ...

    A route's (or dependency's) parameter takes the async dependency (DEPENDS) or the async
    `Annotated` alias (ALIAS); any other parameter keeps its annotation with the sync Session
    type in it renamed (ANNOTATION); an unannotated constructor parameter: `Received`.
    """

    kind: ClassVar[ParamKind]

    def plan(self, site: ParamSite) -> ParamAction | None:
        """The action for the parameter, or None when it is not this unit's."""
        raise NotImplementedError

    def edit(self, action: ParamAction, param: cst.Param, stack: StackNames) -> cst.Param:
        raise NotImplementedError


class Depends(ParamRewrite):
    kind = ParamKind.DEPENDS

    def plan(self, site: ParamSite) -> ParamAction | None:
        if not (_provided(site) and site.param.default):
            return None
        site.file.imports.add(_async_session_import(site.project, site.param, site.stack.sqlmodel))
        stack = site.stack
        if stack.dependency_module and stack.dependency_module != site.module.name:
            site.file.imports.add((stack.dependency_module, stack.dependency))
        _drop_sync_names(site)
        return ParamAction(self.kind)

    def edit(self, action: ParamAction, param: cst.Param, stack: StackNames) -> cst.Param:
        if not isinstance(param.default, cst.Call):
            return param
        # Only the dependency is replaced: `use_cache=False` (a Session of its own) stays.
        args = list(param.default.args)
        at = next((n for n, a in enumerate(args) if a.keyword is None and not a.star), None)
        if at is None:
            at = next((n for n, a in enumerate(args) if a.keyword is not None and a.keyword.value == "dependency"), None)
        if at is None:
            args.insert(0, cst.Arg(cst.Name(stack.dependency), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                        if args else cst.Arg(cst.Name(stack.dependency)))
        else:
            args[at] = args[at].with_changes(value=cst.Name(stack.dependency))
        default = param.default.with_changes(args=args)
        changes: dict[str, object] = {}
        if param.annotation is None and isinstance(param.equal, cst.AssignEqual):
            # `db=Depends(get_db)` gains an annotation: PEP 8 spaces the `=` of an annotated default
            space = cst.SimpleWhitespace(" ")
            changes["equal"] = param.equal.with_changes(whitespace_before=space, whitespace_after=space)
        return param.with_changes(annotation=cst.Annotation(cst.Name("AsyncSession")), default=default, **changes)


class Alias(ParamRewrite):
    kind = ParamKind.ALIAS

    def plan(self, site: ParamSite) -> ParamAction | None:
        if not _provided(site) or site.param.default:
            return None
        stack = site.stack
        if stack.alias_module and stack.alias_module != site.module.name and "." not in site.param.text:
            site.file.imports.add((stack.alias_module, stack.alias))
        _drop_sync_names(site)
        return ParamAction(self.kind)

    def edit(self, action: ParamAction, param: cst.Param, stack: StackNames) -> cst.Param:
        if param.annotation is None:
            return param
        annotation = param.annotation.annotation
        new: cst.BaseExpression
        if isinstance(annotation, cst.Attribute):  # deps.session_dependency
            new = annotation.with_changes(attr=cst.Name(stack.alias))
        else:
            new = cst.Name(stack.alias)
        return param.with_changes(annotation=param.annotation.with_changes(annotation=new))


class Annotation(ParamRewrite):
    kind = ParamKind.ANNOTATION

    def plan(self, site: ParamSite) -> ParamAction | None:
        session_type = _sync_type_name(site.project, site.module, site.param)
        if session_type is None:
            return None
        site.file.imports.add(_async_session_import(site.project, site.param, site.stack.sqlmodel))
        ref = site.module.imports.get(session_type.split(".")[0])
        if ref is not None and "." not in session_type:
            unused(site.file, site.module, ref)
        return ParamAction(self.kind, session_type)

    def edit(self, action: ParamAction, param: cst.Param, stack: StackNames) -> cst.Param:
        if param.annotation is None:
            return param
        annotation = param.annotation.annotation
        if isinstance(annotation, cst.SimpleString):  # a forward reference: `db: "Session"`
            return param.with_changes(
                annotation=param.annotation.with_changes(annotation=_renamed_string(annotation, action.old))
            )
        return param.with_changes(annotation=param.annotation.visit(_RenameType(action.old, "AsyncSession")))


class Received(ParamRewrite):
    """A constructor's parameter written with no annotation (or `Any`), which the analysis reads
    as a Session because every caller hands it one (`received.py`, checked per construction by
    `holders.py`), is annotated `AsyncSession`: the instance's attribute then says what it holds,
    to the self-check's second reading as to a reader. Any other unannotated parameter stays as
    written: its callers hand it the AsyncSession."""

    kind = ParamKind.RECEIVED

    def plan(self, site: ParamSite) -> ParamAction | None:
        param = site.param
        if (
            not unannotated(site.project, param) or param.variadic or param.depends is not None or param.default
            or param.default_ref is not None or param.opaque_depends or param.provide
        ):
            return None
        function = next((f for f in site.module.functions if any(p is param for p in f.params)), None)
        if function is None or function.name != "__init__" or "." not in function.qualname:
            return None
        site.file.imports.add(_ASYNC_SESSIONS[site.stack.sqlmodel])
        for ref in param.annotation:  # `Any`, when nothing else names it
            unused(site.file, site.module, ref)
        return ParamAction(self.kind)

    def edit(self, action: ParamAction, param: cst.Param, stack: StackNames) -> cst.Param:
        if param.star not in ("", cst.MaybeSentinel.DEFAULT):
            return param
        if param.annotation is not None and not (
            isinstance(param.annotation.annotation, (cst.Name, cst.Attribute))
            and _dotted(param.annotation.annotation).rpartition(".")[2] == "Any"
        ):
            return param
        annotation: cst.BaseExpression = cst.Name("AsyncSession")
        changes: dict[str, object] = {}
        if param.default is not None:
            if not (isinstance(param.default, cst.Name) and param.default.value == "None"):
                return param  # a default of another kind: what it is stays unsaid
            # `db=None`: PEP 8 spaces the `=` of an annotated default
            annotation = cst.BinaryOperation(annotation, cst.BitOr(), cst.Name("None"))
            if isinstance(param.equal, cst.AssignEqual):
                space = cst.SimpleWhitespace(" ")
                changes["equal"] = param.equal.with_changes(whitespace_before=space, whitespace_after=space)
        return param.with_changes(annotation=cst.Annotation(annotation), **changes)


def unannotated(project: Project, param: facts.Param) -> bool:
    """A parameter whose annotation says nothing of what it holds: none, or `Any` (a dataclass
    field `db: Any`)."""
    return not param.annotation and not param.text or (
        len(param.annotation) == 1 and project.canonical(param.annotation[0]) in _ANY
    )


_ANY = frozenset({"typing.Any", "typing_extensions.Any"})


def _dotted(node: cst.BaseExpression) -> str:
    return ".".join(n.value for n in walk(node) if isinstance(n, cst.Name))


def _provided(site: ParamSite) -> bool:
    """FastAPI provides the Session to this parameter by its declaration (not through a
    transaction dependency, whose twin the parameter is pointed at instead)."""
    return (
        (site.is_route or _depends_default(site.project, site.module, site.param))
        and site.project.declared_session(site.param) is not None
        and not _through_wrapper(site.project, site.param)
    )


def _depends_default(project: Project, module: facts.Module, param: facts.Param) -> bool:
    """`db: Session = Depends(get_db)` (or `db: SessionDep`, an `Annotated` alias carrying the
    dependency) on a function phase two does not know FastAPI calls (the
    `__init__` of a fastapi-utils `@cbv` class, a dependency registered where the analysis does
    not look): whoever calls it without the argument gets the dependency's Session, so the
    dependency moves with the annotation. A caller passing the argument never reads it."""
    if param.depends is not None or param.default_ref is not None:
        return project.session_depends_default(param) is not None
    # A helper code calls keeps a plain `AsyncSession` annotation: its callers pass the Session.
    return not _called_in_code(project, module, param) and any(
        _alias_depends(project, ref) for ref in param.annotation
    )


def _through_wrapper(project: Project, param: facts.Param) -> bool:
    from async_migrate.codemods.phase2.dependencies import dependency_function
    from async_migrate.codemods.phase2.tx_dependency import wrappers

    return dependency_function(project, project.param_dependency(param)) in wrappers(project)


def _drop_sync_names(site: ParamSite) -> None:
    for ref in (*site.param.annotation, site.param.depends):
        if ref is not None:
            unused(site.file, site.module, ref)


_ASYNC_SESSIONS = {True: ("sqlmodel.ext.asyncio.session", "AsyncSession"), False: ("sqlalchemy.ext.asyncio", "AsyncSession")}


def _async_session_import(project: Project, param: facts.Param, sqlmodel_stack: bool) -> tuple[str, str]:
    """Where `AsyncSession` comes from: SQLModel's for a SQLModel `Session` (its `exec`) or where
    the async sessionmaker makes SQLModel's (`sqlmodel_stack`), else SQLAlchemy's. The statements
    rewritten for that stack use `exec()`, which SQLAlchemy's AsyncSession does not declare: a
    plain `sqlalchemy.orm.Session` annotation would leave a type checker rejecting them."""
    if sqlmodel_stack:
        return _ASYNC_SESSIONS[True]
    refs = list(param.annotation)
    for ref in param.annotation:  # through an alias: `SessionDep = Annotated[Session, ...]`
        target = project.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None:
            refs.extend(target.value.annotation)
    if any(project.library_session(ref) in SQLMODEL_SESSION_TYPES for ref in refs):
        return _ASYNC_SESSIONS[True]
    return _ASYNC_SESSIONS[False]


def _sync_type_name(project: Project, module: facts.Module, param: facts.Param) -> str | None:
    """How the annotation spells the sync Session type (`Session`, `orm.Session`) or an alias of
    it (`SessionDep`, `deps.SessionDep`): the one name that becomes `AsyncSession`."""
    for ref in param.annotation:
        if project.is_async_session_type(ref):
            continue
        if not (project.is_sync_session_type(ref) or _is_sync_alias(project, ref)):
            continue
        for spelled in spellings(module, ref):
            if _names(param.text, spelled):
                return spelled
    return None


def _is_sync_alias(project: Project, ref: str) -> bool:
    """`SessionDep = Annotated[Session, Depends(get_db)]` (or a configured session alias)."""
    if project.canonical(ref) in project.config.session_aliases:
        return True
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "annotated":
        return False
    value = target.value
    if any(project.is_async_session_type(r) for r in value.annotation):
        return False
    from async_migrate.codemods.phase2.dependencies import dependency_function
    from async_migrate.codemods.phase2.tx_dependency import wrappers

    if dependency_function(project, value.depends) in wrappers(project):
        return False  # the alias of a transaction dependency: its twin alias takes its place
    return any(project.is_sync_session_type(r) for r in value.annotation) or (
        value.depends is not None and project.is_session_dependency(value.depends)
    )


def _called_in_code(project: Project, module: facts.Module, param: facts.Param) -> bool:
    """Whether project code calls the function declaring `param` (else FastAPI alone does)."""
    function = next((f for f in module.functions if any(p is param for p in f.params)), None)
    return function is None or bool(project.all_calls_to.get((module.name, function.key)))


def _alias_depends(project: Project, ref: str) -> bool:
    """`SessionDep = Annotated[Session, Depends(get_db)]`: an alias carrying the session dependency."""
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "annotated":
        return project.canonical(ref) in project.config.session_aliases
    depends = target.value.depends
    return depends is not None and project.is_session_dependency(depends) and _is_sync_alias(project, ref)


def spellings(module: facts.Module, ref: str) -> list[str]:
    """The local spellings of a reference in a module: `Session`, `orm.Session`, `deps.SessionDep`."""
    found = []
    for local, imported in module.imports.items():
        if imported == ref:
            found.append(local)
        elif ref.startswith(imported + "."):
            found.append(local + ref[len(imported):])
    if ref.startswith(module.name + "."):
        found.append(ref[len(module.name) + 1:])
    found.append(ref.rsplit(".", 1)[-1])
    return found


def _names(text: str, spelled: str) -> bool:
    """`spelled` appears in an annotation as a whole name (`Session` is not in `SessionDep`)."""
    return re.search(rf"(?<![\w.]){re.escape(spelled)}(?![\w])", text) is not None


def renamed_type(node: cst.BaseExpression, old: str) -> cst.BaseExpression:
    """A type expression with the synchronous type spelled `old` named `AsyncSession` instead, in
    a forward reference's string too (`"Session"`)."""
    if isinstance(node, cst.SimpleString):
        return _renamed_string(node, old)
    renamed = node.visit(_RenameType(old, "AsyncSession"))
    return renamed if isinstance(renamed, cst.BaseExpression) else node


def _renamed_string(node: cst.SimpleString, old: str) -> cst.SimpleString:
    """`"Session"` -> `"AsyncSession"`, `"Session | None"` -> `"AsyncSession | None"`, quotes kept."""
    text = node.evaluated_value
    if not isinstance(text, str):
        return node
    try:
        expression = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return node
    visited = expression.visit(_RenameType(old, "AsyncSession"))
    if not isinstance(visited, cst.CSTNode):
        return node
    renamed = cst.Module([]).code_for_node(visited)
    quote = node.quote
    if quote in renamed or "\\" in renamed:
        return node
    return node.with_changes(value=f"{node.prefix}{quote}{renamed}{quote}")


class _RenameType(cst.CSTTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if updated.value == self.old else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        dotted = ".".join(n.value for n in walk(updated) if isinstance(n, cst.Name))
        if dotted == self.old:
            return cst.Name(self.new)
        return updated
