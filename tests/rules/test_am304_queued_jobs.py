"""AM304 unverified-session on a call of a job taken out of a queue of work: `enqueue(fn,
**kwargs)` puts `(fn, kwargs)` on a module-level `deque` (or list), and an `async def` drains it
(`job, kwargs = QUEUE.popleft(); job(**kwargs)`, `fn, args = JOBS.pop(0)`, `heapq.heappop`, an
awaited `QUEUE.get()`), or pops from a queue handed in as a parameter. What the queue holds is put
there at run time, so the call graph has no edge: where the project hands on functions doing
synchronous Session work or taking a Session (`enqueue(record, db=db)`), the handler is
unverified, never "no Session work". A queue only ever fed functions doing neither, and a
parameter callable never fed one, stay as they were."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

JOBS = """
import heapq
from collections import deque

from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Book

QUEUE: deque = deque()
JOBS: list = []
HEAP: list = []


def enqueue(fn, **kwargs):
    QUEUE.append((fn, kwargs))


def later(fn, *args):
    JOBS.append((fn, args))
    heapq.heappush(HEAP, (len(HEAP), fn, args))


def record(db: Session, title: str) -> None:
    db.add(Book(title=title))
    db.commit()


def opens(title: str) -> None:
    with database_sessionmaker() as db:
        db.add(Book(title=title))
        db.commit()


def notify(address: str) -> None:
    print(address)
"""

ROUTES = """
import heapq

from jobs import HEAP, JOBS, QUEUE, enqueue, later, notify, opens, record


@router.post("/submit")
def submit(db: session_dependency):
    SUBMIT


@router.post("/drain")
async def drain():
    BODY
    return {"ok": True}
"""

_DEQUE = "while QUEUE:\n        job, kwargs = QUEUE.popleft()\n        job(**kwargs)"
_LIST = "while JOBS:\n        fn, args = JOBS.pop(0)\n        fn(*args)"


@pytest.mark.parametrize(("submit", "body"), [
    # a job taking the route's Session, queued with it
    ("enqueue(record, db=db, title='a')", _DEQUE),
    # a job opening its own Session
    ("enqueue(opens, title='a')", _DEQUE),
    ("later(opens, 'a')", _LIST),
    ("later(record, db, 'a')", "fn, args = JOBS.pop()\n    fn(*args)"),
    ("later(opens, 'a')", "_, fn, args = heapq.heappop(HEAP)\n    fn(*args)"),
])
def test_a_job_out_of_a_queue_the_project_feeds_session_work_is_unverified(app, findings, reported, submit, body):
    root = app(ROUTES.replace("SUBMIT", submit).replace("BODY", body), {"models.py": MODELS, "jobs.py": JOBS})
    found = findings(root, "drain")
    assert [f["code"] for f in found] == ["AM304"], found
    message = found[0]["message"]
    assert "filled at run time" in message, message
    assert "functions doing synchronous Session work or taking a Session" in message, message
    assert ("record" if "record" in submit else "opens") in message, message
    entry = reported(root, "drain", "phase1")
    assert entry["action"] == "keep", entry
    assert "unverified" in " ".join(entry["reasons"]), entry


def test_a_queue_handed_in_as_a_parameter_is_unverified(app, findings):
    router = """
    from collections import deque

    from jobs import enqueue, record


    @router.post("/submit")
    def submit(db: session_dependency):
        enqueue(record, db=db, title="a")


    async def drain(queue: deque) -> None:
        while queue:
            job, kwargs = queue.popleft()
            job(**kwargs)


    @router.post("/drain")
    async def run_drain():
        from jobs import QUEUE

        await drain(QUEUE)
        return {}
    """
    root = app(router, {"models.py": MODELS, "jobs.py": JOBS})
    found = findings(root, "run_drain")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`queue`" in found[0]["message"] and "record" in found[0]["message"], found


def test_an_awaited_get_on_an_asyncio_queue_is_unverified(app, findings):
    router = """
    import asyncio

    from jobs import opens

    WORK: asyncio.Queue = asyncio.Queue()


    @router.post("/submit")
    async def submit():
        await WORK.put((opens, ("a",)))
        return {}


    @router.post("/drain")
    async def drain():
        fn, args = await WORK.get()
        fn(*args)
        return {}
    """
    root = app(router, {"models.py": MODELS, "jobs.py": JOBS})
    found = findings(root, "drain")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`WORK`, filled at run time" in found[0]["message"], found


@pytest.mark.parametrize(("submit", "body"), [
    # only a function doing no Session work is ever queued
    ("enqueue(notify, address='a')", _DEQUE),
    ("later(notify, 'a')", _LIST),
])
def test_near_miss_a_queue_fed_no_session_work_stays_clean(app, findings, reported, submit, body):
    root = app(ROUTES.replace("SUBMIT", submit).replace("BODY", body), {"models.py": MODELS, "jobs.py": JOBS})
    assert findings(root, "drain") == []
    assert reported(root, "drain", "phase1")["action"] == "keep"
    assert "no synchronous Session work" in " ".join(reported(root, "drain", "phase1")["reasons"])


def test_near_miss_a_parameter_callable_never_fed_session_work(app, findings):
    router = """
    from jobs import notify


    async def run_later(fn, *args) -> None:
        fn(*args)


    @router.post("/drain")
    async def drain():
        await run_later(notify, "a")
        return {}
    """
    root = app(router, {"models.py": MODELS, "jobs.py": JOBS})
    assert findings(root, "drain") == []
