"""AM267 callable-dependency-moves: a callable instance dependency sharing the route's Session,
injected by migrating routes alone, moves in place as `async def __call__`."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends

from db.engine import get_db_session


class Quota:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, db: Session = Depends(get_db_session)) -> None:
        if db.scalar(select(func.count(Book.id))) > self.limit:
            raise ValueError("quota")


quota = Quota(limit=10)


@router.post("/books", dependencies=[Depends(quota)])
def add_book(db: Session = Depends(get_db_session)):
    db.commit()
"""


def test_a_callable_instance_injected_by_migrating_routes_alone_moves_in_place_with_am267(phase2, entry):
    document = phase2(ROUTES)
    assert entry(document, "add_book")["action"] == "migrate"
    found = entry(document, "Quota.__call__", "helpers")
    assert found["action"] == "migrate" and found["codes"] == ["AM267"], found
    assert "+    async def __call__(self, db: AsyncSession = Depends(get_async_db_session)) -> None:" in document["diff"]


def test_near_miss_a_callable_instance_without_the_session_is_left_alone(phase2, entry):
    document = phase2(ROUTES.replace("db: Session = Depends(get_db_session)) -> None", "n: int = 0) -> None")
                      .replace("db.scalar(select(func.count(Book.id)))", "n"))
    assert entry(document, "add_book")["action"] == "migrate"
    assert "Quota.__call__" not in [h["function"] for h in document["subsystem"]["helpers"]]
