"""Phase two's soundness: relationships read through `operator.attrgetter` and `methodcaller`.

`sorted(items, key=attrgetter("owner.name"))` reads `item.owner.name` on each element, as
`key=lambda i: i.owner.name` does: a lazy load, MissingGreenlet under AsyncSession. Phase two
migrated such routes with no eager load, and they failed on the first request. The reads a
getter makes are now those of the objects it is applied to (the elements `sorted`, `map` and the
like are given with it, or a direct call's argument, also through a local bound to it), and the
query gets its option; a getter handed anywhere else blocks the route by the names it reads. The
routes are RUN after the migration.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("""
    owner: Mapped[User] = relationship()

    def label(self) -> str:
        return f"{self.owner.name}:{self.name}"
""")
ROUTES = """
@router.get("/sorted")
def by_owner(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    return [i.name for i in sorted(items, key=attrgetter("owner.name", "name"))]
""", """
@router.get("/mapped")
def owner_names(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    return list(map(operator.attrgetter("owner.name"), items))
""", """
@router.get("/called")
def called(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    owner_of = attrgetter("owner")
    return [owner_of(i).name for i in items]
""", """
@router.get("/labels")
def labels(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    return list(map(methodcaller("label"), items))
"""
HANDED = """
def ordered(values, key):
    return sorted(values, key=key)


@router.get("/handed")
def handed(db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    return [i.name for i in ordered(items, attrgetter("owner.name"))]
"""
IMPORTS = "import operator\nfrom operator import attrgetter, methodcaller\n"
CALLS = """
    with Sync() as s:
        s.add_all([Item(id=1, name="pen", owner_id=2), Item(id=2, name="ink", owner_id=1)])
        s.commit()
    answers = [client.get(path) for path in ("/sorted", "/mapped", "/called", "/labels")]
    print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""
EXPECTED = [
    [200, ["ink", "pen"]],
    [200, ["Bob", "Ann"]],
    [200, ["Bob", "Ann"]],
    [200, ["Bob:pen", "Ann:ink"]],
]


def _items(*parts: str) -> str:
    return routes(*parts).replace("router = APIRouter()", IMPORTS + "\n\nrouter = APIRouter()")


@pytest.mark.parametrize("kind", KINDS)
def test_a_relationship_read_through_a_getter_is_eager_loaded_and_the_route_runs(cli, service, kind):
    root = service({"models.py": dedent(MODELS), "api/items.py": _items(*ROUTES)})
    assert serve(root, kind, CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name in ("by_owner", "owner_names", "called", "labels"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    migrated = (root / "api/items.py").read_text(encoding="utf-8")
    assert migrated.count(".options(selectinload(Item.owner))") == 4, migrated
    assert serve(root, kind, CALLS) == EXPECTED


def test_a_getter_handed_to_a_helper_blocks_the_route_by_the_names_it_reads(cli, service):
    root = service({"models.py": dedent(MODELS), "api/items.py": _items(HANDED)})
    document = apply(cli, root)
    found = handler(document, "handed")
    assert found["action"] == "blocked", found
    assert any("attrgetter('owner.name')(…).owner" in r and "Item.owner" in r for r in found["reasons"]), found
