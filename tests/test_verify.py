"""`verify`: the HTTP contract, the runtime guard and the static re-check, on real git repositories.

The tiny service in verify_app.py is committed as the before side; each test changes one
thing in the working tree (the after side) and runs `async-migrate verify` on it.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import git
import pytest
from conftest import write_tree
from fastapi import APIRouter, FastAPI, WebSocket
from gitrepos import init_repo
from sqlalchemy.orm import Session
from verify_app import TESTS, service

import async_migrate.codemods.verify.guard as guard_module
from async_migrate.codemods.verify.contract import Difference, compare


@pytest.fixture
def repo_app(tmp_path: Path) -> Path:
    root = tmp_path / "svc"
    init_repo(root, service())
    touch_working_tree(root)
    return root


def touch_working_tree(root: Path) -> None:
    """A change of no consequence in the working tree: verify refuses a before side that is the
    same code as the after side (it would compare nothing)."""
    with (root / "main.py").open("a", encoding="utf-8") as handle:
        handle.write("# the working tree\n")


def run_verify(cli, root: Path, *args: str) -> tuple[int, dict]:
    result = cli("verify", root, "--app", "main:app", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def worktrees(root: Path) -> str:
    return subprocess.run(["git", "-C", str(root), "worktree", "list"], check=False, capture_output=True, text=True).stdout


# ------------------------------------------------------------------ the whole run


def test_unchanged_service_passes_every_proof(cli, repo_app: Path) -> None:
    code, document = run_verify(cli, repo_app)
    assert code == 0, document
    assert document["ok"] is True
    assert document["contract"] == {"status": "pass", "routes": 4, "differences": []}
    tests = document["tests"]
    assert tests["status"] == "pass" and tests["counts"] == {"passed": 4}
    # The awaited AsyncSession calls of POST /notes run in SQLAlchemy's greenlet: not blocking.
    assert tests["failures"] == [] and tests["acknowledged"] == []
    assert tests["guard"] == {"starlette": True, "sqlalchemy": True, "blockbuster": True, "never-awaited": True}
    assert document["check"]["status"] == "pass"
    assert document["against"]["rev"] == "HEAD"
    assert len(worktrees(repo_app).strip().splitlines()) == 1  # the before worktree is gone


# ------------------------------------------------------------------ contract regressions


def test_changed_status_code_is_a_difference(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", 'response_model=ItemOut, status_code=201)\ndef create_item',
         'response_model=ItemOut, status_code=200)\ndef create_item')
    code, document = run_verify(cli, repo_app, "--no-tests")
    assert code == 1 and document["ok"] is False
    found = {(d["route"], d["what"]) for d in document["contract"]["differences"]}
    assert ("POST /items", "response 201") in found
    assert ("POST /items", "response 200") in found
    assert document["tests"] == {"status": "skipped"}


def test_dropped_auth_dependency_is_a_difference(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", "payload: ItemIn, user: Annotated[User, Depends(get_current_user)], session",
         "payload: ItemIn, session")
    code, document = run_verify(cli, repo_app, "--no-tests")
    assert code == 1
    differences = [d for d in document["contract"]["differences"] if d["what"] == "dependency"]
    assert differences == [
        {"route": "POST /items", "what": "dependency", "before": "deps.get_current_user", "after": "(none)"}
    ]


def test_async_twin_of_a_dependency_is_the_same_dependency(cli, repo_app: Path) -> None:
    # Phase two's move: the route and its auth dependency both go to the async stack.
    edit(repo_app, "api/items.py",
         "def create_item(payload: ItemIn, user: Annotated[User, Depends(get_current_user)], session: session_dependency):",
         "async def create_item(payload: ItemIn, user: Annotated[User, Depends(get_current_user_async)], "
         "session: async_session_dependency):")
    edit(repo_app, "api/items.py", "    session.commit()\n    return item\n\n\n@router.post(\"/notes\"",
         "    await session.commit()\n    return item\n\n\n@router.post(\"/notes\"")
    code, document = run_verify(cli, repo_app)
    assert document["contract"]["differences"] == []
    assert document["tests"]["status"] == "pass", document["tests"]
    assert code == 0


def test_changed_response_model_is_a_difference(cli, repo_app: Path) -> None:
    edit(repo_app, "schemas.py", "    id: int\n    name: str\n", "    id: int\n    name: str\n    label: str = ''\n")
    code, document = run_verify(cli, repo_app, "--no-tests")
    assert code == 1
    routes = {d["route"] for d in document["contract"]["differences"]}
    assert routes == {"GET /items", "POST /items", "POST /notes"}
    one = next(d for d in document["contract"]["differences"] if d["route"] == "POST /items")
    assert one["what"] == "response 201 .content.application/json.schema.properties.label"
    assert one["before"] == "(none)"


# ------------------------------------------------------------------ runtime guard regressions


def test_route_left_async_with_sync_session_is_caught_blocking(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", "def list_items(session", "async def list_items(session")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1
    failures = document["tests"]["failures"]
    assert [f["test"] for f in failures] == ["tests/test_api.py::test_create_and_list"]
    events = failures[0]["guard"]
    assert {e["kind"] for e in events} == {"blocking"}
    assert any(e["where"].startswith("api/items.py:") and e["where"].endswith("in list_items") for e in events)
    assert {e["request"] for e in events} == {"GET /items"}
    assert any(call.startswith("SQL execute (SELECT)") for e in events for call in e["calls"])
    # check sees it statically as well.
    assert [f["function"] for f in document["check"]["findings"]] == ["list_items"]


def test_pragma_acknowledges_blocking_without_failing(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", '@router.get("/items", response_model=list[ItemOut])\ndef list_items(session',
         '# async-migrate: ignore[blocking-session] kept async on purpose\n'
         '@router.get("/items", response_model=list[ItemOut])\nasync def list_items(session')
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 0, document["tests"]
    acknowledged = document["tests"]["acknowledged"]
    assert acknowledged and {e["acknowledged"] for e in acknowledged} == {"kept async on purpose"}


def test_never_awaited_commit_is_caught(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", "    await session.commit()", "    session.commit()")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1
    failures = document["tests"]["failures"]
    assert [f["test"] for f in failures] == ["tests/test_api.py::test_note"]
    (event,) = failures[0]["guard"]
    assert event["kind"] == "never-awaited"
    assert event["calls"] == ["coroutine AsyncSession.commit was never awaited"]


def test_two_sessions_in_one_request_are_caught(cli, repo_app: Path) -> None:
    # The route moved to the async stack, its auth dependency did not: two Sessions per request.
    edit(repo_app, "api/items.py", "user: Annotated[User, Depends(get_current_user_async)]",
         "user: Annotated[User, Depends(get_current_user)]")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1
    failures = document["tests"]["failures"]
    assert [f["test"] for f in failures] == ["tests/test_api.py::test_note"]
    (event,) = failures[0]["guard"]
    assert event["kind"] == "two-sessions" and event["request"] == "POST /notes"
    assert "Session began at deps.py:" in event["calls"][0]
    assert "AsyncSession began at api/items.py:" in event["calls"][0]


def test_a_listener_the_async_flush_runs_on_the_sync_engine_is_caught_blocking(cli, repo_app: Path) -> None:
    # Inside SQLAlchemy's greenlet, yet on the synchronous engine: it blocks the event loop.
    edit(repo_app, "db.py", "def get_db_session()", (
        "from sqlalchemy import event, select  # noqa: E402\n\n\n"
        "@event.listens_for(Item, \"before_insert\")\n"
        "def _unique_name(mapper, connection, target):\n"
        "    with database_sessionmaker() as lookup:\n"
        "        lookup.scalar(select(Item.id).where(Item.name == target.name))\n\n\n"
        "def get_db_session()"
    ))
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1
    # The synchronous route opens two Sessions at once as well (also a new finding), but runs
    # in the threadpool: only the async route's flush blocks.
    failures = {f["test"]: f["guard"] for f in document["tests"]["failures"]}
    blocking = [e for events in failures.values() for e in events if e["kind"] == "blocking"]
    assert blocking and {e["request"] for e in blocking} == {"POST /notes"}, blocking
    assert all(e["where"].startswith("db.py:") and e["where"].endswith("in _unique_name") for e in blocking)
    assert any(call.startswith("SQL execute (SELECT)") for e in blocking for call in e["calls"])
    two = [e for e in failures["tests/test_api.py::test_note"] if e["kind"] == "two-sessions"]
    assert two and all("AsyncSession began at db.py" not in e["calls"][0] for e in two), two


def test_sessions_opened_one_after_the_other_are_not_two_at_once(cli, repo_app: Path) -> None:
    # A helper style: each unit of work opens and closes its own Session; they never overlap.
    write_tree(repo_app, {
        "api/counts.py": """
            from fastapi import APIRouter
            from sqlalchemy import func, select

            from db import Item, User, database_sessionmaker

            router = APIRouter()


            @router.get("/counts")
            def counts():
                with database_sessionmaker() as session:
                    items = session.scalar(select(func.count()).select_from(Item))
                with database_sessionmaker() as session:
                    users = session.scalar(select(func.count()).select_from(User))
                return {"items": items, "users": users}
            """,
        "tests/test_counts.py": """
            def test_counts(client):
                assert client.get("/counts").json()["users"] == 1
            """,
    })
    edit(repo_app, "main.py", "app.include_router(items.router)",
         "app.include_router(items.router)\nfrom api import counts\napp.include_router(counts.router)")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert document["tests"]["counts"] == {"passed": 5}
    assert code == 0, document["tests"]


def test_sessions_on_two_databases_are_not_two_at_once(cli, repo_app: Path) -> None:
    # A read replica (another database) beside the primary: a service's design, not one
    # request's work split over two transactions. Two on one database are (the test above).
    write_tree(repo_app, {
        "api/mirror.py": """
            from fastapi import APIRouter
            from sqlalchemy import create_engine, func, select, text
            from sqlalchemy.orm import sessionmaker

            from db import PATH, User, database_sessionmaker

            replica_sessionmaker = sessionmaker(create_engine("sqlite:///" + PATH + "-replica"))
            router = APIRouter()


            @router.get("/mirror")
            def mirror():
                with database_sessionmaker() as primary, replica_sessionmaker() as replica:
                    users = primary.scalar(select(func.count()).select_from(User))
                    replica.execute(text("select 1"))
                    return {"users": users}
            """,
        "tests/test_mirror.py": """
            def test_mirror(client):
                assert client.get("/mirror").json()["users"] == 1
            """,
    })
    edit(repo_app, "main.py", "app.include_router(items.router)",
         "app.include_router(items.router)\nfrom api import mirror\napp.include_router(mirror.router)")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert document["tests"]["counts"] == {"passed": 5}
    assert code == 0, document["tests"]


def test_a_background_task_opening_its_own_session_is_not_two_at_once(cli, repo_app: Path) -> None:
    # The recommended pattern: the task runs after the response and opens its own Session, while
    # the request's may stay open until the tasks end.
    write_tree(repo_app, {
        "api/audit.py": """
            from fastapi import APIRouter, BackgroundTasks
            from sqlalchemy import func, select

            from db import Item, database_sessionmaker
            from deps import session_dependency

            router = APIRouter()
            seen = []


            def audit() -> None:
                with database_sessionmaker() as session:
                    seen.append(session.scalar(select(func.count()).select_from(Item)))


            @router.post("/audit")
            def request_audit(tasks: BackgroundTasks, session: session_dependency):
                count = session.scalar(select(func.count()).select_from(Item))
                tasks.add_task(audit)
                return {"items": count}
            """,
        "tests/test_audit.py": """
            from api import audit


            def test_audit(client):
                assert client.post("/audit").status_code == 200
                assert len(audit.seen) == 1
            """,
    })
    edit(repo_app, "main.py", "app.include_router(items.router)",
         "app.include_router(items.router)\nfrom api import audit\napp.include_router(audit.router)")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert document["tests"]["counts"] == {"passed": 5}
    assert code == 0, document["tests"]


# ------------------------------------------------------------------ bad input


def test_app_that_does_not_import_anywhere_is_a_usage_error(cli, repo_app: Path) -> None:
    result = cli("verify", repo_app, "--app", "nowhere:app", "--no-tests")
    assert result.exit_code == 2
    assert "does not import on either side" in result.stderr and "nowhere" in result.stderr
    assert len(worktrees(repo_app).strip().splitlines()) == 1


def test_app_that_does_not_import_on_one_side_exits_3(cli, repo_app: Path) -> None:
    edit(repo_app, "main.py", "from api import items", "from api import items, missing_module")
    result = cli("verify", repo_app, "--app", "main:app", "--no-tests")
    assert result.exit_code == 3
    assert "in the working tree (the after side)" in result.stderr
    assert "missing_module" in result.stderr
    assert len(worktrees(repo_app).strip().splitlines()) == 1


def test_a_library_missing_from_the_interpreter_on_both_sides_says_to_give_the_services_python(
    cli, tmp_path: Path
) -> None:
    # Run from the tool's own environment, the import failed on a library the service installs
    # (strawberry, in a trial) with no word of --python.
    root = tmp_path / "svc"
    files = service()
    files["main.py"] = "import graphql_library_not_installed  # noqa: F401\n" + files["main.py"]
    init_repo(root, files)
    touch_working_tree(root)
    result = cli("verify", root, "--app", "main:app", "--no-tests")
    assert result.exit_code == 2, result.output
    stderr = " ".join(result.stderr.split())
    assert "does not import on either side" in stderr
    assert "has no `graphql_library_not_installed`: give the service's own interpreter with --python" in stderr


def test_near_miss_the_applications_own_module_missing_gets_no_python_hint(cli, repo_app: Path) -> None:
    result = cli("verify", repo_app, "--app", "nowhere:app", "--no-tests")
    assert result.exit_code == 2
    assert "--python" not in result.stderr


def test_missing_revision_is_a_usage_error(cli, repo_app: Path) -> None:
    result = cli("verify", repo_app, "--app", "main:app", "--against", "no-such-rev")
    assert result.exit_code == 2
    assert "--against no-such-rev: no such revision" in result.stderr
    assert len(worktrees(repo_app).strip().splitlines()) == 1


def test_missing_test_command_is_a_usage_error(cli, repo_app: Path) -> None:
    write_tree(repo_app, {"pyproject.toml": '[tool.async-migrate]\ntest-command = "no-such-runner -q"\n'})
    result = cli("verify", repo_app, "--app", "main:app")
    assert result.exit_code == 2
    assert "'no-such-runner' is not found" in result.stderr
    assert len(worktrees(repo_app).strip().splitlines()) == 1


def test_bad_app_spec_is_a_usage_error(cli, repo_app: Path) -> None:
    result = cli("verify", repo_app, "--app", "main")
    assert result.exit_code == 2 and "expected MODULE:ATTRIBUTE" in result.stderr


def test_not_a_repository_is_a_usage_error(cli, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "plain", service())
    result = cli("verify", root, "--app", "main:app", "--no-tests")
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr
    # It says how to run without one, as the README does.
    assert "--no-contract runs the other proofs without one" in result.stderr


def test_near_miss_not_a_repository_without_the_contract_runs_and_fails_nothing_found(cli, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "plain", service())
    result = cli("verify", root, "--app", "main:app", "--no-tests", "--no-contract", "-q")
    assert result.exit_code == 0, result.output
    # -q: the verdict line only, as other commands' quiet output keeps their final line.
    assert result.stdout.strip() == "verify: passed" and result.stderr == "", result.output


def test_an_attribute_the_module_lacks_is_named_without_a_traceback(cli, repo_app: Path) -> None:
    result = cli("verify", repo_app, "--app", "main:nope", "--no-tests")
    assert result.exit_code == 2
    assert "main has no attribute 'nope' (applications in it: app)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "introspect" not in result.stderr, result.stderr


def test_an_application_factory_is_refused_with_what_to_point_at(cli, repo_app: Path) -> None:
    edit(repo_app, "main.py", "app = FastAPI(lifespan=lifespan)", "app = FastAPI(lifespan=lifespan)\n\n\n"
         "def create_app():\n    return app")
    result = cli("verify", repo_app, "--app", "main:create_app", "--no-tests")
    assert result.exit_code in (2, 3)
    assert ("main:create_app is a function, not a FastAPI application: for an application factory, point --app "
            "at an application it builds (app = create_app() in a module") in result.stderr, result.stderr


def test_a_command_that_is_not_pytest_is_unverified(cli, repo_app: Path) -> None:
    code, document = run_verify(cli, repo_app, "--no-contract", "--test-command", f"{sys.executable} -c pass")
    assert code == 1
    assert document["tests"]["status"] == "unverified"
    assert "ran unguarded" in document["tests"]["problem"]


# ------------------------------------------------------------------ the report


def test_report_gains_a_verification_section(cli, repo_app: Path, tmp_path: Path) -> None:
    report = tmp_path / "MIGRATION.md"
    report.write_text("# Migration report\n\n## Routes\n\nsome text\n", encoding="utf-8")
    edit(repo_app, "api/items.py", "status_code=201)\ndef create_item", "status_code=202)\ndef create_item")
    result = cli("verify", repo_app, "--app", "main:app", "--no-tests", "--report", report)
    assert result.exit_code == 1
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Migration report\n\n## Routes\n\nsome text\n\n## Verification\n")
    assert "| POST /items | response 201 | `" in text
    assert "**Tests under the runtime guard**: skipped" in text
    # A second run replaces its block instead of adding one.
    cli("verify", repo_app, "--app", "main:app", "--no-tests", "--report", report)
    assert report.read_text(encoding="utf-8").count("<!-- async-migrate:verify -->") == 1


# ------------------------------------------------------------------ the comparison itself


def _doc(deps: list[dict], responses: dict | None = None) -> dict:
    operation = {"operationId": "op", "responses": responses or {"200": {"description": "ok"}}}
    return {
        "openapi": {"paths": {"/x": {"get": operation}}, "components": {}},
        "routes": [{"method": "GET", "path": "/x", "kind": "APIRoute", "endpoint": "m.f", "dependencies": deps}],
    }


def _dep(call: str, *children: dict) -> dict:
    return {"call": call, "scopes": [], "children": list(children)}


def test_compare_accepts_twins_and_names_other_dependencies() -> None:
    before = _doc([_dep("deps.require_admin", _dep("deps.get_current_user"))])
    twin = _doc([_dep("deps.require_admin_async", _dep("deps.get_current_user_async"))])
    other = _doc([_dep("deps.require_admin", _dep("deps.get_any_user"))])
    assert compare(before, twin) == []
    assert compare(before, other) == [
        Difference("GET /x", "dependency under deps.require_admin", "deps.get_current_user", "(none)"),
        Difference("GET /x", "dependency under deps.require_admin", "(none)", "deps.get_any_user"),
    ]
    # A twin only counts with the configured suffix.
    assert compare(before, twin, twin_suffix="_aio") != []
    # Numbered as phase two numbers a twin whose first name an earlier subsystem took; nothing else.
    numbered = _doc([_dep("deps.require_admin_async_2", _dep("deps.get_current_user_async_12"))])
    assert compare(before, numbered) == []
    for other in ("deps.require_admin_async_x", "deps.require_admin_async_", "deps.require_admin_asyncio"):
        assert compare(before, _doc([_dep(other, _dep("deps.get_current_user"))])) != []


def test_compare_accepts_a_class_dependencys_parallel_async_class_and_still_compares_below_it() -> None:
    # Phase two injects `MessageServiceAsync` where code that stays synchronous keeps `MessageService`.
    before = _doc([_dep("svc.MessageService", _dep("deps.get_current_user"))])
    assert compare(before, _doc([_dep("svc.MessageServiceAsync", _dep("deps.get_current_user_async"))])) == []
    assert compare(before, _doc([_dep("svc.MessageServiceAsync3", _dep("deps.get_current_user"))])) == []
    for other in ("svc.MessageServiceAsync1", "svc.MessageServiceAsynchronous", "svc.MessageServiceAsync_2"):
        assert compare(before, _doc([_dep(other, _dep("deps.get_current_user"))])) != [], other
    # The auth dependency dropped from the parallel class's `__init__` is a difference.
    assert compare(before, _doc([_dep("svc.MessageServiceAsync")])) == [
        Difference("GET /x", "dependency under svc.MessageService", "deps.get_current_user", "(none)"),
    ]


def test_compare_inlines_references_so_a_schema_change_names_the_route() -> None:
    schema = {"$ref": "#/components/schemas/Out"}
    responses = {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
    before, after = _doc([], responses), _doc([], responses)
    before["openapi"]["components"] = {"schemas": {"Out": {"type": "object", "required": ["a", "b"]}}}
    after["openapi"]["components"] = {"schemas": {"Out": {"type": "object", "required": ["b", "a"]}}}
    assert compare(before, after) == []  # order of `required` is no difference
    after["openapi"]["components"]["schemas"]["Out"]["required"] = ["a"]
    (difference,) = compare(before, after)
    assert difference.route == "GET /x"
    assert difference.what == "response 200 .content.application/json.schema.required"


def test_default_revision_is_where_the_branch_started(repo_app: Path) -> None:
    import git

    from async_migrate.codemods.gitstate import create_branch
    from async_migrate.codemods.verify.runner import resolve_revision

    repo = git.Repo(repo_app)
    base = repo.head.commit.hexsha
    assert resolve_revision(repo_app, None).commit == base  # no --branch run: HEAD
    create_branch(repo_app, "async-migrate/phase1")
    edit(repo_app, "main.py", "async def health", "def health")
    repo.git.commit("-am", "migrated")
    revision = resolve_revision(repo_app, None)
    assert revision.commit == base != repo.head.commit.hexsha
    assert revision.name == "the base of async-migrate/phase1"
    assert resolve_revision(repo_app, "HEAD").commit == repo.head.commit.hexsha


def test_a_before_side_that_is_the_same_code_is_refused_and_names_the_revision_to_pass(cli, tmp_path: Path) -> None:
    # `phase1 --apply --commit` without --branch, then a commit of the user's own on top: the
    # default before side, HEAD, is the working tree; compared with itself everything would pass
    # and every guard finding the migration brought would be filed as an old one.
    root = tmp_path / "svc"
    repo = init_repo(root, service())
    edit(root, "main.py", "async def health", "def health")
    repo.git.commit("-am", "async-migrate phase1: 1 handler to def in 1 file\n\nFiles:\n- main.py")
    migration = repo.head.commit.hexsha
    (root / "MIGRATION.md").write_text("# report\n", encoding="utf-8")
    touch_working_tree(root)
    repo.git.add("--all")
    repo.git.commit("-m", "pragmas")
    (root / "NOTES.md").write_text("not code\n", encoding="utf-8")  # a file no proof reads
    result = cli("verify", root, "--app", "main:app", "--no-tests")
    assert result.exit_code == 2, result.output
    assert f"HEAD ({repo.head.commit.hexsha[:12]}), is the same code as the working tree" in result.stderr
    assert f"pass --against {migration[:12]}~1" in result.stderr
    result = cli("smoke", root, "--app", "main:app", "--heavy", "GET /items", "--light", "GET /health")
    assert result.exit_code == 2, result.output
    assert "smoke would compare nothing" in result.stderr
    # near miss: the same revision given explicitly, with the working tree changed, compares
    touch_working_tree(root)
    code, document = run_verify(cli, root, "--no-tests", "--against", "HEAD")
    assert code == 0 and document["against"]["rev"] == "HEAD", document


def test_default_revision_is_the_one_before_the_tools_own_commit_at_head(repo_app: Path) -> None:
    from async_migrate.codemods.verify.runner import resolve_revision

    repo = git.Repo(repo_app)
    base = repo.head.commit.hexsha
    repo.git.commit("-am", "async-migrate phase1: 2 handlers to def in 1 file")
    revision = resolve_revision(repo_app, None)
    assert revision.commit == base and revision.name.startswith("HEAD~1, the commit before async-migrate's own")
    repo.git.commit("--allow-empty", "-m", "async-migrate phase2 items: 1 route to AsyncSession in 1 file")
    assert resolve_revision(repo_app, None).commit == repo.head.commit.parents[0].hexsha
    # near miss: a commit of the user's own at HEAD is the before side, as before
    repo.git.commit("--allow-empty", "-m", "phase1 follow-up: async-migrate phase1: notes")
    revision = resolve_revision(repo_app, None)
    assert revision.commit == repo.head.commit.hexsha and revision.name == "HEAD"


def test_the_tools_commit_subject_is_the_one_verify_recognises() -> None:
    from async_migrate.codemods.gitstate import TOOL_COMMIT_SUBJECT

    assert TOOL_COMMIT_SUBJECT.match("async-migrate phase1: 13 handlers to def in 3 files")
    assert TOOL_COMMIT_SUBJECT.match("async-migrate phase2 api/books.py: 2 routes to AsyncSession in 2 files")
    assert not TOOL_COMMIT_SUBJECT.match("revert async-migrate phase1: 13 handlers")


def test_empty_test_command_in_the_configuration_is_a_usage_error(cli, repo_app: Path) -> None:
    write_tree(repo_app, {"pyproject.toml": '[tool.async-migrate]\ntest-command = " "\n'})
    result = cli("verify", repo_app, "--app", "main:app")
    assert result.exit_code == 2
    assert "[tool.async-migrate] test-command: expected a command line" in result.stderr


def test_tests_before_tell_new_failures_from_old(cli, repo_app: Path) -> None:
    import git

    write_tree(repo_app, {"tests/test_old.py": "def test_broken_already():\n    assert False\n"})
    git.Repo(repo_app).git.add("--all")
    git.Repo(repo_app).git.commit("-m", "a test that already fails")
    edit(repo_app, "main.py", 'return {"status": "ok"}', 'return {"status": "fine"}')
    code, document = run_verify(cli, repo_app, "--no-contract", "--tests-before")
    assert code == 1
    failed = sorted(f["test"] for f in document["tests"]["failures"])
    assert failed == ["tests/test_api.py::test_health", "tests/test_old.py::test_broken_already"]
    assert document["tests"]["new_failures"] == ["tests/test_api.py::test_health"]
    assert document["tests"]["before"]["counts"] == {"passed": 4, "failed": 1}


def test_migrated_route_calling_a_sync_session_helper_fails_the_static_recheck(cli, repo_app: Path) -> None:
    edit(repo_app, "api/items.py", "router = APIRouter()\n", """router = APIRouter()


def count_items(session: Session) -> int:
    return len(session.scalars(select(Item)).all())
""")
    edit(repo_app, "api/items.py", "    await session.commit()\n    return item\n",
         "    await session.commit()\n    count_items(session)\n    return item\n")
    edit(repo_app, "api/items.py", "from sqlalchemy import select\n", "from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n")
    code, document = run_verify(cli, repo_app, "--no-tests", "--no-contract")
    assert code == 1
    (finding,) = document["check"]["findings"]
    assert (finding["code"], finding["name"], finding["function"]) == ("AM302", "mixed-session", "create_note")
    assert document["contract"]["status"] == "skipped" and document["tests"] == {"status": "skipped"}


def test_guard_that_cannot_hook_the_framework_is_unverified(cli, repo_app: Path) -> None:
    # A service on another framework: the guard sees no requests, so the run proves nothing.
    write_tree(repo_app, {"tests/conftest.py": "import sys\nsys.modules['starlette.applications'] = None\n",
                          "tests/test_api.py": "def test_nothing():\n    pass\n"})
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1
    assert document["tests"]["status"] == "unverified"
    assert "could not hook starlette" in document["tests"]["problem"]


# ------------------------------------------------------------------ what the before side had already


def _committed_with(tmp_path: Path, edits: list[tuple[str, str, str]]) -> Path:
    """The tiny service with edits committed: the before side already has what they bring."""
    root = tmp_path / "svc"
    init_repo(root, service())
    for relative, old, new in edits:
        edit(root, relative, old, new)
    repo = git.Repo(root)
    repo.git.commit("-am", "the service as it was")
    touch_working_tree(root)
    return root


# Blocking the static re-check cannot see: Session work in an HTTP middleware, on the event loop.
# The pragma keeps `check` (which reports this middleware, AM308) out of what these tests
# compare: the runtime guard's findings on both sides.
BLOCKING_MIDDLEWARE = ("main.py", '''@app.get("/health")''', '''@app.middleware("http")
async def remember_the_caller(request, call_next):  # async-migrate: ignore[AM308] known, measured by the guard
    if request.url.path == "/items" and request.method == "GET":
        with database_sessionmaker() as session:
            session.get(User, 1)
    return await call_next(request)


@app.get("/health")''')
# `check` reports this shape too (AM319); its pragma keeps the comparison to the guard's findings.
TWO_SESSIONS_NOTE = (
    "api/items.py",
    "async def create_note(\n    payload: ItemIn, user: Annotated[User, Depends(get_current_user_async)]",
    "async def create_note(  # async-migrate: ignore[AM319] known, measured by the guard\n"
    "    payload: ItemIn, user: Annotated[User, Depends(get_current_user)]",
)


def _shift_lines(root: Path) -> None:
    # What a migration does to the places the guard names: every line moves.
    for relative in ("api/items.py", "deps.py", "main.py"):
        path = root / relative
        path.write_text("# migrated\n\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def test_guard_findings_the_before_side_has_too_are_warnings(cli, tmp_path: Path) -> None:
    root = _committed_with(tmp_path, [BLOCKING_MIDDLEWARE, TWO_SESSIONS_NOTE])
    _shift_lines(root)
    report = tmp_path / "MIGRATION.md"
    code, document = run_verify(cli, root, "--report", str(report))
    tests = document["tests"]
    assert code == 0 and document["ok"] is True, tests
    assert tests["status"] == "pass" and tests["failures"] == [] and tests["uncompared"] is None
    assert tests["before"]["status"] == "fail"  # the before side's own run, under the guard
    by_kind = {group["kind"]: group for group in tests["preexisting"]}
    assert set(by_kind) == {"blocking", "two-sessions"}
    sessions = by_kind["two-sessions"]
    assert (sessions["request"], sessions["sessions"], sessions["tests"]) == (
        "POST /notes", 2, ["tests/test_api.py::test_note"]
    )
    # Where each Session began, as the after side has it.
    (message,) = sessions["calls"]
    assert "Session began at deps.py:18 in get_current_user" in message
    assert "AsyncSession began at api/items.py:" in message
    blocking = by_kind["blocking"]
    assert blocking["request"] == "GET /items" and blocking["where"].startswith("main.py:")
    assert blocking["where"].endswith(" in remember_the_caller")
    text = report.read_text(encoding="utf-8")
    assert "Found by the guard on the before side too" in text
    assert "- two-sessions during POST /notes at `api.items.create_note`: 2 Sessions open at once" in text


def test_a_guard_finding_the_change_brings_fails_beside_old_ones(cli, tmp_path: Path) -> None:
    root = _committed_with(tmp_path, [BLOCKING_MIDDLEWARE, TWO_SESSIONS_NOTE])
    _shift_lines(root)
    edit(root, "main.py", ''' and request.method == "GET":''', ":")  # now POST /items as well
    code, document = run_verify(cli, root, "--no-contract")
    tests = document["tests"]
    assert code == 1 and tests["status"] == "fail" and document["check"]["status"] == "pass"
    posting = ["tests/test_api.py::test_create_and_list", "tests/test_api.py::test_create_needs_a_key"]
    assert [f["test"] for f in tests["failures"]] == posting
    for failure in tests["failures"]:
        assert failure["outcome"] == "guard"  # the test itself passed
        assert {(e["kind"], e["request"]) for e in failure["guard"]} == {("blocking", "POST /items")}
    assert {(g["kind"], g["request"]) for g in tests["preexisting"]} == {
        ("blocking", "GET /items"), ("two-sessions", "POST /notes")
    }
    assert tests["new_failures"] == posting


def test_more_sessions_at_once_than_the_before_side_had_fail(cli, tmp_path: Path) -> None:
    root = _committed_with(tmp_path, [TWO_SESSIONS_NOTE])
    edit(root, "api/items.py", "    session.add(item)\n    await session.commit()",
         "    async with async_database_sessionmaker() as audit:\n        await audit.scalar(select(User))\n"
         "        session.add(item)\n        await session.commit()")
    edit(root, "api/items.py", "from db import Item, User", "from db import Item, User, async_database_sessionmaker")
    code, document = run_verify(cli, root, "--no-contract")
    tests = document["tests"]
    assert code == 1
    (failure,) = tests["failures"]
    assert [(e["kind"], e["sessions"]) for e in failure["guard"]] == [("two-sessions", 3)]
    assert [(g["kind"], g["sessions"]) for g in tests["preexisting"]] == [("two-sessions", 2)]


def test_guard_findings_without_a_before_side_fail_and_say_why(cli, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "plain", service())
    edit(root, *BLOCKING_MIDDLEWARE)
    code, document = run_verify(cli, root, "--no-contract")
    tests = document["tests"]
    assert code == 1 and [f["test"] for f in tests["failures"]] == ["tests/test_api.py::test_create_and_list"]
    assert tests["uncompared"].startswith("no before side to compare with: ")
    assert "not inside a git repository" in tests["uncompared"]


def _event(test: str, where: str, kind: str = "blocking", sessions: int | None = None) -> dict:
    event = {"test": test, "kind": kind, "where": where, "request": "GET /x", "calls": ["COMMIT"],
             "acknowledged": None}
    return event if sessions is None else {**event, "sessions": sessions}


def test_occurrences_match_without_line_numbers_and_per_test() -> None:
    from async_migrate.codemods.verify.testrun import TestRun, set_aside_preexisting

    before = TestRun(["pytest"], exit_code=1, events=[
        _event("t::a", "api/x.py:10 in handler"),
        _event("t::a", "api.x.handler", "two-sessions", 2),
    ])
    after = TestRun(["pytest"], exit_code=0, outcomes={"t::a": "passed", "t::b": "passed"}, events=[
        _event("t::a", "api/x.py:14 in handler"),  # moved: the same
        _event("t::a", "api/x.py:15 in other"),  # another function: new
        _event("t::b", "api/x.py:14 in handler"),  # another test: new
        _event("t::a", "api.x.handler", "two-sessions", 2),  # as many Sessions: the same
        _event("t::a", "api.x.handler", "two-sessions", 3),  # more: new
    ])
    set_aside_preexisting(after, before)
    assert [(e["test"], e["where"], e.get("sessions")) for e in after.events] == [
        ("t::a", "api/x.py:15 in other", None), ("t::b", "api/x.py:14 in handler", None),
        ("t::a", "api.x.handler", 3),
    ]
    assert len(after.preexisting) == 2 and not after.passed
    unguarded = TestRun(["pytest"], problem="no tests ran (pytest exit status 5)")
    again = TestRun(["pytest"], exit_code=0, outcomes={"t::a": "passed"}, events=[_event("t::a", "api/x.py:1 in h")])
    set_aside_preexisting(again, unguarded)
    assert len(again.events) == 1 and again.preexisting == []
    assert again.uncompared == "the before side's run proves nothing: no tests ran (pytest exit status 5)"


def _printed(document: dict, quiet: bool = False) -> str:
    from io import StringIO

    from rich.console import Console

    from async_migrate.cli.verify_cmd import print_verification

    out = StringIO()
    print_verification(Console(file=out, width=400, color_system=None), document, quiet)
    return out.getvalue()


def _verified(blockbuster: bool) -> dict:
    return {
        "app": "main:app", "root": ".", "ok": True,
        "contract": {"status": "pass", "routes": 1, "differences": []},
        "tests": {"status": "pass", "counts": {"passed": 1}, "command": "python -m pytest",
                  "guard": {"blockbuster": blockbuster}},
        "check": {"status": "pass", "findings": [], "errors": []},
    }


def test_missing_blockbuster_names_the_extra_that_installs_it() -> None:
    printed = _printed(_verified(blockbuster=False))
    assert "pip install 'async-migrate[verify]' (or pip install blockbuster)" in printed, printed
    # the extra the hint names is the one that brings blockbuster
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    assert any(d.startswith("blockbuster") for d in extras["verify"]), extras


def test_near_miss_installed_blockbuster_prints_no_hint() -> None:
    assert "pip install" not in _printed(_verified(blockbuster=True))


def test_the_guard_names_response_serialisation_when_no_application_frame_is_on_the_stack(tmp_path, monkeypatch):
    # A lazy load FastAPI runs while it serialises an async route's response: no frame of the
    # application is on the stack, but the library frames say what it is.
    import importlib.util

    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("guard_under_test", Path(guard_module.__file__))
    guard = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(guard)  # type: ignore[union-attr]
    watcher = guard._Guard()
    library = {"watcher": watcher}
    exec(compile(
        "def _hook():\n    return watcher.locate()\n\n\ndef _load_for_state():\n    return _hook()\n\n\n"
        "def serialize_response():\n    return _load_for_state()\n",
        "/site-packages/fastapi/routing.py", "exec",
    ), library)
    where, _ = library["serialize_response"]()
    assert where == "outside the application, while FastAPI serialises the response: a lazy load of a relationship the response model reads"


def test_the_guard_names_a_connection_the_garbage_collector_returned(tmp_path, monkeypatch):
    # A Session nobody closed is collected wherever the collector happens to start, under an
    # application frame of any test: the place says what it is, not that frame.
    import importlib.util

    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("guard_under_test", Path(guard_module.__file__))
    guard = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(guard)  # type: ignore[union-attr]
    watcher = guard._Guard()
    watcher.root = tmp_path
    library = {"watcher": watcher}
    exec(compile(
        "def _hook():\n    return watcher.locate()\n\n\ndef reset():\n    return _hook()\n\n\n"
        "def _finalize_fairy(is_gc_cleanup):\n    return reset()\n",
        "/site-packages/sqlalchemy/pool/base.py", "exec",
    ), library)
    application = {"finalize": library["_finalize_fairy"]}
    exec(compile("def handler(gc):\n    return finalize(gc)\n", str(tmp_path / "api.py"), "exec"), application)
    where, _ = application["handler"](True)
    assert where == guard.COLLECTED
    # near miss: a `close()` returns its connection through the same function, where the code is
    where, _ = application["handler"](False)
    assert where == "api.py:2 in handler"
    from async_migrate.codemods.verify.testrun import COLLECTED, TestRun, set_aside_preexisting

    assert guard.COLLECTED.startswith(COLLECTED)
    # one occurrence whichever test and request it fell in; one on the after side alone is new
    before = TestRun(["pytest"], exit_code=0, events=[_event("t::a", guard.COLLECTED)])
    after = TestRun(["pytest"], exit_code=0, outcomes={"t::b": "passed"}, events=[
        {**_event("t::b", guard.COLLECTED), "request": "GET /y"},
    ])
    set_aside_preexisting(after, before)
    assert after.events == [] and len(after.preexisting) == 1
    alone = TestRun(["pytest"], exit_code=0, outcomes={"t::b": "passed"}, events=[_event("t::b", guard.COLLECTED)])
    set_aside_preexisting(alone, TestRun(["pytest"], exit_code=0, events=[_event("t::a", "api/x.py:1 in h")]))
    assert len(alone.events) == 1


def test_the_guard_names_a_route_by_its_full_path_under_router_and_mount_prefixes(guard_plugin):
    # The route object's own path lacks include_router's prefix in some FastAPI versions and a
    # mount's prefix always; the guard names the route as scan does, with every prefix.
    from fastapi.testclient import TestClient

    guard = guard_plugin
    labels: list[str] = []

    admin = APIRouter(prefix="/admin")

    @admin.post("/notify/{order_id}")
    async def notify(order_id: int) -> dict:
        labels.append(guard._request.get().label)
        return {}

    @admin.websocket("/ws")
    async def feed(websocket: WebSocket) -> None:
        labels.append(guard._request.get().label)
        await websocket.accept()
        await websocket.send_json({})

    versioned = APIRouter(prefix="/v1")
    versioned.include_router(admin)
    sub = FastAPI()

    @sub.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        labels.append(guard._request.get().label)
        return {}

    app = FastAPI()
    app.include_router(versioned, prefix="/ops")
    app.mount("/v2", sub)
    client = TestClient(app)
    assert client.post("/ops/v1/admin/notify/3").status_code == 200
    with client.websocket_connect("/ops/v1/admin/ws") as socket:
        socket.receive_json()
    assert client.get("/v2/items/7").status_code == 200
    assert labels == ["POST /ops/v1/admin/notify/{order_id}", "WEBSOCKET /ops/v1/admin/ws", "GET /v2/items/{item_id}"]


def test_the_contract_names_routes_by_their_full_path_with_router_level_dependencies() -> None:
    # Included routers' routes as served: two routers' "/{pk}" stay apart, and an auth
    # dependency given to include_router belongs to the contract of each route it guards.
    from fastapi import Depends

    from async_migrate.codemods.verify.introspect import describe

    def require_admin() -> None:
        return None

    users, posts = APIRouter(prefix="/users"), APIRouter(prefix="/posts")

    @users.get("/{pk}")
    async def read_user(pk: int) -> dict:
        return {}

    @posts.get("/{pk}")
    async def read_post(pk: int) -> dict:
        return {}

    api = APIRouter()
    api.include_router(users, dependencies=[Depends(require_admin)])
    api.include_router(posts)
    app = FastAPI()
    app.include_router(api, prefix="/api/v1")
    routes = {(r["method"], r["path"]): r for r in describe(app)["routes"] if r["endpoint"] and "read_" in r["endpoint"]}
    assert set(routes) == {("GET", "/api/v1/users/{pk}"), ("GET", "/api/v1/posts/{pk}")}
    assert [d["call"].rsplit(".", 1)[-1] for d in routes["GET", "/api/v1/users/{pk}"]["dependencies"]] == ["require_admin"]
    assert routes["GET", "/api/v1/posts/{pk}"]["dependencies"] == []


def test_the_contract_leaves_out_the_session_a_class_or_a_callable_instance_dependency_receives() -> None:
    # `ItemService.__init__(self, db: Session = Depends(get_db))` and `RoleChecker.__call__(self,
    # user=Depends(get_user), db: Session = Depends(get_db))` with an unannotated `get_db`: the
    # Session is declared on what FastAPI calls, and phase two changes it by design; the auth
    # dependency under it stays in the contract.
    from fastapi import Depends

    from async_migrate.codemods.verify.introspect import describe

    def get_db():  # type: ignore[no-untyped-def]
        yield None

    def get_user() -> int:
        return 1

    class ItemService:
        def __init__(self, db: Session = Depends(get_db)) -> None:  # noqa: B008
            self.db = db

    class RoleChecker:
        def __init__(self, role: str) -> None:
            self.role = role

        def __call__(self, user: int = Depends(get_user), db: Session = Depends(get_db)) -> int:  # noqa: B008
            return user

    app = FastAPI()

    @app.get("/items", dependencies=[Depends(RoleChecker("admin"))])
    def items(svc=Depends(ItemService)) -> dict:  # type: ignore[no-untyped-def]  # noqa: B008
        return {}

    (route,) = [r for r in describe(app)["routes"] if r["endpoint"] and r["endpoint"].endswith("items")]
    calls = {d["call"].rsplit(".", 1)[-1]: [c["call"].rsplit(".", 1)[-1] for c in d["children"]] for d in route["dependencies"]}
    assert calls == {"RoleChecker()": ["get_user"], "ItemService": []}


def test_the_contract_line_says_what_its_counts_count() -> None:
    # "HTTP contract: FAIL (19 operations)" above 6 differences read as 19 failing operations.
    document = _verified(blockbuster=True)
    document["contract"] = {
        "status": "fail", "routes": 19,
        "differences": [{"route": f"GET /b{i}", "what": "route", "before": "absent", "after": "present"}
                        for i in range(6)],
    }
    lines = _printed(document).splitlines()
    assert lines[1] == "HTTP contract: FAIL (6 differences; 19 OpenAPI operations compared)"
    assert lines[2] == "  GET /b0: route: absent -> present"
    passed = _printed(_verified(blockbuster=True)).splitlines()
    assert passed[1] == "HTTP contract: pass (1 OpenAPI operation compared)"


def test_the_contract_covers_a_mounted_application() -> None:
    # `app.mount("/admin", admin_app)`: the sub-application's operations and its auth
    # dependency are part of what clients see, named by the path they call.
    from fastapi import Depends

    from async_migrate.codemods.verify import contract
    from async_migrate.codemods.verify.introspect import describe

    def require_admin() -> None:
        return None

    def build(guarded: bool, code: int) -> dict:
        admin = FastAPI(dependencies=[Depends(require_admin)] if guarded else [])

        @admin.get("/audit", status_code=code)
        async def audit() -> dict:
            return {}

        app = FastAPI()

        @app.get("/ping")
        async def ping() -> dict:
            return {}

        app.mount("/admin", admin)
        return json.loads(json.dumps(describe(app), default=str))

    before = build(True, 200)
    assert contract.operation_count(before) == 2
    assert contract.compare(before, build(True, 200)) == []
    found = contract.compare(before, build(False, 201))
    assert ("GET /admin/audit", "dependency") in {(d.route, d.what) for d in found}, found
    assert any(d.route == "GET /admin/audit" and d.what.startswith("response") for d in found), found
    assert all(d.route.startswith("GET /admin/") for d in found), found


def test_never_awaited_coroutine_kept_alive_past_the_tests_is_caught(cli, repo_app: Path) -> None:
    # Kept in a module-level list, the coroutine is collected only at interpreter exit, after
    # the guard's report is written: it is looked for when the session ends.
    edit(repo_app, "main.py", '@app.get("/health")\nasync def health():\n',
         'PENDING = []\n\n\nasync def notify():\n    pass\n\n\n@app.get("/health")\nasync def health():\n'
         '    PENDING.append(notify())\n')
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1, document["tests"]
    failures = document["tests"]["failures"]
    assert [f["test"] for f in failures] == ["(end of the test session)"]
    assert document["tests"]["counts"] == {"passed": 4}
    (event,) = failures[0]["guard"]
    assert event["kind"] == "never-awaited"
    assert event["calls"] == ["coroutine notify was never awaited"]
    assert event["where"].startswith("main.py:")


@pytest.mark.parametrize("mark, now", [
    ('@pytest.mark.skip(reason="flaky")', "skipped"),
    ('@pytest.mark.xfail(reason="later")', "xfailed"),
])
def test_a_test_that_no_longer_runs_fails(cli, repo_app: Path, mark: str, now: str) -> None:
    # The after side skips (or xfails, here hiding a real failure) a test the before side
    # passed: the suite passing proves less than before.
    edit(repo_app, "tests/test_api.py", "def test_create_needs_a_key(client):\n"
         "    assert client.post(\"/items\", json={\"name\": \"b\"}).status_code == 401",
         f"import pytest\n\n\n{mark}\ndef test_create_needs_a_key(client):\n"
         "    assert client.post(\"/items\", json={\"name\": \"b\"}).status_code == 999")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1, document["tests"]
    tests = document["tests"]
    assert tests["status"] == "fail" and tests["counts"] == {"passed": 3, now: 1}
    assert tests["dropped"] == [{"test": "tests/test_api.py::test_create_needs_a_key", "before": "passed", "after": now}]
    text = cli("verify", repo_app, "--app", "main:app", "--no-contract").output
    assert "tests/test_api.py::test_create_needs_a_key: passed on the before side, " + now + " now" in text


def test_a_test_skipped_on_both_sides_passes(cli, repo_app: Path) -> None:
    edit(repo_app, "tests/test_api.py", "def test_health(client):",
         "import pytest\n\n\n@pytest.mark.skip(reason=\"needs PostgreSQL\")\ndef test_health(client):")
    repo = git.Repo(repo_app)
    repo.git.add(A=True)
    repo.index.commit("skip on PostgreSQL only")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 0, document["tests"]
    assert document["tests"]["dropped"] == [] and document["tests"]["counts"] == {"passed": 3, "skipped": 1}


def test_the_contract_covers_what_openapi_does_not_show() -> None:
    # Each change below answers clients differently with an identical OpenAPI document.
    from fastapi import Request
    from fastapi.responses import JSONResponse

    from async_migrate.codemods.verify import contract
    from async_migrate.codemods.verify.introspect import describe

    class Gone(Exception):
        pass

    async def gone(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "gone"}, status_code=410)

    async def api_key(request: Request, call_next):
        return await call_next(request)

    def build(change: str = "") -> dict:
        app = FastAPI()
        if change != "middleware":
            app.middleware("http")(api_key)
        if change != "handler":
            app.exception_handler(Gone)(gone)
        path = "/items/{pk:path}" if change == "converter" else "/items/{pk}"
        exclude = {"secret"} if change == "exclude" else None

        @app.get(path, response_model=dict, response_model_exclude=exclude)
        async def read(pk: str) -> dict:
            return {}

        if change != "hidden removed":
            @app.get("/internal", include_in_schema=False, status_code=202 if change == "hidden status" else 200)
            async def internal() -> dict:
                return {}

        return json.loads(json.dumps(describe(app), default=str))

    before = build()
    assert contract.compare(before, build()) == []
    expected = {
        "middleware": [("(application)", "middleware")],
        "handler": [("(application)", f"exception handlers .{Gone.__module__}.{Gone.__qualname__}")],
        "converter": [("GET /items/{pk}", "route"), ("GET /items/{pk:path}", "route")],
        "exclude": [("GET /items/{pk}", "response_model_exclude")],
        "hidden removed": [("GET /internal", "route")],
        "hidden status": [("GET /internal", "status code")],
    }
    for change, differences in expected.items():
        assert [(d.route, d.what) for d in contract.compare(before, build(change))] == differences, change


ADMIN_DB_APP = """
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session


def require_admin(request: Request) -> None:
    return None


def get_admin_db(_: Annotated[None, Depends(require_admin)]) -> Iterator[Session]:
    yield Session()


def get_db() -> Iterator[Session]:
    yield Session()


app = FastAPI()


@app.delete("/all", status_code=204)
def delete_all(db: Annotated[Session, Depends(GUARDED and get_admin_db or get_db)]) -> None:
    return None
"""


def test_an_auth_check_below_the_session_dependency_is_compared() -> None:
    # The admin's Session dependency requires the admin; after the change it no longer does.
    # The Session dependency itself is left out (phase two changes it), not what it depends on.
    from async_migrate.codemods.verify import contract
    from async_migrate.codemods.verify.introspect import describe

    def build(guarded: bool) -> dict:
        namespace: dict = {"GUARDED": guarded, "__name__": "admin_db"}
        exec(compile(ADMIN_DB_APP, "admin_db.py", "exec"), namespace)
        return json.loads(json.dumps(describe(namespace["app"]), default=str))

    before = build(True)
    assert contract.compare(before, build(True)) == []
    (difference,) = contract.compare(before, build(False))
    assert (difference.route, difference.what, difference.after) == ("DELETE /all", "dependency", "(none)")
    assert difference.before == "admin_db.require_admin"


PARTIAL_REPO_APP = """
from collections.abc import AsyncIterator
from functools import partial

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def get_db():
    yield Session()


async def get_async_db() -> AsyncIterator[AsyncSession]:
    yield AsyncSession()


def get_repo(model: type, db: Session = Depends(get_db)) -> object:
    return db


async def get_repo_async(model: type, db: AsyncSession = Depends(get_async_db)) -> object:
    return db


app = FastAPI()


@app.get("/users")
async def list_users(repo: object = Depends(partial(MIGRATED and get_repo_async or get_repo, int))) -> None:
    return None
"""


def test_the_session_dependency_under_a_partial_is_left_out_as_elsewhere() -> None:
    # `Depends(partial(get_repo, User))`: the Session dependency is known by the annotation of
    # the function the partial wraps, as it is under a plain function (an unannotated get_db).
    from async_migrate.codemods.verify import contract
    from async_migrate.codemods.verify.introspect import describe

    def build(migrated: bool) -> dict:
        namespace: dict = {"MIGRATED": migrated, "__name__": "repo_app"}
        exec(compile(PARTIAL_REPO_APP, "repo_app.py", "exec"), namespace)
        return json.loads(json.dumps(describe(namespace["app"]), default=str))

    assert contract.compare(build(False), build(True)) == []


def test_a_test_module_that_does_not_collect_says_why(cli, repo_app: Path) -> None:
    # No test failed and none is listed: the text said "FAIL (... no results)" and nothing more.
    (repo_app / "tests" / "test_broken.py").write_text("import no_such_module_here\n", encoding="utf-8")
    result = cli("verify", repo_app, "--app", "main:app", "--no-contract")
    assert result.exit_code == 1
    assert "the test command exited with status 2 with no failing test:" in result.stdout, result.stdout
    assert "ERROR tests/test_broken.py" in result.stdout, result.stdout


def test_a_test_the_change_removed_fails(cli, repo_app: Path) -> None:
    # No test skipped, none failing: the one covering the key check is simply gone.
    edit(repo_app, "tests/test_api.py", "def test_create_needs_a_key(client):", "def _create_needs_a_key(client):")
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 1, document["tests"]
    tests = document["tests"]
    assert tests["status"] == "fail" and tests["counts"] == {"passed": 3} and tests["failures"] == []
    assert tests["dropped"] == [
        {"test": "tests/test_api.py::test_create_needs_a_key", "before": "collected", "after": "absent"}
    ]
    assert len(worktrees(repo_app).strip().splitlines()) == 1
    text = cli("verify", repo_app, "--app", "main:app", "--no-contract").output
    assert "tests/test_api.py::test_create_needs_a_key: collected on the before side, absent now" in text


# ------------------------------------------------------------------ a src layout


@pytest.mark.parametrize("configured", [True, False], ids=["src-configured", "src-found-from-imports"])
def test_a_src_layout_imports_from_its_src_folder_on_each_side(cli, tmp_path: Path, configured: bool) -> None:
    # The package lives in src/ and nothing installs it: the contract import, the tests and
    # the before side's checkout each need src/ on the import path, and each side its own.
    files = {k if k.startswith(("tests/", ".")) else f"src/{k}": v for k, v in service().items()}
    if configured:
        files["pyproject.toml"] = '[tool.async-migrate]\nsrc = ["src"]\n'
    root = tmp_path / "svc"
    init_repo(root, files)
    with (root / "src/main.py").open("a", encoding="utf-8") as handle:
        handle.write("# the working tree\n")  # a before side that is the same code is refused
    code, document = run_verify(cli, root)
    assert code == 0, document
    assert document["contract"]["status"] == "pass" and document["contract"]["routes"] == 4
    assert document["tests"]["status"] == "pass" and document["tests"]["counts"] == {"passed": 4}
    # The before side's import reads the before checkout's src/, not the working tree's.
    edit(root, "src/api/items.py", 'response_model=ItemOut, status_code=201)\ndef create_item',
         'response_model=ItemOut, status_code=200)\ndef create_item')
    code, document = run_verify(cli, root, "--no-tests")
    assert code == 1
    assert ("POST /items", "response 201") in {(d["route"], d["what"]) for d in document["contract"]["differences"]}


def test_import_folders_of_the_roots() -> None:
    from async_migrate.codemods.roots import Roots
    from async_migrate.codemods.verify.runner import import_folders

    assert import_folders(Roots()) == ()
    assert import_folders(Roots((("src", ""), ("", "")))) == ("src",)
    # PATH is the package `app` (or `svc.app`) itself: its imports start one (two) folders up.
    assert import_folders(Roots((("", "app."),))) == ("..",)
    assert import_folders(Roots((("", "svc.app."),))) == ("../..",)


# The tests override the synchronous session dependency only; POST /notes injects the async one,
# so under the tests it runs on whatever database the application itself is configured with.
SYNC_OVERRIDE = ("tests/conftest.py", '''@pytest.fixture
def client():''', '''from db import database_sessionmaker, get_db_session  # noqa: E402


def override_session():
    with database_sessionmaker() as session:
        yield session


@pytest.fixture(autouse=True)
def _test_database():
    app.dependency_overrides[get_db_session] = override_session
    yield
    app.dependency_overrides.clear()


@pytest.fixture
def client():''')


def test_tests_overriding_only_the_sync_session_dependency_fail_naming_the_override(cli, repo_app: Path) -> None:
    edit(repo_app, *SYNC_OVERRIDE)
    code, document = run_verify(cli, repo_app, "--no-contract")
    tests = document["tests"]
    assert code == 1 and document["ok"] is False, tests
    # not run: they would have written to the application's database
    assert tests["counts"] == {} and tests["exit_code"] is None and tests["status"] == "fail", tests
    assert tests["refused"].startswith("not run: they would write to the application's own database "
                                       "(`get_async_db_session` (db.py:"), tests["refused"]
    assert "override `get_async_db_session` too (`app.dependency_overrides[get_async_db_session] = ...`" \
        in tests["refused"] and "--allow-override-gap" in tests["refused"], tests["refused"]
    [gap] = tests["override_gaps"]
    assert gap.startswith("tests/conftest.py:") and "overrides the synchronous `get_db_session`" in gap, gap
    assert "override `get_async_db_session` as well" in gap, gap
    text = " ".join(cli("verify", repo_app, "--app", "main:app", "--no-contract").output.split())
    assert "tests under the runtime guard: FAIL (" in text and "-m pytest: not run)" in text, text
    assert "refused: the migrated routes escape the tests' database override, so the tests would run them " \
        "against the application's own database: tests/conftest.py:" in text, text
    # the gap is the reason the run fails, not a test command that failed with no failing test
    assert "with no failing test" not in text and "test session starts" not in text, text
    # acknowledged: run, listed, not failed, and the database they reached named
    code, document = run_verify(cli, repo_app, "--no-contract", "--allow-override-gap")
    tests = document["tests"]
    assert code == 0 and tests["status"] == "pass" and tests["counts"] == {"passed": 4}, tests
    assert tests["override_gap_allowed"] is True and len(tests["override_gaps"]) == 1 and tests["refused"] is None
    assert tests["override_gap_database"].startswith("`get_async_db_session` (db.py:"), tests
    text = " ".join(cli("verify", repo_app, "--app", "main:app", "--no-contract", "--allow-override-gap").output.split())
    assert "warning: --allow-override-gap: the tests ran the migrated routes on the application's own database, " \
        "not the tests': `get_async_db_session` (db.py:" in text, text


def test_near_miss_tests_overriding_the_async_session_dependency_too_pass(cli, repo_app: Path) -> None:
    file, old, new = SYNC_OVERRIDE
    edit(repo_app, file, old, new.replace(
        "    app.dependency_overrides[get_db_session] = override_session\n",
        "    app.dependency_overrides[get_db_session] = override_session\n"
        "    app.dependency_overrides[get_async_db_session] = override_async_session\n",
    ).replace("get_db_session  # noqa", "get_async_db_session, get_db_session  # noqa").replace(
        "@pytest.fixture(autouse=True)",
        "async def override_async_session():\n    from db import async_database_sessionmaker\n\n"
        "    async with async_database_sessionmaker() as session:\n        yield session\n\n\n"
        "@pytest.fixture(autouse=True)",
    ))
    code, document = run_verify(cli, repo_app, "--no-contract")
    assert code == 0 and document["tests"]["override_gaps"] == [], document["tests"]


# The tests keep their own database and override the synchronous session dependency onto it; the
# application's database is a file beside the code, as a developer's would be.
OWN_DATABASE = """
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["TINY_DB"] = str(ROOT / "app.db")  # what the application is configured with

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from db import Base, User, get_async_db_session, get_db_session  # noqa: E402
from main import app  # noqa: E402

_SCRATCH = tempfile.mkdtemp(prefix="tiny-tests-")
TEST_DB = os.path.join(_SCRATCH, "test.db")
test_engine = create_engine("sqlite:///" + TEST_DB)
testing_sessionmaker = sessionmaker(test_engine, expire_on_commit=False)
async_test_engine = create_async_engine("sqlite+aiosqlite:///" + TEST_DB)
async_testing_sessionmaker = async_sessionmaker(async_test_engine, expire_on_commit=False)


def override_session():
    with testing_sessionmaker() as session:
        yield session


async def override_async_session():
    async with async_testing_sessionmaker() as session:
        yield session


@pytest.fixture(autouse=True)
def _test_database():
    Base.metadata.create_all(test_engine)
    with testing_sessionmaker() as session:
        if session.get(User, 1) is None:
            session.add(User(id=1, api_key="key"))
            session.commit()
    app.dependency_overrides[get_db_session] = override_session
    # ASYNC OVERRIDE
    yield
    app.dependency_overrides.clear()


@pytest.fixture
def client():
    with TestClient(app) as client:
        yield client


def pytest_sessionfinish():
    shutil.rmtree(_SCRATCH, True)
"""

NOTE_WRITTEN = """

def test_note_in_the_tests_database(client):
    assert client.post("/notes", json={"name": "mine"}, headers=KEY).status_code == 201
    from conftest import testing_sessionmaker
    from sqlalchemy import select

    from db import Item

    with testing_sessionmaker() as session:
        assert "mine" in session.scalars(select(Item.name)).all()
"""


TESTS_WITH_NOTE = TESTS + NOTE_WRITTEN


def own_database_service(root: Path, async_override: bool) -> Path:
    """The tiny service whose tests override the sync dependency onto their own database (and the
    async one too, with `async_override`), beside an application database `app.db` that already
    has its tables and user (the lifespan then writes nothing there)."""
    import sqlite3

    files = service()
    conftest = OWN_DATABASE
    if async_override:
        conftest = conftest.replace("    # ASYNC OVERRIDE\n",
                                    "    app.dependency_overrides[get_async_db_session] = override_async_session\n")
    files["tests/conftest.py"] = conftest
    files["tests/test_api.py"] = TESTS_WITH_NOTE
    init_repo(root, files)
    touch_working_tree(root)
    with sqlite3.connect(root / "app.db") as connection:
        connection.executescript(
            "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);"
            "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, api_key VARCHAR(50) NOT NULL);"
            "INSERT INTO users VALUES (1, 'key');"
        )
    connection.close()
    return root


def test_tests_that_would_write_to_the_applications_database_are_not_run(cli, tmp_path: Path) -> None:
    # POST /notes injects the async dependency, which the tests do not override: run, the tests
    # would add a row to app.db (a new-user trial's development database got one).
    root = own_database_service(tmp_path / "svc", async_override=False)
    before = (root / "app.db").read_bytes()
    code, document = run_verify(cli, root, "--no-contract", "--tests-before")
    tests = document["tests"]
    assert code == 1 and tests["status"] == "fail" and tests["counts"] == {} and "before" not in tests, tests
    assert "override `get_async_db_session` too" in tests["refused"], tests
    assert (root / "app.db").read_bytes() == before
    # acknowledged, they run there, and say so
    code, document = run_verify(cli, root, "--no-contract", "--allow-override-gap")
    assert document["tests"]["counts"] == {"passed": 4, "failed": 1}, document["tests"]  # the note is not there
    assert "get_async_db_session" in document["tests"]["override_gap_database"]
    assert (root / "app.db").read_bytes() != before


def test_near_miss_tests_overriding_both_session_dependencies_run(cli, tmp_path: Path) -> None:
    root = own_database_service(tmp_path / "svc", async_override=True)
    before = (root / "app.db").read_bytes()
    code, document = run_verify(cli, root, "--no-contract")
    tests = document["tests"]
    assert code == 0 and tests["status"] == "pass" and tests["counts"] == {"passed": 5}, tests["output_tail"]
    assert tests["override_gaps"] == [] and not tests.get("refused") and not tests.get("override_gap_database")
    assert (root / "app.db").read_bytes() == before


def test_the_guard_sees_blocking_on_a_trio_loop(tmp_path, monkeypatch):
    # anyio's pytest plugin runs the tests (and the app, through httpx's ASGITransport) on trio
    # when `anyio_backend` says so: no asyncio loop runs, yet a Session call there blocks the loop.
    import importlib.util
    import types

    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("guard_under_test", Path(guard_module.__file__))
    guard = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(guard)  # type: ignore[union-attr]
    watcher = guard._Guard()
    watcher.root = tmp_path
    running = {"trio": True}

    def current_trio_token():
        if not running["trio"]:
            raise RuntimeError("must be called from async context")
        return object()

    trio = types.ModuleType("trio")
    trio.lowlevel = types.SimpleNamespace(current_trio_token=current_trio_token)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trio", trio)
    token = guard._request.set(guard._Request({"type": "http", "method": "GET", "path": "/items"}))
    application: dict = {"watcher": watcher}
    exec(compile("def list_items():\n    watcher.blocking('SQL execute (SELECT)')\n", str(tmp_path / "api.py"), "exec"),
         application)
    try:
        application["list_items"]()
        (event,) = watcher.take()
        assert event["kind"] == "blocking" and event["where"] == "api.py:2 in list_items"
        # near miss: a threadpool worker (a `def` route) runs no trio loop
        running["trio"] = False
        application["list_items"]()
        assert watcher.take() == []
    finally:
        guard._request.reset(token)


GUARDED_APP = '''
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

if TYPE_CHECKING:
    from {session_module} import Session


def get_db():
    yield None


def get_user(db: Session = Depends(get_db)) -> int:
    return 1


app = FastAPI()


@app.get("/items")
def items(db: "Session" = Depends(get_db), user: int = Depends(get_user)) -> dict:
    return {{}}
'''


@pytest.mark.parametrize("session_module", ["sqlalchemy.orm", "web_sessions"])
def test_the_contract_reads_a_session_imported_only_for_type_checking(tmp_path, monkeypatch, session_module) -> None:
    # `db: "Session"` with Session imported under `if TYPE_CHECKING:` (a package layout's way to
    # spare the import): the annotation does not resolve at run time, so the Session dependency was
    # taken for an auth one and every migrated route failed the contract (`get_db -> (none)`).
    # A class of that name from elsewhere (a web session) is no SQLAlchemy Session: it stays.
    from async_migrate.codemods.verify.introspect import describe

    (tmp_path / "web_sessions.py").write_text("class Session:\n    pass\n")
    name = f"guarded_app_{session_module.replace('.', '_')}"
    (tmp_path / f"{name}.py").write_text(GUARDED_APP.format(session_module=session_module))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    (route,) = [r for r in describe(module.app)["routes"] if r["endpoint"] and r["endpoint"].endswith("items")]
    calls = {d["call"].rsplit(".", 1)[-1]: [c["call"].rsplit(".", 1)[-1] for c in d["children"]] for d in route["dependencies"]}
    if session_module == "sqlalchemy.orm":
        assert calls == {"get_user": []}
    else:
        assert calls == {"get_db": [], "get_user": ["get_db"]}


def test_a_run_on_trio_says_blockbuster_did_not_check_it() -> None:
    # blockbuster's hooks watch asyncio's loop only: on anyio's trio backend the guard sees the
    # SQLAlchemy events alone, and the pass must say what was left unchecked.
    from async_migrate.codemods.verify.report import verify_markdown
    from async_migrate.codemods.verify.testrun import TestRun, _read_report

    run = TestRun(["pytest"], exit_code=0)
    _read_report(run, {"installed": {"blockbuster": True, "blockbuster-on-trio": False}})
    _read_report(run, {"installed": {"blockbuster": True}})  # another xdist worker, on asyncio
    assert run.installed == {"blockbuster": True, "blockbuster-on-trio": False}
    document = _verified(blockbuster=True)
    document["tests"].update(guard=dict(run.installed), failures=[], preexisting=[], acknowledged=[])
    assert "ran the application on trio (anyio_backend), where blockbuster's hooks do not run" in _printed(document)
    assert "ran the application on trio" in verify_markdown(document)
    # near miss: a run on asyncio says nothing of it
    assert "trio" not in _printed(_verified(blockbuster=True))


UNANNOTATED_DB = '''
from collections.abc import AsyncIterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
Session = sessionmaker(bind=engine)
async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine)


def get_db():
    db = Session()
    try:
        yield db
    finally:
        db.close()


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
'''
UNANNOTATED_MAIN = '''
from fastapi import Depends, FastAPI, Header
from sqlalchemy.ext.asyncio import AsyncSession

from db import Session, get_async_db_session, get_db

app = FastAPI()


def get_user(x_user: str = Header()) -> str:
    return x_user


@app.get("/a")
def a(db=Depends(get_db), user: str = Depends(get_user)):
    return {}


@app.get("/b")
def b(db: Session = Depends(get_db)):
    return {}
'''


@pytest.mark.parametrize("drop_auth", [False, True])
def test_the_contract_knows_a_session_dependency_no_annotation_shows(cli, tmp_path, drop_auth) -> None:
    # `get_db` yields `Session()` with no return annotation, and the routes' parameters are
    # unannotated or annotated with the sessionmaker (`Session = sessionmaker(...)`): only the
    # static analysis tells it from an auth dependency, so phase two's switch to the async
    # dependency read as `get_db -> (none)` on every migrated route. An auth dependency dropped
    # is still a difference.
    root = tmp_path / "svc"
    init_repo(root, {"db.py": UNANNOTATED_DB, "main.py": UNANNOTATED_MAIN})
    after = UNANNOTATED_MAIN.replace("def a(db=Depends(get_db),", "async def a(db: AsyncSession = Depends(get_async_db_session),")
    after = after.replace("def b(db: Session = Depends(get_db))", "async def b(db: AsyncSession = Depends(get_async_db_session))")
    if drop_auth:
        after = after.replace(", user: str = Depends(get_user)", "")
    (root / "main.py").write_text(after, encoding="utf-8")
    code, document = run_verify(cli, root, "--no-tests")
    differences = document["contract"]["differences"]
    if drop_auth:
        assert code == 1 and {"route": "GET /a", "what": "dependency", "before": "main.get_user", "after": "(none)"} in differences
        assert "get_db" not in json.dumps(differences), differences
    else:
        assert code == 0 and differences == [], document


def test_blocking_calls_also_on_the_before_side_are_summed_up_past_a_few() -> None:
    document = _verified(blockbuster=True)
    document["tests"]["preexisting"] = [
        {"kind": "blocking", "request": f"GET /items/{n}", "where": f"app/items.py:{n}", "calls": ["Session.execute"],
         "tests": ["t"]}
        for n in range(7)
    ]
    printed = _printed(document)
    assert printed.count("also on the before side (not introduced") == 3, printed
    assert "... and 4 more also on the before side (--format json lists them all)" in printed
    assert printed.index("and 4 more") < printed.index("check:")  # the verdict follows


def test_quiet_keeps_the_section_that_failed_and_drops_those_that_passed() -> None:
    document = _verified(blockbuster=True)
    document["ok"] = False
    document["check"] = {"status": "fail", "errors": [], "findings": [
        {"file": "api/users.py", "line": 12, "function": "by_activity", "message": "AM314 missing-greenlet: ..."},
    ]}
    printed = _printed(document, quiet=True)
    assert "check: FAIL" in printed and "api/users.py:12 by_activity: AM314" in printed, printed
    assert "HTTP contract" not in printed and "tests under the runtime guard" not in printed, printed
    assert printed.rstrip().endswith("verify: FAILED"), printed
    # a run that passed: the verdict alone
    assert _printed(_verified(blockbuster=True), quiet=True).strip() == "verify: passed"


@pytest.mark.parametrize("no_cache", [True, False], ids=["no-cache", "near-miss-cached"])
def test_verify_takes_no_cache_for_its_static_recheck(cli, tmp_path: Path, monkeypatch, no_cache: bool) -> None:
    # README: `--no-cache` on every analysing command; verify exited 2 'No such option' (a new-user trial)
    caches = tmp_path / "caches"
    monkeypatch.setenv("ASYNC_MIGRATE_CACHE_DIR", str(caches))
    root = write_tree(tmp_path / "plain", service())
    flags = ["--no-cache"] if no_cache else []
    result = cli("verify", root, "--app", "main:app", "--no-tests", "--no-contract", "-q", *flags)
    assert result.exit_code == 0, result.output
    kept = [p for p in caches.rglob("*") if p.is_file()] if caches.exists() else []
    assert (kept == []) is no_cache, kept


SRC_DB = """from sqlalchemy.orm import Session


def work(db: Session) -> int:
    return 1
"""

SRC_MAIN = """from fastapi import FastAPI

from {db} import work

app = FastAPI()


@app.get("/ping")
async def ping() -> dict:
    return {{"ok": True}}
"""


def _src_layout(root: Path, db: str) -> None:
    """A src/ layout nothing installs, committed; then a route the working tree adds."""
    init_repo(root, {"src/shopapp/__init__.py": "", "src/shopapp/db.py": SRC_DB, "src/shopapp/main.py": SRC_MAIN.format(db=db)})
    with (root / "src/shopapp/main.py").open("a", encoding="utf-8") as handle:
        handle.write('\n\n@app.get("/added")\nasync def added() -> dict:\n    return {}\n')


def test_a_before_side_importing_the_working_tree_is_refused(cli, tmp_path: Path, monkeypatch) -> None:
    # Relative imports name no folder to find, so only PYTHONPATH placed the package, and it placed the
    # working tree's for the before side too: the contract compared the working tree with itself and
    # found no difference, though the working tree adds a route.
    root = tmp_path / "svc"
    _src_layout(root, ".db")
    monkeypatch.setenv("PYTHONPATH", str(root / "src"))
    result = cli("verify", root, "--app", "shopapp.main:app", "--no-tests")
    assert result.exit_code == 2, result.output
    stderr = " ".join(result.stderr.split())
    assert f"imports `shopapp` from {(root / 'src/shopapp/__init__.py').resolve()}, the working tree: both sides would " \
           "measure the working tree's code" in stderr
    assert f"PYTHONPATH ({root / 'src'}) puts it first: leave that entry out, verify puts each side's own" in stderr
    assert len(worktrees(root).strip().splitlines()) == 1
    # near miss: configured, each side imports its own src/ ahead of PYTHONPATH, and the added route shows
    (root / "pyproject.toml").write_text('[tool.async-migrate]\nsrc = ["src"]\n', encoding="utf-8")
    result = cli("verify", root, "--app", "shopapp.main:app", "--no-tests", "--no-cache", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "/added" in result.stdout
