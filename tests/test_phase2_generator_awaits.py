"""A call that moves to `async def` standing inside a generator expression blocks its route.

Awaited there, the expression becomes an async generator, which `any()`, `sum()` and `list()`
cannot iterate (TypeError at request time). A repository's method, one of a class built in the
route, of a generic repository, or a helper handed the repository, in the element, a condition or
an iterable after the first: each blocks with AM212 and leaves the code as it is, which still runs.
The near misses (the call in a list comprehension, or in the outermost iterable, which runs in
the route itself) migrate, and the migrated code is run on the three databases. The self-check
refuses the `await` the closure misses (a deliberately broken closure).
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, function, handler, read, run
from test_phase2_self_check import assert_refused
from test_phase2_soundness import routes, serve

from async_migrate.codemods.phase2 import closure as closures

service = test_phase2_soundness.service  # the small application on the sync stack
SUBSYSTEM = "api/items.py"

REPOSITORY = """
from typing import Annotated, Generic, TypeVar

T = TypeVar("T")


class ItemRepo:
    def __init__(self, session: Session):
        self.session = session

    def get(self, item_id: int):
        return self.session.get(Item, item_id)

    def of_owner(self, owner_id: int):
        return self.session.scalars(select(Item).where(Item.owner_id == owner_id).order_by(Item.id)).all()

    def add(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.session.add(item)
        self.session.commit()
        return item


class Repository(Generic[T]):
    def __init__(self, session: Session, model: type[T]):
        self.session = session
        self.model = model

    def get(self, obj_id: int):
        return self.session.get(self.model, obj_id)


def get_repo(session: session_dependency) -> ItemRepo:
    return ItemRepo(session)


def get_users(session: session_dependency) -> Repository[User]:
    return Repository(session, User)


RepoDep = Annotated[ItemRepo, Depends(get_repo)]
UsersDep = Annotated[Repository[User], Depends(get_users)]


def lookup(repo: ItemRepo, item_id: int):
    return repo.get(item_id)
"""

BLOCKED = {
    "element": """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            return {"missing": any(repo.get(int(i)) is None for i in ids.split(","))}
    """,
    "built in the route": """
        @router.get("/check")
        def check(ids: str, db: session_dependency):
            repo = ItemRepo(db)
            return {"missing": any(repo.get(int(i)) is None for i in ids.split(","))}
    """,
    "condition": """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            return {"missing": any(True for i in ids.split(",") if repo.get(int(i)) is None)}
    """,
    "second iterable": """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            return {"missing": sum(1 for i in ids.split(",") for item in repo.of_owner(int(i))) == 0}
    """,
    "generic repository": """
        @router.get("/check")
        def check(ids: str, users: UsersDep):
            return {"missing": any(users.get(int(i)) is None for i in ids.split(","))}
    """,
    "helper handed the repository": """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            return {"missing": any(lookup(repo, int(i)) is None for i in ids.split(","))}
    """,
}


@pytest.mark.parametrize("shape", sorted(BLOCKED))
def test_a_moving_call_in_a_generator_expression_blocks_with_am212_and_the_code_still_runs(cli, service, shape):
    root = service({SUBSYSTEM: routes(REPOSITORY, BLOCKED[shape])})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "check")
    assert found["action"] == "blocked", found
    assert "AM212" in found["codes"], found
    assert "inside a generator expression" in " ".join(found["reasons"]), found["reasons"]
    assert read(root, SUBSYSTEM) == before
    result = serve(root, "sqlite", """
        print(json.dumps([client.get("/check", params={"ids": ids}).json() for ids in ("1", "1,9")]))
    """)
    # users 1 and 2 exist, items only once added: the sync code answers as written
    if shape == "generic repository":
        assert result == [{"missing": False}, {"missing": True}]
    else:
        assert result == [{"missing": True}, {"missing": True}]


NEAR_MISSES = {
    "list comprehension": (
        """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            return {"missing": any([repo.get(int(i)) is None for i in ids.split(",")])}
        """,
        'any([await repo.get(int(i)) is None for i in ids.split(",")])',
    ),
    "outermost iterable": (
        """
        @router.get("/check")
        def check(ids: str, repo: RepoDep):
            wanted = {int(i) for i in ids.split(",")}
            return {"missing": not wanted <= set(item.id for item in repo.of_owner(1))}
        """,
        "set(item.id for item in await repo.of_owner(1))",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_miss_the_call_where_await_may_stand_migrates_and_runs(cli, service, shape, kind):
    code, written = NEAR_MISSES[shape]
    root = service({SUBSYSTEM: routes(REPOSITORY, code, """
        @router.post("/items")
        def create_item(name: str, repo: RepoDep):
            return {"id": repo.add(name, 1).id}
    """)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"check": "migrate", "create_item": "migrate"}
    assert written in function(root, SUBSYSTEM, "check")
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "pen"}).json()["id"]
        with Sync() as s:
            stored = s.scalars(select(Item.name)).all()
        answers = [client.get("/check", params={"ids": ids}).json()["missing"] for ids in (str(first), f"{first},999")]
        print(json.dumps({"stored": stored, "answers": answers}))
    """)
    assert result == {"stored": ["pen"], "answers": [False, True]}


def test_self_check_refuses_an_await_the_closure_lets_into_a_generator_expression(cli, service, monkeypatch):
    # The closure "forgets" AM212 for moving calls: the rewrite awaits `repo.get()` in the genexp.
    monkeypatch.setattr(closures, "_awaited_in_generator", lambda *args: None)
    root = service({SUBSYSTEM: routes(REPOSITORY, """
        @router.post("/items")
        def create_item(ids: str, repo: RepoDep):
            return {"missing": any(repo.get(int(i)) is None for i in ids.split(","))}
    """)})
    assert_refused(cli, root, "awaits `repo.get()` inside a generator expression")


def test_self_check_near_miss_an_async_generator_the_code_already_had_is_its_own(cli, service):
    # `async for` over an async generator expression, awaiting a coroutine of the project's:
    # the await is the original's, and the route still migrates for its Session call.
    root = service({SUBSYSTEM: routes("""
        async def double(n: int) -> int:
            return 2 * n
    """, """
        @router.get("/check")
        async def check(db: session_dependency):
            found = [n async for n in (await double(i) for i in [1, 2])]
            return {"found": found, "users": db.scalar(select(func.count(User.id)))}
    """)})
    document = run(cli, root)
    assert handler(document, "check")["action"] == "migrate", handler(document, "check")
