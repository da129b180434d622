"""AM296 unfollowed-session-dependency: the Session comes from a dependency expression phase two cannot rewrite

A route (or a dependency moving with it) receives the synchronous Session through a
`Depends(...)` whose dependency is an expression rather than a function or class:
`Depends(lambda: next(get_db()))`, `Depends(lambda db=Depends(get_db): {"db": db})`,
`Depends(partial(get_db, ...))`, `Depends(make_dependency())`. Phase two moves a parameter to
the async stack by pointing its dependency at the async session dependency; it cannot know what
such an expression gives (the Session, or something built from it), so it would leave the
expression handing over the synchronous Session while the migrated body awaits it (or pair an
`Annotated` alias with the `Depends(...)` default, which FastAPI rejects at start-up). The
route is blocked, naming the parameter and the expression.

Before:

    @router.get("/notes")
    async def list_notes(db: Session = Depends(lambda: next(get_db()))):
        return db.scalars(select(Note)).all()

After:

    # unchanged; the route is blocked naming `db`. Depend on the session dependency itself,
    # which phase two points at the async one:

    @router.get("/notes")
    async def list_notes(db: Session = Depends(get_db)):
        return db.scalars(select(Note)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM296",
    name="unfollowed-session-dependency",
    summary="the Session comes from a dependency expression phase two cannot rewrite",
    fix="depend on the session dependency function itself (`Depends(get_db)`), then run phase two again",
    doc=__doc__,
)
