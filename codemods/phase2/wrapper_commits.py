"""A commit the `async def` wrapper of a function's decorator makes once the function has returned:
what it hands back is read after that commit.

`@transactional` awaiting `fn(*args, db=db, **kwargs)` and then `await db.commit()`: the route's
`return team` is serialised by FastAPI after the wrapper's commit. An expiring sessionmaker
expires the object there (AM248); the commit's flush expires the columns the database computes
on a row it writes (AM249), whatever expire_on_commit says; and where only the synchronous
sessionmaker expired, the synchronous Session reloaded what the response read (AM259). Under
AsyncSession each of those reads is implicit IO: MissingGreenlet, HTTP 500. Phase two plans no
refresh there (the commit is in the decorator, after the last statement the function runs), so
the function blocks, naming the decorator, the object and what expires.

What the function hands back as it is counts: a name returned (`return team`), in a display
(`return [team]`, `{"team": team}`), a relationship of it (`return team.owner`), or the result of a
call given the Session (`return crud.create(db, ...)`). A value read before the return
(`{"id": team.id}`, `TeamRead.model_validate(team)`) is read before the wrapper commits.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from async_migrate.codemods import facts
from async_migrate.codemods.decorator_work import WrapperIO, loop_wrapper_io
from async_migrate.codemods.phase2 import expired_lists, expired_reads, expired_related
from async_migrate.codemods.phase2.partial_refresh import is_partial
from async_migrate.codemods.phase2.stack_source import UNREAD
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am248_expired_after_commit import RULE as AM248
from async_migrate.codemods.rules.am249_server_generated_read import RULE as AM249
from async_migrate.codemods.rules.am259_stale_after_commit import RULE as AM259

# A wrapper's call on the Session that writes: a commit (expires on an expiring sessionmaker) or a
# flush (expires only what the database computes).
_WRITES = frozenset({"commit", "flush"})


def commits(project: Project, fid: FunctionId) -> bool:
    """Whether the `async def` wrapper of a decorator of the (migrated) function commits a Session
    the function is handed, once it has returned: a call of it is a commit point for its caller."""
    return any(io.method == "commit" for io in loop_wrapper_io(project, fid))


def blocks(
    project: Project,
    fid: FunctionId,
    expiry: expired_reads.Expiry,
    names: set[str],
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    unread_return: bool,
) -> list[expired_reads.ExpiredRead]:
    """One block per object the function hands back that a commit or flush of its decorators'
    `async def` wrappers, on a Session it is handed in `names`, expires before the response reads
    it. A handed function the wrapper gives the Session (`await finish(db)`) counts as a commit."""
    models = expiry.models
    if models is None or node is None or unread_return:
        return []
    if fid not in project.handler_index and project.all_calls_to.get(fid):
        return []  # a helper: its call is the commit point its callers read what it returns after (`commits`)
    writes = [io for io in loop_wrapper_io(project, fid, names) if io.method in _WRITES or io.method is None]
    if not writes:
        return []
    commit = next((io for io in writes if io.method != "flush"), None)
    expiring = commit is not None and bool(expiry.on_commit or expiry.reloaded)
    if not expiring and not models.any_generated():
        return []
    module, function = project.functions[fid]
    params = {p.name: p for p in function.params}
    relationships = expired_related.relationship_names(project)
    found: list[expired_reads.ExpiredRead] = []
    reported: set[str] = set()
    for line, name, shown in _handed_back(node, names, relationships):
        if name in reported:
            continue
        if name.startswith("("):  # the result of a call given the Session
            kind, cls, source, made_here = expired_reads.Held.UNKNOWN, None, None, False
        else:
            before = [b for b in function.bindings if b.name == name and b.line < line]
            source = before[-1] if before else None
            if source is None and name not in params:
                continue
            kind, cls = expired_reads._instance(
                project, models, fid, function, module, source, params.get(name), names
            )
            if kind in (expired_reads.Held.NONE, expired_reads.Held.PARAM) and expired_reads.added_before(
                function, name, source, line, names, node
            ):
                kind = expired_reads.Held.ONE  # the Session took it: the commit writes and expires it
            if kind is expired_reads.Held.NONE or _values(models, module, function, source, kind, names):
                continue
            made_here = kind is expired_reads.Held.ONE and source is not None and not source.expr.startswith("$")
        generated = models.generated(cls) if cls else frozenset()
        if not expiring:
            held = expired_lists.derived(function, name) if not name.startswith("(") else set()
            start = source.line if source is not None else function.line
            # what a call given the Session returned may be a row it only added, which this flush writes
            written = made_here or kind is expired_reads.Held.UNKNOWN or bool(held) and expired_reads._touched(
                function, held, start, line, names
            )
            if not (generated if cls else models.any_generated()) or not written:
                continue
            if _refreshed_after_changes(function, name, held, start, line, names):
                continue  # `db.flush(); db.refresh(team)` before the return: the wrapper's flush writes nothing more
        reported.add(name)
        found.append(_block(
            expiry, fid in project.handler_index, function.name, line, name, shown, kind, generated, commit or writes[0]
        ))
    return found


def _handed_back(
    node: ast.FunctionDef | ast.AsyncFunctionDef, sessions: set[str], relationships: frozenset[str]
) -> Iterator[tuple[int, str, str]]:
    """(line, name, as written) for each object a `return` of the function's own body hands back
    as it is: a name, in a display, a relationship of one; a call given the Session is named
    `(call)`."""
    for statement in _own_returns(node):
        pending: list[ast.expr] = [statement.value] if statement.value is not None else []
        while pending:
            value = pending.pop(0)
            if isinstance(value, ast.Name):
                yield statement.lineno, value.id, f"`{value.id}`"
            elif isinstance(value, (ast.Tuple, ast.List, ast.Set)):
                pending.extend(value.elts)
            elif isinstance(value, ast.Dict):
                pending.extend(v for v in value.values if v is not None)
            elif isinstance(value, (ast.Starred, ast.Await)):
                pending.append(value.value)
            elif isinstance(value, ast.Attribute) and value.attr in relationships:
                root: ast.expr = value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name):
                    yield statement.lineno, root.id, f"`{ast.unparse(value)}`"
            elif isinstance(value, ast.Call) and any(
                isinstance(n, ast.Name) and n.id in sessions
                for a in [*value.args, *(k.value for k in value.keywords)]
                for n in ast.walk(a)
            ):
                text = ast.unparse(value)
                yield statement.lineno, f"({text})", f"what `{text}` returns"


def _own_returns(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The function's own `return` statements (not a nested function's), in source order."""
    found: list[ast.Return] = []
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Return):
            found.append(current)
        elif not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(current))
    return sorted(found, key=lambda r: (r.lineno, r.col_offset))


def _values(
    models: expired_reads.Models, module: facts.Module, function: facts.Function, source: facts.Binding | None,
    kind: expired_reads.Held, names: set[str],
) -> bool:
    """A list of column values, not of objects (`db.scalars(select(Item.id)).all()`)."""
    if kind is not expired_reads.Held.MANY or source is None:
        return False
    entity = expired_lists.entity_list(function, source, names)
    return (entity is not None and models.resolve(entity) is None and models.column(entity)) or (
        expired_reads._returned_columns(models, module, source)
    )


def _refreshed_after_changes(
    function: facts.Function, name: str, held: set[str], start: int, line: int, names: set[str]
) -> bool:
    """The function refreshes the object whole after the last change the flush would write, before
    the return at `line`: the wrapper's flush finds nothing of it to write."""
    refreshed = [
        c.line for c in function.calls
        if c.receiver in names and c.method == "refresh" and c.args and c.args[0].name == name
        and start <= c.line < line and not is_partial(c)
    ]
    return bool(refreshed) and not expired_reads._touched(function, held, max(refreshed) + 1, line, names)


def _block(
    expiry: expired_reads.Expiry, route: bool, function: str, line: int, name: str, shown: str,
    kind: expired_reads.Held, generated: frozenset[str], io: WrapperIO,
) -> expired_reads.ExpiredRead:
    decorator = f"@{io.decorator.text.lstrip('@')}"
    action = (
        f"calls `{io.call}` on the Session ({io.where})" if io.method is not None
        else f"hands the Session to `{io.call}` ({io.where}), which may commit it"
    )
    reader = "the response" if route else "what receives it"
    after = (f"{shown} is returned (line {line}) and read by {reader} after `{decorator}`'s wrapper "
             f"{action}, once `{function}` has returned")
    what = "an object" if kind in (expired_reads.Held.ONE, expired_reads.Held.MAYBE) else expired_reads._describe(kind)
    columns = ", ".join(f"`{c}`" for c in sorted(generated))
    computed = f"{columns}, which the database computes" if columns else "the columns the database computes"
    subject = name if not name.startswith("(") else "it"
    cannot = f"{what}, which phase two cannot refresh after the decorator's commit"
    refresh = f"flush and refresh `{subject}` in `{function}` before returning it (`db.flush()` then `db.refresh({subject})`)"
    if io.method != "flush" and expiry.on_commit:
        return expired_reads.ExpiredRead(AM248, line, (
            f"{after}: the async sessionmaker ({expiry.where}) expires every object on commit"
            f"{'' if UNREAD in expiry.where else ' (expire_on_commit=True)'}, so reading "
            f"every attribute of `{subject}`{f' ({computed} too)' if columns else ''} is implicit IO and "
            f"raises MissingGreenlet; `{subject}` is {cannot}; fix: pass expire_on_commit=False to the async "
            f"sessionmaker{f' and {refresh}' if columns else ''}, or commit in `{function}` and refresh "
            f"`{subject}` after its commit, without the decorator's"
        ))
    if io.method != "flush" and expiry.reloaded:
        return expired_reads.ExpiredRead(AM259, line, (
            f"{after}: {expired_reads.reloaded_by(expiry)}; the async one"
            f"{f' ({expiry.where})' if expiry.where else ''} does not, so it would be read stale "
            f"(what a bulk UPDATE or raw SQL in the transaction changed){f' and {computed} unloaded' if columns else ''}; "
            f"`{subject}` is {cannot}; fix: commit in "
            f"`{function}` and refresh `{subject}` after its commit, without the decorator's"
        ))
    return expired_reads.ExpiredRead(AM249, line, (
        f"{after}: the flush of that {'commit' if io.method != 'flush' else 'call'} writes the row and expires "
        f"{computed}, and reading them raises MissingGreenlet under AsyncSession; `{subject}` is "
        f"{cannot}; fix: {refresh}"
    ))

