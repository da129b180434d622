"""Phase two on a route that declares a response model but returns a Response.

aim's `get_active_runs_api` declares `response_model=RunActiveOut` and returns
`StreamingResponse(streamer)`: FastAPI sends a Response as it is and validates nothing into the
model, so the model's relationships are read on no object. The model was walked all the same, as
if the route returned what it loaded (a lazy load while the response is serialised). A route whose
every return is a Response built there (a Starlette or FastAPI class, a project subclass, through a
local bound to it) now reads nothing through its model: the query gets no eager load for it. The
routes are RUN before and after the migration.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('owner: Mapped[User] = relationship()')
SCHEMAS = """
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerOut


class Text(PlainTextResponse):
    media_type = "text/plain"
"""
ROUTES = """
@router.get("/streamed", response_model=ItemOut)
def streamed(db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == 1)).one()
    return StreamingResponse(iter([item.name]))
""", """
@router.get("/bound", response_model=ItemOut)
def bound(db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == 2)).one()
    response = PlainTextResponse(item.name)
    return response
""", """
@router.get("/subclass", response_model=ItemOut)
def subclass(db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == 1)).one()
    return Text(item.name)
"""
CALLS = """
    with Sync() as s:
        s.add_all([Item(id=1, name="pen", owner_id=2), Item(id=2, name="ink", owner_id=1)])
        s.commit()
    answers = [client.get(path) for path in ("/streamed", "/bound", "/subclass")]
    print(json.dumps([[a.status_code, a.text] for a in answers]))
"""
EXPECTED = [[200, "pen"], [200, "ink"], [200, "pen"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_returning_a_response_gets_no_eager_load_for_its_model_and_runs(cli, service, kind):
    items = routes(*ROUTES).replace("router = APIRouter()", dedent(SCHEMAS) + "\n\nrouter = APIRouter()")
    root = service({"models.py": dedent(MODELS), "api/items.py": items})
    assert serve(root, kind, CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name in ("streamed", "bound", "subclass"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    migrated = (root / "api/items.py").read_text(encoding="utf-8")
    assert "selectinload" not in migrated, migrated
    assert serve(root, kind, CALLS) == EXPECTED
