"""AM330 unawaited-coroutine-outside-handlers: a management command, a worker, a script's own
statements calling a project coroutine function without `await` (a helper moved to AsyncSession
in place while they still call it as before): nothing in it runs and the rows are never written.
`check` reports it rather than leave it out of the all-clear."""

from __future__ import annotations

import pytest

DB = """\
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite:///app.db")
SessionLocal = sessionmaker(bind=engine)
async_engine = create_async_engine("sqlite+aiosqlite:///app.db")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db():
    async with AsyncSessionLocal() as db:
        yield db
"""

CRUD = """\
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def purge(db: AsyncSession) -> int:
    result = await db.execute(text("delete from items where active = 0"))
    await db.commit()
    return result.rowcount
"""

MAIN = """\
from fastapi import Depends, FastAPI

from app import crud
from app.db import get_async_db

app = FastAPI()


@app.post("/purge")
async def purge(db=Depends(get_async_db)):
    return {"purged": await crud.purge(db)}
"""


def build(project, manage):  # type: ignore[no-untyped-def]
    return project({
        "app/__init__.py": "",
        "app/db.py": DB,
        "app/crud.py": CRUD,
        "app/main.py": MAIN,
        "manage.py": manage,
    })


def test_a_command_throwing_the_coroutine_away_is_a_finding(cli, project):
    root = build(project, """\
import typer

from app import crud
from app.db import SessionLocal

cli = typer.Typer()


@cli.command()
def purge() -> None:
    with SessionLocal() as db:
        crud.purge(db)
        if not crud.purge(db):
            typer.echo("nothing")


if __name__ == "__main__":
    with SessionLocal() as db:
        crud.purge(db)
""")
    document = cli.json("check", root)
    assert [(f["code"], f["file"], f["function"], f["line"]) for f in document["findings"]] == [
        ("AM330", "manage.py", "purge", 10),
        ("AM330", "manage.py", "<module>", 19),
    ]
    first, second = (f["message"] for f in document["findings"])
    assert first.startswith(
        "def purge (no route or dependency) calls a coroutine function without `await` at line 12 "
        "(app.crud.purge(...)), line 13 (app.crud.purge(...)), and nothing awaits or runs what it returns"
    ), first
    assert "at line 19 (app.crud.purge(...))" in second
    assert cli("check", root).exit_code == 1


def test_a_pragma_on_the_function_silences_it(cli, project):
    root = build(project, """\
from app import crud
from app.db import SessionLocal


def purge() -> None:  # async-migrate: ignore[AM330] the coroutine is collected by a test double
    with SessionLocal() as db:
        crud.purge(db)
""")
    document = cli.json("check", root)
    assert document["findings"] == []
    assert [s["code"] for s in document["silenced"]] == ["AM330"]


def test_near_miss_the_coroutine_is_run_awaited_kept_or_returned(cli, project):
    root = build(project, """\
import asyncio

from app import crud
from app.db import AsyncSessionLocal


async def _purge() -> int:
    async with AsyncSessionLocal() as db:
        return await crud.purge(db)


def purge_later(db):
    return crud.purge(db)


def purge_kept(db):
    pending = crud.purge(db)
    return pending


def purge() -> None:
    asyncio.run(_purge())


if __name__ == "__main__":
    asyncio.run(_purge())
    print(asyncio.run(purge_later(None)))
""")
    assert cli.json("check", root)["findings"] == []


# Lost without being a statement: kept in a name nothing reads again, or handed to a builtin
# that never runs it (`list(...)`, `len(...)`, `print(...)`).
LOST = """\
import asyncio

from app import crud
from app.db import AsyncSessionLocal, SessionLocal


def kept(db) -> None:
    pending = crud.purge(db)


def kept_twice(db) -> None:
    pending = crud.purge(db)
    pending = crud.purge(db)
    print("done")


def listed(db) -> int:
    return len(list(crud.purge(db)))


def printed(db) -> None:
    print(crud.purge(db))


def measured(db) -> int:
    return len(crud.purge(db))


def awaited_later_in_run(db) -> int:
    pending = crud.purge(db)
    return asyncio.run(pending)


async def gathered() -> None:
    async with AsyncSessionLocal() as db:
        first = crud.purge(db)
        await asyncio.gather(first)


async def tasked() -> None:
    async with AsyncSessionLocal() as db:
        task = asyncio.create_task(crud.purge(db))
        await task


async def awaited() -> None:
    async with AsyncSessionLocal() as db:
        pending = crud.purge(db)
        await pending


def returned(db):
    pending = crud.purge(db)
    return pending


def stored(db, jobs: list) -> None:
    pending = crud.purge(db)
    jobs.append(pending)

"""


def _lost(cli, project) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    document = cli.json("check", build(project, LOST))
    return {
        f["function"]: [b["line"] for b in f["blocking"]] if "blocking" in f else f["message"]
        for f in document["findings"] if f["code"] == "AM330"
    }


@pytest.mark.parametrize("function", ["kept", "kept_twice", "listed", "printed", "measured"])
def test_a_coroutine_kept_unread_or_handed_to_a_builtin_is_am330(cli, project, function):
    found = _lost(cli, project)
    assert function in found, found


@pytest.mark.parametrize(
    "function", ["awaited_later_in_run", "gathered", "tasked", "awaited", "returned", "stored"]
)
def test_near_miss_the_coroutine_is_awaited_scheduled_or_handed_on(cli, project, function):
    assert function not in _lost(cli, project)


# Kept in a name that is read again, but only by what never runs it: printed, measured,
# formatted, tested. Lost as surely as one nothing reads.
IDLE_READS = """\
from app import crud
from app.db import SessionLocal


def printed_later(db) -> None:
    pending = crud.purge(db)
    print(pending)


def measured_later(db) -> int:
    pending = crud.purge(db)
    return len(pending)


def listed_later(db) -> list:
    pending = crud.purge(db)
    return list(pending)


def truth(db) -> bool:
    pending = crud.purge(db)
    return bool(pending)


def formatted(db) -> str:
    pending = crud.purge(db)
    return f"purged {pending}"


def tested(db) -> None:
    pending = crud.purge(db)
    if not pending:
        print("nothing")


def handed_on(db, runner) -> None:
    pending = crud.purge(db)
    print(pending)
    runner.submit(pending)


def returned_after_print(db):
    pending = crud.purge(db)
    print(pending)
    return pending


def kept_in_attribute(db, holder) -> None:
    pending = crud.purge(db)
    if pending:
        holder.job = pending


def shadowed(db) -> None:
    pending = crud.purge(db)
    sorted(pending)


def sorted(value):
    return value
"""


def _idle(cli, project) -> dict[str, str]:  # type: ignore[no-untyped-def]
    document = cli.json("check", build(project, IDLE_READS))
    return {f["function"]: f["message"] for f in document["findings"] if f["code"] == "AM330"}


@pytest.mark.parametrize(("function", "read"), [
    ("printed_later", "print(pending) at line 7"), ("measured_later", "len(pending) at line 12"),
    ("listed_later", "list(pending) at line 17"), ("truth", "bool(pending) at line 22"),
    ("formatted", "{pending} in an f-string at line 27"), ("tested", "pending as a truth test at line 32"),
])
def test_a_coroutine_read_again_only_by_what_never_runs_it_is_am330(cli, project, function, read):
    found = _idle(cli, project)
    assert function in found, found
    assert f"app.crud.purge(...) kept in a name read only by what never runs it: {read}" in found[function]


@pytest.mark.parametrize("function", ["handed_on", "returned_after_print", "kept_in_attribute", "shadowed"])
def test_near_miss_a_read_handing_the_coroutine_on_keeps_it_no_finding(cli, project, function):
    assert function not in _idle(cli, project)


CLIENTS = """\
from typing import Literal, Optional, Union, overload

from sqlalchemy import text

from app.db import AsyncSessionLocal, SessionLocal


class AsyncClient:
    async def purge(self) -> None:
        async with AsyncSessionLocal() as db:
            await db.execute(text("delete from items"))
            await db.commit()


class SyncClient:
    def purge(self) -> None:
        with SessionLocal() as db:
            db.execute(text("delete from items"))
            db.commit()


@overload
def get_client(settings: Optional[dict], sync_client: Literal[False]) -> AsyncClient: ...


@overload
def get_client(*, sync_client: Literal[False] = False) -> AsyncClient: ...


@overload
def get_client(*, sync_client: Literal[True]) -> SyncClient: ...


def get_client(settings: Optional[dict] = None, sync_client: bool = False) -> Union[SyncClient, AsyncClient]:
    return SyncClient() if sync_client else AsyncClient()
"""


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        # the overload taking `sync_client: Literal[True]` declares the synchronous client
        ("get_client(sync_client=True)", []),
        # the same factory selecting its async variant: the coroutine is lost
        ("get_client(sync_client=False)", [("AM330", "purge_all")]),
        ("get_client()", [("AM330", "purge_all")]),
        # a value the call's facts cannot read rules out no overload: the union stands
        ("get_client(sync_client=flag)", [("AM330", "purge_all")]),
    ],
    ids=["sync-variant", "async-variant", "default-variant", "unread-keyword"],
)
def test_a_factory_whose_keyword_selects_a_sync_variant_returns_that_variant(cli, project, call, expected):
    root = project({
        "app/__init__.py": "",
        "app/db.py": DB,
        "app/crud.py": CRUD,
        "app/main.py": MAIN,
        "app/clients.py": CLIENTS,
        "manage.py": f"""\
from app.clients import get_client


def purge_all(flag: bool) -> None:
    client = {call}
    client.purge()
""",
    })
    document = cli.json("check", root)
    assert [(f["code"], f["function"]) for f in document["findings"]] == expected, document["findings"]
