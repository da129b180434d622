"""Templates rendered by a function phase two moves onto an AsyncSession (AM282).

A template reads whatever attributes of what it is handed (`{{ book.author.name }}`), in
template code no analysis here follows. On a synchronous Session a relationship not loaded
yet, or an attribute a commit expired, loads on first read; on an AsyncSession the same read
raises MissingGreenlet while the template renders, so the migrated route answers 500 where it
answered before. A function rendering a template (`templates.TemplateResponse(request,
"book.html", {"book": book})`, `env.get_template("x.html").render(book=book)`) blocks whenever
it hands the template anything beyond string constants and the request: which attributes the
template reads, and so which eager loads it needs, is for the maintainer to say.
"""

from __future__ import annotations

from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.starlette import REQUEST_TYPES

# Plain helpers followed below a function for the templates they render (`page(request, book)`).
_DEPTH = 4
_UNSEEN = (
    "the template reads attributes the analysis cannot see, and on an AsyncSession a relationship not loaded "
    "yet, or an attribute a commit expired, raises MissingGreenlet while it renders; load what the template "
    "reads first (`selectinload(...)` in the query, `await session.refresh(obj, attribute_names=[...])`) and "
    "migrate the route by hand, or leave it synchronous"
)


def rendered(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, reason) of each template render in `fid` handed more than constants and the request,
    and of each call of a project function rendering one, or calling one that does in turn (one
    taking no Session, which phase two does not judge, still renders what it is handed)."""
    return [(line, f"{what}: {_UNSEEN}") for line, what in template_renders(project, fid)]


def template_renders(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """`rendered` without the advice: (line, "renders a template handed `book`" or "calls page,
    which renders a template handed `book` (line 9)"); `check` reads it for an AsyncSession's objects."""
    found = [(line, f"renders a template handed {_shown(handed)}") for line, handed in _renders(project, fid)]
    seen = {fid}
    for edge in project.all_calls_from[fid]:
        chain = _chain(project, edge.callee, seen, _DEPTH) if edge.callee not in seen else None
        if chain is not None:
            line, handed = _renders(project, chain[-1])[0]
            names = " -> ".join(project.functions[f][1].qualname for f in chain)
            found.append((edge.call.line, f"calls {names}, which renders a template handed {_shown(handed)} "
                          f"(line {line})"))
    return found


def _chain(project: Project, fid: FunctionId, seen: set[FunctionId], depth: int) -> list[FunctionId] | None:
    """The calls from `fid` down to a function rendering a template handed values; None for none."""
    seen.add(fid)
    if _renders(project, fid):
        return [fid]
    for edge in project.all_calls_from[fid] if depth > 1 else ():
        below = _chain(project, edge.callee, seen, depth - 1) if edge.callee not in seen else None
        if below is not None:
            return [fid, *below]
    return None


def _renders(project: Project, fid: FunctionId) -> list[tuple[int, list[str]]]:
    """(line, what it is handed) of each template render of `fid` handed more than constants and
    the request."""
    _, function = project.functions[fid]
    requests = {
        p.name for p in function.params
        if p.name == "request" or any(project.canonical(r) in REQUEST_TYPES for r in p.annotation)
    }
    found = []
    for call in function.calls:
        handed = [value for value in call.rendered or () if value not in requests]
        if handed:
            found.append((call.line, handed))
    return found


def _shown(handed: list[str]) -> str:
    return ", ".join(f"`{value}`" for value in handed[:4]) + (", ..." if len(handed) > 4 else "")
