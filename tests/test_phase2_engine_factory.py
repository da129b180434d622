"""Phase two with a configured async engine factory (`async-engine-factory` in pyproject.toml).

The factory is defined below the sessionmaker, at the bottom of the module, or reads a global
defined after it: the generated `async_engine = make_async_engine()` must run after both, or
importing the application raises NameError. Each shape is migrated with `phase2 --apply` and
then RUN: a request goes through the generated async stack on SQLite (aiosqlite), and the row
is read back through a synchronous Session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import ENGINE, SUBSYSTEM, routes, serve

service = __import__("test_phase2_soundness").service

CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""
FACTORY = """

def make_async_engine():
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(ASYNC_URL)
"""
# name -> the stack module: the factory (and the URL it reads) after the sessionmaker
SHAPES = {
    "factory at the bottom": ENGINE.replace(
        "\nengine = create_engine", '\nASYNC_URL = os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1)'
        "\nengine = create_engine",
    ) + FACTORY,
    "the URL it reads defined after it": ENGINE + FACTORY
    + '\n\nASYNC_URL = os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1)\n',
}
PYPROJECT = '[project]\nname = "x"\n\n[tool.async-migrate]\nasync-engine-factory = "db.engine.make_async_engine"\n'
WRITE = """
status = client.post("/items", params={"name": "pen"}).status_code
with Sync() as s:
    items = list(s.scalars(select(Item.name)).all())
print(json.dumps({"status": status, "items": items}))
"""


@pytest.fixture
def factory_app(service):  # type: ignore[no-untyped-def]
    def build(stack: str):  # type: ignore[no-untyped-def]
        root = service({"db/engine.py": stack, SUBSYSTEM: routes(CREATE)})
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        return root

    return build


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_stack_goes_below_a_factory_defined_further_down_and_the_route_writes(cli, factory_app, shape):
    root = factory_app(SHAPES[shape])
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document
    stack = read(root, "db/engine.py")
    assert "async_engine = make_async_engine()" in stack, stack
    assert stack.index("def make_async_engine") < stack.index("async_engine = make_async_engine()"), stack
    assert stack.index("ASYNC_URL =") < stack.index("async_engine = make_async_engine()"), stack
    result = serve(root, "sqlite", WRITE)
    assert result == {"status": 200, "items": ["pen"]}, result
