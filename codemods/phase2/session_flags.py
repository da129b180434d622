"""A Session flag (`autoflush`) of the sessions a session dependency opens, read or unknown.

`stack_source` reads `expire_on_commit` and `autoflush` where they are written on a module-level
sessionmaker, its `configure(...)` calls, or the dependency's opening call, and counts what it
cannot read as True: the safe side for `expire_on_commit` (a refresh too many), not for
`autoflush`, where True is one of the two values being compared. Here a flag is `True`, `False`,
or unknown (None), with where it was read or why it could not be:

- a sessionmaker the application keeps on its state (`request.app.state.sessionmaker()` in the
  dependency; `app.state.sessionmaker = sessionmaker(engine, autoflush=False)` in a lifespan or
  startup function, or at import), followed through a project factory returning one
  (`app.state.sessionmaker = make_sessionmaker(engine)`, `return sessionmaker(bind=engine,
  autoflush=False)`) and through a module-level sessionmaker assigned there;
- a module-level sessionmaker a project factory builds (`SessionLocal = make_sessionmaker(engine)`),
  through the same factory.

A keyword given as anything but a literal bool, a `**options` unpacking, a factory with more
than one `return`, or several assignments of the attribute that disagree: unknown. What the tests
assign there (a fixture swapping the sessionmaker) is not what the application runs on.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain, scope_nodes
from async_migrate.codemods.phase2 import keyed_makers, stack_extras, stack_source
from async_migrate.codemods.project import Project
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_SESSIONMAKERS, PLAIN_SESSIONMAKERS

_SESSIONMAKERS = ASYNC_SESSIONMAKERS | PLAIN_SESSIONMAKERS
FunctionId = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Flag:
    """A Session flag as the sessions will have it: `value` None when it cannot be read; `where`
    says where it was read, or why it could not be."""

    value: bool | None
    where: str


def from_found(found: tuple[bool, str] | None, keyword: str) -> Flag | None:
    """`stack_source`'s (value, where), whose unread values count as True: unknown here."""
    if found is None:
        return None
    if stack_source.unread(keyword) in found[1]:
        return Flag(None, found[1].replace(f": {stack_source.unread(keyword)}", f": phase two cannot read its {keyword}"))
    return Flag(found[0], found[1])


class Reader:
    def __init__(self, project: Project, sources: stack_source.Sources, texts: stack_extras.Texts) -> None:
        self.project = project
        self.sources = sources
        self.texts = texts

    # --------------------------------------------------------------- entry points

    def dependency(self, fid: FunctionId, keyword: str, sync: bool) -> Flag | None:
        """The flag of the sessions the dependency `fid` opens; None when it opens none phase two
        recognises (neither a sessionmaker nor the application's state)."""
        module, function = self.project.functions[fid]
        found = from_found(self.sources.dependency_expires(module, function, sync=sync, keyword=keyword), keyword)
        if found is not None and found.value is not None:
            return found
        if found is not None and "built by `" in found.where:
            ref = self._built_maker(module, function)
            if ref is not None:
                return self.module_maker(ref, keyword)
            return found
        state = stack_extras.app_state_maker(self.project, self.texts, module, function)
        if state is None and found is None:
            # `sessionmakers[tenant]()`: the sessionmakers of that dict
            makers = PLAIN_SESSIONMAKERS if sync else ASYNC_SESSIONMAKERS
            keyed = keyed_makers.keyed_flag(self.project, self.sources.read, fid, makers, keyword)
            if keyed is not None:
                value, where = keyed
                return Flag(value, where if value is not None else f"{where}: phase two cannot read its {keyword}")
        if state is None:
            return found
        return self.state(fid, state, keyword, f"`{function.qualname}` ({module.path}:{function.line})")

    def module_maker(self, ref: str, keyword: str) -> Flag | None:
        """The flag of a module-level sessionmaker, through the project factory building it."""
        found = from_found(self.sources.maker_expires(ref, keyword), keyword)
        if found is None or found.value is not None or "built by `" not in found.where:
            return found
        assigned = self.sources.assignment(ref)
        if assigned is None or not isinstance(assigned[1], ast.Call):
            return found
        module, call = assigned
        where = f"`{ref.rsplit('.', 1)[-1]}` ({module.path}:{call.lineno})"
        return self._value(module, call, keyword, where, None)

    def state(self, fid: FunctionId, read: str, keyword: str, opener: str) -> Flag:
        """The flag of what the application keeps under the state attribute `read` names
        (`request.app.state.sessionmaker`), from every assignment the project makes to it."""
        flow = self.project.flow
        attribute = read.partition(".state.")[2]
        unknown = f"{opener} opens its Session from `{read}`"
        if not attribute or "." in attribute:
            return Flag(None, f"{unknown}, which phase two cannot follow")
        assigned: list[tuple[facts.Module, ast.AST | None, int]] = []
        for holder, head, _expression, line in flow.state_assignments().get(attribute, []):
            module, function = self.project.functions[holder]
            if flow._state_owner(holder, head) != "app" or is_test_path(module.path):
                continue  # the tests' own swaps are not what the application runs on
            node = stack_extras.function_node(self.texts, module, function)
            assigned.append((module, node[1] if node is not None else None, line))
        for path, _expression, line in flow.module_state_assignments().get(attribute, []):
            if is_test_path(path):
                continue
            at = next((m for m in self.project.modules.values() if m.path == path), None)
            text = self.texts.get(path) if at is not None else None
            if at is not None:
                assigned.append((at, text[1] if text is not None else None, line))
        if not assigned:
            return Flag(None, f"{unknown}, which the project assigns nowhere phase two reads")
        flags = []
        for module, scope, line in assigned:
            where = f"`{read}` set at {module.path}:{line}"
            value = _assigned_at(scope, attribute, line) if scope is not None else None
            if value is None:
                flags.append(Flag(None, f"{unknown}, {where}, whose value phase two cannot read"))
                continue
            flags.append(self._value(module, value, keyword, where, scope))
        values = {f.value for f in flags}
        if len(values) == 1 and None not in values:
            return Flag(flags[0].value, f"{opener} opens `{read}`, " + "; ".join(f.where for f in flags))
        unread = next((f for f in flags if f.value is None), None)
        if unread is not None:
            return Flag(None, unread.where if unread.where.startswith(opener) else f"{unknown}: {unread.where}")
        return Flag(None, f"{unknown}, set to sessionmakers that disagree: " + "; ".join(f.where for f in flags))

    # ------------------------------------------------------------------ values

    def _value(
        self, module: facts.Module, node: ast.expr, keyword: str, where: str, scope: ast.AST | None
    ) -> Flag:
        """The flag of the sessionmaker an expression gives: a sessionmaker call, a module-level
        sessionmaker, or a call of a project factory with one `return` of either."""
        unknown = f"{where}: phase two cannot read its {keyword}"
        if isinstance(node, ast.Name) and scope is not None and _local(scope, node.id):
            # `maker = sessionmaker(...)` in the lifespan, then `app.state.sessionmaker = maker`
            bound = _local_values(scope, node.id)
            if len(bound) == 1 and not isinstance(bound[0], ast.Name):
                return self._value(module, bound[0], keyword, where, scope)
            return Flag(None, f"{unknown} (`{ast.unparse(node)}`)")
        if isinstance(node, (ast.Name, ast.Attribute)):
            dotted = name_chain(node)
            if dotted is None:
                return Flag(None, f"{unknown} (`{ast.unparse(node)}`)")
            found = self.module_maker(stack_extras.absolute(module, dotted), keyword)
            return found if found is not None else Flag(None, f"{unknown} (`{ast.unparse(node)}`)")
        if not isinstance(node, ast.Call):
            return Flag(None, f"{unknown} (`{ast.unparse(node)}`)")
        dotted = name_chain(node.func)
        absolute = stack_extras.absolute(module, dotted) if dotted is not None else None
        callee = self.project.canonical(absolute) if absolute is not None else None
        written = f"`{ast.unparse(node)}` ({module.path}:{node.lineno})"
        if callee in _SESSIONMAKERS:
            return _literal(node, keyword, f"{where}, {written}")
        factory = self.project.function(absolute) if absolute is not None else None
        if factory is None:
            return Flag(None, f"{unknown}: built by {written}")
        made_in, function = factory
        defined = stack_extras.function_node(self.texts, made_in, function)
        returns = [n for n in scope_nodes(defined[1]) if isinstance(n, ast.Return)] if defined is not None else []
        if len(returns) != 1 or returns[0].value is None or not isinstance(returns[0].value, ast.Call):
            return Flag(None, f"{unknown}: built by {written}, whose `{function.qualname}` phase two cannot read")
        inner = returns[0].value
        inner_dotted = name_chain(inner.func)
        if inner_dotted is None or self.project.canonical(stack_extras.absolute(made_in, inner_dotted)) not in _SESSIONMAKERS:
            return Flag(None, f"{unknown}: built by {written}, whose `{function.qualname}` returns `{ast.unparse(inner)}`")
        flag = _literal(inner, keyword, f"`{ast.unparse(inner)}` ({made_in.path}:{inner.lineno})")
        return Flag(flag.value, f"{where}, built by {written}: {flag.where}")

    def _built_maker(self, module: facts.Module, function: facts.Function) -> str | None:
        """The module-level sessionmaker the dependency opens, when `stack_source` found it built by
        a project factory."""
        for call in function.calls:
            if call.callee is None or call.nested:
                continue
            callee = call.callee.removesuffix(".begin")
            if self.sources.maker_engine(callee) is not None or self.sources.assignment(callee) is not None:
                return callee
        return None


def from_args(args: tuple[facts.CallArg, ...] | list[facts.CallArg], keyword: str, where: str) -> Flag:
    """A sessionmaker's flag from its arguments as the index keeps them (one a module-level
    instance holds, `self.SessionLocal = sessionmaker(..., autoflush=False)` in `__init__`)."""
    given = next((a for a in args if a.keyword == keyword), None)
    if given is None:
        if any(a.keyword == "**" for a in args):
            return Flag(None, f"{where}: its `**` unpacking may set {keyword}, which phase two cannot read")
        return Flag(True, where)
    if given.text in ("True", "False"):
        return Flag(given.text == "True", where)
    return Flag(None, f"{where}: `{keyword}={given.text}`, which phase two cannot read")


def _literal(call: ast.Call, keyword: str, where: str) -> Flag:
    """A sessionmaker call's flag: its default (True) when not given, a literal bool as given,
    anything else (a name, a parameter, `**options`) unknown."""
    given = next((k for k in call.keywords if k.arg == keyword), None)
    if given is None:
        if any(k.arg is None for k in call.keywords):
            return Flag(None, f"{where}: its `**` unpacking may set {keyword}, which phase two cannot read")
        return Flag(True, where)
    if isinstance(given.value, ast.Constant) and isinstance(given.value.value, bool):
        return Flag(given.value.value, where)
    return Flag(None, f"{where}: `{keyword}={ast.unparse(given.value)}`, which phase two cannot read")


def _assigned_at(scope: ast.AST, attribute: str, line: int) -> ast.expr | None:
    """The value assigned to `<...>.state.<attribute>` on `line` of a function or module."""
    nodes = scope_nodes(scope) if not isinstance(scope, ast.Module) else list(ast.walk(scope))
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute) and target.attr == attribute
                    and isinstance(target.value, ast.Attribute) and target.value.attr == "state"
                    and node.value is not None
                ):
                    return node.value
    return None


def _local(scope: ast.AST, name: str) -> bool:
    """Whether a function binds `name` itself (a parameter, an assignment): not the module's."""
    if isinstance(scope, ast.Module):
        return False
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        params = scope.args.posonlyargs + scope.args.args + scope.args.kwonlyargs
        if any(p.arg == name for p in params):
            return True
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in scope_nodes(scope)
    )


def _local_values(scope: ast.AST, name: str) -> list[ast.expr]:
    """What a function assigns to its local `name` (a parameter counts as a value it cannot read)."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        params = scope.args.posonlyargs + scope.args.args + scope.args.kwonlyargs
        if any(p.arg == name for p in params):
            return []
    stores = [n for n in scope_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
    values = [
        n.value for n in scope_nodes(scope)
        if isinstance(n, ast.Assign) and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    ]
    return values if len(values) == len(stores) else []
