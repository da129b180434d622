"""Git integration of `phase1`/`phase2 --apply`: the dirty-tree refusal, `--branch`, `--commit`.

Every test works on a real temporary repository (gitpython `Repo.init`, a local
identity) holding a tiny application, and checks the repository afterwards:
the branch checked out, the commits, what they contain, what stays untracked.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from gitrepos import ITEMS, commit_all, committed_files, init_repo, tiny_app

from async_migrate.codemods import gitstate

CONVERTED = "\ndef list_items(session: session_dependency):"


def err(result) -> str:  # type: ignore[no-untyped-def]
    """Standard error with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def items(root: Path) -> str:
    return (root / "api" / "items.py").read_text(encoding="utf-8")


@pytest.fixture
def repo(tmp_path):  # type: ignore[no-untyped-def]
    """A repository whose root is the application."""
    return init_repo(tmp_path / "repo", tiny_app())


def root_of(repo) -> Path:  # type: ignore[no-untyped-def]
    return Path(repo.working_tree_dir)


# ----------------------------------------------------------------- dirty files


def test_apply_refuses_to_write_into_a_file_with_uncommitted_changes(cli, repo):
    root = root_of(repo)
    with (root / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    before_orders = (root / "api" / "orders.py").read_text(encoding="utf-8")
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 2, result.output
    assert "uncommitted changes" in err(result) and "api/items.py" in err(result)
    assert "--allow-dirty" in err(result)
    # Nothing was written, not even the clean file.
    assert items(root).endswith("# work in progress\n") and CONVERTED not in items(root)
    assert (root / "api" / "orders.py").read_text(encoding="utf-8") == before_orders


def test_an_untracked_file_to_be_written_counts_as_uncommitted(cli, tmp_path):
    repo = init_repo(tmp_path / "repo", {k: v for k, v in tiny_app().items() if k != "api/items.py"})
    root = root_of(repo)
    (root / "api" / "items.py").write_text(textwrap.dedent(ITEMS).lstrip(), encoding="utf-8")
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 2
    assert "api/items.py" in err(result)


def test_allow_dirty_writes_and_keeps_the_uncommitted_change(cli, repo):
    root = root_of(repo)
    with (root / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    result = cli("phase1", root, "--apply", "--allow-dirty")
    assert result.exit_code == 0, result.output
    assert CONVERTED in items(root) and items(root).endswith("# work in progress\n")


WITHOUT_APPLY = "--allow-dirty only matters with --apply"


@pytest.mark.parametrize(("options", "code"), [([], 0), (["--check"], 1)])
def test_allow_dirty_without_apply_warns_and_writes_nothing(cli, repo, options, code):
    root = root_of(repo)
    before = items(root)
    result = cli("phase1", root, "--allow-dirty", *options)
    assert result.exit_code == code, result.output
    assert f"async-migrate: warning: {WITHOUT_APPLY}" in err(result)
    assert items(root) == before


def test_allow_dirty_with_apply_does_not_warn(cli, repo):
    root = root_of(repo)
    result = cli("phase1", root, "--apply", "--allow-dirty")
    assert result.exit_code == 0, result.output
    assert WITHOUT_APPLY not in err(result)
    assert CONVERTED in items(root)


def test_a_dirty_file_that_is_not_written_does_not_block(cli, repo):
    root = root_of(repo)
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# local tweak\n")
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 0, result.output
    assert CONVERTED in items(root)


# -------------------------------------------------------------------- --branch


def test_branch_new_is_created_from_head_and_holds_the_written_files(cli, repo):
    root = root_of(repo)
    head = repo.head.commit.hexsha
    document = cli.json("phase1", root, "--apply", "--branch", "async-migrate/phase1")
    assert repo.active_branch.name == "async-migrate/phase1"
    assert repo.head.commit.hexsha == head  # created at HEAD; without --commit nothing is committed
    assert repo.heads["main"].commit.hexsha == head
    assert CONVERTED in items(root)
    assert sorted(repo.git.diff("--name-only").split()) == ["api/items.py", "api/orders.py"]
    assert document["git"] == {
        "branch": "async-migrate/phase1", "branch_created": True, "commit": None, "committed": [],
    }


def test_branch_existing_is_checked_out_before_the_analysis(cli, repo):
    """The run reads and writes the existing branch's files, and commits on top of it."""
    root = root_of(repo)
    repo.git.checkout("-b", "migration")
    (root / "api" / "extra.py").write_text(textwrap.dedent("""
        from fastapi import APIRouter

        from core.dependencies import session_dependency

        router = APIRouter()


        @router.get("/extra")
        async def extra(session: session_dependency):
            return session.execute("select 2").all()
        """).lstrip(), encoding="utf-8")
    tip = commit_all(repo, "only on migration")
    repo.git.checkout("main")
    assert not (root / "api" / "extra.py").exists()

    document = cli.json("phase1", root, "--apply", "--branch", "migration", "--commit")
    assert repo.active_branch.name == "migration"
    assert "api/extra.py" in document["files_changed"]
    assert "def extra(session" in (root / "api" / "extra.py").read_text(encoding="utf-8")
    assert [parent.hexsha for parent in repo.head.commit.parents] == [tip]
    assert document["git"]["branch"] == "migration" and document["git"]["branch_created"] is False
    assert committed_files(repo) == {"api/extra.py", "api/items.py", "api/orders.py"}


def test_branch_existing_is_refused_while_tracked_files_are_dirty(cli, repo):
    root = root_of(repo)
    repo.git.branch("migration")
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# local tweak\n")
    result = cli("phase1", root, "--apply", "--branch", "migration")
    assert result.exit_code == 2
    assert "refusing to switch to the existing branch 'migration'" in err(result)
    assert "db/engine.py" in err(result)
    assert repo.active_branch.name == "main"
    assert CONVERTED not in items(root)


def test_branch_that_is_already_checked_out_is_used_as_it_is(cli, repo):
    root = root_of(repo)
    repo.git.checkout("-b", "migration")
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# local tweak\n")
    result = cli("phase1", root, "--apply", "--branch", "migration")
    assert result.exit_code == 0, result.output
    assert repo.active_branch.name == "migration" and CONVERTED in items(root)


def test_branch_is_not_created_when_nothing_changes(cli, repo):
    root = root_of(repo)
    cli("phase1", root, "--apply")
    commit_all(repo, "migrated by hand")
    head = repo.head.commit.hexsha
    document = cli.json("phase1", root, "--apply", "--branch", "again", "--commit")
    assert document["files_changed"] == []
    assert "again" not in [h.name for h in repo.heads]
    assert repo.head.commit.hexsha == head
    assert document["git"] == {"branch": None, "branch_created": False, "commit": None, "committed": []}


def test_branch_name_that_git_refuses_is_a_usage_error(cli, repo):
    result = cli("phase1", root_of(repo), "--apply", "--branch", "bad..name")
    assert result.exit_code == 2
    assert "'bad..name' is not a valid branch name" in err(result)
    assert CONVERTED not in items(root_of(repo))


# -------------------------------------------------------------------- --commit


def test_commit_holds_exactly_the_written_files_with_a_message_naming_phase_and_counts(cli, repo):
    root = root_of(repo)
    head = repo.head.commit.hexsha
    (root / "notes.txt").write_text("not mine\n", encoding="utf-8")  # untracked, unrelated
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# staged elsewhere\n")
    repo.git.add("db/engine.py")  # a staged, unrelated change

    result = cli("phase1", root, "--apply", "--commit")
    assert result.exit_code == 0, result.output
    commit = repo.head.commit
    assert [parent.hexsha for parent in commit.parents] == [head]
    assert repo.active_branch.name == "main"
    assert committed_files(repo) == {"api/items.py", "api/orders.py"}
    subject, _, body = commit.message.partition("\n\n")
    assert subject == "async-migrate phase1: 2 handlers to def in 2 files"
    assert "- api/items.py: list_items (GET /items)" in body
    assert "- api/orders.py: place_order (POST /orders)" in body
    assert "health" not in body  # kept async: no Session work
    assert f"committed {commit.hexsha[:12]}: {subject}" in err(result)
    # Everything else is as it was: the untracked file untracked, the staged change staged.
    assert "notes.txt" in repo.untracked_files
    assert repo.git.diff("--cached", "--name-only").split() == ["db/engine.py"]
    assert repo.git.status("--porcelain", "--", "api").strip() == ""
    # The committed content is what was written.
    assert commit.tree["api/items.py"].data_stream.read().decode() == items(root)


def test_commit_takes_the_report_inside_the_repository_but_not_one_outside(cli, repo, tmp_path):
    root = root_of(repo)
    result = cli("phase1", root, "--apply", "--commit", "--report", root / "MIGRATION.md")
    assert result.exit_code == 0, result.output
    assert committed_files(repo) == {"api/items.py", "api/orders.py", "MIGRATION.md"}

    repo.git.checkout("HEAD~1", "--", "api")  # undo the migration in the work tree
    commit_all(repo, "back to async")
    result = cli("phase1", root, "--apply", "--commit", "--report", tmp_path / "outside.md")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "outside.md").is_file()
    assert committed_files(repo) == {"api/items.py", "api/orders.py"}


def test_commit_is_reported_in_the_json_document(cli, repo):
    document = cli.json("phase1", root_of(repo), "--apply", "--commit")
    assert document["git"]["commit"] == repo.head.commit.hexsha
    # Without --branch the commit lands on the branch checked out, which the document names.
    assert (document["git"]["branch"], document["git"]["branch_created"]) == (repo.active_branch.name, False)
    assert sorted(document["git"]["committed"]) == ["api/items.py", "api/orders.py"]


def test_branch_and_commit_together(cli, repo):
    root = root_of(repo)
    head = repo.head.commit.hexsha
    result = cli("phase1", root, "--apply", "--branch", "async-migrate/phase1", "--commit")
    assert result.exit_code == 0, result.output
    assert repo.active_branch.name == "async-migrate/phase1"
    assert repo.heads["main"].commit.hexsha == head
    assert [p.hexsha for p in repo.head.commit.parents] == [head]
    assert repo.is_dirty() is False


def test_commit_on_a_detached_head_needs_a_branch(cli, repo):
    root = root_of(repo)
    repo.git.checkout("--detach")
    result = cli("phase1", root, "--apply", "--commit")
    assert result.exit_code == 2
    assert "HEAD is detached" in err(result) and "--branch" in err(result)
    assert CONVERTED not in items(root)
    result = cli("phase1", root, "--apply", "--commit", "--branch", "from-detached")
    assert result.exit_code == 0, result.output
    assert repo.active_branch.name == "from-detached"


def test_a_failing_commit_leaves_the_files_written_and_exits_3(cli, repo):
    root = root_of(repo)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    head = repo.head.commit.hexsha
    result = cli("phase1", root, "--apply", "--commit")
    assert result.exit_code == 3
    assert "the changes are written but not committed" in err(result)
    assert "lint says no" in err(result)
    assert repo.head.commit.hexsha == head
    assert CONVERTED in items(root)


def test_a_rerun_after_a_failing_commit_names_what_is_left_staged(cli, repo):
    # "nothing written: no commit" alone read as done: the migration sat staged, uncommitted.
    root = root_of(repo)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    assert cli("phase1", root, "--apply", "--commit").exit_code == 3
    hook.unlink()
    result = cli("phase1", root, "--apply", "--commit")
    assert "nothing written: no commit" in err(result)
    assert "api/items.py, api/orders.py under PATH are staged and not committed" in err(result), err(result)
    repo.git.commit("-m", "by hand")
    assert "staged and not committed" not in err(cli("phase1", root, "--apply", "--commit"))


def test_a_failing_commit_is_in_the_json_document(cli, repo):
    # Exit 3 with "errors": [] and "commit": null left a script no reason to report.
    root = root_of(repo)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    result = cli("phase1", root, "--apply", "--commit", "--format", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["git"]["commit"] is None
    assert "lint says no" in document["git"]["error"]
    assert "the changes are written but not committed" in document["git"]["error"]


def test_commit_message_counts_offloaded_handlers_apart(cli, tmp_path):
    repo = init_repo(tmp_path / "repo", {
        **tiny_app(),
        "services/__init__.py": "",
        "services/orders.py": """
            def place_order(session, payload):
                return session.execute("insert into orders values (1)")
            """,
        "api/orders.py": """
            from fastapi import APIRouter, Request

            from core.dependencies import session_dependency
            from services.orders import place_order

            router = APIRouter()


            @router.post("/orders")
            async def place(request: Request, session: session_dependency):
                payload = await request.json()
                return place_order(session, payload)
            """,
    })
    result = cli("phase1", root_of(repo), "--apply", "--commit", "--offload-mixed")
    assert result.exit_code == 0, result.output
    subject, _, body = repo.head.commit.message.partition("\n\n")
    assert subject == "async-migrate phase1: 1 handler to def and 1 with blocking calls offloaded in 2 files"
    assert "- api/items.py: list_items (GET /items)" in body
    assert "wrapped in run_in_threadpool:\n- api/orders.py: place (POST /orders)" in body
    assert committed_files(repo) == {"api/items.py", "api/orders.py"}


def test_phase2_commit_names_the_subsystem_and_its_counts(cli, tmp_path):
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
    repo = init_repo(tmp_path / "repo", files)
    root = root_of(repo)
    document = cli.json("phase2", root, "--subsystem", "api/orders.py", "--apply", "--commit")
    assert document["errors"] == []
    migrated = [h for h in document["handlers"] if h["action"] == "migrate"]
    assert [h["function"] for h in migrated] == ["place_order"]
    subject, _, body = repo.head.commit.message.partition("\n\n")
    count = len(document["files_changed"])
    assert subject == f"async-migrate phase2 api/orders.py: 1 route to AsyncSession in {count} files"
    assert "- api/orders.py: place_order (POST /orders)" in body
    assert committed_files(repo) == set(document["files_changed"])


# ------------------------------------------------------ PATH inside or outside a repository


def test_path_as_a_subfolder_of_the_repository(cli, tmp_path):
    """Only PATH's files are read, written and committed; the repository's other files stay."""
    other = tiny_app()
    repo = init_repo(tmp_path / "mono", {
        **{f"services/shop/{k}": v for k, v in tiny_app().items()},
        **{f"services/other/{k}": v for k, v in other.items()},
    })
    top = root_of(repo)
    root = top / "services" / "shop"
    with (top / "services" / "other" / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# dirty outside PATH\n")
    result = cli("phase1", root, "--apply", "--branch", "shop-phase1", "--commit")
    assert result.exit_code == 0, result.output
    assert committed_files(repo) == {"services/shop/api/items.py", "services/shop/api/orders.py"}
    assert CONVERTED in items(root)
    assert CONVERTED not in items(top / "services" / "other")
    assert repo.git.diff("--name-only").split() == ["services/other/api/items.py"]

    # A dirty file under PATH is still refused, named relative to PATH.
    repo.git.checkout("main")  # carries the dirty file outside PATH: same as before
    with (root / "api" / "orders.py").open("a", encoding="utf-8") as stream:
        stream.write("# dirty inside PATH\n")
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 2
    assert "api/orders.py" in err(result)


def test_path_outside_any_repository(cli, project, app_files):
    root = project({**tiny_app()})
    if gitstate.repository(root) is not None:
        pytest.skip("the temporary directory lies inside a git repository")
    for options in (["--branch", "x"], ["--commit"], ["--branch", "x", "--commit"]):
        result = cli("phase1", root, "--apply", *options)
        assert result.exit_code == 2, options
        assert "is not inside a git repository" in err(result)
        assert CONVERTED not in items(root)
    result = cli("phase1", root, "--apply")
    assert result.exit_code == 0, result.output
    assert CONVERTED in items(root)


@pytest.mark.parametrize("options", [["--branch", "x"], ["--commit"], ["--check", "--commit"]])
def test_branch_and_commit_without_apply_are_usage_errors(cli, repo, options):
    root = root_of(repo)
    result = cli("phase1", root, *options)
    assert result.exit_code == 2
    assert "--branch and --commit only go with --apply" in err(result)
    assert [h.name for h in repo.heads] == ["main"]
    result = cli("phase2", root, "--subsystem", "api/items.py", *options)
    assert result.exit_code == 2
    assert "only go with --apply" in err(result)


def test_dry_run_json_has_no_git_entry(cli, repo):
    document = cli.json("phase1", root_of(repo))
    assert "git" not in document
    assert json.dumps(document)  # still one plain document


def test_runs_committing_into_one_repository_at_once_each_commit_their_own_files(tmp_path):
    # Jobs of a batch sharded over a monorepo's roots commit into one repository at the same
    # time: git lets one hold the index, so the others failed and left their files staged.
    import threading

    repo = init_repo(tmp_path / "repo", {f"s{index}/notes.py": "x = 1\n" for index in range(6)})
    root = root_of(repo)
    results: dict[int, str | Exception] = {}

    def run(index: int) -> None:
        (root / f"s{index}/notes.py").write_text(f"x = {index + 2}\n", encoding="utf-8")
        try:
            results[index] = gitstate.commit_paths(root / f"s{index}", [f"s{index}/notes.py"], f"s{index}")
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = {index: result for index, result in results.items() if isinstance(result, Exception)}
    assert not failures, failures
    for index, sha in results.items():
        assert committed_files(repo, sha) == {f"s{index}/notes.py"}, index
    assert repo.git.status("--porcelain") == ""


def test_allow_dirty_commit_warns_naming_the_files_whose_uncommitted_changes_it_commits(cli, repo):
    # the documented behaviour stays (the whole file is committed); it was silent about the
    # user's own change going into the migration's commit
    root = root_of(repo)
    with (root / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    result = cli("phase1", root, "--apply", "--allow-dirty", "--commit")
    assert result.exit_code == 0, result.output
    assert "# work in progress" in repo.git.show("HEAD:api/items.py")
    assert ("--allow-dirty --commit: the commit also holds the uncommitted changes these files had before the "
            "migration: api/items.py (") in err(result), err(result)
    assert "api/orders.py" not in err(result).partition("--allow-dirty --commit")[2].partition("(")[0]


def test_near_miss_allow_dirty_commit_on_clean_files_warns_nothing(cli, repo):
    root = root_of(repo)
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# local tweak\n")  # not written by the migration: not committed
    document = cli.json("phase1", root, "--apply", "--allow-dirty", "--commit")
    assert "carried_uncommitted" not in document["git"], document["git"]
    assert "db/engine.py" not in repo.git.show("--name-only", "--format=", "HEAD").split()


def test_a_phase_two_commit_message_says_helpers_take_the_async_session_not_that_they_are_now_async():
    """A migrated `__init__` stays `def`, and a dependency may have been `async def` already."""
    from types import SimpleNamespace

    from async_migrate.codemods.apply import commit_message

    result = SimpleNamespace(command="phase2", outcomes=[], subsystem={"name": "api/products.py", "helpers": [
        {"file": "repos.py", "function": "ProductRepository.__init__", "action": "migrate"},
        {"file": "deps.py", "function": "get_service", "action": "migrate"},
        {"file": "repos.py", "function": "add_product", "action": "twin"},
        {"file": "repos.py", "function": "unused", "action": "blocked"},
    ]})
    message = commit_message(result, ["repos.py"])  # type: ignore[arg-type]
    assert "- repos.py: ProductRepository.__init__ (on AsyncSession)" in message
    assert "- deps.py: get_service (on AsyncSession)" in message
    assert "- repos.py: add_product (async twin)" in message
    assert "now async" not in message and "unused" not in message


# ------------------------------------------------------------ a rerun after Ctrl-C


def _interrupt_after_first_write(monkeypatch):  # type: ignore[no-untyped-def]
    """Ctrl-C once the first file is written, as a user's would land (the write finishes)."""
    import os
    import signal

    from async_migrate.codemods import sources

    real = sources.write_atomic
    written = []

    def write_then_interrupt(path, data):  # type: ignore[no-untyped-def]
        written.append(path)
        real(path, data)
        if len(written) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(sources, "write_atomic", write_then_interrupt)
    return lambda: monkeypatch.setattr(sources, "write_atomic", real)


def test_a_rerun_after_ctrl_c_commits_what_the_interrupted_run_wrote(cli, repo, monkeypatch):
    # Found by a platform trial: the rerun found the files written before Ctrl-C already
    # converted, committed only the rest (exit 0, no word), and later runs said "nothing written:
    # no commit": the branch held part of the migration, the other part sat uncommitted.
    root = root_of(repo)
    head = repo.head.commit.hexsha
    restore = _interrupt_after_first_write(monkeypatch)
    first = cli("phase1", root, "--apply", "--branch", "perf/x", "--commit")
    assert first.exit_code == 130, first.output
    assert "interrupted: wrote 1 of 2 files" in err(first) and CONVERTED in items(root)
    assert repo.head.commit.hexsha == head and repo.active_branch.name == "perf/x"
    restore()

    rerun = cli("phase1", root, "--apply", "--branch", "perf/x", "--commit")
    assert rerun.exit_code == 0, rerun.output
    commit = repo.head.commit
    assert [parent.hexsha for parent in commit.parents] == [head]
    assert committed_files(repo) == {"api/items.py", "api/orders.py"}
    assert commit.tree["api/items.py"].data_stream.read().decode() == items(root)
    assert CONVERTED in items(root)
    subject, _, body = commit.message.partition("\n\n")
    assert subject == "async-migrate phase1: 2 handlers to def in 2 files"
    assert "- api/items.py: list_items (GET /items)" in body
    assert "- api/orders.py: place_order (POST /orders)" in body
    assert "Written by an interrupted run, committed now:\n- api/items.py\n" in body
    assert "also committed 1 file an interrupted run had written: api/items.py" in err(rerun)
    assert repo.git.status("--porcelain", "--", "api").strip() == ""
    assert not (Path(repo.git_dir) / gitstate.INTERRUPTED_FILE).exists()  # nothing left to take
    # A third run: nothing to write, nothing left over, and it says so.
    again = cli("phase1", root, "--apply", "--branch", "perf/x", "--commit")
    assert again.exit_code == 0 and "nothing written: no commit" in err(again)
    assert "interrupted" not in err(again) and repo.head.commit.hexsha == commit.hexsha


def test_a_rerun_after_ctrl_c_with_nothing_left_to_write_commits_the_interrupted_output(cli, repo, monkeypatch):
    # The rerun without --commit writes the rest; the one with --commit then has nothing to
    # write: "nothing written: no commit", exit 0, would leave the whole migration uncommitted.
    root = root_of(repo)
    head = repo.head.commit.hexsha
    restore = _interrupt_after_first_write(monkeypatch)
    assert cli("phase1", root, "--apply").exit_code == 130
    restore()
    assert cli("phase1", root, "--apply").exit_code == 0  # api/orders.py, no commit asked for
    result = cli("phase1", root, "--apply", "--commit", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["git"]["interrupted_run_committed"] == ["api/items.py"]
    assert repo.head.commit.parents[0].hexsha == head
    assert committed_files(repo) == {"api/items.py"}
    assert repo.head.commit.message.startswith("async-migrate phase1: 1 handler to def in 1 file\n")
    # api/orders.py was written by a run that finished without --commit: as before, not the
    # interrupted run's, it stays for the user to commit.
    assert repo.git.status("--porcelain", "--", "api").strip() == "M api/orders.py"


def test_near_miss_a_file_changed_since_the_interrupted_run_is_not_committed(cli, repo, monkeypatch):
    # The file the interrupted run wrote was edited since, and another holds a user's unrelated
    # edit: neither is the tool's output alone, so neither is committed; the first is named.
    root = root_of(repo)
    restore = _interrupt_after_first_write(monkeypatch)
    assert cli("phase1", root, "--apply", "--commit").exit_code == 130
    restore()
    with (root / "api" / "items.py").open("a", encoding="utf-8") as stream:
        stream.write("# reviewed by hand\n")
    with (root / "db" / "engine.py").open("a", encoding="utf-8") as stream:
        stream.write("# work in progress\n")
    result = cli("phase1", root, "--apply", "--commit")
    assert result.exit_code == 0, result.output
    assert committed_files(repo) == {"api/orders.py"}
    assert (
        "not committed: api/items.py, written by an interrupted run and changed since" in err(result)
    ), err(result)
    assert "also committed" not in err(result)
    assert sorted(repo.git.status("--porcelain").splitlines()) == [" M api/items.py", " M db/engine.py"]
    # Still named on the next run, while it stays so.
    assert "not committed: api/items.py" in err(cli("phase1", root, "--apply", "--commit"))
