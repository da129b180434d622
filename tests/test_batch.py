"""`async-migrate batch`: one phase over many real temporary git repositories.

Each repository gets `--apply --branch NAME --commit` semantics; a broken one is
reported and the others go on; one summary (table or JSON document) at the end;
exit 0 when all succeeded, 3 when any failed, 2 on a usage error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gitrepos import committed_files, init_repo, tiny_app

from async_migrate.codemods import batch as batching
from async_migrate.codemods import gitstate
from async_migrate.codemods import run as runner

CONVERTED = "\ndef list_items(session: session_dependency):"


def items(root: Path) -> str:
    return (root / "api" / "items.py").read_text(encoding="utf-8")


def err(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.stderr.split())


def batch_json(cli, *args) -> dict:  # type: ignore[no-untyped-def]
    """`batch ... --format json -- PHASE ...`: the batch's own --format goes before `--`."""
    at = list(args).index("--")
    result = cli("batch", *args[:at], "--format", "json", *args[at:])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


@pytest.fixture
def repos(tmp_path):  # type: ignore[no-untyped-def]
    """Three repositories: the app at the top, the app in a subfolder, and a dirty one."""
    top = init_repo(tmp_path / "shop", tiny_app())
    mono = init_repo(tmp_path / "mono", {f"services/api/{k}": v for k, v in tiny_app().items()})
    dirty = init_repo(tmp_path / "dirty", tiny_app())
    with (tmp_path / "dirty" / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    roots = {
        "shop": tmp_path / "shop",
        "mono": tmp_path / "mono" / "services" / "api",
        "dirty": tmp_path / "dirty",
    }
    return roots, {"shop": top, "mono": mono, "dirty": dirty}


def by_root(document: dict, roots: dict[str, Path]) -> dict[str, dict]:
    """The document's entries by repository name (shop, mono, dirty)."""
    names = {str(root.resolve()): name for name, root in roots.items()}
    return {names[entry["root"]]: entry for entry in document["repositories"]}


def test_two_commits_and_one_clearly_reported_failure(cli, repos, tmp_path):
    roots, gits = repos
    heads = {name: repo.head.commit.hexsha for name, repo in gits.items()}
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# the failing one first: the batch must go on\n"
        "dirty\n"
        "\n"
        "shop\n"
        f"{roots['mono']}\n",
        encoding="utf-8",
    )
    result = cli("batch", "--repos", listing, "--format", "json", "--", "phase1")
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert document["command"] == "batch" and document["phase"] == "phase1"
    assert document["branch"] == "async-migrate/phase1"
    assert document["summary"] == {"changed": 2, "partial": 0, "blocked": 0, "unchanged": 0, "changed_with_errors": 0, "failed": 1}
    assert [Path(e["root"]) for e in document["repositories"]] == [
        roots["dirty"].resolve(), roots["shop"].resolve(), roots["mono"].resolve()
    ]
    entries = by_root(document, roots)

    for name, prefix in (("shop", ""), ("mono", "services/api/")):
        entry, repo = entries[name], gits[name]
        assert entry["status"] == "changed", entry
        assert entry["error"] is None
        assert entry["branch"] == "async-migrate/phase1"
        assert repo.active_branch.name == "async-migrate/phase1"
        assert entry["commit"] == repo.head.commit.hexsha
        assert [p.hexsha for p in repo.head.commit.parents] == [heads[name]]
        assert entry["files_changed"] == ["api/items.py", "api/orders.py"]
        assert committed_files(repo) == {f"{prefix}api/items.py", f"{prefix}api/orders.py"}
        assert repo.head.commit.message.startswith("async-migrate phase1: 2 handlers to def in 2 files\n")
        assert not repo.is_dirty(untracked_files=True)
        assert repo.heads["main"].commit.hexsha == heads[name]

    failed, repo = entries["dirty"], gits["dirty"]
    assert failed["status"] == "failed"
    assert "refusing to write into files with uncommitted changes" in failed["error"]
    assert "api/items.py" in failed["error"]
    assert (failed["branch"], failed["commit"], failed["files_changed"]) == (None, None, [])
    assert repo.active_branch.name == "main"
    assert [h.name for h in repo.heads] == ["main"]
    assert repo.head.commit.hexsha == heads["dirty"]
    assert items(roots["dirty"]).endswith("# work in progress\n") and CONVERTED not in items(roots["dirty"])


def test_summary_table_names_every_repository_and_the_failure(cli, repos, tmp_path):
    from async_migrate.cli.main import app

    roots, _ = repos
    outside = tmp_path / "loose"
    (outside / "api").mkdir(parents=True)
    (outside / "api" / "items.py").write_text("x = 1\n", encoding="utf-8")
    if gitstate.repository(outside) is not None:
        pytest.skip("the temporary directory lies inside a git repository")
    args = ["batch", str(roots["shop"]), str(outside), str(roots["mono"]), "--", "phase1", "--jobs", "1"]
    result = cli.runner.invoke(app, args, env={"COLUMNS": "250"}, catch_exceptions=False)
    assert result.exit_code == 3, result.output
    rows = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if len(cells) == 6 and cells[0].startswith("/"):
            rows[cells[0]] = cells[1:]
    shop, mono, loose = (str(p.resolve()) for p in (roots["shop"], roots["mono"], outside))
    assert list(rows) == [shop, loose, mono]
    for root in (shop, mono):
        status, branch, commit, files, blocked = rows[root]
        assert (status, branch, files, blocked) == ("changed", "async-migrate/phase1", "2", "")
        assert len(commit) == 12
    assert rows[loose] == ["failed", "", "", "0", ""]
    assert f"error: {loose}: {loose} is not inside a git repository" in result.stdout
    assert "3 repositories: 2 changed, 0 unchanged, 1 failed" in result.stdout
    # progress on standard error, one line per repository
    assert [line[:5] for line in result.stderr.splitlines()] == ["[1/3]", "[2/3]", "[3/3]"]
    # the loose folder was not written: without git, a batch refuses before writing
    assert (outside / "api" / "items.py").read_text(encoding="utf-8") == "x = 1\n"


def test_off_a_terminal_each_repository_is_one_table_line_however_long_its_path(cli, repos, tmp_path):
    from async_migrate.cli.main import app

    roots, _ = repos
    deep = tmp_path / ("a-service-with-a-rather-long-directory-name-" * 2) / "shop"
    shutil.copytree(roots["shop"], deep)
    args = ["batch", str(deep), "--", "phase1", "--jobs", "1"]
    result = cli.runner.invoke(app, args, env={"COLUMNS": None}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.stdout.splitlines() if "changed" in line and "│" in line]
    assert str(deep.resolve()) in row, result.stdout


def test_all_succeed_exit_0_and_a_second_run_changes_nothing(cli, repos):
    roots, gits = repos
    document = batch_json(cli, roots["shop"], roots["mono"], "--", "phase1")
    assert document["summary"] == {"changed": 2, "partial": 0, "blocked": 0, "unchanged": 0, "changed_with_errors": 0, "failed": 0}
    result = cli("batch", roots["shop"], roots["mono"], "--format", "json", "--", "phase1")
    assert result.exit_code == 0, result.output
    heads = {name: gits[name].head.commit.hexsha for name in ("shop", "mono")}
    again = cli("batch", roots["shop"], roots["mono"], "--format", "json", "--", "phase1")
    assert again.exit_code == 0
    document = json.loads(again.stdout)
    assert document["summary"] == {"changed": 0, "partial": 0, "blocked": 0, "unchanged": 2, "changed_with_errors": 0, "failed": 0}
    for entry in document["repositories"]:
        assert entry["status"] == "unchanged"
        assert entry["branch"] == "async-migrate/phase1"  # existing: checked out, nothing to commit
        assert entry["commit"] is None and entry["files_changed"] == []
    assert {name: gits[name].head.commit.hexsha for name in ("shop", "mono")} == heads


def test_a_repository_where_only_selects_no_file_fails_and_the_near_miss_changes(cli, repos):
    roots, _ = repos
    document = batch_json(cli, roots["shop"], roots["mono"], "--", "phase1", "--only", "api/items.py")
    entries = by_root(document, roots)
    assert entries["shop"]["status"] == "changed", entries["shop"]
    assert entries["mono"]["status"] == "changed", entries["mono"]
    document = batch_json(cli, roots["shop"], "--", "phase1", "--only", "nomatch/*")
    (entry,) = document["repositories"]
    assert entry["status"] == "failed", entry
    assert "none that --only/--exclude select" in entry["error"], entry


def test_a_root_without_routes_fails_naming_why_never_unchanged(cli, repos, tmp_path):
    # A repository with no FastAPI (or a wrong root in the list) read as "unchanged" beside the
    # migrated ones, exit 0, where `check` on it exits 2: nothing was there to migrate.
    roots, _ = repos
    init_repo(tmp_path / "tools", {"tool/cli.py": "def main():\n    print('hi')\n"})
    document = batch_json(cli, roots["shop"], tmp_path / "tools", "--", "phase1")
    shop, tools = document["repositories"]
    assert shop["status"] == "changed", shop
    assert tools["status"] == "failed" and tools["commit"] is None, tools
    assert tools["error"].startswith("no FastAPI routes under PATH"), tools
    assert document["summary"]["failed"] == 1
    assert cli("batch", tmp_path / "tools", "--", "phase1").exit_code == 3
    # --only or an exclude leaving the routes out of what is written: the routes are there
    document = batch_json(cli, roots["mono"], "--", "phase1", "--only", "core/*")
    assert document["repositories"][0]["status"] == "unchanged", document
    document = batch_json(cli, roots["mono"], "--", "phase1", "--exclude", "api/*")
    assert document["repositories"][0]["status"] == "unchanged", document


def test_every_root_is_named_absolute_also_one_that_fails_before_it_is_read(cli, repos, tmp_path, monkeypatch):
    # A missing root or a file given relative was named as typed, the others absolute: the same
    # field in two forms, and --merge's overlap check compared them as different repositories.
    roots, _ = repos
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    document = batch_json(cli, Path("shop"), Path("gone"), Path("notes.txt"), "--", "phase1")
    entries = {Path(entry["root"]).name: entry for entry in document["repositories"]}
    assert set(entries) == {"shop", "gone", "notes.txt"}
    for name, entry in entries.items():
        assert entry["root"] == str((tmp_path / name).resolve()), entry
    assert entries["gone"]["error"] == "no such directory", entries["gone"]
    assert entries["notes.txt"]["error"].startswith("not a directory"), entries["notes.txt"]
    # the table names each root once before its failure, never `error: ROOT: ROOT: ...`
    result = cli("batch", Path("gone"), "--", "phase1")
    assert f"error: {tmp_path.resolve() / 'gone'}: no such directory" in " ".join(result.output.split()), result.output


def test_branch_name_and_phase_options_apply_to_every_repository(cli, repos):
    roots, gits = repos
    document = batch_json(
        cli, roots["shop"], roots["mono"], "--branch", "perf/threadpool",
        "--", "phase1", "--exclude", "api/orders.py",
    )
    assert document["branch"] == "perf/threadpool"
    for name, prefix in (("shop", ""), ("mono", "services/api/")):
        assert gits[name].active_branch.name == "perf/threadpool"
        assert committed_files(gits[name]) == {f"{prefix}api/items.py"}
    assert [e["files_changed"] for e in document["repositories"]] == [["api/items.py"]] * 2


def test_phase2_batch_commits_name_the_subsystem(cli, tmp_path):
    files = {
        **tiny_app(),
        "api/orders.py": """
            from fastapi import APIRouter

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.post("/orders")
            def place_order(session: session_dependency):
                session.commit()
            """,
    }
    first, second = init_repo(tmp_path / "one", files), init_repo(tmp_path / "two", files)
    document = batch_json(
        cli, tmp_path / "one", tmp_path / "two", "--", "phase2", "--subsystem", "api/orders.py"
    )
    assert document["summary"] == {"changed": 2, "partial": 0, "blocked": 0, "unchanged": 0, "changed_with_errors": 0, "failed": 0}
    for repo in (first, second):
        assert repo.active_branch.name == "async-migrate/phase2"
        subject = repo.head.commit.message.split("\n", 1)[0]
        assert subject.startswith("async-migrate phase2 api/orders.py: 1 route to AsyncSession in ")


# A route phase two blocks: the Session handed to code it cannot follow (AM2xx), beside one it migrates.
BLOCKED_ORDERS = """
    from fastapi import APIRouter

    from core.dependencies import session_dependency
    from vendor import audit

    router = APIRouter()


    @router.post("/orders")
    def place_order(session: session_dependency):
        audit(session)
        session.commit()
    """
MIGRATED_ORDER = """


    @router.get("/orders/count")
    def count_orders(session: session_dependency):
        return session.execute("select 1").scalar()
    """


def test_phase2_blocked_routes_are_a_status_with_their_blockers_never_unchanged(cli, tmp_path):
    blocked = init_repo(tmp_path / "blocked", {**tiny_app(), "api/orders.py": BLOCKED_ORDERS})
    partial = init_repo(tmp_path / "partial", {**tiny_app(), "api/orders.py": BLOCKED_ORDERS + MIGRATED_ORDER})
    head = blocked.head.commit.hexsha
    args = [tmp_path / "blocked", tmp_path / "partial", "--", "phase2", "--subsystem", "api/orders.py"]
    result = cli("batch", *args[:2], "--format", "json", *args[2:])
    assert result.exit_code == 0, result.output  # as phase2 itself: blocked routes are reported, not an error
    document = json.loads(result.stdout)
    assert document["summary"] == {"changed": 0, "partial": 1, "blocked": 1, "unchanged": 0, "changed_with_errors": 0, "failed": 0}
    first, second = document["repositories"]
    assert (first["status"], first["blocked"], first["blockers"], first["files_changed"]) == ("blocked", 1, 1, [])
    assert blocked.head.commit.hexsha == head and blocked.active_branch.name == "main"
    assert (second["status"], second["blocked"], second["blockers"]) == ("partial", 1, 1)
    assert second["commit"] == partial.head.commit.hexsha and "api/orders.py" in second["files_changed"]
    # Run again: nothing left to write, and the blocked route is still named, in both repositories.
    table = cli("batch", *args)
    assert table.exit_code == 0, table.output
    assert "2 repositories: 0 changed, 2 blocked, 0 unchanged, 0 failed" in table.stdout
    assert f"{(tmp_path / 'partial').resolve()}: blocked (0 files, 1 blocked, 1 blocker)" in err(table)
    outcomes = [batching.RepoOutcome(**{k: v for k, v in e.items()}) for e in document["repositories"]]
    markdown = batching.render_markdown("phase2", "async-migrate/phase2", outcomes)
    assert "0 changed, 1 partial, 1 blocked, 0 unchanged, 0 failed." in markdown
    assert "| 0 | 1 (1 blocker) |" in markdown


def test_a_file_that_cannot_be_parsed_commits_the_rest_as_changed_with_errors(cli, tmp_path):
    # It read `failed` (a platform trial), counted only as failed, while its branch held a commit
    # of the files that could be processed: a script retrying or skipping failures missed it.
    repo = init_repo(tmp_path / "shop", {**tiny_app(), "api/broken.py": "async def broken(:\n    pass\n"})
    other = init_repo(tmp_path / "other", tiny_app())
    result = cli("batch", tmp_path / "shop", tmp_path / "other", "--format", "json", "--", "phase1")
    assert result.exit_code == 3, result.output  # as phase1 itself: a file could not be processed
    document = json.loads(result.stdout)
    entry, fine = document["repositories"]
    assert entry["status"] == "changed_with_errors", entry
    assert entry["error"].startswith("1 file could not be processed: api/broken.py:")
    assert entry["commit"] == repo.head.commit.hexsha  # the files that could be processed
    assert entry["files_changed"] == ["api/items.py", "api/orders.py"]
    assert committed_files(repo) == {"api/items.py", "api/orders.py"}
    assert fine["status"] == "changed" and fine["commit"] == other.head.commit.hexsha
    assert document["summary"] == {
        "changed": 1, "partial": 0, "blocked": 0, "unchanged": 0, "changed_with_errors": 1, "failed": 0
    }
    outcomes = [batching.RepoOutcome(**e) for e in document["repositories"]]
    markdown = batching.render_markdown("phase1", "async-migrate/phase1", outcomes)
    assert "2 repositories on branch `async-migrate/phase1`: 1 changed, 0 unchanged, 1 changed_with_errors, 0 failed." in markdown
    # Near miss: run again, nothing left to write but the broken file: failed, no commit.
    head = repo.head.commit.hexsha
    table = cli("batch", tmp_path / "shop", "--", "phase1")
    assert table.exit_code == 3, table.output
    assert "1 repository: 0 changed, 0 unchanged, 1 failed" in table.stdout
    (entry,) = batch_json(cli, tmp_path / "shop", "--", "phase1")["repositories"]
    assert entry["status"] == "failed" and entry["commit"] is None and entry["files_changed"] == [], entry
    assert repo.head.commit.hexsha == head


def test_a_rerun_after_a_failed_commit_is_no_all_clear(cli, repos):
    # A hook refused the commit: the files stayed written and staged on the branch. The next
    # run found nothing to write and said "unchanged", exit 0: the branch holds no migration.
    roots, gits = repos
    hook = roots["shop"] / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "failed" and "not committed" in entry["error"], entry
    hook.unlink()
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "failed", entry
    assert "api/items.py" in entry["error"] and "staged and not committed" in entry["error"], entry
    gits["shop"].git.commit("-m", "phase one, by hand")
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "unchanged", entry
    # changes of one's own, not staged, beside a migrated root are no such failure
    with (roots["shop"] / "api" / "orders.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "unchanged", entry


def test_each_repository_goes_through_the_same_run_as_phase1(cli, repos, monkeypatch):
    """No subprocess: the batch calls codemods.run.phase1, once per repository."""
    roots, _ = repos
    calls = []
    real = runner.phase1

    def spy(root, config, options, progress=None):  # type: ignore[no-untyped-def]
        calls.append(root)
        return real(root, config, options, progress)

    monkeypatch.setattr(runner, "phase1", spy)
    batch_json(cli, roots["shop"], roots["mono"], "--", "phase1")
    assert calls == [roots["shop"].resolve(), roots["mono"].resolve()]


def test_ctrl_c_stops_the_batch_and_names_what_was_done(cli, repos, tmp_path, monkeypatch):
    """Ctrl-C while the second repository is written: the batch stops there (it is no failure
    of that repository to go on from), exit 130, naming the first one's commit and the second
    one's files written but not committed; the third is untouched."""
    import os
    import signal

    from async_migrate.codemods import sources

    roots, gits = repos
    third = init_repo(tmp_path / "third", tiny_app())
    real = sources.write_atomic
    written = []

    def write_then_interrupt(path, data):  # type: ignore[no-untyped-def]
        written.append(path)
        if len(written) == 3:  # the first file of the second repository (two files per repository)
            os.kill(os.getpid(), signal.SIGINT)
        real(path, data)

    monkeypatch.setattr(sources, "write_atomic", write_then_interrupt)
    third_head = third.head.commit.hexsha
    mono_head = gits["mono"].head.commit.hexsha
    result = cli("batch", roots["shop"], roots["mono"], tmp_path / "third", "--format", "json", "--", "phase1")
    assert result.exit_code == 130, result.output
    lines = result.stderr.splitlines()
    shop_head = gits["shop"].head.commit.hexsha
    assert lines[0] == "async-migrate: interrupted: 1 of 3 repositories done"
    assert lines[1] == f"  {roots['shop'].resolve()}: changed, {shop_head[:12]} on async-migrate/phase1"
    assert lines[2] == f"  {roots['mono'].resolve()}: interrupted: wrote 1 file, not committed"
    assert lines[3].strip() == "api/items.py"
    assert lines[4:] == []
    assert CONVERTED in items(roots["mono"])  # written whole, left for the user to see
    assert gits["mono"].head.commit.hexsha == mono_head
    assert third.head.commit.hexsha == third_head and third.active_branch.name == "main"
    assert CONVERTED not in items(tmp_path / "third")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_an_analysis_stops_the_batch_with_nothing_written_there(cli, repos, monkeypatch):
    roots, gits = repos
    real = runner.phase1
    calls = []

    def interrupt_the_second(root, config, options, progress=None):  # type: ignore[no-untyped-def]
        calls.append(root)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(root, config, options, progress)

    monkeypatch.setattr(runner, "phase1", interrupt_the_second)
    result = cli("batch", roots["shop"], roots["mono"], roots["dirty"], "--format", "json", "--", "phase1")
    assert result.exit_code == 130, result.output
    document = json.loads(result.stdout)  # --format json: the error document, for scripts
    assert document["error"] == "interrupted: 1 of 3 repositories done" and document["exit_code"] == 130
    assert [d["root"] for d in document["repositories_done"]] == [str(roots["shop"])]
    assert document["interrupted_root"] == str(roots["mono"]) and document["files_written"] == []
    assert result.stderr.splitlines()[0] == "async-migrate: interrupted: 1 of 3 repositories done"
    assert result.stderr.splitlines()[-1] == f"  {roots['mono']}: interrupted: nothing written"
    assert len(calls) == 2 and CONVERTED not in items(roots["mono"])


def test_ctrl_c_names_the_interrupted_root_absolute_as_the_others(cli, repos, tmp_path, monkeypatch):
    """Roots given relative to the cwd: `interrupted_root` is absolute, as `repositories_done[].root`
    (found by a platform trial: "bB" beside "/tmp/.../bA")."""
    roots, gits = repos
    real = runner.phase1
    calls = []

    def interrupt_the_second(root, config, options, progress=None):  # type: ignore[no-untyped-def]
        calls.append(root)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(root, config, options, progress)

    monkeypatch.setattr(runner, "phase1", interrupt_the_second)
    monkeypatch.chdir(tmp_path)
    result = cli("batch", "shop", "mono/services/api", "--format", "json", "--", "phase1")
    assert result.exit_code == 130, result.output
    document = json.loads(result.stdout)
    assert [d["root"] for d in document["repositories_done"]] == [str(roots["shop"].resolve())]
    assert document["interrupted_root"] == str(roots["mono"].resolve())
    assert result.stderr.splitlines()[-1] == f"  {roots['mono'].resolve()}: interrupted: nothing written"


def test_a_reader_gone_from_standard_output_exits_141(repos):
    """`batch ... | head -1`: the status a process killed by SIGPIPE has, never 1 ("changes
    found" to a script) nor 0."""
    import subprocess
    import sys

    roots, _ = repos
    command = [sys.executable, "-c", "from async_migrate.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, "batch", str(roots["shop"]), "--", "phase1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before the summary table is printed
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["{shop}"], "name the phase after --"),
        (["{shop}", "--", "phase3"], "'phase3' is not a phase"),
        (["{shop}", "--", "phase1", "--check"], "batch runs do not take --check"),
        (["{shop}", "--", "phase1", "--report", "r.md"], "batch runs do not take --report"),
        (["{shop}", "--", "phase1", "--branch", "x"], "do not take --branch after --: give it to batch, before --"),
        (["{shop}", "--", "phase1", "--format", "json"], "do not take --format after --: give it to batch, before --"),
        (["{shop}", "--", "phase1", "{mono}"], "the application roots go before --"),
        (["{shop}", "--", "phase1", "--no-such-option"], "No such option: --no-such-option"),
        (["{shop}", "--", "phase2"], "Missing option '--subsystem'"),
        (["--", "phase1"], "no repositories"),
        (["--repos", "{missing}", "--", "phase1"], "no such file"),
        (["{shop}", "--branch", "bad..name", "--", "phase1"], "'bad..name' is not a valid branch name"),
    ],
)
def test_usage_errors_exit_2_and_touch_nothing(cli, repos, tmp_path, args, message):
    roots, gits = repos
    names = {"shop": roots["shop"], "mono": roots["mono"], "missing": tmp_path / "missing.txt"}
    result = cli("batch", *[a.format(**names) for a in args])
    assert result.exit_code == 2, result.output
    assert message in err(result)
    assert result.stdout == ""
    for repo in gits.values():
        assert [h.name for h in repo.heads] == ["main"]
    assert CONVERTED not in items(roots["shop"])


def test_help_documents_the_surface(cli):
    result = cli("batch", "--help")
    assert result.exit_code == 0
    compact = "".join(result.stdout.split())  # click wraps lines, also at hyphens
    for fragment in (
        "batch [OPTIONS] [PATH]... -- phase1|phase2 [ARGS]...",
        "--repos", "--branch", "--format", "async-migrate/phase1",
        "Exit 0 when every repository succeeded, 3 when any failed",
    ):
        assert "".join(fragment.split()) in compact, fragment


# ------------------------------------------------------------------ --shard and --merge


def test_shards_are_deterministic_disjoint_and_cover_the_list():
    from async_migrate.codemods.batch import Shard, shard_of

    roots = [Path(f"/src/repo{i}") for i in range(11)]
    for count in (1, 2, 3, 5, 11, 15):
        slices = [shard_of(roots, Shard(k, count)) for k in range(1, count + 1)]
        flat = [root for piece in slices for root in piece]
        assert sorted(flat) == sorted(roots) and len(flat) == len(roots)
        assert max(map(len, slices)) - min(map(len, slices)) <= 1
        assert slices == [shard_of(list(roots), Shard(k, count)) for k in range(1, count + 1)]
    assert shard_of(roots, Shard(2, 3)) == [roots[1], roots[4], roots[7], roots[10]]


@pytest.mark.parametrize("text", ["0/3", "4/3", "2", "a/b", "1/0", "-1/2", "2/3/4"])
def test_a_bad_shard_is_a_usage_error(cli, repos, text):
    roots, gits = repos
    result = cli("batch", roots["shop"], "--shard", text, "--", "phase1")
    assert result.exit_code == 2
    assert f"--shard {text!r}" in err(result)
    assert [h.name for h in gits["shop"].heads] == ["main"]


def test_shards_then_merge_give_one_summary(cli, repos, tmp_path):
    roots, gits = repos
    listing = tmp_path / "repos.txt"
    listing.write_text("shop\ndirty\n" + f"{roots['mono']}\n", encoding="utf-8")
    results = []
    for k in (1, 2):
        result = cli("batch", "--repos", listing, "--shard", f"{k}/2", "--format", "json", "--", "phase1")
        document = json.loads(result.stdout)
        assert document["shard"] == {"index": k, "count": 2}
        results.append(tmp_path / f"shard-{k}.json")
        results[-1].write_text(result.stdout, encoding="utf-8")
    first, second = (json.loads(p.read_text()) for p in results)
    # Shard 1 is the 1st and 3rd line (shop, mono), shard 2 the 2nd (dirty, which fails).
    assert [Path(e["root"]) for e in first["repositories"]] == [roots["shop"].resolve(), roots["mono"].resolve()]
    assert [Path(e["root"]) for e in second["repositories"]] == [roots["dirty"].resolve()]
    assert gits["shop"].active_branch.name == "async-migrate/phase1"

    report = tmp_path / "batch.md"
    merged = cli("batch", "--merge", *results, "--format", "json", "--report", report)
    assert merged.exit_code == 3, merged.output  # one repository failed
    document = json.loads(merged.stdout)
    assert document["command"] == "batch" and document["phase"] == "phase1"
    assert document["summary"] == {"changed": 2, "partial": 0, "blocked": 0, "unchanged": 0, "changed_with_errors": 0, "failed": 1}
    assert document["shards"] == [{"index": 1, "count": 2}, {"index": 2, "count": 2}]
    assert len(document["repositories"]) == 3
    markdown = report.read_text(encoding="utf-8")
    assert markdown.startswith("# async-migrate batch phase1\n")
    assert "3 repositories on branch `async-migrate/phase1`: 2 changed, 0 unchanged, 1 failed." in markdown
    assert f"- `{roots['dirty'].resolve()}`: refusing to write into files with uncommitted changes" in markdown
    table = cli("batch", "--merge", *results)
    assert table.exit_code == 3
    assert "3 repositories: 2 changed, 0 unchanged, 1 failed" in table.stdout

    only_ok = cli("batch", "--merge", results[0])
    assert only_ok.exit_code == 2 and "shard 2/2 missing" in err(only_ok)
    twice = cli("batch", "--merge", results[0], results[0], results[1])
    assert twice.exit_code == 2 and "in both" in err(twice)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"command": "phase1", "handlers": []}', "not the JSON result of `async-migrate batch --format json`"),
    ],
)
def test_merge_refuses_what_is_not_a_batch_result(cli, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = cli("batch", "--merge", bad)
    assert result.exit_code == 2 and message in err(result)
    assert cli("batch", "--merge", tmp_path / "missing.json").exit_code == 2
    assert "or phase after --" in err(cli("batch", "--merge", bad, "--", "phase1"))


def test_merge_refuses_results_of_different_batches(cli, tmp_path):
    def document(phase: str, root: str) -> str:
        return json.dumps({"command": "batch", "phase": phase, "branch": f"async-migrate/{phase}",
                           "repositories": [{"root": root, "status": "unchanged"}]})

    one, two = tmp_path / "1.json", tmp_path / "2.json"
    one.write_text(document("phase1", "/a"), encoding="utf-8")
    two.write_text(document("phase2", "/b"), encoding="utf-8")
    result = cli("batch", "--merge", one, two)
    assert result.exit_code == 2 and "results of different batches" in err(result)
    two.write_text(document("phase1", "/b"), encoding="utf-8")
    assert cli("batch", "--merge", one, two).exit_code == 0


def test_one_repository_is_counted_in_the_singular(cli, repos, tmp_path):
    roots, _ = repos
    report = tmp_path / "batch.md"
    result = cli("batch", roots["shop"], "--report", report, "--", "phase1")
    assert result.exit_code == 0, result.output
    assert "1 repository: 1 changed, 0 unchanged, 0 failed" in result.stdout, result.stdout
    assert "1 repository on branch" in report.read_text(encoding="utf-8")


def test_a_root_the_analysis_cannot_see_whole_carries_the_warning(cli, repos, tmp_path):
    # `shop/api` as the root: its imports of `core` name modules beside it, which the analysis
    # never reads. `check` exits 2 on it; the batch's "changed" or "unchanged" said nothing of it.
    roots, _ = repos
    for _ in range(2):  # the second run from the cache the first left
        document = batch_json(cli, roots["shop"] / "api", roots["mono"], "--", "phase1", "--allow-dirty")
        deep, mono = document["repositories"]
        assert deep["status"] in ("changed", "unchanged"), deep
        assert any(w.startswith("PATH may be too deep") for w in deep["warnings"]), deep
        assert mono["warnings"] == [], mono
    result = cli("batch", roots["shop"] / "api", "--", "phase1")
    assert "warning: " in result.stdout and "PATH may be too deep" in result.stdout, result.output
    report = tmp_path / "batch.md"
    cli("batch", roots["shop"] / "api", "--report", report, "--", "phase1")
    assert "## Warnings" in report.read_text(encoding="utf-8")


def test_a_batch_rerun_after_ctrl_c_commits_what_the_interrupted_run_wrote(cli, repos, monkeypatch):
    # Found by a platform trial: the rerun read `changed` with a commit missing the files written
    # before Ctrl-C, exit 0, and the next one `unchanged`: the branch held part of the migration.
    import os
    import signal

    from async_migrate.codemods import sources

    roots, gits = repos
    real = sources.write_atomic

    def write_then_interrupt(path, data):  # type: ignore[no-untyped-def]
        real(path, data)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(sources, "write_atomic", write_then_interrupt)
    assert cli("batch", roots["shop"], "--", "phase1").exit_code == 130
    monkeypatch.setattr(sources, "write_atomic", real)
    assert CONVERTED in items(roots["shop"])
    head = gits["shop"].head.commit.hexsha
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "changed", entry
    assert sorted(entry["files_changed"]) == ["api/items.py", "api/orders.py"], entry
    assert entry["warnings"] == ["also committed 1 file an interrupted run had written: api/items.py"], entry
    assert gits["shop"].head.commit.parents[0].hexsha == head
    assert committed_files(gits["shop"]) == {"api/items.py", "api/orders.py"}
    assert gits["shop"].git.status("--porcelain").strip() == ""
    (entry,) = batch_json(cli, roots["shop"], "--", "phase1")["repositories"]
    assert entry["status"] == "unchanged" and entry["warnings"] == [], entry


def test_a_repository_listed_twice_runs_once_and_is_named(cli, repos, tmp_path):
    # A platform-team trial: a root given twice (here once as a path, once from --repos) ran twice,
    # and was reported twice.
    roots, _gits = repos
    listing = tmp_path / "twice.txt"
    listing.write_text("shop\n./shop/\n", encoding="utf-8")
    result = cli("batch", roots["shop"], "--repos", listing, "--format", "json", "--", "phase1")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [entry["root"] for entry in document["repositories"]] == [str(roots["shop"].resolve())]
    assert f"async-migrate: warning: listed more than once, run once: {roots['shop'].resolve()}" in result.stderr
    assert result.stderr.count("listed more than once") == 1


def test_near_miss_two_repositories_each_listed_once_both_run(cli, repos):
    roots, _gits = repos
    result = cli("batch", roots["shop"], roots["mono"], "--format", "json", "--", "phase1")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["repositories"]) == 2
    assert "listed more than once" not in result.stderr


@pytest.mark.parametrize("flag, escapes", [("--color", True), ("--no-color", False)])
def test_color_flags_as_on_every_other_command(cli, repos, flag, escapes):
    # The README lists --color/--no-color among the options every changing command takes; batch
    # exited 2 on them ("No such option").
    from async_migrate.cli.main import app

    roots, _ = repos
    args = ["batch", flag, str(roots["shop"]), "--", "phase1", "--jobs", "1"]
    result = cli.runner.invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": None, "FORCE_COLOR": None},
                               catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "changed" in result.stdout
    assert ("\x1b[" in result.stdout) is escapes, result.stdout
