"""The migration report (`--report FILE`): per subsystem, in Markdown and JSON.

The golden files are reviewed by hand; regenerate them with ASYNC_MIGRATE_REGEN=1
after a deliberate change and read the diff before committing it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BOOKSHOP, check_golden
from sample import copy_service

from async_migrate.cli.report_render import render_markdown
from async_migrate.codemods.report import Report, TrafficError, load_traffic

GOLDEN = Path(__file__).parent / "golden"
ROOT = "<root>"

TRAFFIC = """method,path,count
GET,/books,1200
GET,/books/{id},5000
GET,/books/{book_id}/summary,40
HEAD,/books/{book_id}/summary,2
GET,/authors/,300
POST,/orders,50
GET,/not-a-route,3
"""


def _golden(name: str, text: str) -> None:
    check_golden(name, text)


def _report(cli, tmp_path: Path, root: Path, command: str, name: str, *extra: str) -> str:
    out = tmp_path / name
    result = cli(command, root, "--report", out, *extra)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert str(root.resolve()) in text
    # The tool's version leads every JSON report; the golden keeps the shape, not the number.
    text = re.sub(r'^  "version": "[^"]+",$', '  "version": "<version>",', text, count=1, flags=re.M)
    return text.replace(str(root.resolve()), ROOT)


@pytest.fixture(scope="module")
def scan_reports(tmp_path_factory):  # type: ignore[no-untyped-def]
    from conftest import Cli

    cli, tmp = Cli(), tmp_path_factory.mktemp("reports")
    root = copy_service(BOOKSHOP, tmp / "bookshop")
    return (
        _report(cli, tmp, root, "scan", "plan.md"),
        _report(cli, tmp, root, "scan", "plan.json"),
    )


@pytest.fixture(scope="module")
def applied_reports(tmp_path_factory):  # type: ignore[no-untyped-def]
    """phase1 --apply on a copy, ranked by traffic: the report of what was done."""
    from conftest import Cli

    cli, tmp = Cli(), tmp_path_factory.mktemp("applied")
    traffic = tmp / "traffic.csv"
    traffic.write_text(TRAFFIC, encoding="utf-8")
    markdown_root = copy_service(BOOKSHOP, tmp / "md" / "bookshop")
    json_root = copy_service(BOOKSHOP, tmp / "json" / "bookshop")
    return (
        _report(cli, tmp, markdown_root, "phase1", "done.md", "--apply", "--traffic", traffic),
        _report(cli, tmp, json_root, "phase1", "done.json", "--apply", "--traffic", traffic),
    )


# ------------------------------------------------------------------- goldens


def test_the_plan_report_of_the_sample_service_matches_the_golden_markdown(scan_reports):
    _golden("report_bookshop_scan.md", scan_reports[0])


def test_the_plan_report_of_the_sample_service_matches_the_golden_json(scan_reports):
    _golden("report_bookshop_scan.json", scan_reports[1])


def test_the_phase1_report_with_traffic_matches_the_golden_markdown(applied_reports):
    _golden("report_bookshop_phase1_traffic.md", applied_reports[0])


def test_the_phase1_report_with_traffic_matches_the_golden_json(applied_reports):
    _golden("report_bookshop_phase1_traffic.json", applied_reports[1])


# ------------------------------------------------ every Markdown fact is in JSON


def _unescape(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell)


def _tables(markdown: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(the heading above it, header, rows) for every table; cells unescaped, split at <br>."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    heading = ""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("| ") and index + 1 < len(lines) and lines[index + 1].startswith("| ---"):
            rows = []
            header = _cells(line)
            index += 2
            while index < len(lines) and lines[index].startswith("| "):
                rows.append(_cells(lines[index]))
                index += 1
            tables.append((heading, header, rows))
            continue
        index += 1
    return tables


def _cells(line: str) -> list[str]:
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [part.strip() for part in parts]


def _split(cell: str) -> list[str]:
    return [_unescape(piece) for piece in cell.split("<br>")] if cell else []


def _route(entry: dict) -> str:
    if entry["kind"] == "websocket":
        return f"WEBSOCKET {entry['route']}"
    if entry["kind"] != "route":
        return ""
    return f"{', '.join(entry['methods'])} {entry['route']}"


def _assert_markdown_facts_are_in_json(markdown: str, document: dict) -> int:
    """Every table cell and count line of the Markdown, checked against the JSON; returns cells checked."""
    checked = 0
    subsystems = {s["name"]: s for s in document["subsystems"]}
    for name, subsystem in subsystems.items():
        counts = ", ".join(f"{count} {action}" for action, count in subsystem["counts"].items())
        assert f"### {name}\n\n{counts}\n" in markdown
    tables = _tables(markdown)
    for heading, header, rows in tables:
        if header[0] == "handlers":
            (row,) = rows
            totals = document["totals"]
            assert row == [
                str(totals[k]) for k in (
                    "handlers", "convert", "keep", "unchanged", "still_blocking", "unverified", "unresolved_endpoints",
                )
            ]
        elif header[0] == "rank":
            assert len(rows) == len(document["priority"])
            for row in rows:
                entry = document["priority"][int(row[0]) - 1]
                assert entry["rank"] == int(row[0])
                assert _unescape(row[1]) == f"{', '.join(entry['methods'])} {entry['route']}"
                assert row[2] == entry["function"]
                assert row[3] == f"{entry['file']}:{entry['line']}"
                assert row[4] == entry["category"]
                assert set(filter(None, row[5].split(", "))) == {e["call"] for e in entry["eager_loads"]}
                assert int(row[6]) == entry["session_calls"]
                if document["traffic"]:
                    assert int(row[7]) == entry["traffic"]
                checked += len(row)
        elif header == ["line", "handler", "kind", "route", "phase one", "reasons"]:
            handlers = subsystems[heading]["handlers"]
            assert len(rows) == len(handlers)
            for row in rows:
                (entry,) = [h for h in handlers if h["line"] == int(row[0]) and h["function"] == row[1]]
                assert row[2] == entry["kind"]
                assert _unescape(row[3]) == _route(entry)
                assert row[4] == entry["action"]
                assert _split(row[5]) == entry["reasons"]
                checked += len(row)
        elif header == ["line", "handler", "route", "blocks at", "fix"]:
            blocking = subsystems[heading]["still_blocking"]
            assert len(rows) == len(blocking)
            for row in rows:
                (entry,) = [b for b in blocking if b["line"] == int(row[0]) and b["function"] == row[1]]
                assert _unescape(row[2]) == _route(entry)
                assert _split(row[3]) == [
                    f"line {b['line']}: {b['call']}" + (" (offloaded)" if b["offloaded"] else "")
                    for b in entry["blocking"]
                ]
                assert _split(row[4]) == entry["fixes"]
                checked += len(row)
        elif header == ["method", "path", "count"]:
            assert [{"method": r[0], "path": _unescape(r[1]), "count": int(r[2])} for r in rows] == document[
                "traffic_unmatched"
            ]
            checked += sum(map(len, rows))
        else:
            raise AssertionError(f"a table the test does not check: {header}")
    return checked


def test_every_route_reason_and_count_in_the_markdown_is_in_the_json(scan_reports, applied_reports):
    for markdown, text in (scan_reports, applied_reports):
        document = json.loads(text)
        assert _assert_markdown_facts_are_in_json(markdown, document) > 300
        assert f"on `{ROOT}`" in markdown and document["root"] == ROOT


# -------------------------------------------------------------- the contents


def test_the_plan_report_groups_by_router_module_and_lists_the_handlers_that_still_block(scan_reports):
    document = json.loads(scan_reports[1])
    names = [s["name"] for s in document["subsystems"]]
    assert "api/books.py" in names and "core/dependencies.py" in names  # dependencies under their module
    assert document["totals"]["handlers"] == sum(len(s["handlers"]) for s in document["subsystems"])
    blocking = {
        (b["file"], b["function"]): b for s in document["subsystems"] for b in s["still_blocking"]
    }
    assert set(blocking) == {
        ("api/live.py", "books_feed"),
        ("api/orders.py", "create_order"),
        ("api/reports.py", "top_rated"),
        ("api/books.py", "similar_books"),
    }
    assert any("move Session work to run_in_threadpool" in f for f in blocking[("api/live.py", "books_feed")]["fixes"])
    assert any(
        f.startswith("mixed: move the awaited call out") for f in blocking[("api/orders.py", "create_order")]["fixes"]
    )
    assert any("--offload-mixed" in f for f in blocking[("api/orders.py", "create_order")]["fixes"])
    books = next(s for s in document["subsystems"] if s["name"] == "api/books.py")
    list_books = next(h for h in books["handlers"] if h["function"] == "list_books")
    assert (list_books["route"], list_books["path"]) == ("/books", "/books")  # the router prefix in front


def test_the_rollout_puts_list_endpoints_first_then_detail_then_writes_without_traffic(scan_reports):
    priority = json.loads(scan_reports[1])["priority"]
    categories = [entry["category"] for entry in priority]
    assert categories == sorted(categories, key=["list", "detail", "write"].index)
    assert all(entry["traffic"] is None for entry in priority)
    lists = [entry for entry in priority if entry["category"] == "list"]
    eager = [bool(entry["eager_loads"]) for entry in lists]
    assert eager == sorted(eager, reverse=True)  # within a category, eager loads and joins first
    list_books = next(e for e in priority if e["function"] == "list_books")
    assert {e["call"] for e in list_books["eager_loads"]} == {"selectinload"}
    assert list_books["session_calls"] == 2  # get_books_by_author and get_db_books, one query each
    sales = next(e for e in priority if e["function"] == "sales_report")
    assert {e["call"] for e in sales["eager_loads"]} == {"join"}
    # `paginate(session, ...)` runs on the Session: counted although it is not project code.
    assert next(e for e in priority if e["function"] == "list_authors_page")["session_calls"] == 1


def test_traffic_ranks_first_and_unmatched_rows_are_listed(applied_reports):
    document = json.loads(applied_reports[1])
    priority = document["priority"]
    assert document["applied"] is True and document["traffic"] is True
    assert [(e["function"], e["traffic"]) for e in priority[:4]] == [
        ("get_book", 5000),
        ("list_books", 1200),
        ("list_authors", 300),  # a trailing slash still matches
        ("book_summary", 42),  # GET and HEAD add up
    ]
    assert all(e["traffic"] == 0 for e in priority[4:])
    # POST /orders is create_order: kept async, so not ranked, but it is a route.
    assert document["traffic_unmatched"] == [{"method": "GET", "path": "/not-a-route", "count": 3}]
    assert "create_order" not in {e["function"] for e in priority}
    assert "# Migration report: phase one applied" in applied_reports[0]


def test_a_subsystem_from_the_configuration_groups_its_modules(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write('\n[tool.async-migrate.subsystems]\ncatalogue = ["api/books.py", "api/authors.py"]\n')
    out = tmp_path / "report.json"
    assert cli("scan", root, "--report", out).exit_code == 0
    document = json.loads(out.read_text())
    catalogue = next(s for s in document["subsystems"] if s["name"] == "catalogue")
    assert catalogue["files"] == ["api/authors.py", "api/books.py"]
    assert "api/books.py" not in [s["name"] for s in document["subsystems"]]


def test_the_phase1_report_records_offloaded_calls(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    out = tmp_path / "report.json"
    assert cli("phase1", root, "--offload-mixed", "--report", out).exit_code == 0
    document = json.loads(out.read_text())
    blocking = {b["function"]: b for s in document["subsystems"] for b in s["still_blocking"]}
    order = blocking["create_order"]
    assert [(b["call"], b["offloaded"]) for b in order["blocking"]] == [
        ("services.order_helper.place_order(...)", True),
        ("session.commit()", False),
    ]
    assert not any("--offload-mixed` wraps" in f for f in order["fixes"])  # already done
    assert "top_rated" not in blocking and "books_feed" not in blocking  # fully offloaded
    assert document["applied"] is False
    markdown = tmp_path / "report.md"
    assert cli("phase1", root, "--offload-mixed", "--report", markdown).exit_code == 0
    text = markdown.read_text()
    assert text.startswith("<!-- async-migrate:phase1 -->\n# Migration report: phase one (dry run)\n")
    assert "line 27: services.order_helper.place_order(...) (offloaded)<br>line 28: session.commit()" in text


# ---------------------------------------------------------------- the options


def test_report_and_traffic_usage_errors_exit_2_before_anything_is_written(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    traffic = tmp_path / "traffic.csv"
    traffic.write_text("GET,/books,many\n")
    result = cli("phase1", root, "--apply", "--report", tmp_path / "r.md", "--traffic", traffic)
    assert result.exit_code == 2
    assert "traffic.csv:1: count 'many' is not a whole number" in " ".join(result.stderr.split())
    assert cli("phase1", root, "--apply", "--report", tmp_path / "nowhere" / "r.md").exit_code == 2
    assert cli("scan", root, "--traffic", traffic).exit_code == 2  # --traffic ranks the report only
    assert cli("scan", root, "--report", tmp_path / "r.md", "--traffic", tmp_path / "missing.csv").exit_code == 2
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    assert not (tmp_path / "r.md").exists()


def test_traffic_files_header_comments_and_repeats(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("method,path,count\n# from the load balancer\nget,/a,1\nGET,/a,2\n\nPOST,/b,0\n")
    rows = load_traffic(path)
    assert [(r.method, r.path, r.count) for r in rows] == [("GET", "/a", 3), ("POST", "/b", 0)]
    path.write_text("GET,/a\n")
    with pytest.raises(TrafficError, match=r"t\.csv:1: expected method,path,count, got 2 fields: GET,/a\Z"):
        load_traffic(path)
    path.write_text("bad\n")
    with pytest.raises(TrafficError, match=r"t\.csv:1: expected method,path,count, got 1 field: bad\Z"):
        load_traffic(path)
    path.write_text("GET,a,1\n")
    with pytest.raises(TrafficError, match="does not start with /"):
        load_traffic(path)


def test_scan_and_phase1_output_is_unchanged_by_report(cli, tmp_path, bookshop):
    plain = cli.json("scan", bookshop)
    with_report = cli.json("scan", bookshop, "--report", tmp_path / "r.md")
    assert plain == with_report


@pytest.fixture(scope="module")
def phase2_reports(tmp_path_factory):  # type: ignore[no-untyped-def]
    """phase1 --apply, then phase two on api/books.py: the Markdown and JSON report of a dry run
    and of the applied run."""
    from conftest import Cli

    cli, tmp = Cli(), tmp_path_factory.mktemp("phase2")
    root = copy_service(BOOKSHOP, tmp / "bookshop")
    assert cli("phase1", root, "--apply").exit_code == 0
    reports = {}
    for name, extra in (("dry.md", ()), ("dry.json", ()), ("applied.md", ("--apply",))):
        result = cli("phase2", root, "--subsystem", "api/books.py", "--report", tmp / name, *extra)
        assert result.exit_code == 0, result.output
        reports[name] = (tmp / name).read_text(encoding="utf-8")
    return reports


def test_the_phase2_report_knows_its_phase(phase2_reports):
    document = json.loads(phase2_reports["dry.json"])
    assert document["phase"] == 2 and document["command"] == "phase2"
    totals = document["totals"]
    handlers = document["subsystems"][0]["handlers"]
    assert totals["routes"] == len(handlers) == 17
    assert totals["migrate"] == sum(h["action"] == "migrate" for h in handlers) > 0
    # With the eager loads phase two adds, every route of api/books.py moves.
    assert totals["blocked"] == sum(h["action"] == "blocked" for h in handlers) == 0
    assert {h["action"] for h in handlers} <= {"migrate", "blocked", "unchanged"}
    helpers = document["subsystem"]["helpers"]
    assert totals["helpers_twin"] == sum(h["action"] == "twin" for h in helpers) > 0
    assert totals["blockers"] == len(document["subsystem"]["blockers"]) == 0
    markdown = phase2_reports["dry.md"]
    assert "phase one" not in markdown and "convert" not in markdown
    assert markdown.startswith("<!-- async-migrate:phase2:api/books.py -->\n# Migration report: phase two, api/books.py (dry run)\n")
    assert f"phase two would move {totals['migrate']} of 17 routes of `api/books.py`" in markdown
    for section in ("## Routes", "## Helpers", "## Follow-ups"):
        assert section in markdown
    assert "| GET, HEAD /books/{book_id}/summary | book_summary | api/books.py:" in markdown
    assert "async twin added (sync original kept)" in markdown
    assert "- add the async driver package `aiosqlite` to the dependencies" in markdown
    # the asyncio extension's own dependency, which SQLAlchemy 2.1 no longer installs
    assert "- add `sqlalchemy[asyncio]` to the dependencies (or `greenlet`)" in markdown
    assert phase2_reports["applied.md"].startswith(
        "<!-- async-migrate:phase2:api/books.py -->\n# Migration report: phase two, api/books.py (applied)\n"
    )
    assert "phase two moved" in phase2_reports["applied.md"]


def test_an_applied_report_says_its_lines_are_those_before_a_rewrite_that_moved_them(phase2_reports):
    # phase two writes the async stack into the engine module: the lines the report cites, read
    # before, no longer point there; a dry run cites the files as they are
    applied = phase2_reports["applied.md"]
    sentence = next(line for line in applied.splitlines() if line.startswith("`async-migrate phase2`"))
    assert "The lines cited below are those of the files before the rewrite, which added or removed lines in" in (
        sentence), sentence
    assert "`db/engine.py`" in sentence, sentence
    assert "before the rewrite" not in phase2_reports["dry.md"]
    assert json.loads(phase2_reports["dry.json"])["lines_moved_in"] == []


def test_the_phase1_report_says_phase_1(scan_reports):
    assert json.loads(scan_reports[1])["phase"] == 1


def test_the_phase2_report_names_what_blocks_the_whole_subsystem(cli, project, tmp_path):
    """An engine the tool cannot derive an async one from blocks every route: the report says so
    apart from the per-route blockers; with a derivable engine the section is absent."""
    from conftest import DEPENDENCIES, ENGINE

    route = (
        "from fastapi import APIRouter\n\nfrom core.dependencies import session_dependency\n\n"
        "router = APIRouter()\n\n\n@router.get('/items')\ndef list_items(session: session_dependency):\n"
        "    return session.execute('select 1').all()\n"
    )
    files = {"db/__init__.py": "", "core/__init__.py": "", "core/dependencies.py": DEPENDENCIES,
             "api/__init__.py": "", "api/items.py": route}
    creator = ENGINE.replace('engine = create_engine("sqlite:///./app.db")',
                             'def connect():\n    return None\n\n\nengine = create_engine("sqlite://", creator=connect)')
    assert creator != ENGINE
    blocked = project({**files, "db/engine.py": creator})
    out = tmp_path / "blocked.md"
    assert cli("phase2", blocked, "--subsystem", "api/items.py", "--report", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "## What blocks the whole subsystem" in text
    assert "creator=connect" in text.split("## What blocks the whole subsystem", 1)[1]
    assert "phase two would move 0 of 1 routes" in text

    (tmp_path / "fine").mkdir()
    from conftest import write_tree

    fine = write_tree(tmp_path / "fine" / "app", {**files, "db/engine.py": ENGINE})
    out = tmp_path / "fine.md"
    assert cli("phase2", fine, "--subsystem", "api/items.py", "--report", out).exit_code == 0
    assert "whole subsystem" not in out.read_text(encoding="utf-8")


REPOSITORY_ROUTES = """
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import get_db_session

app = FastAPI()


class ItemRepository:
    def __init__(self, db: Session):
        self.db = db

    def get(self, item_id: int):
        return self.db.execute(text("select :x"), {"x": item_id}).scalar()

    def add(self, name: str):
        self.db.execute(text("select 1"))
        self.db.commit()


def get_repository(db: Session = Depends(get_db_session)) -> ItemRepository:
    return ItemRepository(db)


@app.get("/items/{item_id}")
async def get_item(item_id: int, repository: ItemRepository = Depends(get_repository)):
    return repository.get(item_id)


@app.post("/items")
async def add_item(name: str, repository: ItemRepository = Depends(get_repository)):
    repository.add(name)
"""


def test_session_calls_count_the_work_of_objects_that_hold_the_session(cli, project, app_files, tmp_path):
    root = project({**app_files, "main.py": REPOSITORY_ROUTES})
    out = tmp_path / "plan.json"
    assert cli("scan", root, "--report", out).exit_code == 0
    counts = {entry["function"]: entry["session_calls"] for entry in json.loads(out.read_text())["priority"]}
    assert counts == {"get_item": 1, "add_item": 2}


def test_a_route_that_reads_and_writes_ranks_with_the_writes(cli, project, app_files, tmp_path):
    items = (
        "from fastapi import APIRouter\n\nfrom core.dependencies import session_dependency\n\n"
        "router = APIRouter()\n\n\n"
        '@router.api_route("/items", methods=["GET", "POST"])\n'
        "async def items(session: session_dependency):\n"
        '    return session.execute("select 1").all()\n\n\n'
        '@router.api_route("/names", methods=["GET", "HEAD"])\n'
        "async def names(session: session_dependency):\n"
        '    return session.execute("select 1").all()\n'
    )
    root = project({**app_files, "api/__init__.py": "", "api/items.py": items})
    out = tmp_path / "report.json"
    assert cli("scan", root, "--report", out).exit_code == 0
    priority = {e["function"]: e["category"] for e in json.loads(out.read_text())["priority"]}
    assert (priority["items"], priority["names"]) == ("write", "list")


def test_a_subsystem_of_several_modules_names_each_rows_file(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    with (root / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write('\n[tool.async-migrate.subsystems]\ncatalogue = ["api/books.py", "api/authors.py"]\n')
    out = tmp_path / "report.md"
    assert cli("scan", root, "--report", out).exit_code == 0
    section = out.read_text().split("### catalogue", 1)[1].split("\n### ", 1)[0]
    assert "| file:line | handler |" in section and "| line | handler |" not in section
    rows = [line for line in section.splitlines() if line.startswith("| api/")]
    assert {row.split(":", 1)[0] for row in rows} == {"| api/books.py", "| api/authors.py"}


def _router_module(name: str) -> str:
    return (
        "from fastapi import APIRouter\n\nfrom core.dependencies import session_dependency\n\n"
        "router = APIRouter()\n\n\n"
        '@router.get("")\n'
        f"async def list_{name}(session: session_dependency):\n"
        '    return session.execute("select 1").all()\n\n\n'
        '@router.get("/{pk}")\n'
        f"async def get_{name}(pk: int, session: session_dependency):\n"
        '    return session.execute("select 1").all()\n'
    )


def test_routes_under_a_prefix_that_is_no_literal_show_their_known_tail_as_scan_does(cli, project, app_files, tmp_path):
    # The outer prefix is built at run time: each row still shows what is known behind it,
    # so list_users and list_posts read `GET [unknown prefix]/users` and `GET [unknown prefix]/posts`,
    # not both `GET [unknown prefix]`: as the JSON's `path` says it.
    api = (
        "from fastapi import APIRouter\n\nfrom api import posts, users\n\n"
        "router = APIRouter()\n"
        'router.include_router(users.router, prefix="/users")\n'
        'router.include_router(posts.router, prefix="/posts")\n'
    )
    main = (
        "import os\n\nfrom fastapi import FastAPI\n\nfrom api import router\n\n"
        "app = FastAPI()\n"
        'app.include_router(router.router, prefix=os.environ["PREFIX"] + "/v1")\n'
    )
    root = project({**app_files, "main.py": main, "api/__init__.py": "", "api/router.py": api,
                    "api/users.py": _router_module("users"), "api/posts.py": _router_module("posts")})
    scan = json.loads(cli("scan", root, "--format", "json").stdout)
    expected = {h["function"]: f"{h['methods'][0]} {h['path']}" for h in scan["handlers"] if h["kind"] == "route"}
    assert expected["list_users"] == "GET [unknown prefix]/users" and expected["get_posts"] == "GET [unknown prefix]/posts/{pk}"
    for command, name in (("scan", "plan.md"), ("phase1", "p1.md")):
        out = tmp_path / name
        assert cli(command, root, "--report", out).exit_code == 0
        rows = [_cells(line) for line in out.read_text().splitlines() if line.startswith("|")]
        named = [(cell, row) for row in rows for cell in row if cell in expected]
        assert {function for function, _ in named} == set(expected)
        for function, row in named:
            assert expected[function] in row, (command, row)


def test_phase_reports_written_to_one_file_each_keep_and_replace_only_their_own_section(cli, tmp_path):
    # phase2 --report on the file phase one wrote overwrote it, while verify adds its section:
    # now every command replaces only its own section, and verify's stays last.
    from async_migrate.codemods import report_sections

    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    report = tmp_path / "MIGRATION.md"
    assert cli("phase1", root, "--report", report).exit_code == 0  # the dry run
    assert cli("phase1", root, "--apply", "--report", report).exit_code == 0  # replaces it
    text = report.read_text(encoding="utf-8")
    assert text.count("# Migration report:") == 1 and "# Migration report: phase one applied" in text
    # what verify adds (its own test writes it for real)
    report.write_text(text + "\n## Verification\n\n" + report_sections.marked("verify", "### verify: passed"),
                      encoding="utf-8")
    for _ in range(2):
        assert cli("phase2", root, "--subsystem", "api/books.py", "--report", report).exit_code == 0
    text = report.read_text(encoding="utf-8")
    titles = [line for line in text.splitlines() if line.startswith("# Migration report:")]
    assert titles == ["# Migration report: phase one applied", "# Migration report: phase two, api/books.py (dry run)"]
    assert text.index("phase two, api/books.py") < text.index("## Verification") < text.index("### verify: passed")
    assert cli("phase2", root, "--subsystem", "api/authors.py", "--report", report).exit_code == 0
    text = report.read_text(encoding="utf-8")
    assert text.count("# Migration report: phase two, ") == 2 and text.count("## Verification") == 1


@pytest.mark.parametrize("name", ["MIGRATION.md", "migration.json"])
def test_a_second_apply_with_nothing_left_to_do_keeps_the_report_of_the_first(cli, project, app_files, tmp_path, name):
    # Rerunning `phase1 --apply --report` (a retried pipeline) replaced the record of the work
    # with "converted 0 of N" and left the repository dirty; a run that does change keeps writing.
    route = (
        "from fastapi import APIRouter\n\nfrom core.dependencies import session_dependency\n\n"
        "router = APIRouter()\n\n\n@router.get('/items')\n"
        "async def list_items(session: session_dependency):\n    return session.execute('select 1').all()\n"
    )
    root = project({**app_files, "api/__init__.py": "", "api/items.py": route})
    report = tmp_path / name
    for command in (["phase1"], ["phase2", "--subsystem", "api/items.py"]):
        assert cli(*command, root, "--apply", "--report", report).exit_code == 0
        first = report.read_bytes()
        assert b"1 of" in first or b'"convert": 1' in first or b'"migrate": 1' in first, first
        assert cli(*command, root, "--apply", "--report", report).exit_code == 0
        assert report.read_bytes() == first, command
    # A dry run still writes what it sees.
    assert cli("phase1", root, "--report", report).exit_code == 0
    assert report.read_bytes() != first


# A home-made class-based view: the route's endpoint is `getattr(instance, name)`, which the
# analysis cannot resolve (AM310). The report must not read as an all-clear.
CBV = '''
import inspect


def route(method, path):
    def mark(fn):
        fn.__route__ = (method, path)
        return fn

    return mark


def view(router):
    def register(cls):
        instance = cls()
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            method, path = member.__route__
            bound = getattr(instance, name)
            router.add_api_route(path, bound, methods=[method])
        return cls

    return register
'''
CBV_ITEMS = '''
from fastapi import APIRouter

from core.cbv import route, view
from core.dependencies import session_dependency

router = APIRouter()


@view(router)
class ItemView:
    @route("GET", "/items")
    async def list_items(self, session: session_dependency):
        return session.execute("select 1").all()
'''


def _cbv_project(project, app_files):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "core/cbv.py": CBV, "api/__init__.py": "", "api/items.py": CBV_ITEMS,
        "pyproject.toml": '[tool.async-migrate.subsystems]\nitems = ["api/items.py"]\n',
    })


@pytest.mark.parametrize("command", ["scan", "phase1"])
def test_routes_whose_endpoint_cannot_be_resolved_are_unverified_in_the_report(cli, project, app_files, tmp_path, command):
    root = _cbv_project(project, app_files)
    markdown, document = tmp_path / "plan.md", tmp_path / "plan.json"
    assert cli(command, root, "--report", markdown).exit_code == 0
    assert cli(command, root, "--report", document).exit_code == 0
    text = " ".join(markdown.read_text(encoding="utf-8").split())
    assert (
        "0 handlers it keeps `async def` still block the event loop. 1 route is registered with an "
        "endpoint the analysis cannot resolve (AM310): unverified, it may block the event loop too." in text
    )
    tables = _tables(markdown.read_text(encoding="utf-8"))
    (totals,) = [rows for _, header, rows in tables if header[0] == "handlers"]
    assert totals == [["1", "0", "0", "1", "0", "1", "1"]]
    (unverified,) = [(heading, rows) for heading, header, rows in tables if header[0] == "file:line"]
    assert unverified == ("Unverified routes", [["core/cbv.py:18", "add_api_route(...)", "bound", "", "AM310"]])
    data = json.loads(document.read_text(encoding="utf-8"))
    assert (data["totals"]["unverified"], data["totals"]["unresolved_endpoints"]) == (1, 1)
    assert data["unverified"] == [
        {"file": "core/cbv.py", "line": 18, "call": "add_api_route", "endpoint": "bound", "route": None, "code": "AM310"}
    ]
    assert data["warnings"] == []


def test_a_configured_subsystem_matching_no_file_is_a_warning_in_the_run_and_the_report(cli, project, app_files, tmp_path):
    root = _cbv_project(project, app_files)
    (root / "pyproject.toml").write_text(
        '[tool.async-migrate.subsystems]\nitems = ["api/items.py"]\nghost = ["api/ghost.py"]\n', encoding="utf-8"
    )
    warning = "subsystem 'ghost' in [tool.async-migrate.subsystems]: no module matches api/ghost.py"
    out = tmp_path / "plan.md"
    result = cli("scan", root, "--report", out)
    assert result.exit_code == 0, result.output
    assert f"async-migrate: warning: {warning}" in " ".join(result.stderr.split())
    assert f"## Warnings\n\n- {warning}\n" in out.read_text(encoding="utf-8")


def test_phase2_on_a_module_whose_routes_cannot_be_resolved_names_the_registration(cli, project, app_files):
    root = _cbv_project(project, app_files)
    result = cli("phase2", root, "--subsystem", "items")
    assert result.exit_code == 2, result.output
    assert (
        "async-migrate: subsystem 'items' has no routes the analysis can resolve (api/items.py); routes "
        "registered at core/cbv.py:18 run endpoints it cannot resolve (AM310) and may be this subsystem's: "
        "register a function or a method of a project class so phase two can read them"
    ) in " ".join(result.stderr.split())



MIXED_REGISTRATIONS = """\
from fastapi import APIRouter
from sqlalchemy import text

from core.dependencies import session_dependency

router = APIRouter()


def make_counter(table: str):
    async def count(session: session_dependency):
        return session.execute(text(f"select count(*) from {table}")).scalar()

    return {"count": count}


async def list_items(session: session_dependency):
    return session.execute(text("select 1")).all()


router.add_api_route("/items", list_items, methods=["GET"])
router.add_api_route("/items/count", make_counter("items")["count"], methods=["GET"])
"""


def test_phase2_names_the_subsystems_routes_it_cannot_resolve(cli, project, app_files, tmp_path):
    # A report listing only the routes phase two could read would pass for the whole module,
    # while the generated endpoint still blocks the event loop.
    root = project({**app_files, "api/__init__.py": "", "api/items.py": MIXED_REGISTRATIONS})
    warning = (
        "api/items.py:21: `add_api_route(...)` registers `make_counter(\"items\")[\"count\"]` for `/items/count`, which the "
        "analysis cannot resolve to a project function: not analysed, not migrated, and it may still block the "
        "event loop (AM310); register a function or a method of a project class"
    )
    markdown, document = tmp_path / "plan.md", tmp_path / "plan.json"
    result = cli("phase2", root, "--subsystem", "api/items.py", "--report", markdown)
    assert result.exit_code == 0, result.output
    assert f"async-migrate: warning: {warning}" in " ".join(result.stderr.split())
    assert f"- {warning}\n" in markdown.read_text(encoding="utf-8")
    data = cli.json("phase2", root, "--subsystem", "api/items.py")
    assert [(h["function"], h["action"]) for h in data["handlers"]] == [("list_items", "migrate")]
    assert data["warnings"] == [warning]
    assert cli("phase2", root, "--subsystem", "api/items.py", "--report", document).exit_code == 0
    assert json.loads(document.read_text(encoding="utf-8"))["warnings"] == [warning]
    # near miss: another subsystem's phase two does not name this module's registration
    (root / "api/other.py").write_text(MIXED_REGISTRATIONS.split("\n\n\ndef make_counter")[0] + (
        "\n\n\n@router.get('/other')\nasync def other(session: session_dependency):\n"
        "    return session.execute(text('select 2')).all()\n"
    ), encoding="utf-8")
    assert "warnings" not in cli.json("phase2", root, "--subsystem", "api/other.py")


HOOKS = '''
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from db.engine import database_sessionmaker


def seed() -> None:
    with database_sessionmaker() as session:
        session.execute("select 1")


@asynccontextmanager
async def lifespan(app: FastAPI):
    seed()
    yield


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def audit(request: Request, call_next):
    response = await call_next(request)
    with database_sessionmaker() as session:
        session.commit()
    return response


@app.get("/health")
async def health():
    return {"ok": True}
'''


MIDDLEWARE_FIX = (
    "it stays async (it awaits `call_next` or the wrapped app), so phase one does not convert it: move the "
    "Session work into a plain def helper and `await run_in_threadpool(helper, ...)`, or, once phase two has built "
    "the async stack, open an AsyncSession from its async sessionmaker there and await its calls by hand (phase two "
    "rewrites routes and what they call, not this)"
)


def test_the_fix_for_middleware_and_lifespan_is_one_that_applies_to_them(cli, project, app_files, tmp_path):
    # Not "move the awaited call out" or "list @app.middleware under safe-decorators": a middleware
    # awaits call_next and a lifespan is an async context manager, so phase one never converts either.
    root = project({**app_files, "main.py": HOOKS})
    out = tmp_path / "plan.json"
    assert cli("phase1", root, "--report", out).exit_code == 0
    (main,) = [s for s in json.loads(out.read_text(encoding="utf-8"))["subsystems"] if s["name"] == "main.py"]
    fixes = {entry["function"]: entry["fixes"] for entry in main["still_blocking"]}
    assert fixes == {
        "lifespan": [
            "it stays async (a lifespan is an async context manager; startup and shutdown handlers run on the "
            "event loop), so phase one does not convert it: it runs once and blocks no request; to keep the loop "
            "free meanwhile, move the Session work into a plain def helper and `await run_in_threadpool(helper, "
            "...)`, or, once phase two has built the async stack, open an AsyncSession from its async sessionmaker "
            "there and await its calls by hand (phase two rewrites routes and what they call, not this)",
            "`async-migrate phase1 --offload-mixed` wraps the helper calls at line 15 in `await run_in_threadpool(...)`",
        ],
        "audit": [
            MIDDLEWARE_FIX,
            # line 25 opens the Session, which does no I/O: its commit at line 26 does
            "the blocking calls at line 26 are not offloaded automatically: move them into a helper called "
            "as a statement, then `await run_in_threadpool(helper, ...)`",
        ],
    }
    # the same words as check's AM308 fix for the middleware
    check = cli.json("check", root)
    assert [f["message"].split("; fix: ", 1)[1] for f in check["findings"] if f["code"] == "AM308"] == [MIDDLEWARE_FIX]


@pytest.mark.parametrize(("blocked", "sentence"), [(1, "; 1 stays on the"), (2, "; 2 stay on the")])
def test_the_phase2_report_agrees_its_verb_with_the_count_blocked(tmp_path, blocked, sentence):
    class Counted(Report):
        @property
        def totals(self) -> dict[str, int]:
            counts = {"routes": 3, "migrate": 3 - blocked, "blocked": blocked, "unchanged": 0}
            return {**counts, "helpers_migrate": 0, "helpers_twin": 0, "helpers_blocked": 0, "blockers": 0,
                    "global_blockers": 0}

    markdown = render_markdown(Counted("phase2", tmp_path, False, [], [], phase2={"name": "api/items.py"}))
    assert f"{sentence} synchronous Session, blocked as listed below." in markdown


@pytest.mark.parametrize(("migrate", "unchanged", "sentence"), [
    (0, 3, "`AsyncSession`; 3 unchanged, each with its reason below."),
    (2, 1, "`AsyncSession`; 1 unchanged, each with its reason below."),
    (3, 0, "`AsyncSession`."),
])
def test_the_phase2_report_says_nothing_is_blocked_when_nothing_is(tmp_path, migrate, unchanged, sentence):
    # A subsystem run again after it moved has every route unchanged: none of them "stay blocked".
    class Counted(Report):
        @property
        def totals(self) -> dict[str, int]:
            counts = {"routes": 3, "migrate": migrate, "blocked": 0, "unchanged": unchanged}
            return {**counts, "helpers_migrate": 0, "helpers_twin": 0, "helpers_blocked": 0, "blockers": 0,
                    "global_blockers": 0}

    markdown = render_markdown(Counted("phase2", tmp_path, False, [], [], phase2={"name": "api/items.py"}))
    assert f"routes of `api/items.py` to {sentence}" in markdown, markdown
    assert "blocked as listed below" not in markdown


NOT_UTF8 = b"# Notes\n\xff\xfe caf\xe9\n"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.py"))}


@pytest.mark.parametrize("command", [["phase1", "--apply"], ["scan"]])
def test_an_existing_markdown_report_that_is_not_utf8_is_a_usage_error_before_any_work(cli, tmp_path, command):
    # Its other sections could not be kept: the run stopped with an internal error (exit 4)
    # after phase one had already written the application's files.
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    before = _tree(root)
    report = tmp_path / "MIGRATION.md"
    report.write_bytes(NOT_UTF8)
    result = cli(command[0], root, *command[1:], "--report", report)
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert f"the report {report} is not UTF-8 text" in message
    assert report.read_bytes() == NOT_UTF8
    assert _tree(root) == before
    assert not (root / ".async_migrate_cache").exists()


def test_an_existing_json_report_that_is_not_utf8_is_replaced(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    report = tmp_path / "plan.json"
    report.write_bytes(NOT_UTF8)
    assert cli("scan", root, "--report", report).exit_code == 0
    assert json.loads(report.read_text(encoding="utf-8"))["command"] == "scan"


def test_report_is_repeatable_and_writes_each_file_in_its_format(cli, tmp_path):
    # `--report a.md --report b.json` wrote only the JSON, silently
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    markdown, document = tmp_path / "MIGRATION.md", tmp_path / "plan.json"
    result = cli("phase1", root, "--report", markdown, "--report", document)
    assert result.exit_code == 0, result.output
    assert "# Migration report" in markdown.read_text(encoding="utf-8")
    assert json.loads(document.read_text(encoding="utf-8"))["command"] == "phase1"
    # each is checked before any work: a bad second one is a usage error that writes neither
    markdown.unlink()
    document.unlink()
    result = cli("phase1", root, "--report", markdown, "--report", tmp_path / "missing" / "plan.json")
    assert result.exit_code == 2 and "no such directory for the report" in result.stderr, result.output
    assert not markdown.exists()


CURRENT_USER_ROUTES = """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from db.engine import get_db_session


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    orders: Mapped[list["Order"]] = relationship()


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class UserWithOrders(UserOut):
    orders: list[OrderOut]


def current_user(db: Session = Depends(get_db_session)) -> User:
    return db.scalars(select(User)).one()


def every_user(db: Session = Depends(get_db_session)) -> list[User]:
    return list(db.scalars(select(User)))


app = FastAPI()


@app.get("/users/me", response_model=UserWithOrders)
async def read_me(user: User = Depends(current_user)):
    return user


@app.get("/users", response_model=list[UserWithOrders])
async def read_users(users: list[User] = Depends(every_user)):
    return users
"""


def test_a_route_returning_the_dependency_object_ranks_as_detail_and_counts_its_lazy_loads(
    cli, project, app_files, tmp_path
):
    # A new-user trial: `GET /users/me` returning the current user, whose `orders` its response
    # model reads, ranked as a list endpoint with 0 session calls, while phase one's reason said it
    # lazy-loads `user.orders` on the event loop. Near miss: `GET /users`, the list a dependency
    # provides under `list[UserWithOrders]`, stays a list endpoint (its lazy loads counted too).
    root = project({**app_files, "main.py": CURRENT_USER_ROUTES})
    out = tmp_path / "plan.json"
    assert cli("scan", root, "--report", out).exit_code == 0
    document = json.loads(out.read_text())
    priority = {e["function"]: (e["category"], e["session_calls"]) for e in document["priority"]}
    assert priority == {"read_me": ("detail", 1), "read_users": ("list", 1)}, priority
