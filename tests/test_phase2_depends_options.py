"""Phase two's async session alias keeps the sync alias's Depends() keywords: `scope="function"`
(the Session closes before the response is sent) and `max_concurrency=N` (at most N Sessions at
once) are how FastAPI runs the dependency. The migrated application is RUN and FastAPI's own
dependency tree read back."""

from __future__ import annotations

from test_phase2_soundness import DEPENDENCIES, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"count": db.scalar(select(func.count(Item.id)))}
"""
READ_BACK = """
status = client.post("/items", params={"name": "pen"}).status_code
from api.items import router
route = next(r for r in router.routes if r.path == "/items")
(dependency,) = route.dependant.dependencies
limit = getattr(dependency, "concurrency", None) is not None
with Sync() as s:
    count = s.scalar(select(func.count(Item.id)))
print(json.dumps({"status": status, "scope": dependency.scope, "limited": limit, "count": count,
                  "name": dependency.call.__name__}))
"""


def _migrate(cli, service, written: str):  # type: ignore[no-untyped-def]
    dependencies = DEPENDENCIES.replace("Depends(get_db_session)", written)
    root = service({SUBSYSTEM: routes(ROUTE), "core/dependencies.py": dependencies})
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert [h["action"] for h in document["handlers"]] == ["migrate"], document["handlers"]
    return root, document


def test_the_async_alias_keeps_scope_and_max_concurrency(cli, service):
    # The async alias was `Depends(get_async_db_session)`: the Session then stayed open until the
    # response was sent, and the limit on concurrent Sessions was gone, with nothing said.
    root, document = _migrate(cli, service, 'Depends(get_db_session, scope="function", max_concurrency=2)')
    text = (root / "core/dependencies.py").read_text()
    assert 'Depends(get_async_db_session, scope="function", max_concurrency=2)]' in text, text
    notes = [note for note in document["subsystem"]["follow_ups"] if "max_concurrency" in note]
    assert len(notes) == 1 and "twice that many Sessions" in notes[0], document["subsystem"]["follow_ups"]
    result = serve(root, "sqlite", READ_BACK)
    assert result == {
        "status": 200, "scope": "function", "limited": True, "count": 1, "name": "get_async_db_session"
    }, result


def test_near_miss_a_plain_depends_stays_plain(cli, service):
    root, _ = _migrate(cli, service, "Depends(get_db_session)")
    assert "Depends(get_async_db_session)]" in (root / "core/dependencies.py").read_text()
    result = serve(root, "sqlite", READ_BACK)
    assert (result["scope"], result["limited"], result["count"]) == (None, False, 1), result
