"""AM239 unfollowed-holder-dependency: a class holding the Session comes from a dependency phase two cannot rewrite

A route (or a dependency moving with it) takes an instance of a class whose instances hold
the Session, annotated with the class, from a dependency phase two cannot follow: a
subscript or call that picks the provider at run time (`Depends(PROVIDERS["notes"])`,
`Depends(Provide["notes"])` on a project container, `Depends(make_provider("notes"))`), or a
dependency-injector `Provide[...]` marker; or a class-based view declaring it on the class
(`notes: NoteService = Depends(provide_notes)`), whose dependency phase two does not rewrite
either; or a project dependency that builds it and returns or yields it but gets no async twin
(one taking parameters of its own: `def get_uow(tenant: str = Header()): with UnitOfWork() as
uow: yield uow`). Phase two would
rename the class in the annotation and await its methods, while the dependency still builds
the synchronous class on the synchronous Session: the migrated route fails at run time
(`TypeError: object int can't be used in 'await' expression`). The route is blocked.

Before:

    @router.get("/stats")
    async def stats(notes: Annotated[NoteService, Depends(Provide["notes"])]):
        return {"notes": notes.count()}

After:

    # unchanged; the route is blocked naming `notes`. Inject it through a project dependency
    # phase two can give an async twin:

    def provide_notes(db: DbSession) -> NoteService:
        return NoteService(db)

    @router.get("/stats")
    async def stats(notes: Annotated[NoteService, Depends(provide_notes)]):
        return {"notes": notes.count()}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM239",
    name="unfollowed-holder-dependency",
    summary="a class holding the Session comes from a dependency phase two cannot rewrite",
    fix="inject the class through a project dependency function (`Depends(provide_notes)`) or the class itself (`Depends(NoteService)`), as a parameter of the route",
    doc=__doc__,
)
