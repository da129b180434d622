"""Phase two and the objects a route hands a background task (`add_task(send_receipt, item)`): the
task reads them after the response, in the threadpool, where a lazy load on an object an
AsyncSession loaded raises MissingGreenlet. The migrated route is RUN, with its task."""

from __future__ import annotations

from test_phase2_rules import function
from test_phase2_soundness import MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

RELATED_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + '''
    owner: Mapped[User] = relationship()
'''

TASK = """
from fastapi import BackgroundTasks

SENT: list[str] = []


def send_receipt(item: Item) -> None:
    SENT.append(f"{item.name} -> {item.{read}}")


@router.post("/items")
def create_item(name: str, tasks: BackgroundTasks, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    loaded = db.get(Item, item.id)
    tasks.add_task(send_receipt, loaded)
    return {"id": item.id}
"""
RUN = """
status = client.post("/items", params={"name": "pen"}).status_code
from api.items import SENT
print(json.dumps({"status": status, "sent": SENT}))
"""


def _app(service, read: str):  # type: ignore[no-untyped-def]
    return service({SUBSYSTEM: routes(TASK.replace("{read}", read)), "models.py": RELATED_MODELS})


def test_a_task_reading_a_relationship_of_the_object_it_is_handed_blocks_the_route(cli, service):
    # Migrated, send_receipt's item.owner raised MissingGreenlet after the response: no receipt,
    # and nothing said so.
    root = _app(service, "owner.name")
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "create_item")
    assert entry["action"] == "blocked", entry
    reason = " ".join(entry["reasons"])
    assert "item.owner" in reason and "MissingGreenlet" in reason, entry
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item(")
    result = serve(root, "sqlite", RUN)
    assert result == {"status": 200, "sent": ["pen -> Ann"]}, result


def test_near_miss_a_task_reading_columns_only_migrates_and_runs(cli, service):
    root = _app(service, "owner_id")
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "create_item")
    assert entry["action"] == "migrate", entry
    result = serve(root, "sqlite", RUN)
    assert result == {"status": 200, "sent": ["pen -> 1"]}, result
