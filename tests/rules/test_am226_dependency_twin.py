"""AM226 dependency-twin: a dependency that shares the route's Session moves with it as an async
twin, so the request keeps one Session."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends

from db.engine import get_db_session


def get_current_user(db: Session = Depends(get_db_session)) -> int:
    return db.scalar(select(func.count(Book.id)))


def get_request_id() -> str:
    return "r"


@router.put("/me")
def rename_me(user: int = Depends(get_current_user), db: Session = Depends(get_db_session)):
    db.commit()
    return {"id": user}


@router.put("/other")
def other(request_id: str = Depends(get_request_id), db: Session = Depends(get_db_session)):
    db.commit()
    return {"id": request_id}
"""


def test_a_dependency_sharing_the_session_gets_a_twin_with_am226(phase2, entry):
    document = phase2(ROUTES)
    assert entry(document, "rename_me")["action"] == "migrate"
    found = entry(document, "get_current_user", "helpers")
    assert found["action"] == "twin" and "AM226" in found["codes"], found


def test_near_miss_a_dependency_without_the_session_stays_as_it_is(phase2, entry):
    document = phase2(ROUTES)
    assert entry(document, "other")["action"] == "migrate"
    assert "get_request_id" not in [h["function"] for h in document["subsystem"]["helpers"]]
