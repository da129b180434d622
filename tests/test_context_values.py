"""The Session carried inside plain context values a route never names as a Session.

A dependency builds a context (`RequestContext(db=db, user=user)` as a NamedTuple, a TypedDict,
a dict display, a tuple `db, user`) and the route hands it down to helpers that take it apart:
`db, uid = ctx`, `ctx[0]`, `deps["db"].scalars(...)`, `summary({"db": db})`, `helper(*ctx)`,
`helper(**asdict(ctx))`; or the dependency hands out what it bound to the Session
(`partial(count, db)`, a closure over it, a dict of those) and the route calls it. Each of these
blocked the event loop while `scan` said "does no synchronous Session work" and `check` passed
the `async def` route. The elements and items of a context value whose fields hold the Session
are that Session now (the key or position unread: the join of its fields), a value built from
the Session travels into the unannotated parameters it is handed to (in a display too), and a
call of what code the analysis cannot follow bound to the Session, or an unpacking of a context
into a call's arguments, is unverified.
"""

from __future__ import annotations

import textwrap

CONTEXT = textwrap.dedent(
    """
    import functools
    from dataclasses import dataclass
    from typing import NamedTuple, TypedDict

    from fastapi import Depends
    from sqlalchemy.orm import Session

    from db.engine import get_db_session


    class TaskCtx(NamedTuple):
        db: Session
        user_id: int


    class Deps(TypedDict):
        db: Session
        user_id: int


    class Labels(NamedTuple):
        title: str
        colour: str


    @dataclass
    class Rows:
        db: Session

        def __iter__(self):
            return iter(())


    def get_task_ctx(db: Session = Depends(get_db_session)) -> TaskCtx:
        return TaskCtx(db, 1)


    def get_deps(db: Session = Depends(get_db_session)) -> Deps:
        return {"db": db, "user_id": 1}


    def get_pair(db: Session = Depends(get_db_session)):
        return db, 1


    def get_labels() -> Labels:
        return Labels("a", "red")


    def get_rows(db: Session = Depends(get_db_session)) -> Rows:
        return Rows(db)


    def _count(db, n):
        return db.execute("select 1").scalar() + n


    def get_partial(db: Session = Depends(get_db_session)):
        return functools.partial(_count, db)


    def get_closure(db: Session = Depends(get_db_session)):
        def run(n):
            return db.execute("select 1").scalar() + n
        return run


    def get_table(db: Session = Depends(get_db_session)):
        return {"count": functools.partial(_count, db)}


    def get_formatter():
        return functools.partial(str.upper)
    """
)

HELPERS = textwrap.dedent(
    """
    def counts(task_ctx):
        db, _uid = task_ctx
        return db.scalar("select 1")


    def first(task_ctx):
        db = task_ctx[0]
        return db.scalar("select 1")


    def names(deps):
        return list(deps["db"].scalars("select 1"))


    def for_user(pair):
        db, user = pair
        return db.scalar("select 1")


    def in_display(deps):
        return deps["session"].execute("select 1").scalar()


    def colour(labels):
        title, colour = labels
        return colour.upper()


    def rows(r):
        for row in r:
            return row.get("x")


    def by_keywords(db, user_id):
        return db.scalar("select 1")


    def got(deps):
        db = deps.get("db")
        return db.scalar("select 1")
    """
)

ROUTES = textwrap.dedent(
    """
    from dataclasses import asdict

    from fastapi import APIRouter, Depends

    from core import context, helpers
    from core.context import Deps, Labels, Rows, TaskCtx

    router = APIRouter()


    @router.get("/unpacked")
    async def unpacked(tctx: TaskCtx = Depends(context.get_task_ctx)):
        return helpers.counts(tctx)


    @router.get("/indexed")
    async def indexed(tctx: TaskCtx = Depends(context.get_task_ctx)):
        return helpers.first(tctx)


    @router.get("/keyed")
    async def keyed(deps: Deps = Depends(context.get_deps)):
        return helpers.names(deps)


    @router.get("/keyed-here")
    async def keyed_here(deps: Deps = Depends(context.get_deps)):
        return list(deps["db"].scalars("select 1"))


    @router.get("/pair")
    async def pair(p=Depends(context.get_pair)):
        return helpers.for_user(p)


    @router.get("/display")
    async def display(deps: Deps = Depends(context.get_deps)):
        db = deps["db"]
        return helpers.in_display({"session": db})


    @router.get("/partial")
    async def bound(fn=Depends(context.get_partial)):
        return fn(1)


    @router.get("/closure")
    async def closure(fn=Depends(context.get_closure)):
        return fn(1)


    @router.get("/table")
    async def table(t=Depends(context.get_table)):
        return t["count"](1)


    @router.get("/splat")
    async def splat(tctx: TaskCtx = Depends(context.get_task_ctx)):
        return helpers.by_keywords(*tctx)


    @router.get("/splat-keywords")
    async def splat_keywords(tctx: TaskCtx = Depends(context.get_task_ctx)):
        return helpers.by_keywords(**tctx._asdict())


    @router.get("/got")
    async def got(deps: Deps = Depends(context.get_deps)):
        return helpers.got(deps)


    @router.get("/looped")
    async def looped(deps: Deps = Depends(context.get_deps)):
        for key, value in deps.items():
            if key == "db":
                return value.scalar("select 1")


    @router.get("/copied")
    async def copied(deps: Deps = Depends(context.get_deps)):
        mine = dict(deps)
        return mine["db"].execute("select 1").scalar()


    @router.get("/comprehended")
    async def comprehended(tctx: TaskCtx = Depends(context.get_task_ctx)):
        return [part for part in tctx if hasattr(part, "execute")][0].execute("select 1").scalar()


    # near misses: a context value holding no Session, a class iterating something else,
    # a callable built from no Session
    @router.get("/labels")
    async def labels(lab: Labels = Depends(context.get_labels)):
        return {"c": helpers.colour(lab), "all": helpers.by_keywords(*lab)}


    @router.get("/rows")
    async def rows(r: Rows = Depends(context.get_rows)):
        return helpers.rows(r)


    @router.get("/formatter")
    async def formatter(fmt=Depends(context.get_formatter)):
        return fmt("x")
    """
)

BLOCKING = ("unpacked", "indexed", "keyed", "keyed_here")
UNVERIFIED = (
    "pair", "display", "bound", "closure", "table", "splat", "splat_keywords", "got", "looped", "copied", "comprehended",
)
CLEAN = ("labels", "rows", "formatter")


def _root(project, app_files):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "core/context.py": CONTEXT, "core/helpers.py": HELPERS, "api/__init__.py": "",
        "api/tasks.py": ROUTES,
    })


def test_check_sees_the_session_inside_context_values(cli, project, app_files):
    root = _root(project, app_files)
    found: dict[str, list[dict]] = {}
    for finding in cli.json("check", root)["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    for route in BLOCKING:
        assert [f["code"] for f in found.get(route, [])] == ["AM301"], (route, found.get(route))
    for route in UNVERIFIED:
        assert [f["code"] for f in found.get(route, [])] == ["AM304"], (route, found.get(route))
    message = found["bound"][0]["message"]
    assert "`fn(...)` calls what Depends(get_partial) built from the Session" in message, message
    # no return type says what a function value does: the advice is to hand out a readable object
    for route in ("bound", "closure"):
        advised = found[route][0]["message"]
        assert "annotate the dependency's return type" not in advised, advised
        assert "instance of a project class whose methods do that work" in advised, advised
    assert "`t[\"count\"](...)` calls what Depends(get_table) built" in found["table"][0]["message"]
    assert "unpacks `tctx`, which carries the Session (TaskCtx.db)" in found["splat"][0]["message"]
    assert "built from the Session by Depends(get_pair)" in found["pair"][0]["message"]
    assert "built from the Session by `Deps.get()`" in found["got"][0]["message"]
    for route in CLEAN:
        assert route not in found, found[route]


def test_phase_one_converts_the_routes_doing_work_through_context_values(cli, project, app_files):
    root = _root(project, app_files)
    decided = {h["function"]: h for h in cli.json("phase1", root)["handlers"] if h["kind"] == "route"}
    for route in BLOCKING:
        assert decided[route]["action"] == "convert", decided[route]
    assert "counts -> db.scalar()" in " ".join(decided["unpacked"]["reasons"])
    assert "names -> deps[...].scalars()" in " ".join(decided["keyed"]["reasons"])
    for route in UNVERIFIED:
        assert decided[route]["action"] == "keep" and "AM125" in decided[route]["codes"], decided[route]
    for route in CLEAN:
        assert decided[route]["action"] == "keep" and decided[route]["codes"] == ["AM105"], decided[route]


def test_phase_two_leaves_routes_working_through_context_values_on_the_synchronous_path(cli, project, app_files):
    # After phase one they are `def`: phase two would move them onto the event loop with helpers
    # awaiting nothing, so each stays blocked, naming what it cannot follow.
    root = _root(project, app_files)
    routes = root / "api/tasks.py"
    routes.write_text(routes.read_text().replace("async def", "def"))
    result = cli.json("phase2", root, "--subsystem", "api/tasks.py")
    decided = {h["function"]: h for h in result["handlers"] if h["kind"] == "route"}
    for route in (*BLOCKING, *UNVERIFIED):
        assert decided[route]["action"] == "blocked", decided[route]
    # the reason names the context value's field carrying the Session
    assert "the Session carried in `TaskCtx.db`, a field of a context value" in " ".join(decided["unpacked"]["reasons"])
    assert "the Session carried in `Deps.db`" in " ".join(decided["keyed"]["reasons"])
    assert "api/tasks.py" not in result["files_changed"]


COPIES = textwrap.dedent(
    """
    import dataclasses

    import attrs
    from fastapi import APIRouter, Depends
    from sqlalchemy.orm import Session

    from db.engine import get_db_session

    router = APIRouter()


    @dataclasses.dataclass
    class Ctx:
        db: Session
        user_id: int


    @attrs.define
    class Held:
        db: Session
        user_id: int


    def get_ctx(db: Session = Depends(get_db_session)) -> Ctx:
        return Ctx(db, 1)


    def get_held(db: Session = Depends(get_db_session)) -> Held:
        return Held(db, 1)


    @router.get("/replaced")
    async def replaced(ctx: Ctx = Depends(get_ctx)):
        other = dataclasses.replace(ctx, user_id=2)
        return other.db.scalar("select 1")


    @router.get("/evolved")
    async def evolved(held: Held = Depends(get_held)):
        other = attrs.evolve(held, user_id=2)
        return other.db.scalar("select 1")


    @router.get("/other-session")
    async def other_session(ctx: Ctx = Depends(get_ctx)):
        other = dataclasses.replace(ctx, db=None)
        return other.db.scalar("select 1")
    """
)


def test_a_copy_made_with_dataclasses_replace_or_attrs_evolve_holds_the_session_of_the_original(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/copies.py": COPIES})
    decided = {h["function"]: h for h in cli.json("phase1", root)["handlers"] if h["kind"] == "route"}
    for route in ("replaced", "evolved"):
        assert (decided[route]["action"], decided[route]["codes"]) == ("convert", ["AM124"]), decided[route]
        assert "`other.db.scalar()`" in decided[route]["reasons"][0], decided[route]
    # near miss: the copy is given another value for the Session's field, which the flow does not read
    assert "AM125" in decided["other_session"]["codes"], decided["other_session"]
