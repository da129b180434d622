"""AM301 on `sessionmakers[tenant].begin()` in an `async def` route, the dict being one of
sessionmakers: built of `sessionmaker(...)` calls, or declared `dict[str, sessionmaker[Session]]`
and filled elsewhere. Its item is a sessionmaker, so `.begin()` opens a synchronous Session on the
event loop: blocking work, named with the helper the route hands the tenant to (a worker's
`recalc(tenant, job_id)` opening its Session the same way). A new-user trial had AM304 ("cannot
type ... annotate the dependency's return type", where no dependency is involved, with the
annotation in place) naming the route's line alone."""

from __future__ import annotations

TENANTS = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engines = {t: create_engine(f"sqlite:///{t}.db") for t in ("acme", "globex")}
sessionmakers: dict[str, sessionmaker[Session]] = {t: sessionmaker(e) for t, e in engines.items()}


def recalc(tenant: str, job_id: int) -> None:
    with sessionmakers[tenant].begin() as db:
        db.execute(text("UPDATE jobs SET status = 'done' WHERE id = :id"), {"id": job_id})
"""
# declared only: what fills it is not read, the annotation says what its items are
DECLARED = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

sessionmakers: dict[str, sessionmaker[Session]] = {}


def install(tenants: list[str]) -> None:
    for t in tenants:
        sessionmakers[t] = sessionmaker(create_engine(f"sqlite:///{t}.db"))


def recalc(tenant: str, job_id: int) -> None:
    with sessionmakers[tenant].begin() as db:
        db.execute(text("UPDATE jobs SET status = 'done' WHERE id = :id"), {"id": job_id})
"""
ROUTE = """
from sqlalchemy import text

import tenants
from tenants import sessionmakers


@router.post("/recalc/{tenant}")
async def recalc_now(tenant: str):
    with sessionmakers[tenant].begin() as db:
        db.execute(text("INSERT INTO jobs (status) VALUES ('queued')"))
    tenants.recalc(tenant, 1)
    return {"ok": True}
"""


def _blocking(found: list[dict]) -> str:
    assert [f["code"] for f in found] == ["AM301"], found
    message = str(found[0]["message"])
    assert "line 16 (sessionmakers[...].begin())" in message, message
    assert "line 18 (tenants.recalc(...))" in message, message  # the helper doing the same
    assert "annotate the dependency's return type" not in message, message
    return message


def test_an_item_of_a_dict_of_sessionmakers_opens_a_session_on_the_loop(app, findings):
    root = app(ROUTE, {"tenants.py": TENANTS})
    _blocking(findings(root, "recalc_now"))


def test_a_dict_declared_of_sessionmakers_is_read_by_its_annotation(app, findings):
    root = app(ROUTE, {"tenants.py": DECLARED})
    _blocking(findings(root, "recalc_now"))


def test_near_miss_an_item_of_a_dict_of_unknown_values_stays_unverified(app, findings):
    # `dict[str, Any]`, filled elsewhere: its items may be anything, a Session among them
    unknown = DECLARED.replace("dict[str, sessionmaker[Session]]", "dict[str, Any]").replace(
        "from sqlalchemy import create_engine, text", "from typing import Any\n\nfrom sqlalchemy import create_engine, text"
    )
    root = app(ROUTE, {"tenants.py": unknown})
    found = findings(root, "recalc_now")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "is called on an item taken by subscript out of `sessionmakers`" in found[0]["message"], found


def test_a_session_opened_by_calling_an_item_is_named_too(app, findings):
    called = ROUTE.replace("with sessionmakers[tenant].begin() as db:", "with sessionmakers[tenant]() as db, db.begin():")
    found = findings(app(called, {"tenants.py": TENANTS}), "recalc_now")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "line 16 (sessionmakers[tenant]())" in found[0]["message"], found
