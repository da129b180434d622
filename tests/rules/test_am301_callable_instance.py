"""AM301 blocking-session beside an instance of a project class called like a function: Python
runs its class's `__call__` (`counter(3)` on a module-level `counter = Counter()`, `Counter()(3)`,
a local bound to one), which here opens a Session. The call graph had no edge for it, so the
route read as doing no Session work (AM105) and passed `check`."""

from __future__ import annotations

import pytest

COUNTER = """
from sqlalchemy import func, select

from db.engine import database_sessionmaker
from models import Book


class Counter:
    def __call__(self, extra: int) -> int:
        with database_sessionmaker() as session:
            return session.scalar(select(func.count(Book.id))) + extra


class Echo:
    def __call__(self, extra: int) -> int:
        return extra


counter = Counter()
echo = Echo()
"""

ROUTES = """
from counters import Counter, Echo, counter, echo


@router.get("/count")
async def count():
    BODY
"""


@pytest.mark.parametrize("body", [
    "return {'n': counter(3)}",
    "return {'n': Counter()(3)}",
    "tally = Counter()\n    return {'n': tally(3)}",
])
def test_calling_an_instance_whose_call_opens_a_session_blocks(app, findings, reported, body):
    root = app(ROUTES.replace("BODY", body), {"counters.py": COUNTER})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "Counter.__call__" in found[0]["message"], found
    assert reported(root, "count", "phase1")["action"] == "convert"


@pytest.mark.parametrize("body", ["return {'n': echo(3)}", "return {'n': Echo()(3)}"])
def test_near_miss_the_instance_called_does_no_session_work(app, findings, body):
    root = app(ROUTES.replace("BODY", body), {"counters.py": COUNTER})
    assert findings(root, "count") == []
