"""AM282 object-handed-to-template: a route phase two would move renders a template handed what it
loaded (the template's reads are where no analysis follows: MissingGreenlet on an AsyncSession)."""

from __future__ import annotations

import pytest

TEMPLATES = """
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
environment = Environment()
"""

HANDED = {
    "new-style": 'return templates.TemplateResponse(request, "book.html", {"book": book})',
    "old-style": 'return templates.TemplateResponse("book.html", {"request": request, "book": book})',
    "keyword-context": 'return templates.TemplateResponse(request=request, name="book.html", context={"b": book})',
    "local-context": 'context = {"book": book}\n            return templates.TemplateResponse(request, "book.html", context)',
    "computed-value": 'return templates.TemplateResponse(request, "book.html", {"title": book.title.upper()})',
    "jinja-render": 'return HTMLResponse(environment.get_template("book.html").render(book=book))',
    "held-template": 'template = environment.get_template("book.html")\n            '
                     "return HTMLResponse(template.render(book=book))",
}


@pytest.mark.parametrize("shape", list(HANDED))
def test_a_route_rendering_a_template_handed_what_it_loaded_blocks_with_am282(phase2, entry, shape):
    document = phase2(
        """
        from fastapi import Request
        from fastapi.responses import HTMLResponse

        from rendering import environment, templates


        @router.get("/books/{book_id}")
        def show_book(book_id: int, request: Request, db: session_dependency):
            book = db.get(Book, book_id)
            RENDER
        """.replace("RENDER", HANDED[shape]),
        {"rendering.py": TEMPLATES},
    )
    found = entry(document, "show_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM282"]), found
    assert "renders a template handed `" in found["reasons"][0], found["reasons"]
    assert "MissingGreenlet while it renders" in found["reasons"][0], found["reasons"]


def test_a_helper_rendering_the_template_blocks_the_route_that_calls_it(phase2, entry):
    document = phase2(
        """
        from fastapi import Request

        from rendering import templates


        def page(request, book):
            return templates.TemplateResponse(request, "book.html", {"book": book})


        @router.get("/books/{book_id}")
        def show_book(book_id: int, request: Request, db: session_dependency):
            return page(request, db.get(Book, book_id))
        """,
        {"rendering.py": TEMPLATES},
    )
    assert entry(document, "show_book")["action"] == "blocked", entry(document, "show_book")


def test_near_miss_a_template_handed_only_constants_and_the_request_migrates(phase2, entry):
    document = phase2(
        """
        from fastapi import Request

        from rendering import templates


        @router.get("/about")
        def about(request: Request, db: session_dependency):
            db.scalar(select(func.count(Book.id)))
            return templates.TemplateResponse(request, "about.html", {"title": "About", "year": 2026})
        """,
        {"rendering.py": TEMPLATES},
    )
    found = entry(document, "about")
    assert found["action"] == "migrate" and "AM282" not in found["codes"], found
