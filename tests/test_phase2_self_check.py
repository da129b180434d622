"""Phase two's self-check, tested with deliberately broken plans.

Each test breaks one step of the planner or rewriter (monkeypatched in-process,
`--jobs 1`), runs phase two, and asserts that the route the broken step would have
emitted misbehaving code for ends up blocked with the self-check's reason, and
that nothing of it was written. The near miss (the unbroken tool on the same
application) is in tests/rules/test_am223_self_check.py.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import dedent, handler, read, run
from test_phase2_soundness import CURRENT_USER, routes

from async_migrate.codemods.phase2 import closure as closures
from async_migrate.codemods.phase2 import dependencies, plan
from async_migrate.codemods.phase2.rewrites import CallKind

HELPER = """
def store(db: Session, name: str) -> None:
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""
ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    store(db, name)
    db.commit()
    return {"ok": True}
"""


service = test_phase2_soundness.service  # the same small application on the sync stack


@pytest.fixture
def app(service):  # type: ignore[no-untyped-def]
    return service({"api/items.py": routes(HELPER, ROUTE)})


def phase2(cli, root):  # type: ignore[no-untyped-def]
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = run(cli, root, "--apply", "--allow-dirty", "--jobs", "1")
    return document, before


def assert_refused(cli, root, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    document, before = phase2(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    reasons = " | ".join(found["reasons"])
    assert "self-check:" in reasons, reasons
    assert "AM223" in found["codes"], found
    for fragment in fragments:
        assert fragment in reasons, reasons
    assert any(
        b["message"].startswith("self-check:") and b["code"] == "AM223" for b in document["subsystem"]["blockers"]
    )
    # the only route is blocked: nothing is written, not even the async stack
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_an_async_session_reaching_a_sync_session_parameter_blocks_the_route(cli, app, monkeypatch):
    # The closure "forgets" the helper: it stays `def store(db: Session, ...)`.
    monkeypatch.setattr(closures, "_reach", lambda project, start, whole_holders=True: set(start))
    assert_refused(
        cli, app,
        "passes the AsyncSession `db` to api.items.store, whose parameter `db` is a synchronous Session",
    )


def test_a_project_coroutine_called_without_await_blocks_the_route(cli, app, monkeypatch):
    original = plan._plan_calls

    def drop_helper_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for action in fplan.calls.values():
            if action.kind is CallKind.HELPER:
                action.add_await = False

    monkeypatch.setattr(plan, "_plan_calls", drop_helper_await)
    assert_refused(cli, app, "api.items.create_item calls the coroutine function api.items.store without `await`")


def test_a_call_renamed_to_a_twin_nothing_defines_blocks_the_route(cli, app, monkeypatch):
    original = plan._plan_calls

    def rename_helper(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for action in fplan.calls.values():
            if action.kind is CallKind.HELPER:
                action.rename = "store_nowhere"

    monkeypatch.setattr(plan, "_plan_calls", rename_helper)
    assert_refused(cli, app, "calls `store_nowhere()`, which the rewrite introduces and nothing defines")


def test_a_request_left_with_two_sessions_blocks_the_route(cli, service, monkeypatch):
    root = service({
        "api/items.py": routes(
            CURRENT_USER,
            """
            @router.post("/items")
            def create_item(name: str, user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
                db.add(Item(name=name, owner_id=user.id))
                db.commit()
            """,
        )
    })
    monkeypatch.setattr(dependencies, "shared_session_dependencies", lambda project, handler: [])
    assert_refused(cli, root, "dependency api.items.get_current_user receives the synchronous Session too")


def test_only_the_route_reaching_the_broken_code_is_blocked(cli, service, monkeypatch):
    root = service({
        "api/items.py": routes(
            HELPER,
            ROUTE,
            """
            @router.get("/items")
            def list_items(db: session_dependency):
                return list(db.scalars(select(Item.name)).all())
            """,
        )
    })
    original = plan._plan_calls

    def drop_commit_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        _, function = project.functions[fid]
        for call in function.calls:
            if call.method == "commit" and call.index in fplan.calls:
                del fplan.calls[call.index]

    monkeypatch.setattr(plan, "_plan_calls", drop_commit_await)
    document, _ = phase2(cli, root)
    assert handler(document, "create_item")["action"] == "blocked"
    assert handler(document, "list_items")["action"] == "migrate"
    text = read(root, "api/items.py")
    assert "async def list_items" in text
    assert dedent(ROUTE) in text  # left exactly as it was
    assert dedent(HELPER) in text


def _line_of(root, path: str, text: str) -> int:  # type: ignore[no-untyped-def]
    lines = read(root, path).splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_a_self_check_blocker_names_the_offending_calls_line(cli, app, monkeypatch):
    # The import the rewrite adds above the functions moves them: the line must still be
    # the original call's, in the route (`db.commit()` after `store(db, name)`) and in the helper.
    original = plan._plan_calls

    def drop_commit_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        _, function = project.functions[fid]
        for call in function.calls:
            if call.method == "commit" and call.index in fplan.calls:
                del fplan.calls[call.index]

    monkeypatch.setattr(plan, "_plan_calls", drop_commit_await)
    document, _ = phase2(cli, app)
    lines = {
        b["line"] for b in document["subsystem"]["blockers"]
        if b["code"] == "AM223" and "`db.commit()` is a coroutine" in b["message"]
    }
    commits = [n for n, line in enumerate(read(app, "api/items.py").splitlines(), 1) if "db.commit()" in line]
    assert len(commits) == 2
    assert lines == set(commits)
    reasons = " | ".join(handler(document, "create_item")["reasons"])
    assert f"api/items.py:{commits[1]}: self-check:" in reasons
    defs = {_line_of(app, "api/items.py", "def store"), _line_of(app, "api/items.py", "def create_item")}
    assert not lines & defs


def test_a_self_check_blocker_in_a_twin_names_the_originals_call_line(cli, service, monkeypatch):
    # A twin is written after its original: its lines map back onto the original's.
    root = service({
        "api/items.py": routes(
            HELPER,
            ROUTE,
            """
            def sync_caller(db: Session) -> None:
                store(db, "kept")
            """,
        )
    })
    original = plan._plan_calls

    def drop_commit_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        _, function = project.functions[fid]
        if function.name == "store":
            for call in function.calls:
                if call.method == "commit" and call.index in fplan.calls:
                    del fplan.calls[call.index]

    monkeypatch.setattr(plan, "_plan_calls", drop_commit_await)
    document, _ = phase2(cli, root)
    found = [b for b in document["subsystem"]["blockers"] if b["code"] == "AM223"]
    assert found, document["subsystem"]["blockers"]
    helper_commit = _line_of(root, "api/items.py", "    db.commit()")
    assert {b["line"] for b in found} == {helper_commit}
    assert "store_async (phase two's async version of store): `db.commit()`" in found[0]["message"]


def test_an_unawaited_coroutine_of_a_transaction_from_the_session_blocks_the_route(cli, service, monkeypatch):
    root = service({
        "api/items.py": routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                sp = db.begin_nested()
                db.add(Item(name=name, owner_id=1))
                sp.rollback()
                db.commit()
            """,
        )
    })
    original = plan._plan_calls

    def drop_rollback_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        _, function = project.functions[fid]
        for call in function.calls:
            if call.receiver == "sp" and call.index in fplan.calls:
                del fplan.calls[call.index]

    monkeypatch.setattr(plan, "_plan_calls", drop_rollback_await)
    assert_refused(cli, root, "`sp.rollback()` is a coroutine on the object the AsyncSession returned and is not awaited")


def test_a_file_whose_rewrite_fails_is_named_in_the_errors_and_its_routes_stay(cli, app, monkeypatch):
    from async_migrate.codemods.phase2 import rewrite

    original = rewrite.apply

    def fail_on_routes(module, module_facts, file_plan):  # type: ignore[no-untyped-def]
        if module_facts.path == "api/items.py":
            raise ValueError("cannot rewrite this chain")
        return original(module, module_facts, file_plan)

    monkeypatch.setattr(rewrite, "apply", fail_on_routes)
    before = {p: p.read_bytes() for p in app.rglob("*.py")}
    document = cli.json("phase2", app, "--subsystem", "api/items.py", "--apply", "--allow-dirty", "--jobs", "1")
    assert handler(document, "create_item")["action"] == "blocked"
    assert [e["file"] for e in document["errors"]] == ["api/items.py"], document["errors"]
    assert "cannot rewrite this chain" in document["errors"][0]["message"]
    assert {p: p.read_bytes() for p in app.rglob("*.py")} == before


def test_near_miss_a_rewrite_that_succeeds_reports_no_error(cli, app):
    document, _ = phase2(cli, app)
    assert (handler(document, "create_item")["action"], document["errors"]) == ("migrate", [])


def test_a_method_called_straight_on_a_connection_from_the_session_blocks_the_route(cli, service, monkeypatch):
    from async_migrate.codemods.phase2 import derived

    root = service({
        "api/items.py": routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                db.connection().begin()
                db.commit()
            """,
        )
    })
    # The closure "forgets" the chained call (AM258): the self-check still refuses it.
    monkeypatch.setattr(derived, "chained", lambda *args: [])
    assert_refused(cli, root, "calls `.begin()` straight on `db.connection()`")


CHAINED = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    n = db.connection().execute(update(Item).values(name=name)).rowcount
    db.commit()
    return {"n": n}
"""


def _drop_connection_await(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    original = plan._plan_calls

    def drop(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for call in project.functions[fid][1].calls:
            if call.receiver == "db" and call.method == "connection":
                fplan.calls.pop(call.index, None)

    monkeypatch.setattr(plan, "_plan_calls", drop)


@pytest.mark.parametrize("broken, fragment", [
    # `(await db.connection()).execute(...)`: the coroutine `execute()` returns is never awaited,
    # while the planner's own decision on the original code says it is.
    ("method", "calls `.execute()` straight on `db.connection()`, a coroutine on the AsyncConnection the "
               "AsyncSession returned, and does not await it"),
    # `await db.connection().execute(...)`: `.execute` looked up on the coroutine `connection()` returns.
    ("session", "calls `.execute()` straight on `db.connection()`, a coroutine on AsyncSession that is not "
                "awaited under it"),
])
def test_a_method_called_straight_on_the_sessions_connection_left_unawaited_blocks_the_route(
    cli, service, monkeypatch, broken, fragment
):
    from async_migrate.codemods.phase2.rewrites import session_methods

    source = routes(CHAINED).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, update")
    root = service({"api/items.py": source})
    if broken == "method":
        monkeypatch.setattr(session_methods, "chained_awaited", lambda *args: False)
    else:
        _drop_connection_await(monkeypatch)
    assert_refused(cli, root, fragment)


def test_an_alias_placed_above_the_dependency_it_names_blocks_the_routes(cli, service, monkeypatch):
    # The stack codemod as it was: the alias right below the sync alias, and so above the async
    # dependency when a late import pushes the stack further down.
    from async_migrate.codemods.phase2 import stack_codemods

    anchor_only = stack_codemods._StackCommand.position
    monkeypatch.setattr(stack_codemods.AddAsyncAlias, "position", staticmethod(
        lambda module, names: anchor_only(module, list(names)[:1])
    ))
    root = service(test_phase2_soundness.LATE_IMPORT)
    assert_refused(
        cli, root, "the rewrite puts `async_session_dependency = ...` (line 23) above `get_async_db_session` (line 60), "
        "which it names and the module defines further down: importing the module would fail",
    )


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [
        ("factory at the bottom", "`async_engine = ...` (line 13) above `make_async_engine` (line 30), which it calls "
         "and the module defines further down: importing the module would fail"),
        ("the URL it reads defined after it", "`async_engine = ...` (line 12) above `ASYNC_URL` (line 35), which the "
         "module defines further down and `make_async_engine()`, called by it, reads: importing the module would fail"),
    ],
)
def test_an_engine_placed_above_the_factory_it_calls_blocks_the_routes(cli, service, monkeypatch, shape, fragment):
    # The stack codemod as it was: below the sessionmaker, whatever the configured factory's place.
    import test_phase2_engine_factory as factories

    from async_migrate.codemods.phase2 import stack_codemods

    monkeypatch.setattr(stack_codemods._StackCommand, "needed", lambda self, module, statements: [])
    root = service({"db/engine.py": factories.SHAPES[shape], "api/items.py": routes(factories.CREATE)})
    (root / "pyproject.toml").write_text(factories.PYPROJECT, encoding="utf-8")
    assert_refused(cli, root, fragment)


def test_a_dependency_renamed_to_a_twin_nothing_imports_blocks_the_routes(cli, service, monkeypatch):
    # The planner as it was: a twin dependency reached through a package re-export renamed in the
    # route's `Depends(...)` without an import of the twin.
    import test_phase2_holders as holders_tests

    monkeypatch.setattr(plan, "_imported", lambda module, home, name, same: None)
    root = service({
        "repos/__init__.py": "from repos.items import ItemRepo, ItemService, get_repo\n",
        "repos/items.py": holders_tests.REPO_MODULE,
        "api/items.py": routes(holders_tests.ROUTES).replace(
            "from models import Item, User", "from models import Item, User\nfrom repos import ItemRepo, ItemService, get_repo"
        ),
        "api/admin.py": holders_tests.OTHER_MODULE.replace("from api.items import", "from repos import"),
        "main.py": holders_tests.TWO_ROUTERS,
    })
    document, before = phase2(cli, root)
    found = handler(document, "add_unsaved")
    assert found["action"] == "blocked", found
    assert "parameter `repo` depends on `get_repo_async`, which the rewrite introduces and nothing defines" in " ".join(
        found["reasons"]
    ), found["reasons"]


def test_a_call_handed_to_a_scheduler_and_awaited_in_place_blocks_the_route(cli, service, monkeypatch):
    # The closure "forgets" AM277 and the rewrite awaits every helper call, `gather`'s argument too.
    monkeypatch.setattr(closures, "_concurrent_use", lambda *args: None)
    original = plan._plan_calls

    def await_helpers(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for action in fplan.calls.values():
            if action.kind is CallKind.HELPER:
                action.add_await = True

    monkeypatch.setattr(plan, "_plan_calls", await_helpers)
    root = service({"api/items.py": routes(
        """
        import asyncio


        async def store(db: Session, name: str) -> None:
            db.add(Item(name=name, owner_id=1))
            db.commit()
        """,
        """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            await asyncio.gather(store(db, name))
            return {"ok": True}
        """,
    )})
    assert_refused(cli, root, "create_item: awaits a call it hands to `asyncio.gather()`, which needs the coroutine itself")


def test_an_application_module_made_to_import_from_the_tests_blocks_the_routes(cli, service, monkeypatch):
    # The stack analysis as it was: a sessionmaker of tests/conftest.py taken for the stack, the async
    # stack generated there and the application's dependencies importing it from the tests.
    import test_phase2_stack_extras as extras

    from async_migrate.codemods.phase2 import async_stack

    monkeypatch.setattr(async_stack, "is_test_path", lambda path: False)
    # and, as then, no dependency's `Session(engine)` a candidate beside the tests' sessionmaker
    monkeypatch.setattr(async_stack._Analysis, "_session_class_dependencies", lambda self, group: [])
    root = service({
        "db/engine.py": extras.SESSION_CLASS_ENGINE,
        "tests/__init__.py": "", "tests/conftest.py": extras.TEST_SESSIONMAKER, "api/items.py": routes(HELPER, ROUTE),
    })
    # The generated alias goes beside the dependency in the tests (conftest imports the application,
    # and core/dependencies.py importing from it would close a cycle): the router imports from the tests.
    assert_refused(
        cli, root, "api/items.py: self-check: the rewrite makes api/items.py import from the test "
        "module `tests.conftest` (line 7): the application would import its tests",
    )


@pytest.mark.parametrize("handed", [
    "asyncio.gather(store(db, name), store(db, name))",
    "asyncio.gather(*[store(db, name) for _ in range(2)])",
])
def test_a_session_coroutine_run_concurrently_blocks_the_route(cli, service, monkeypatch, handed):
    # The closure "forgets" AM277: the rewrite hands two coroutines on one AsyncSession to `gather`.
    monkeypatch.setattr(closures, "_concurrent_use", lambda *args: None)
    root = service({"api/items.py": routes(
        """
        import asyncio


        async def store(db: Session, name: str) -> None:
            db.add(Item(name=name, owner_id=1))
            db.commit()
        """,
        f"""
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            await {handed}
            return {{"ok": True}}
        """,
    )})
    assert_refused(
        cli, root, "create_item: hands `api.items.store()`, given the AsyncSession `db`, to `asyncio.gather()`"
    )


def test_a_held_async_session_method_handed_uncalled_to_a_task_group_blocks_the_route(cli, service, monkeypatch):
    # The closure "forgets" AM277: the rewrite hands a method of the object holding the
    # AsyncSession, uncalled, to a task group that runs it beside the route.
    monkeypatch.setattr(closures, "_concurrent_use", lambda *args: None)
    root = service({"api/items.py": routes(
        """
        import anyio


        class Store:
            def __init__(self, db: Session):
                self.db = db

            async def save(self) -> None:
                self.db.add(Item(name="x", owner_id=1))
                self.db.commit()
        """,
        """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            store = Store(db)
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.save)
            return {"ok": True}
        """,
    )})
    assert_refused(
        cli, root, "create_item: hands `store.save`, working on the AsyncSession its instance holds, uncalled to "
        "`tg.start_soon()`"
    )


def test_an_async_session_method_kept_as_a_value_blocks_the_route(cli, service, monkeypatch):
    # The closure "forgets" AM257: the rewrite leaves `run = db.scalar` and `run(...)` unawaited.
    monkeypatch.setattr(closures, "_session_method", lambda expr, names: False)
    root = service({"api/items.py": routes(
        """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            run = db.scalar
            return {"n": run(select(func.count(Item.id)))}
        """,
    )})
    assert_refused(cli, root, "create_item: takes `db.scalar` as a value, a coroutine method on AsyncSession")


def test_an_import_shadowed_by_the_modules_own_definition_blocks_the_route(cli, service, monkeypatch):
    # The rewrite as it was: the async dependency imported under its own name, which the
    # module's `def get_async_db_session` further down binds again.
    from async_migrate.codemods.phase2 import rewrite

    monkeypatch.setattr(rewrite, "free_dependency", lambda module, functions, names: (functions, names))
    own = """
    def get_async_db_session():
        return "not a session"
    """
    root = service({"api/items.py": routes(own, HELPER, ROUTE.replace("db: session_dependency", "db: Session = Depends(get_db_session)"))})
    text = read(root, "api/items.py")
    line = 1 + text.splitlines().index("def get_async_db_session():")
    assert_refused(
        cli, root, "the rewrite imports `get_async_db_session` (`from db.engine import get_async_db_session`), but "
        f"the module binds `get_async_db_session` itself too: `def get_async_db_session` (line {line})",
    )
