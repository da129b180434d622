"""Objects reached through a relationship, read after a commit that expired them.

Phase two refreshes the objects a name holds (`expired_reads`), not the ones their relationships
hold: `refresh(book)` leaves `book.author` as the identity map had it. So such a read returns
what the row held before the commit or, where the async sessionmaker expires too, raises
MissingGreenlet. `reads` finds the first one after a commit point (and says when an eager
relationship makes it safe); the caller blocks the function.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import NamedTuple

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import scope_nodes
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary.sqlalchemy import NON_LOADING_STRATEGIES

_NEVER_LOADS = NON_LOADING_STRATEGIES | {"dynamic"}
# Strategies a refresh of the holding object runs again (`lazy=False` is read as "joined").
_EAGER = frozenset({"joined", "selectin", "subquery"})
# Changing or counting a collection reads no member's columns.
_COLLECTION_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "clear", "add", "discard", "count", "index", "copy",
})


def relationship_names(project: Project) -> frozenset[str]:
    """Relationship attributes of every collected class that load when read, by name (kept with
    the project: scan's preview asks it for every route of every subsystem)."""
    known = project.derived.get("loading_relationship_names")
    if known is None:
        known = project.derived["loading_relationship_names"] = _relationship_names(project)
    return known  # type: ignore[return-value]


def _relationship_names(project: Project) -> frozenset[str]:
    found: set[str] = set()
    for module in project.modules.values():
        for cls in module.classes:
            for mapping in (cls.relationships, cls.backrefs):
                found.update(name for name, strategy in mapping.items() if strategy not in _NEVER_LOADS)
    return frozenset(found)


def eager_names(project: Project) -> frozenset[str]:
    """Relationship names every collected class declaring one loads eagerly by default: by name,
    since the class of what a read crosses is not followed (kept with the project, as
    `relationship_names` is)."""
    known = project.derived.get("eager_relationship_names")
    if known is None:
        known = project.derived["eager_relationship_names"] = _eager_names(project)
    return known  # type: ignore[return-value]


def _eager_names(project: Project) -> frozenset[str]:
    strategies: dict[str, set[str]] = {}
    for module in project.modules.values():
        for cls in module.classes:
            for mapping in (cls.relationships, cls.backrefs):
                for name, strategy in mapping.items():
                    strategies.setdefault(name, set()).add(strategy)
    return frozenset(name for name, found in strategies.items() if found <= _EAGER)


def response_path(
    classes: Classes, function: facts.Function, relationships: frozenset[str]
) -> str | None:
    """The first field path of the route's response model that reads a relationship holding
    objects (`AuthorOut.books`), or None."""
    return response_reads(classes, function, relationships).path


class ResponseReads(NamedTuple):
    """What the response model reads through relationships of the returned object."""

    path: str | None  # the field the reason names (`ItemOut.tags`), or None: it reads none
    one_hop: bool  # every such field is one the returned object holds itself
    eager: bool  # ... and each of those relationships is loaded eagerly
    # One hop: the fields whose relationship is lazy, `path` the first, and those eager already
    # (a fix names the first to declare eager, never the second).
    lazy: tuple[str, ...] = ()
    eager_paths: tuple[str, ...] = ()


def response_reads(
    classes: Classes, function: facts.Function, relationships: frozenset[str], eager: frozenset[str] = frozenset()
) -> ResponseReads:
    """`response_path`, whether every relationship the response model reads is one the returned
    object holds itself (one hop), and whether each of those is also loaded eagerly (`eager`):
    a whole refresh of the returned object loads those again, and nothing further. One hop with
    some lazy, the path is the first lazy one (`ItemOut.tags` beside an eager `ItemOut.category`):
    that one is why the refresh does not reload what the response reads."""
    queue = [(cls, classes.short(cls), 0) for cls in response_models(classes, function)]
    seen: set[tuple[str, bool]] = set()
    first: str | None = None
    one_hop = eager_hop = True
    lazy: list[str] = []
    loaded: list[str] = []
    while queue:
        cls, path, depth = queue.pop(0)
        if (cls, depth > 0) in seen:
            continue
        seen.add((cls, depth > 0))
        for name, annotation in classes.fields(cls):
            nested = [n for n in (classes.resolve(r) for r in annotation) if n is not None and classes.fields(n)]
            if name in relationships and nested:
                first = first or f"{path}.{name}"
                one_hop = one_hop and depth == 0
                eager_hop = eager_hop and name in eager
                if depth == 0:
                    (loaded if name in eager else lazy).append(f"{path}.{name}")
            queue.extend((n, f"{path}.{name}", depth + 1) for n in nested)
    if first is None or not one_hop:
        return ResponseReads(first, False, False)
    return ResponseReads(lazy[0] if lazy else first, True, eager_hop, tuple(lazy), tuple(loaded))


def response_models(classes: Classes, function: facts.Function) -> list[str]:
    """The project classes of the route's response model, as declared (`response_model=`) or, with
    none declared, its return annotation; [] for a helper, whose annotation no serialiser reads."""
    refs: list[str] = []
    declared = [d for d in function.decorators if d.response_model is not None or d.response_refs]
    for decorator in declared:
        if decorator.response_model != "None":
            refs.extend(decorator.response_refs)
    # A route's return annotation is its response model; a helper's is read by no serialiser.
    if not declared and any(d.path is not None for d in function.decorators):
        refs.extend(function.returns)
    return [cls for cls in dict.fromkeys(classes.resolve(r) for r in refs) if cls is not None]


def _through(node: ast.expr, relationships: frozenset[str]) -> str | None:
    """The root name of `root.rel...` / `root.rel[0]` (no calls) going through a relationship."""
    crossed = False
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr in relationships:
            crossed = True
        node = node.value
    return node.id if crossed and isinstance(node, ast.Name) else None


def _eager_path(node: ast.expr, eager: frozenset[str]) -> bool:
    """`root.rel` / `root.rel.rel2`: attributes only, each a relationship loaded eagerly (the
    refresh of `root` reaches no further)."""
    while isinstance(node, ast.Attribute):
        if node.attr not in eager:
            return False
        node = node.value
    return isinstance(node, ast.Name)


def reads(
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    relationships: frozenset[str],
    objects: set[str],
    commit: int,
    response: str | None = None,
    built: frozenset[str] = frozenset(),
    reloaded: Mapping[str, int] | None = None,
    eager: frozenset[str] = frozenset(),
    response_eager: bool = False,
) -> tuple[int, str, str] | None:
    """The first read after line `commit` of an object a relationship of one of `objects`
    (names that may hold ORM instances) led to: (line, what, as words, the name returned when
    the response model is what reads it). `response`: what the
    response model reads through a relationship, for an object returned that is not one of
    `built` (made here: what its relationships hold was written by this transaction).
    `reloaded`: objects refreshed whole after the commit (from that line on), whose `eager`
    relationships the refresh loads again (`book.author.name`); `response_eager`: the response
    model reads only eager relationships the returned object holds itself.

    The synchronous Session expired every object it held on commit (`expire_on_commit=True`),
    also those a relationship of a loaded object led to: `owner = book.author`,
    `first = author.books[0]`, `for b in author.books`, `book.author.name`,
    `[b.title for b in other.books]` read after the commit reloaded their rows. `refresh(book)`
    finds `book.author` in the identity map and leaves its columns as they were, and
    `refresh(author)` repopulates the collection's members inconsistently (members the flush
    wrote may keep the values they had). So such a read returns what the row held before the
    commit (raw SQL, a trigger, a column the database computes) or, where the async sessionmaker
    expires too, raises MissingGreenlet. Relationships that never load (`write_only`, `dynamic`,
    `raise`, `noload`) are left out of `relationships`: what reads them is a query of its own or
    fails in the synchronous code.

    The response model counts: an object returned after the commit whose response model has a
    field named like a relationship, itself a model (`AuthorOut.books: list[BookOut]`), is read
    through that relationship when FastAPI serialises it.

    A relationship the mapper loads eagerly (`lazy="joined"`, `"selectin"`, `"subquery"`; also
    SQLModel's `sa_relationship_kwargs={"lazy": ...}` and `backref("name", lazy=...)`) is loaded
    again by `refresh(book)`, with the same strategy, and the related row's columns with it:
    `book.author.name` (each relationship crossed eager, no subscript) read after the commit is
    no block where phase two refreshes `book` there, when the function loaded `book` with a plain
    Session call of its own and changes no loader strategy (`lazyload(...)` and kin, or any
    `options(...)`: the refresh may not load what that query loaded). The response model's fields
    count the same way (`response_reads`), one hop deep only (`ItemOut.owner`, not
    `UserOut.items[].owner`): where the object returned was refreshed whole after the commit, by
    phase two, by the function itself, or by the helper returning it (`db.commit();
    db.refresh(db_obj); return db_obj`), and nothing the function runs, transitively, changes a
    loader strategy (a refresh applies the options its object was loaded with). Measured on
    SQLAlchemy 2.1 with AsyncSession: an eager relationship is loaded on an object from
    `select()`/`get()`, after `refresh(obj)` (its related rows repopulated even with
    expire_on_commit=False) and on an object loaded before a commit with expire_on_commit=False;
    it raises MissingGreenlet on an object a commit expired, on a new object flushed or committed
    and not refreshed, and through the back-reference of the path (`item.owner.items`, where
    `User.items` back-populates `Item.owner`), whereas a chain of distinct eager relationships
    (`item.owner.team`) is loaded.

    Not detected (may miss): relationships read by an association proxy, by a model property or
    inside a called function; a returned object other than a bare name.
    """
    reloaded = reloaded or {}
    if node is None or not relationships or not objects:
        return None
    nodes = scope_nodes(node)
    stores: dict[str, list[int]] = {}
    for child in nodes:
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            stores.setdefault(child.id, []).append(child.lineno)
    # names bound, before the commit, to what a relationship holds
    related: dict[str, tuple[int, str]] = {}
    for child in nodes:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(child, ast.Assign) and len(child.targets) == 1:
            target, value = child.targets[0], child.value
        elif isinstance(child, (ast.For, ast.AsyncFor)) and (child.end_lineno or child.lineno) < commit:
            target, value = child.target, child.iter
        bound = getattr(child, "lineno", 0)
        if not isinstance(target, ast.Name) or value is None or bound >= commit:
            continue
        root = _through(value, relationships)
        if root is not None and root in objects:
            related[target.id] = (bound, ast.unparse(value))
    found: list[tuple[int, int, str, str]] = []
    for child in nodes:
        line = child.iter.lineno if isinstance(child, ast.comprehension) else getattr(child, "lineno", 0)
        if line <= commit:
            continue
        if isinstance(child, ast.Return) and response and isinstance(child.value, ast.Name) and (
            child.value.id in objects and child.value.id not in built
        ):
            if not (response_eager and reloaded.get(child.value.id, line) < line):
                found.append((
                    line, child.col_offset, f"`{child.value.id}` is returned, and {response} reads it", child.value.id
                ))
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id in related:
            bound, written = related[child.id]
            if not any(bound < at <= line for at in stores.get(child.id, []) if at != bound):
                found.append((line, child.col_offset, f"`{child.id}` (bound to `{written}`) is used", ""))
        elif isinstance(child, ast.Attribute) and child.attr not in _COLLECTION_METHODS:
            root = _through(child.value, relationships)
            if root is not None and root in objects and not _rebound(stores, root, commit, line) and not (
                reloaded.get(root, line) < line and _eager_path(child.value, eager)
            ):
                found.append((line, child.col_offset, f"`{ast.unparse(child)}` is read", ""))
        elif isinstance(child, ast.comprehension) or isinstance(child, (ast.For, ast.AsyncFor)):
            root = _through(child.iter, relationships)
            if root is not None and root in objects and isinstance(child.target, ast.Name) and not _rebound(
                stores, root, commit, line
            ):
                element = child.target.id
                if any(
                    isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == element
                    for n in scope_nodes(child) + [n for n in nodes if getattr(n, "lineno", 0) >= line]
                ):
                    found.append((
                        line, child.iter.col_offset, f"the elements of `{ast.unparse(child.iter)}` are read", ""
                    ))
    if not found:
        return None
    at, _, text, returned = min(found)
    return at, text, returned


def _rebound(stores: dict[str, list[int]], name: str, commit: int, line: int) -> bool:
    """`name` is bound again between the commit and the read: it holds a fresh load."""
    return any(commit < at <= line for at in stores.get(name, []))
