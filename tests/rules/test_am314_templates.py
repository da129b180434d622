"""AM314 missing-greenlet, templates: an `async def` route on an AsyncSession hands what it loaded to
a template (directly or through a helper rendering it), whose reads no analysis follows: unverified,
never cleared. Constants and the request alone are no finding."""

from __future__ import annotations

from test_phase2_rules import MODELS

ROUTES = """
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import Item

AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
templates = Jinja2Templates(directory=str(Path(__file__).parent))


def page(request, item):
    return templates.TemplateResponse(request, "item.html", {"item": item})


@router.get("/items/{item_id}")
async def show_item(item_id: int, request: Request):
    async with AsyncSessionLocal() as db:
        item = (await db.scalars(select(Item).where(Item.id == item_id))).one()
        return templates.TemplateResponse(request, "item.html", {"item": item})


@router.get("/items/{item_id}/page")
async def item_page(item_id: int, request: Request):
    async with AsyncSessionLocal() as db:
        return page(request, await db.get(Item, item_id))


@router.get("/about")
async def about(request: Request):
    async with AsyncSessionLocal() as db:
        await db.scalars(select(Item))
        return templates.TemplateResponse(request, "about.html", {"title": "About"})
"""


def test_an_async_session_route_rendering_what_it_loaded_is_unverified_am314(app, findings):
    root = app(ROUTES, {"models.py": MODELS})
    for function, shown in (("show_item", "renders a template handed `item`"),
                            ("item_page", "calls page, which renders a template handed `item`")):
        found = [f for f in findings(root, function) if f["code"] == "AM314"]
        assert len(found) == 1, (function, findings(root, function))
        assert shown in found[0]["message"], found[0]["message"]
        assert "unverified (not cleared)" in found[0]["message"], found[0]["message"]


def test_near_miss_a_template_handed_constants_and_the_request_is_no_finding(app, findings):
    root = app(ROUTES, {"models.py": MODELS})
    assert findings(root, "about") == []
