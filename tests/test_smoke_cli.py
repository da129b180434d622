from conftest import BOOKSHOP


def test_phase1_dry_run_on_the_sample_prints_a_diff_and_writes_nothing(cli, tmp_path):
    import shutil

    target = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, target)
    before = {p: p.read_bytes() for p in target.rglob("*.py")}
    result = cli("phase1", target)
    assert result.exit_code == 0
    assert "-async def list_books(" in result.stdout
    assert "+def list_books(" in result.stdout
    assert {p: p.read_bytes() for p in target.rglob("*.py")} == before


def test_a_large_run_lists_what_still_blocks_one_line_each(cli, project, app_files):
    from async_migrate.cli.render import TABLE_LIMIT

    routes = "".join(
        f'\n@router.get("/r{i}")\nasync def route_{i}(session: session_dependency):\n    return session.get(int, {i})\n'
        for i in range(TABLE_LIMIT)
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
    assert f"{TABLE_LIMIT + 1 + 1} handlers: the 1 that still block the event loop" in result.stderr
    (line,) = [text_line for text_line in result.stderr.splitlines() if text_line.startswith("api/many.py:")]
    assert line.startswith(f"api/many.py:{5 + 4 * TABLE_LIMIT + 3} feed (websocket /feed) keep: websocket handler: stays async def; ")
    assert "still blocks the event loop at line" in line
    assert "┃" not in result.stderr  # no tables
