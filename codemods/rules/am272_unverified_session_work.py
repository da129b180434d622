"""AM272 unverified-session-work: the route calls something on a value the analysis cannot type, which may be a synchronous Session, so phase two does not migrate it

A Session reached through code the analysis cannot read (`request.state.db`, a value built
outside PATH, a method whose implementations disagree) may be synchronous: phase two cannot
tell what to await, and "does no Session work" would be a false all-clear. The route stays as
it is until the types are visible. A route with Session work of its own is held back too when
a function it calls works on such a value: once the route's Session is an AsyncSession, the value
may be that very Session (an async dependency keeping it on `request.state` or in a context
variable), and a synchronous call on it would never be awaited. So is a route handing a function
that does Session work to code that calls it (`verify_and_create(create_method=store().create_tag)`,
the store's method opening its own Session): the call graph does not follow that call, so phase
two cannot rewrite it, and the route does Session work all the same.

Before:

    @router.post("/users")
    async def create_user(name: str, request: Request):
        db = request.state.db
        db.add(User(name=name))
        db.commit()

After:

    @router.post("/users")
    async def create_user(name: str, db: SessionDep):  # the Session as a typed dependency
        db.add(User(name=name))
        db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM272",
    name="unverified-session-work",
    summary=(
        "the route calls something on a value the analysis cannot type, which may be a "
        "synchronous Session, so phase two does not migrate it"
    ),
    fix="receive the Session from a typed dependency (or annotate the value), then run phase two again",
    doc=__doc__,
)
