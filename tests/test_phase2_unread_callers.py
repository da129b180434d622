"""Phase two's soundness: a helper called from a file the pre-pass never reads.

The pre-pass reads a file only when it holds a marker (a Session, a router, `async def`) or a
file it read imports it. A job that imports a helper and calls it (`record("nightly")`) is
neither, so its call was in no call graph: the helper moved in place to `async def`, and the
job's call built a coroutine nobody awaited, its row lost without an error. The helper now
keeps its synchronous original for such a caller (a twin), and the job, RUN after the
migration, still writes; the migrated route writes through the twin.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler, helper
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

from async_migrate.codemods.unread_names import named_in_unread

__all__ = ["service"]  # the fixture, used by name

ITEMS = """
from sqlalchemy.orm import Session

from db.engine import engine
from models import Item


def record(name: str) -> None:
    with Session(engine) as s, s.begin():
        s.add(Item(name=name, owner_id=1))


def tally(name: str) -> None:
    with Session(engine) as s, s.begin():
        s.add(Item(name=name, owner_id=2))
"""
JOB = """
from services.items import record


def main() -> None:
    # tally("x") in a comment names nothing
    record("nightly")
"""
ROUTES = """
@router.post("/record")
async def record_item(name: str):
    record(name)
    return {"ok": True}
""", """
@router.post("/tally")
async def tally_item(name: str):
    tally(name)
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS[:1])
def test_a_helper_a_file_without_markers_calls_keeps_its_sync_original(cli, service, kind):
    source = routes(*ROUTES).replace("router = APIRouter()", "from services.items import record, tally\n\nrouter = APIRouter()")
    root = service({"services/__init__.py": "", "services/items.py": ITEMS, "jobs/__init__.py": "", "jobs/nightly.py": JOB, SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "record_item")["action"] == "migrate"
    twin = helper(document, "record")
    assert twin["action"] == "twin" and "jobs/nightly.py:6" in " ".join(twin["reasons"]), twin
    assert "await record_async(name)" in function(root, SUBSYSTEM, "record_item")
    assert function(root, "services/items.py", "record").startswith("def record(")
    # near miss: named only in a comment there, so it moves in place
    assert helper(document, "tally")["action"] == "migrate"
    assert function(root, "services/items.py", "tally").startswith("async def tally(")
    result = serve(root, kind, """
        import warnings
        warnings.simplefilter("error")
        from jobs.nightly import main as nightly
        nightly()
        answers = [client.post("/record", params={"name": "web"}).json(),
                   client.post("/tally", params={"name": "count"}).json()]
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"answers": answers, "names": names}))
    """)
    assert result == {"answers": [{"ok": True}, {"ok": True}], "names": ["count", "nightly", "web"]}


def test_named_in_unread_reads_words_outside_comments_and_def_lines():
    texts = {
        "a.py": "from x import save\n\ndef save_all():\n    save(1)  # resave\n    get('/items/save', \"save it\")\n",
        "b.py": "def save():\n    pass\n# save\nsaved = 1\n",
    }
    assert named_in_unread(texts, ["save", "load"], texts.__getitem__) == {"save": ["a.py:1", "a.py:4"]}
    assert named_in_unread(texts, ["save"], None) == {"save": ["(source not read)"]}
    assert named_in_unread([], ["save"], texts.__getitem__) == {}
