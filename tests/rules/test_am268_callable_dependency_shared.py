"""AM268 callable-dependency-shared: a callable instance dependency sharing the route's Session,
also injected where the code stays synchronous, blocks the migrating routes."""

from __future__ import annotations

from rules.test_am267_callable_dependency_moves import ROUTES

OTHER = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.items import quota
from db.engine import get_db_session

router = APIRouter()


@router.post("/v0/books", dependencies=[Depends(quota)])
def add_book_v0(db: Session = Depends(get_db_session)):
    db.commit()
"""


def test_a_callable_instance_also_injected_by_a_route_that_stays_blocks_with_am268(phase2, entry):
    document = phase2(ROUTES, {"api/legacy.py": OTHER})
    found = entry(document, "add_book")
    assert found["action"] == "blocked" and "AM268" in found["codes"], found
    assert "api/legacy.py:" in found["reasons"][found["codes"].index("AM268")]
    assert document["files_changed"] == [] and document["diff"] == ""


def test_near_miss_injected_by_migrating_routes_alone_does_not_block(phase2, entry):
    document = phase2(ROUTES)
    assert "AM268" not in entry(document, "add_book")["codes"]
