"""`--offload-mixed` on blocking helper calls inside an expression: a walrus in a test
(`if (u := crud.get_user(db, uid)) is None:`), a conditional expression returned
(`return a if crud.get_user(db, uid) else b`), an operand, an argument, a display item.

Each is wrapped where it stands, `await run_in_threadpool(...)`, which keeps what the
expression reads and the order it runs in; a call whose result is the receiver of an
attribute read (`crud.get_user(db, uid).name`) is not (an `await` there would take the
attribute), nor any other call of that helper on its line (reported as one blocking call). The rewritten service is run on each database: the helpers run on a worker
thread, and the routes answer as before.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the small application on the sync stack

CRUD = """
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import User

THREADS: list[str] = []


def get_user(db: Session, user_id: int) -> User | None:
    THREADS.append(threading.current_thread().name)
    return db.get(User, user_id)


def count(db: Session) -> int:
    THREADS.append(threading.current_thread().name)
    return db.scalar(select(func.count(User.id))) or 0
"""
ROUTES = """
import asyncio
import threading

import crud

LOOP: list[str] = []


async def notify() -> None:
    await asyncio.sleep(0)
    LOOP.append(threading.current_thread().name)


@router.get("/walrus/{uid}")
async def walrus(uid: int, db: Session = Depends(get_db_session)):
    await notify()
    if (u := crud.get_user(db, uid)) is None:
        return {"found": False}
    return {"name": u.name}


@router.get("/ternary/{uid}")
async def ternary(uid: int, db: Session = Depends(get_db_session)):
    await notify()
    return {"found": True} if crud.get_user(db, uid) else {"found": False}


@router.get("/operands")
async def operands(db: Session = Depends(get_db_session)):
    await notify()
    total = crud.count(db) + 1
    return {"total": total, "more": [crud.count(db) * 2], "text": f"{crud.count(db)} users", "n": int(crud.count(db))}


@router.get("/receiver/{uid}")
async def receiver(uid: int, db: Session = Depends(get_db_session)):
    await notify()
    return {"name": crud.get_user(db, uid).name, "again": crud.get_user(db, uid) is not None}
"""
CHECK = """
import api.items
import crud

answers = [client.get(path).json() for path in ("/walrus/1", "/walrus/9", "/ternary/2", "/ternary/9", "/operands")]
off_loop = bool(crud.THREADS) and not set(crud.THREADS) & set(api.items.LOOP)
crud.THREADS.clear()
answers.append(client.get("/receiver/2").json())
on_loop = bool(set(crud.THREADS) & set(api.items.LOOP))
print(json.dumps([answers, off_loop, on_loop]))
"""


def _offloaded(cli, root):  # type: ignore[no-untyped-def]
    document = cli.json("phase1", root, "--offload-mixed", "--apply", "--allow-dirty")
    return {h["function"]: h for h in document["handlers"]}


@pytest.mark.parametrize("kind", KINDS)
def test_offload_mixed_wraps_helper_calls_inside_expressions_and_they_run_off_the_loop(cli, service, kind):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES)})
    found = _offloaded(cli, root)
    for name in ("walrus", "ternary", "operands"):
        assert "AM115" in found[name]["codes"] and "AM116" not in found[name]["codes"], found[name]
    text = (root / SUBSYSTEM).read_text()
    for line in (
        "    if (u := await run_in_threadpool(crud.get_user, db, uid)) is None:",
        '    return {"found": True} if await run_in_threadpool(crud.get_user, db, uid) else {"found": False}',
        "    total = await run_in_threadpool(crud.count, db) + 1",
        '    return {"total": total, "more": [await run_in_threadpool(crud.count, db) * 2], '
        '"text": f"{await run_in_threadpool(crud.count, db)} users", "n": int(await run_in_threadpool(crud.count, db))}',
    ):
        assert line in text, text
    # the helpers of the wrapped routes ran off the loop; the receiver's still runs on it
    assert serve(root, kind, CHECK) == [
        [{"name": "Ann"}, {"found": False}, {"found": True}, {"found": False},
         {"total": 3, "more": [4], "text": "2 users", "n": 2}, {"name": "Bob", "again": True}],
        True, True,
    ]


def test_near_miss_a_call_whose_result_is_read_as_a_receiver_is_not_wrapped(cli, service):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES)})
    receiver = _offloaded(cli, root)["receiver"]
    assert "AM115" not in receiver["codes"] and "AM116" in receiver["codes"], receiver
    # nor the other call of the helper on its line: one entry stands for both, off the loop with both or neither
    assert '    return {"name": crud.get_user(db, uid).name, "again": crud.get_user(db, uid) is not None}' in (
        (root / SUBSYSTEM).read_text()
    )
