"""AM282 object-handed-to-template: a function phase two would move renders a template handed what the analysis cannot follow

A template reads whatever attributes of what it is handed (`{{ book.author.name }}`), in
template code the analysis does not read. On the synchronous Session a relationship not loaded
yet, or an attribute a commit expired, loads on first read; on an AsyncSession the same read
raises MissingGreenlet while the template renders, and the migrated route answers 500. So a
route or helper rendering a template (Starlette's and FastAPI's `templates.TemplateResponse`,
a Jinja2 template's `render`, `render_async`, `generate` or `stream`) handed anything beyond
string constants and the request stays synchronous, naming what it hands the template.

Before:

    @router.get("/books/{book_id}")
    def show_book(book_id: int, request: Request, db: Session = Depends(get_db)):
        book = db.get(Book, book_id)
        return templates.TemplateResponse(request, "book.html", {"book": book})

After:

    # by hand, loading what book.html reads
    @router.get("/books/{book_id}")
    async def show_book(book_id: int, request: Request, db: AsyncSession = Depends(get_async_db)):
        book = await db.get(Book, book_id, options=[selectinload(Book.author)])
        return templates.TemplateResponse(request, "book.html", {"book": book})
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM282",
    name="object-handed-to-template",
    summary="renders a template handed values whose attributes the template reads where the analysis cannot "
    "see: an unloaded relationship or expired attribute raises MissingGreenlet on an AsyncSession",
    fix="load what the template reads first (`selectinload(...)`, `await session.refresh(obj, "
    "attribute_names=[...])`) and migrate the route by hand, or leave it synchronous",
    doc=__doc__,
)
