"""AM311 unawaited-coroutine: an AsyncSession coroutine method a local name holds and a call runs
later without `await` (`finish = db.commit; finish()`, `functools.partial(db.commit)`, a lambda, a loop
over the methods), and one a plain decorator's wrapper calls on the AsyncSession it hands an `async def`.
"""

from __future__ import annotations

import pytest

# The coroutine method held by a local name and called later, and a plain decorator's wrapper
# committing the AsyncSession it hands an `async def`: nothing awaits the commit, nothing is written.
DEFERRED = """
import functools

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.tx import add_entry, add_entry_awaited


async def get_async_db() -> AsyncSession: ...


@router.post("/alias")
async def alias(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    finish = db.commit
    finish()


@router.post("/partial")
async def partial(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    done = functools.partial(db.commit)
    done()


@router.post("/lambda")
async def held_lambda(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    save = lambda: db.commit()  # noqa: E731
    save()


@router.post("/steps")
async def steps(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    for step in [db.flush, db.commit]:
        step()


@router.post("/tx")
async def tx(db: AsyncSession = Depends(get_async_db)):
    await add_entry(db, "x")


@router.post("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    finish = db.commit
    await finish()
    save = lambda: db.commit()  # noqa: E731
    await save()
    finish = print
    finish()
    await add_entry_awaited(db, "x")
"""
TX = """
import functools

from sqlalchemy.ext.asyncio import AsyncSession


def transactional(func):
    @functools.wraps(func)
    def wrapper(db, *args, **kwargs):
        try:
            result = func(db, *args, **kwargs)
            db.commit()
            return result
        except Exception:
            db.rollback()
            raise

    return wrapper


def transactional_async(func):
    @functools.wraps(func)
    async def wrapper(db, *args, **kwargs):
        result = await func(db, *args, **kwargs)
        await db.commit()
        return result

    return wrapper


@transactional
async def add_entry(db: AsyncSession, action: str) -> None:
    db.add(object())


@transactional_async
async def add_entry_awaited(db: AsyncSession, action: str) -> None:
    db.add(object())
"""


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("alias", "(finish(), which runs db.commit())"),
        ("partial", "(done(), which runs db.commit())"),
        ("held_lambda", "(save(), which runs db.commit())"),
        ("steps", "(step(), which runs db.flush())"),
        ("tx", "services/tx.py:11 (db.commit() in the plain wrapper of @transactional around services.tx.add_entry"),
    ],
)
def test_a_session_coroutine_method_held_for_later_or_in_a_plain_wrapper_is_am311(app, findings, route, shown):
    root = app(DEFERRED, {"services/__init__.py": "", "services/tx.py": TX})
    found = findings(root, route)
    # a loop over the methods is also a call of an untyped value (AM304) beside it
    am311 = [f for f in found if f["code"] == "AM311"]
    assert len(am311) == 1 and {f["code"] for f in found} <= {"AM311", "AM304"}, found
    assert shown in am311[0]["message"], found


def test_near_miss_a_held_method_awaited_a_name_bound_otherwise_and_an_async_wrapper_are_no_am311(app, findings):
    root = app(DEFERRED, {"services/__init__.py": "", "services/tx.py": TX})
    assert findings(root, "fine") == []
