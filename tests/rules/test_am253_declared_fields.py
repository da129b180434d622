"""AM253 held-session-blocked: the reason for a class holding the Session in a NamedTuple's or a
pydantic model's field said it was "a class-based view's `Depends()` attribute", sending a
maintainer of a service layer (`class OrderRepo(NamedTuple): db: Session`, a `BaseModel` with
`arbitrary_types_allowed`) to look for a view that is not there. The reason now names what declares
the field and what to write instead; a class-based view's attribute keeps its words."""

from __future__ import annotations

ROUTER = """
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict


class OrderRepo(NamedTuple):
    db: Session

    def count(self) -> int:
        return self.db.scalar(select(func.count(Book.id)))


class AuditLog(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    db: Session

    def count(self) -> int:
        return self.db.scalar(select(func.count(Book.id)))


@router.get("/repo")
def by_repo(db: session_dependency):
    return OrderRepo(db).count()


@router.get("/log")
def by_log(db: session_dependency):
    return AuditLog(db=db).count()
"""


def test_a_named_tuple_field_is_named_as_one(phase2, entry):
    document = phase2(ROUTER)
    route = entry(document, "by_repo")
    assert route["action"] == "blocked", route
    reasons = entry(document, "OrderRepo.count", "helpers")["reasons"]
    assert any("`db` is a NamedTuple field holding the Session" in r for r in reasons), reasons
    assert not any("class-based view" in r for r in reasons), reasons


def test_a_pydantic_model_field_is_named_as_one(phase2, entry):
    document = phase2(ROUTER)
    assert entry(document, "by_log")["action"] == "blocked"
    reasons = entry(document, "AuditLog.count", "helpers")["reasons"]
    assert any("`db` is a pydantic model field holding the Session" in r for r in reasons), reasons
    assert not any("class-based view" in r for r in reasons), reasons
