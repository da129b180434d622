def test_phase1_dry_run_on_the_sample_prints_a_diff_and_writes_nothing(cli, bookshop):
    before = {p: p.read_bytes() for p in bookshop.rglob("*.py")}
    result = cli("phase1", bookshop)
    assert result.exit_code == 0
    assert "-async def list_books(" in result.stdout
    assert "+def list_books(" in result.stdout
    assert {p: p.read_bytes() for p in bookshop.rglob("*.py")} == before


def test_a_large_run_prints_one_line_per_handler_without_tables(cli, project, app_files):
    count = 400
    routes = "".join(
        f'\n@router.get("/r{i}")\nasync def route_{i}(session: session_dependency):\n    return session.get(int, {i})\n'
        for i in range(count)
    )
    blocking = (
        '\n@router.websocket("/feed")\n'
        "async def feed(websocket: WebSocket, session: session_dependency):\n"
        "    session.execute('select [1]')\n"
    )
    root = project({
        **app_files,
        "api/__init__.py": "",
        "api/many.py": "from fastapi import APIRouter, WebSocket\n\n"
        "from core.dependencies import session_dependency\n\nrouter = APIRouter()\n" + routes + blocking,
    })
    result = cli("phase1", root)
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("api/many.py:")]
    assert len(lines) == count + 1
    assert lines[0] == (
        "api/many.py:8 route_0 (route GET /r0) convert (async → def): takes a synchronous Session "
        "`session: session_dependency` and never awaits"
    )
    assert lines[-1].startswith(f"api/many.py:{5 + 4 * count + 3} feed (websocket /feed) keep: websocket handler: stays async def; ")
    assert "still blocks the event loop at line" in lines[-1]
    assert "┃" not in result.stderr  # no tables
    assert result.stderr.splitlines()[-1].endswith(f"{count + 2} handlers: {count} convert, 1 keep, 1 unchanged; 1 file would change")
