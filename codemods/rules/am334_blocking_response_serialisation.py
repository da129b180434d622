"""AM334 blocking-response-serialisation: the response's serialisation code does synchronous Session work on the event loop

FastAPI serialises what a route returns on the event loop, for a `def` route as for an `async
def` one: it validates the result into the response model (in the threadpool for a `def` route),
then calls pydantic's serialiser in the event loop itself (`field.serialize`; without a response
model, `jsonable_encoder` dumps a returned pydantic model there too). A computed field, a
`field_serializer` or a `model_serializer` of the response model, of a returned model or of a
model nested in their fields that queries (through a Session a `ContextVar` holds, one it opens)
blocks the loop on every request, and converting the route to `def` does not move it off the
loop. `check` reports such a `def` route, naming the member and its Session work; on an `async
def` route the same work is AM301 (phase one's AM285). Where that code may do Session work the
analysis cannot see (a `ContextVar` set nowhere in the project), the route is unverified:
AM304 (phase one's AM125), never clean. Silence one handler with
`# async-migrate: ignore[AM334] reason`.

Before:

    class UserOut(BaseModel):
        id: int

        @computed_field
        @property
        def post_count(self) -> int:
            return db_ctx.get().scalar(select(func.count(Post.id)).where(Post.author_id == self.id))

    @router.get("/users/{user_id}", response_model=UserOut)
    def read_user(user_id: int, db: Session = Depends(get_db)):
        return db.get(User, user_id)

After:

    class UserOut(BaseModel):
        id: int
        post_count: int

    @router.get("/users/{user_id}", response_model=UserOut)
    def read_user(user_id: int, db: Session = Depends(get_db)):
        user = db.get(User, user_id)
        count = db.scalar(select(func.count(Post.id)).where(Post.author_id == user.id))
        return UserOut(id=user.id, post_count=count)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM334",
    name="blocking-response-serialisation",
    summary="a computed field or serialiser FastAPI runs while serialising the response (on the event loop, "
    "whatever the route is) does synchronous Session work",
    fix="compute the value in the route (or a `def` dependency) with the route's Session and hand it to the model "
    "as a plain field; serialisation code should only read what the object already holds",
    doc=__doc__,
)
