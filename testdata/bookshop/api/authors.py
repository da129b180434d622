"""Author endpoints."""

from fastapi import APIRouter, HTTPException, status
from fastapi_pagination import Page
from fastapi_pagination.ext.sqlalchemy import paginate

from core import dependencies as deps
from core.decorators import tagged
from schemas.author import AuthorCreate, AuthorDetail, AuthorOut, AuthorStats
from schemas.book import BookDetail
from services import author_helper, book_helper

router = APIRouter(prefix="/authors", tags=["authors"])


@router.get("", response_model=list[AuthorOut])
@tagged("catalogue")
async def list_authors(session: deps.session_dependency):
    return author_helper.list_authors(session)


@router.get("/page", response_model=Page[AuthorOut])
async def list_authors_page(session: deps.session_dependency):
    return paginate(session, author_helper.authors_query())


async def count_authors(session: deps.session_dependency) -> dict[str, int]:
    return {"count": author_helper.count_authors(session)}


router.add_api_route("/count", count_authors, methods=["GET"])


@router.post("", response_model=AuthorOut, status_code=status.HTTP_201_CREATED)
async def create_author(payload: AuthorCreate, admin: deps.admin_dependency, session: deps.session_dependency):
    return author_helper.create_author(session, payload.name, payload.country, payload.born_year)


@router.get("/{author_id}", response_model=AuthorDetail)
async def get_author(author_id: int, session: deps.session_dependency):
    author = author_helper.get_author(session, author_id)
    if author is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Author {author_id} not found")
    return author


@router.get("/{author_id}/books", response_model=list[BookDetail])
async def get_author_books(author_id: int, session: deps.session_dependency):
    if author_helper.get_author(session, author_id) is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Author {author_id} not found")
    return book_helper.get_books_by_author(session, author_id)


@router.get("/{author_id}/stats", response_model=AuthorStats)
async def get_author_stats(author_id: int, session: deps.session_dependency):
    return author_helper.get_author_stats(session, author_id)


@router.delete("/{author_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_author(author_id: int, admin: deps.admin_dependency, session: deps.session_dependency) -> None:
    author_helper.delete_author(session, author_id)
