"""Customer reviews."""

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool

import core.dependencies as cd
from schemas.review import ReviewCreate, ReviewOut, ReviewSummary, ReviewWithUser
from services import review_helper

router = APIRouter(tags=["reviews"])


@router.get("/books/{book_id}/reviews", response_model=list[ReviewWithUser])
async def list_book_reviews(book_id: int, session: cd.session_dependency):
    return review_helper.list_reviews_for_book(session, book_id)


@router.get("/books/{book_id}/reviews/summary", response_model=ReviewSummary)
def review_summary(book_id: int, session: cd.session_dependency):
    review_helper.require_book(session, book_id)
    return review_helper.get_review_summary(session, book_id)


@router.post("/books/{book_id}/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED)
async def create_review(
    book_id: int,
    payload: ReviewCreate,
    user: cd.current_user_dependency,
    session: cd.session_dependency,
):
    return review_helper.add_review(session, book_id, user, payload.rating, payload.body)


@router.get("/reviews/mine", response_model=list[ReviewOut])
async def my_reviews(user: cd.current_user_dependency, session: cd.session_dependency):
    return review_helper.list_reviews_by_user(session, user.id)


@router.get("/reviews/{review_id}", response_model=ReviewWithUser)
async def get_review(review_id: int, session: cd.session_dependency):
    review = review_helper.get_review(session, review_id)
    if review is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Review {review_id} not found")
    return review


@router.delete("/reviews/{review_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_review(review_id: int, user: cd.current_user_dependency, session: cd.session_dependency) -> None:
    review = review_helper.get_review(session, review_id)
    if review is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Review {review_id} not found")
    if review.user_id != user.id and not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="You can only delete your own reviews")
    review_helper.delete_review(session, review)


@router.get("/books/{book_id}/reviews/digest", response_model=ReviewSummary)
async def review_digest(book_id: int, session: cd.session_dependency):
    # It awaits, so it stays `async def`; its Session work runs in the threadpool.
    await run_in_threadpool(review_helper.require_book, session, book_id)
    return await run_in_threadpool(review_helper.get_review_summary, session, book_id)
