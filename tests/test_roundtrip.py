"""Phase one rewrites bytes, not text: only the `async ` of converted handlers goes.

Encodings, byte-order marks, line endings, indentation and a missing final
newline survive `--apply`; a second run finds nothing to do; and the patch
written by `--diff-file` applies with `git apply` to the same bytes.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

# `ping` stays async (no Session work); `list_items` converts. list_items comes last
# so that a missing final newline falls inside its hunk.
ROUTE = (
    "from fastapi import APIRouter\n"
    "\n"
    "from core.dependencies import session_dependency\n"
    "\n"
    "router = APIRouter()\n"
    "\n"
    "\n"
    '@router.get("/ping")\n'
    "async def ping():\n"
    '    return "pong"\n'
    "\n"
    "\n"
    '@router.get("/items")\n'
    "async def list_items(session: session_dependency):\n"
    "    # list them all\n"
    '    return session.execute("select 1").all()\n'
)


def converted(before: bytes) -> bytes:
    """The expected result: the same bytes without `async ` before `def list_items`."""
    assert before.count(b"async def list_items") == 1
    return before.replace(b"async def list_items", b"def list_items")


def latin1() -> bytes:
    text = "# -*- coding: latin-1 -*-\n" + ROUTE.replace("# list them all", "# caf\xe9, na\xefve, Z\xfcrich")
    return text.encode("latin-1")


VARIANTS = {
    "lf": lambda: ROUTE.encode(),
    "crlf": lambda: ROUTE.replace("\n", "\r\n").encode(),
    "utf8-bom": lambda: b"\xef\xbb\xbf" + ROUTE.encode(),
    "latin-1-cookie": latin1,
    "tabs": lambda: ROUTE.replace("    ", "\t").encode(),
    "no-final-newline": lambda: ROUTE.rstrip("\n").encode(),
}


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    def build(route: bytes, **extra: str | bytes) -> Path:
        return project({**app_files, "api/__init__.py": "", "api/items.py": route, **extra})

    return build


# --------------------------------------------------------------- idempotence


def test_check_reports_work_before_apply_and_none_after(cli, app):
    root = app(ROUTE.encode())
    assert cli("phase1", root, "--check").exit_code == 1
    applied = cli("phase1", root, "--apply")
    assert applied.exit_code == 0, applied.output
    assert cli("phase1", root, "--check").exit_code == 0


def test_second_apply_changes_nothing(cli, app):
    root = app(ROUTE.encode())
    first = cli.json("phase1", root, "--apply")
    assert first["files_changed"] == ["api/items.py"]
    after_first = tree(root)
    second = cli.json("phase1", root, "--apply")
    assert second["files_changed"] == [] and second["diff"] == ""
    assert tree(root) == after_first


def test_files_with_nothing_to_convert_are_byte_identical(cli, app):
    untouched = (
        b"from fastapi import APIRouter\r\n"
        b"router = APIRouter()\r\n"
        b"@router.get( '/ping' )   # odd spacing stays\r\n"
        b"async def ping( ) :\r\n"
        b"\treturn 'pong'"
    )
    root = app(ROUTE.encode(), **{"api/other.py": untouched, "api/notes.py": "# no code\n"})
    before = tree(root)
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 0, result.output
    after = tree(root)
    assert after["api/items.py"] == converted(before["api/items.py"])
    assert {p: b for p, b in after.items() if p != "api/items.py"} == {
        p: b for p, b in before.items() if p != "api/items.py"
    }


def test_dry_run_writes_nothing(cli, app):
    root = app(ROUTE.encode())
    before = tree(root)
    result = cli("phase1", root)
    assert result.exit_code == 0
    assert "+def list_items(" in result.stdout
    assert tree(root) == before


def test_offload_mixed_apply_then_check_is_clean(cli, app):
    mixed = ROUTE.replace(
        "    # list them all\n",
        "    await request.body()\n    rows = helpers.load(session)\n",
    ).replace("list_items(session", "list_items(request: Request, session")
    mixed = "from fastapi import Request\n\nfrom api import helpers\n" + mixed
    root = app(mixed.encode(), **{"api/helpers.py": "def load(db):\n    return db.execute('x').all()\n"})
    assert cli("phase1", root, "--offload-mixed", "--check").exit_code == 1
    assert cli("phase1", root, "--offload-mixed", "--apply").exit_code == 0
    written = (root / "api/items.py").read_bytes()
    assert b"    rows = await run_in_threadpool(helpers.load, session)\n" in written
    assert cli("phase1", root, "--offload-mixed", "--check").exit_code == 0
    second = cli.json("phase1", root, "--offload-mixed", "--apply")
    assert second["files_changed"] == []
    assert (root / "api/items.py").read_bytes() == written


# --------------------------------------------------------------- encodings and layout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_apply_removes_only_the_async_bytes(cli, app, variant):
    source = VARIANTS[variant]()
    root = app(source)
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 0, result.output
    assert (root / "api/items.py").read_bytes() == converted(source)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_check_after_apply_is_clean(cli, app, variant):
    root = app(VARIANTS[variant]())
    assert cli("phase1", root, "--apply").exit_code == 0
    assert cli("phase1", root, "--check").exit_code == 0


def test_apply_keeps_the_final_newline_of_a_cr_only_file(cli, app):
    source = ROUTE.replace("\n", "\r").encode()
    root = app(source)
    assert cli("phase1", root, "--apply").exit_code == 0
    assert (root / "api/items.py").read_bytes() == converted(source)


def test_latin1_file_keeps_its_non_ascii_bytes(cli, app):
    source = latin1()
    assert b"caf\xe9" in source  # not valid UTF-8: the file really is latin-1
    root = app(source)
    assert cli("phase1", root, "--apply").exit_code == 0
    written = (root / "api/items.py").read_bytes()
    assert b"caf\xe9, na\xefve, Z\xfcrich" in written
    assert b"\xc3" not in written  # not re-encoded as UTF-8


def test_dry_run_prints_the_diff_of_a_latin1_file(cli, app):
    root = app(latin1())
    result = cli("phase1", root)
    assert result.exit_code == 0
    assert "+def list_items(session: session_dependency):" in result.stdout
    assert "Z\xfcrich" in result.stdout or "Z\ufffdrich" in result.stdout


@pytest.mark.parametrize("variant", ["latin-1-cookie", "latin-1-crlf"])
def test_json_diff_of_a_latin1_file_shows_its_characters_and_carries_the_exact_patch(cli, app, tmp_path, variant):
    # The trial: `diff` held U+FFFD for every latin-1 byte, and saved it did not `git apply`.
    source = latin1() if variant == "latin-1-cookie" else latin1().replace(b"\n", b"\r\n")
    root = app(source)
    repo = pristine_repo(root, tmp_path / "pristine")
    patch = tmp_path / "phase1.patch"
    result = cli("phase1", root, "--format", "json", "--diff-file", patch)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    # text to read: strict Unicode, the file's own characters, no replacement
    document["diff"].encode("utf-8")
    assert "Z\xfcrich" in document["diff"] and "\ufffd" not in document["diff"]
    assert "+def list_items(session: session_dependency):" + ("\r\n" if variant == "latin-1-crlf" else "\n") in document["diff"]
    # the exact patch: what --diff-file writes, and `git apply` takes it
    exact = base64.b64decode(document["diff_base64"])
    assert exact == patch.read_bytes() and b"Z\xfcrich" in exact
    from_json = tmp_path / "from_json.patch"
    from_json.write_bytes(exact)
    assert any("diff_base64" in warning for warning in document["warnings"]), document.get("warnings")
    assert cli("phase1", root, "--apply").exit_code == 0
    apply_patch(repo, from_json)
    assert tree(repo) == tree(root)


@pytest.mark.parametrize("variant", ["utf8-bom", "crlf"])
def test_json_diff_of_a_utf8_file_is_the_exact_patch_with_no_warning(cli, app, tmp_path, variant):
    # near miss: UTF-8 files keep one field, already the exact patch
    root = app(VARIANTS[variant]().replace(b"# list them all", "# Z\xfcrich".encode()))
    patch = tmp_path / "phase1.patch"
    document = json.loads(cli("phase1", root, "--format", "json", "--diff-file", patch).stdout)
    assert document["diff"] and "Z\xfcrich" in document["diff"]
    assert document["diff"].encode("utf-8") == patch.read_bytes()
    assert "diff_base64" not in document
    assert not any("diff_base64" in warning or "--diff-file" in warning for warning in document.get("warnings", []))


def test_bom_is_kept_once(cli, app):
    root = app(VARIANTS["utf8-bom"]())
    assert cli("phase1", root, "--apply").exit_code == 0
    written = (root / "api/items.py").read_bytes()
    assert written.startswith(b"\xef\xbb\xbffrom fastapi")
    assert written.count(b"\xef\xbb\xbf") == 1


# --------------------------------------------------------------- --diff-file and git apply


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def pristine_repo(root: Path, target: Path) -> Path:
    shutil.copytree(root, target)
    assert git(target, "init", "-q").returncode == 0
    return target


def apply_patch(repo: Path, patch: Path) -> None:
    checked = git(repo, "apply", "--check", str(patch))
    assert checked.returncode == 0, checked.stderr + patch.read_bytes().decode("utf-8", "replace")
    applied = git(repo, "apply", str(patch))
    assert applied.returncode == 0, applied.stderr


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_diff_file_applies_with_git_apply_to_the_same_bytes(cli, app, tmp_path, variant):
    root = app(VARIANTS[variant]())
    repo = pristine_repo(root, tmp_path / "pristine")
    patch = tmp_path / "phase1.patch"
    assert cli.json("phase1", root, "--diff-file", patch)["files_changed"] == ["api/items.py"]
    assert cli("phase1", root, "--apply").exit_code == 0
    apply_patch(repo, patch)
    assert tree(repo) == tree(root)


@pytest.mark.parametrize("variant", ["latin-1-cookie", "crlf"])
def test_dry_run_diff_on_standard_output_applies_with_git_apply(cli, app, tmp_path, variant):
    # `async-migrate phase1 PATH > phase1.patch`: the pipe gets the file's own bytes, not
    # replacement characters a patch would not apply with.
    root = app(VARIANTS[variant]())
    repo = pristine_repo(root, tmp_path / "pristine")
    result = cli("phase1", root)
    assert result.exit_code == 0
    patch = tmp_path / "stdout.patch"
    patch.write_bytes(result.stdout_bytes)
    assert cli("phase1", root, "--apply").exit_code == 0
    apply_patch(repo, patch)
    assert tree(repo) == tree(root)


def test_diff_file_covers_several_files(cli, app, tmp_path):
    other = ROUTE.replace("/items", "/others").replace("\n", "\r\n").encode()
    root = app(VARIANTS["latin-1-cookie"](), **{"api/others.py": other})
    repo = pristine_repo(root, tmp_path / "pristine")
    patch = tmp_path / "phase1.patch"
    result = cli.json("phase1", root, "--diff-file", patch)
    assert result["files_changed"] == ["api/items.py", "api/others.py"]
    assert cli("phase1", root, "--apply").exit_code == 0
    apply_patch(repo, patch)
    assert tree(repo) == tree(root)


def test_diff_file_of_a_run_with_nothing_to_do_is_empty(cli, app, tmp_path):
    root = app(converted(ROUTE.encode()))
    patch = tmp_path / "phase1.patch"
    assert cli("phase1", root, "--diff-file", patch).exit_code == 0
    assert patch.read_bytes() == b""


def test_diff_file_applies_when_a_form_feed_is_near_the_change(cli, app, tmp_path):
    # PEP 8 allows ^L page breaks; git sees them as ordinary characters of a line.
    source = ROUTE.replace('\n\n@router.get("/items")', '\n\x0c\n@router.get("/items")').encode()
    root = app(source)
    repo = pristine_repo(root, tmp_path / "pristine")
    patch = tmp_path / "phase1.patch"
    assert cli.json("phase1", root, "--diff-file", patch)["files_changed"] == ["api/items.py"]
    assert cli("phase1", root, "--apply").exit_code == 0
    assert (root / "api/items.py").read_bytes() == converted(source)
    apply_patch(repo, patch)
    assert tree(repo) == tree(root)
