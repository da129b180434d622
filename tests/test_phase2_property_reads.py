"""Phase two on a class holding the Session whose methods read its properties on `self`, proved by
running.

`def count_via_repo(self): return self.repo.count()` with `repo` a property building
`ItemRepo(self.db)`, or `def doubled(self): return self.total * 2` with `total` a property querying:
reading the property runs it, so the method cannot move without it. The routes calling such a
method stay synchronous naming the property (AM217); a route calling only the class's other
methods migrates onto its parallel async class, and every route answers on every database.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

CLASSES = """
class ItemRepo:
    def __init__(self, db: Session):
        self.db = db

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))


class Catalogue:
    def __init__(self, db: session_dependency):
        self.db = db

    @property
    def repo(self) -> ItemRepo:
        return ItemRepo(self.db)

    @property
    def total(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))

    def count_via_repo(self) -> int:
        return self.repo.count()

    def doubled(self) -> int:
        return self.total * 2

    def add(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item.id
"""

ROUTES = """
@router.get("/items/count")
async def count_items(catalogue: Catalogue = Depends()):
    return {"n": catalogue.count_via_repo()}


@router.get("/items/doubled")
async def doubled_items(catalogue: Catalogue = Depends()):
    return {"n": catalogue.doubled()}


@router.post("/items")
async def add_item(name: str, catalogue: Catalogue = Depends()):
    return {"id": catalogue.add(name)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_methods_reading_a_property_on_self_stay_and_the_others_migrate(cli, service, kind):
    root = service({SUBSYSTEM: routes(CLASSES, ROUTES)})
    document = apply(cli, root)
    counted = handler(document, "count_items")
    assert counted["action"] == "blocked", counted
    assert any("`Catalogue.repo` is a property" in r for r in counted["reasons"]), counted["reasons"]
    doubled = handler(document, "doubled_items")
    assert doubled["action"] == "blocked", doubled
    assert any("`Catalogue.total` is a property" in r for r in doubled["reasons"]), doubled["reasons"]
    assert handler(document, "add_item")["action"] == "migrate"
    text = read(root, SUBSYSTEM)
    assert "async def add_item(name: str, catalogue: CatalogueAsync = Depends()):" in text
    assert "return {\"n\": catalogue.count_via_repo()}" in text
    result = serve(root, kind, """
        added = [client.post("/items", params={"name": n}) for n in ("pen", "cup")]
        counted = client.get("/items/count")
        doubled = client.get("/items/doubled")
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)))
        print(json.dumps({
            "added": [r.status_code for r in added], "count": counted.json(), "doubled": doubled.json(), "names": names,
        }))
    """)
    assert result == {"added": [200, 200], "count": {"n": 2}, "doubled": {"n": 4}, "names": ["cup", "pen"]}
