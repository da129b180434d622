"""AM330 for the call of an instance whose `__call__` is a coroutine function, outside any
handler: after phase two moved `Access.__call__` to `async def`, a script's `__main__` block
calling `checker(1, db)` (a module-level instance) or `Access(write=True)(1, db)` threw the
coroutine away, and check said no findings. The script holds no marker: it names the class."""

from __future__ import annotations

import pytest

from rules.test_am330_unawaited_coroutine_outside_handlers import DB

ACCESS = """
from fastapi import Depends, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_async_db


class Access:
    def __init__(self, write: bool = False) -> None:
        self.write = write

    async def __call__(self, item_id: int, db: AsyncSession = Depends(get_async_db)) -> int:
        owner = await db.scalar(text("select owner from items where id = :id"), {"id": item_id})
        if self.write and owner != 1:
            raise HTTPException(status_code=403)
        return item_id


class Plain:
    def __init__(self, write: bool = False) -> None:
        self.write = write

    def run(self, db) -> None:
        return None
"""
ROUTE = """
from fastapi import Depends, FastAPI

from app.access import Access

app = FastAPI()


@app.post("/items/{item_id}")
async def edit(item_id: int = Depends(Access(write=True))):
    return {"id": item_id}
"""
HEAD = "from app.access import Access, Plain\nfrom app.db import SessionLocal\n\ndb = SessionLocal()\n"
SCRIPTS = {
    "module-global": HEAD + "checker = Access(write=True)\n\nif __name__ == \"__main__\":\n    checker(1, db)\n",
    "built-in-place": HEAD + "\nif __name__ == \"__main__\":\n    Access(write=True)(1, db)\n",
}
NEAR = {
    "never-called": HEAD + "checker = Access(write=True)\n\nif __name__ == \"__main__\":\n    print(checker.write)\n",
    "class-without-call": HEAD + "plain = Plain()\n\nif __name__ == \"__main__\":\n    plain.run(db)\n    Plain(write=True).run(db)\n",
    "run": HEAD + "import asyncio\n\nif __name__ == \"__main__\":\n    asyncio.run(Access(write=True)(1, db))\n",
}
BASE = {"app/__init__.py": "", "app/db.py": DB, "app/access.py": ACCESS, "app/main.py": ROUTE}


@pytest.mark.parametrize("shape", sorted(SCRIPTS))
def test_a_script_calling_an_instance_of_a_coroutine_call_is_am330(cli, project, shape):
    document = cli.json("check", project({**BASE, "scripts/report.py": SCRIPTS[shape]}))
    (finding,) = [f for f in document["findings"] if f["code"] == "AM330"]
    assert finding["file"] == "scripts/report.py", finding
    assert "app.access.Access.__call__(...)" in finding["message"], finding["message"]


def test_a_unit_test_calling_an_instance_without_running_it_is_am330(cli, project):
    # the test module names the class alone, no marker: read for it
    unit = "from app.access import Access\n\n\ndef test_denied(db):\n    Access(write=True)(2, db)\n"
    document = cli.json("check", project({**BASE, "tests/test_access.py": unit}))
    (finding,) = [f for f in document["findings"] if f["code"] == "AM330"]
    assert finding["file"] == "tests/test_access.py" and finding["line"] == 4, finding


@pytest.mark.parametrize("shape", sorted(NEAR))
def test_near_miss_an_instance_not_called_or_run_is_no_finding(cli, project, shape):
    document = cli.json("check", project({**BASE, "scripts/report.py": NEAR[shape]}))
    assert [f for f in document["findings"] if f["code"] == "AM330"] == []
