"""AM244 session-alias-options-differ: a route parameter typed with a Session alias whose
`Depends()` keywords the async alias does not carry blocks, instead of silently sharing the
request's Session (`use_cache=False` dropped) or closing at another time (`scope=`)."""

from __future__ import annotations

from tests.conftest import DEPENDENCIES

AUDITED = DEPENDENCIES + """
audit_dependency = Annotated[Session, Depends(get_db_session, use_cache=False)]
"""

ROUTES = """
from fastapi import HTTPException

from core.dependencies import audit_dependency
from models import Book


@router.put("/{book_id}")
def retitle(book_id: int, title: str, session: session_dependency, {audit}):
    book = session.get(Book, book_id)
    book.title = title
    if title == "forbidden":
        audit.add(Book(title="denied"))
        audit.commit()
        raise HTTPException(403)
    return {"title": book.title}
"""


def test_an_alias_with_use_cache_false_blocks_with_am244(phase2, entry):
    document = phase2(ROUTES.replace("{audit}", "audit: audit_dependency"), {"core/dependencies.py": AUDITED})
    found = entry(document, "retitle")
    assert found["action"] == "blocked" and "AM244" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM244")]
    assert "parameter `audit` is typed `audit_dependency`, whose `Depends()` has use_cache=False" in reason, reason
    assert "would share the request's Session" in reason, reason


def test_near_miss_a_depends_default_keeps_its_keywords(phase2, entry):
    document = phase2(
        ROUTES.replace("{audit}", "audit: Session = Depends(get_db_session, use_cache=False)").replace(
            "from fastapi import HTTPException", "from fastapi import Depends, HTTPException\n\nfrom db.engine import get_db_session"
        ),
        {"core/dependencies.py": AUDITED},
    )
    found = entry(document, "retitle")
    assert found["action"] == "migrate" and "AM244" not in found["codes"], found


def test_near_miss_an_alias_with_the_same_keywords_migrates(phase2, entry):
    same = DEPENDENCIES + "\nother_dependency = Annotated[Session, Depends(get_db_session)]\n"
    document = phase2(
        ROUTES.replace("{audit}", "audit: other_dependency").replace("audit_dependency", "other_dependency"),
        {"core/dependencies.py": same},
    )
    found = entry(document, "retitle")
    assert found["action"] == "migrate" and "AM244" not in found["codes"], found
