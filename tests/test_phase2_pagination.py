"""Phase two on routes that hand the Session to fastapi-pagination, with project callbacks and partials.

`apaginate` runs a `transformer=` on the event loop, on the objects it loaded: a project function
handed there (or to any library call: `sorted(key=...)`) reads relationships as the route would.
Each migrated shape is served and its page read back; each blocked one names its cause.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import HEAD, KINDS, SUBSYSTEM, serve, service
from test_phase2_soundness import MODELS as SOUND_MODELS
from test_phase2_unverified_on_loop import EVENTS

__all__ = ["service"]  # the fixture, used by name

# The soundness tests' models, the item's owner a lazy relationship.
MODELS = SOUND_MODELS.replace("mapped_column\n", "mapped_column, relationship\n", 1) + (
    "    owner: Mapped[User] = relationship()\n"
)
PAGED_HEAD = dedent(HEAD).replace("\nrouter = APIRouter()", "") + "\n" + dedent(
    """
    from fastapi_pagination import Page
    from fastapi_pagination.ext.sqlalchemy import paginate
    from sqlalchemy.orm import selectinload

    router = APIRouter()
    """
)
MAIN = """
from fastapi import FastAPI
from fastapi_pagination import add_pagination

from api.items import router

app = FastAPI()
app.include_router(router)
add_pagination(app)
"""


def paged_routes(*parts: str) -> str:
    return PAGED_HEAD + "\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


def owner_names(query: str, handed: str) -> str:
    return dedent(
        f"""
        def owner_names(items):
            return [f"{{i.name}} of {{i.owner.name}}" for i in items]


        @router.get("/owners", response_model=Page[str])
        def owners(db: session_dependency):
            return {handed.format(query=query)}
        """
    )


TRANSFORMER = "paginate(db, {query}, transformer=owner_names)"
KEYED = "[i.name for i in sorted(db.scalars({query}).all(), key=owner_of)]"
METHOD = "paginate(db, {query}, transformer=NAMES.rows)"
OWNER_OF = """
def owner_of(item):
    return item.owner.name


class Names:
    def rows(self, items):
        return [item.owner.name for item in items]


NAMES = Names()
"""


@pytest.mark.parametrize("handed", [TRANSFORMER, METHOD, KEYED])
def test_a_project_function_a_library_call_runs_on_the_loaded_objects_reading_a_relationship_blocks(
    cli, service, handed
):
    # `apaginate(db, q, transformer=owner_names)` calls owner_names (or `NAMES.rows`) on the event loop, and
    # `sorted(..., key=owner_of)` calls owner_of there: each reads `owner`, a lazy load that raises
    # MissingGreenlet. Phase two migrated the route, which then answered 500.
    root = service({
        "models.py": MODELS,
        "main.py": MAIN,
        SUBSYSTEM: paged_routes(OWNER_OF, owner_names("select(Item).order_by(Item.id)", handed)),
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "owners")
    assert (found["action"], found["codes"]) == ("blocked", ["AM220"]), found
    assert "reads relationship Item.owner" in found["reasons"][0]
    assert "selectinload(Item.owner)" in found["reasons"][0]
    assert read(root, SUBSYSTEM) == before


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_transformers_relationship_eager_loaded_migrates_and_serves_the_page(cli, service, kind):
    query = "select(Item).options(selectinload(Item.owner)).order_by(Item.id)"
    root = service({
        "models.py": MODELS,
        "main.py": MAIN,
        SUBSYSTEM: paged_routes(OWNER_OF, owner_names(query, TRANSFORMER)),
    })
    document = apply(cli, root)
    assert handler(document, "owners")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "owners") == dedent(
        f"""
        async def owners(db: async_session_dependency):
            return await apaginate(db, {query}, transformer=owner_names)
        """
    )
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=2), Item(name="cup", owner_id=1)])
            s.commit()
        response = client.get("/owners", params={"size": 1, "page": 2})
        print(json.dumps({"status": response.status_code, "body": response.json()}))
    """)
    assert result["status"] == 200, result
    assert (result["body"]["items"], result["body"]["total"]) == (["cup of Ann"], 2)


def test_a_partial_handed_the_session_blocks_naming_the_call_to_write_out(cli, service):
    # `partial(paginate, db)` called later, and a module-level `partial(count_for, ...)` called
    # with the Session: phase two rewrites neither. The reason said to add `functools.partial`
    # (or the partial's name) to call-mappings, which cannot help.
    root = service({
        "models.py": MODELS,
        "main.py": MAIN,
        SUBSYSTEM: paged_routes(
            """
            def count_for(db, model, owner_id):
                return db.scalar(select(func.count()).select_from(model).where(model.owner_id == owner_id))


            count_items = partial(count_for, model=Item)


            @router.get("/pager", response_model=Page[str])
            def pager(db: session_dependency):
                page = partial(paginate, db)
                return page(select(Item.name).order_by(Item.id))


            @router.get("/count")
            def count(db: session_dependency):
                return {"n": count_items(db, owner_id=1)}
            """
        ).replace("from fastapi_pagination import", "from functools import partial\n\nfrom fastapi_pagination import"),
    })
    document = apply(cli, root)
    bound = handler(document, "pager")
    assert (bound["action"], bound["codes"]) == ("blocked", ["AM215"]), bound
    assert "binds the Session into `functools.partial()` of `fastapi_pagination.ext.sqlalchemy.paginate`" in bound["reasons"][0]
    assert "phase two makes it `await fastapi_pagination.ext.sqlalchemy.apaginate(...)`" in bound["reasons"][0]
    assert "call-mappings" not in bound["reasons"][0]
    made = handler(document, "count")
    assert (made["action"], made["codes"]) == ("blocked", ["AM215"]), made
    assert "`api.items.count_items()`, a `functools.partial` of `api.items.count_for`" in made["reasons"][0]
    assert "call-mappings" not in made["reasons"][0]


# The response model's item reads the item's owner: serialising a page of items loads it.
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerOut


class ItemName(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
"""
PAGED = {
    "inline": ("return paginate(db, select(Item).order_by(Item.id))", "select(Item).order_by(Item.id)"),
    "keyword": ("return paginate(db, query=select(Item).order_by(Item.id))", "select(Item).order_by(Item.id)"),
    "bound": ("stmt = select(Item).order_by(Item.id)\npage = paginate(db, stmt)\nreturn page", "stmt"),
}


def paged_items(body: str, model: str = "ItemOut") -> str:
    route = dedent(
        f"""
        from schemas import ItemName, ItemOut


        @router.get("/page", response_model=Page[{model}])
        def items_page(db: session_dependency):
        """
    )
    return paged_routes(route.rstrip("\n") + "\n" + "\n".join("    " + line for line in body.splitlines()))


SEED_AND_READ = """
    with Sync() as s:
        s.add_all([Item(name="pen", owner_id=2), Item(name="cup", owner_id=1)])
        s.commit()
    response = client.get("/page", params={"size": 1, "page": 2})
    print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(PAGED))
def test_a_page_whose_item_model_reads_a_relationship_gets_the_eager_load_on_the_paginated_select(
    cli, service, shape, kind
):
    # `paginate(db, select(Item))` under `response_model=Page[ItemOut]`, ItemOut reading `owner`:
    # phase two blocked the route (AM222, "not eager-loaded in the route's queries") where it
    # adds the option to any other query of the route. The page's items are the select's objects.
    body, statement = PAGED[shape]
    root = service({"models.py": MODELS, "main.py": MAIN, "schemas.py": SCHEMAS, SUBSYSTEM: paged_items(body)})
    document = apply(cli, root)
    found = handler(document, "items_page")
    assert found["action"] == "migrate", found
    migrated = function(root, SUBSYSTEM, "items_page")
    assert "await apaginate(db, " in migrated, migrated
    option = ".options(selectinload(Item.owner))"
    assert f"{statement}{option}" in migrated if shape != "bound" else f"select(Item).order_by(Item.id){option}" in migrated
    result = serve(root, kind, SEED_AND_READ)
    assert result["status"] == 200, result
    assert (result["body"]["items"], result["body"]["total"]) == ([{"name": "cup", "owner": {"name": "Ann"}}], 2)


def test_near_miss_a_page_whose_items_read_no_relationship_takes_no_option(cli, service):
    root = service({
        "models.py": MODELS, "main.py": MAIN, "schemas.py": SCHEMAS,
        SUBSYSTEM: paged_items(PAGED["inline"][0], model="ItemName"),
    })
    document = apply(cli, root)
    assert handler(document, "items_page")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "items_page") == dedent(
        """
        async def items_page(db: async_session_dependency):
            return await apaginate(db, select(Item).order_by(Item.id))
        """
    )


def test_near_miss_a_transformer_replacing_the_items_leaves_the_page_untraced(cli, service):
    # what `transformer=` hands back is the page's items, not the select's objects: judged as before
    root = service({
        "models.py": MODELS, "main.py": MAIN, "schemas.py": SCHEMAS,
        SUBSYSTEM: paged_items("return paginate(db, select(Item).order_by(Item.id), transformer=list)"),
    })
    found = handler(apply(cli, root), "items_page")
    assert (found["action"], found["codes"]) == ("blocked", ["AM222"]), found


def on_the_loop(document: dict) -> list[str]:
    return [n for n in document["subsystem"]["follow_ups"] if "now runs on the event loop" in n]


@pytest.mark.parametrize("kind", KINDS)
def test_a_page_the_rewrite_awaits_gets_no_follow_up_that_check_reports_it(cli, service, kind):
    # `paginate(db, ...)` becomes `await apaginate(db, ...)`: nothing unverified is left on the
    # loop, and check agrees (the follow-up said "hands the Session to ...paginate ... AM304").
    root = service({
        "models.py": MODELS, "main.py": MAIN, "schemas.py": SCHEMAS,
        SUBSYSTEM: paged_items(PAGED["inline"][0], model="ItemName"),
    })
    document = apply(cli, root)
    assert handler(document, "items_page")["action"] == "migrate"
    assert on_the_loop(document) == [], document["subsystem"]["follow_ups"]
    assert [f["code"] for f in cli.json("check", root)["findings"] if f["code"] == "AM304"] == []
    result = serve(root, kind, SEED_AND_READ)
    assert (result["status"], result["body"]["items"], result["body"]["total"]) == (200, [{"name": "cup"}], 2)


def test_near_miss_a_page_beside_an_unverified_call_names_that_call(cli, service):
    body = 'events.dispatch("paged", "page")\n' + PAGED["inline"][0]
    text = paged_items(body, model="ItemName").replace(
        "from schemas import ItemName, ItemOut", "import events\nfrom schemas import ItemName, ItemOut"
    )
    root = service({"models.py": MODELS, "main.py": MAIN, "schemas.py": SCHEMAS, "events.py": EVENTS, SUBSYSTEM: text})
    document = apply(cli, root)
    assert handler(document, "items_page")["action"] == "migrate"
    (note,) = on_the_loop(document)
    assert "items_page now runs on the event loop" in note and "dispatch -> `handler()`" in note, note
    assert "paginate" not in note, note
    checked = [f["function"] for f in cli.json("check", root)["findings"] if f["code"] == "AM304"]
    assert checked == ["items_page"], checked
