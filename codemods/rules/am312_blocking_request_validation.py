"""AM312 blocking-request-validation: a validator of a request parameter does synchronous Session work on the event loop

FastAPI validates a request's parameters (the body, query, path, header and cookie values) into
the pydantic models and types the route and its dependencies declare in `solve_dependencies`,
on the event loop, before it calls the route: for a `def` route as for an `async def` one. A
validator that opens a Session or runs a query there (`@field_validator("author_id")` looking
the author up, `Annotated[int, AfterValidator(author_exists)]`, a model nested in the body)
blocks the loop on every request, and converting the route to `def` does not move it to the
threadpool. Phase one leaves the route to its other reasons; `check` reports the route, naming
the parameter, the validator and its Session work. Silence one handler with
`# async-migrate: ignore[AM312] reason`.

Before:

    class BookIn(BaseModel):
        author_id: int

        @field_validator("author_id")
        @classmethod
        def author_exists(cls, value: int) -> int:
            with SessionLocal() as session:
                if session.get(Author, value) is None:
                    raise ValueError("no such author")
            return value

    @router.post("/books")
    def create_book(book: BookIn, db: Session = Depends(get_db)): ...

After:

    class BookIn(BaseModel):
        author_id: int

    def existing_author(book: BookIn, db: Session = Depends(get_db)) -> BookIn:
        if db.get(Author, book.author_id) is None:
            raise HTTPException(422, "no such author")
        return book

    @router.post("/books")
    def create_book(book: BookIn = Depends(existing_author), db: Session = Depends(get_db)): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM312",
    name="blocking-request-validation",
    summary="a pydantic validator FastAPI runs on a request parameter (on the event loop, whatever the route "
    "is) does synchronous Session work",
    fix="move the database check out of the validator into a `def` dependency (run in the threadpool) or the "
    "route body, raising `HTTPException(422, ...)` there",
    doc=__doc__,
)
