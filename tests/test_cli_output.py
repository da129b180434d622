"""What the commands print: one line per handler off a terminal and at every size, the table
view on request, -q, -v, colors, --version, --diff, --check like black, the JSON envelope
and SARIF. Every expected output is parsed."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import REPO

LONG = "list_every_book_with_its_authors_reviews_tags_and_the_ratings_of_each_review_by_every_reader"
ROUTE = f"""
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter(prefix="/a-rather-long-prefix-for-the-catalogue-of-the-bookshop")


@router.get("/{{book_id}}/with/all/of/its/relations/and/more/path/segments")
async def {LONG}(book_id: int, session: session_dependency):
    return session.execute("select 1").all()


@router.get("/health")
async def health():
    return {{"ok": True}}
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "api/books.py": ROUTE})


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command in a pipe (not a terminal), as CI runs it."""
    import os

    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    environment.update(env or {})
    command = [sys.executable, "-c", "from async_migrate.cli.main import main; main()", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=environment, timeout=120)


def test_off_a_terminal_each_handler_is_one_unwrapped_line(app):
    result = run("scan", str(app))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    path = "/a-rather-long-prefix-for-the-catalogue-of-the-bookshop/{book_id}/with/all/of/its/relations/and/more/path/segments"
    assert f"api/books.py:9 {LONG} (route GET {path}) convert (async → def): takes a synchronous Session " \
        "`session: session_dependency` and never awaits" in lines
    assert "api/books.py:14 health (route GET /a-rather-long-prefix-for-the-catalogue-of-the-bookshop/health) " \
        "keep: does no synchronous Session work" in lines
    assert lines[-1] == "6 files, 3 handlers: 1 convert, 1 keep, 1 unchanged"
    assert not ANSI.search(result.stdout + result.stderr)


def test_scan_ends_with_the_phase_two_preview_of_each_subsystem(cli, project, app_files):
    routes = ROUTE + (
        "\n\n@router.get('/lazy')\nasync def lazy(session: session_dependency):\n"
        "    return [list(session.execute('select 1'))]\n"
        "\n\n@router.get('/nested')\nasync def nested(session: session_dependency):\n"
        "    return (lambda: session.execute('select 1').all())()\n"
    )
    root = project({**app_files, "api/__init__.py": "", "api/books.py": routes})
    document = cli.json("scan", root)
    planned = [h["phase2"] for h in document["handlers"] if h.get("subsystem") == "api/books.py"]
    blocked = [code for p in planned if p["action"] == "blocked" for code in dict.fromkeys(p["codes"])]
    migrate = sum(p["action"] == "migrate" for p in planned)
    assert blocked and migrate, planned
    assert all(p["self_checked"] is False for p in planned), planned
    lines = cli("scan", root).stdout.splitlines()
    assert lines[-2] == (
        f"phase two, api/books.py: {len(planned) - migrate - sum(p['action'] == 'unchanged' for p in planned)} "
        f"blocked, {migrate} migrate ({', '.join(sorted(set(blocked)))}), before the self-check; "
        f"async-migrate phase2 {root} -s api/books.py shows the plan"
    )



def test_the_previewed_phase_two_command_runs_as_printed(cli, project, app_files, monkeypatch):
    """The hint names the path as given (relative, with a space): run as printed, it plans."""
    import shlex

    root = project({**app_files, "api/__init__.py": "", "api/books.py": ROUTE})
    spaced = root.parent / "my service"
    root.rename(spaced)
    monkeypatch.chdir(spaced.parent)
    hint = next(line for line in cli("scan", "my service").stdout.splitlines() if line.startswith("phase two,"))
    command = shlex.split(hint.split("; ", 1)[1].removesuffix(" shows the plan"))
    assert command[:3] == ["async-migrate", "phase2", "my service"], command
    assert cli.json(*command[1:])["subsystem"]["name"] == "api/books.py"


@pytest.mark.parametrize("flag", [("--format", "table"), ("-v",)])
def test_the_table_view_on_request(cli, app, flag):
    result = cli("scan", app, *flag)
    assert result.exit_code == 0
    assert "┃" in result.stdout or "│" in result.stdout
    assert "api/books.py:10" not in result.stdout
    assert result.stdout.splitlines()[-1] == "6 files, 3 handlers: 1 convert, 1 keep, 1 unchanged"


def test_verbose_names_the_configuration_file(cli, app):
    assert "configuration: none found (defaults)" in cli("scan", app, "-v").stderr
    (app / "pyproject.toml").write_text("[tool.async-migrate]\nexclude = []\n", encoding="utf-8")
    assert f"configuration: {app / 'pyproject.toml'}" in cli("scan", app, "-v").stderr
    assert "configuration:" not in cli("scan", app).stderr


def test_quiet_prints_only_errors_and_the_final_line(cli, app):
    (app / "api" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    result = cli("phase1", app, "-q")
    assert result.exit_code == 3
    assert result.stdout == ""  # no diff unless --diff
    assert result.stderr.splitlines() == [
        "error: api/broken.py: syntax error at line 1, column 12: invalid syntax",
        "7 files, 3 handlers: 1 convert, 1 keep, 1 unchanged; 1 file would change; 1 file failed",
    ]
    assert cli("phase1", app, "-q", "--diff").stdout.startswith("diff --git a/api/books.py")
    scan = cli("scan", app, "-q")
    assert scan.stdout.splitlines() == ["7 files, 3 handlers: 1 convert, 1 keep, 1 unchanged; 1 file failed"]
    assert cli("scan", app, "-q", "-v").exit_code == 2
    # check's findings are what needs acting on: -q keeps them (as ruff does) and the final line.
    check = cli("check", app, "-q")
    assert check.exit_code == 3
    lines = check.stdout.splitlines()
    assert lines and all(re.search(r"api/\S+\.py:\d+: AM3\d\d ", line) for line in lines[:-1]), lines
    assert len(lines) > 1 and "finding" in lines[-1], lines


def test_diff_is_the_explicit_dry_run(cli, app):
    plain, explicit = cli("phase1", app), cli("phase1", app, "--diff")
    assert plain.exit_code == explicit.exit_code == 0
    assert plain.stdout == explicit.stdout and plain.stdout.startswith("diff --git a/api/books.py b/api/books.py\n--- a/api/books.py\n")
    assert cli("phase1", app, "--diff", "--apply").exit_code == 2


def test_check_prints_the_files_that_would_change_like_black(cli, app):
    result = cli("phase1", app, "--check")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "would change api/books.py",
        "6 files, 3 handlers: 1 convert, 1 keep, 1 unchanged; 1 file would change",
    ]
    with_diff = cli("phase1", app, "--check", "--diff")
    assert with_diff.exit_code == 1 and with_diff.stdout.startswith("diff --git a/api/books.py")
    assert cli("phase1", app, "--apply").exit_code == 0
    again = cli("phase1", app, "--check")
    assert again.exit_code == 0
    assert again.stderr.splitlines() == ["6 files, 3 handlers: 1 keep, 2 unchanged; 0 files would change"]


def test_apply_says_what_it_wrote(cli, app):
    result = cli("phase1", app, "--apply")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == "6 files, 3 handlers: 1 convert, 1 keep, 1 unchanged; wrote 1 file"
    assert "would change" not in result.stderr


@pytest.mark.parametrize(
    ("env", "args", "colored"),
    [
        ({}, (), False),  # a pipe: no colors
        ({}, ("--color",), True),
        ({"FORCE_COLOR": "1"}, (), True),
        ({"FORCE_COLOR": "1"}, ("--no-color",), False),
        ({"NO_COLOR": "1"}, ("--color",), True),
    ],
)
def test_colors_follow_the_flags_and_the_environment(app, env, args, colored):
    result = run("phase1", str(app), *args, env=env)
    assert result.returncode == 0, result.stderr
    assert bool(ANSI.search(result.stdout + result.stderr)) is colored
    assert ANSI.sub("", result.stdout).startswith("diff --git a/api/books.py")


def test_version(cli):
    from importlib.metadata import version

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"async-migrate {version('async-migrate')}\n"


@pytest.mark.parametrize("command", [("scan",), ("phase1",), ("phase2", "--subsystem", "api/books.py"), ("check",)])
def test_every_json_document_carries_version_and_schema(cli, app, command):
    from importlib.metadata import version

    result = cli(command[0], app, *command[1:], "--format", "json")
    document = json.loads(result.stdout)
    assert list(document)[:2] == ["version", "schema"]
    assert document["version"] == version("async-migrate") and document["schema"] == 1


def test_check_writes_sarif(cli, app):
    (app / "api" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    result = cli("check", app, "--format", "sarif")
    assert result.exit_code == 3
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    assert run_["tool"]["driver"]["name"] == "async-migrate"
    (rule,) = run_["tool"]["driver"]["rules"]
    assert (rule["id"], rule["name"]) == ("AM301", "blocking-session")
    assert rule["shortDescription"]["text"] and rule["help"]["text"]
    (finding,) = run_["results"]
    assert finding["ruleId"] == "AM301" and finding["ruleIndex"] == 0
    location = finding["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("app/api/books.py")
    assert location["region"] == {"startLine": 9}
    assert finding["message"]["text"].startswith(f"{LONG}: ")
    (notification,) = run_["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("cannot check: syntax error at line 1")
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert run_["invocations"][0]["executionSuccessful"] is False


def test_check_github_annotates_a_syntax_error_at_its_line(cli, app):
    # The annotation named the file alone: the pull request showed it on no line of the diff.
    (app / "api" / "broken.py").write_text("import os\n\n\ndef broken(:\n", encoding="utf-8")
    result = cli("check", app, "--format", "github")
    assert result.exit_code == 3
    (line,) = [line for line in result.stdout.splitlines() if "broken.py" in line]
    assert ",line=4," in line and "cannot check: syntax error at line 4" in line, line


def test_check_sarif_and_github_without_routes_are_no_clean_run(cli, project):
    # check exits 2 (not an all-clear); a SARIF log of zero results marked successful would
    # show a code-scanning upload as clean.
    root = project({"services/load.py": "def load():\n    return 1\n"})
    result = cli("check", root, "--format", "sarif")
    assert result.exit_code == 2
    (run_,) = json.loads(result.stdout)["runs"]
    assert run_["results"] == []
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"].startswith("no FastAPI routes under PATH")
    github = cli("check", root, "--format", "github")
    assert github.exit_code == 2
    assert github.stdout.startswith("::error title=async-migrate::no FastAPI routes under PATH")
    assert github.stdout.count("::error") == 1  # said once, not again as the exit 2's annotation


@pytest.mark.parametrize("case", ["bad config", "missing path", "usage"])
def test_check_sarif_and_github_on_exit_2_before_any_analysis_say_why(cli, app, tmp_path, case):
    # A configuration or usage error ended the run with nothing on standard output: the SARIF
    # upload step then failed on an empty file, and the pull request showed no annotation.
    (app / "pyproject.toml").write_text('[tool.async-migrate]\nexclude = "migrations/**"\n', encoding="utf-8")
    args = {
        "bad config": (app,),
        "missing path": (tmp_path / "missing",),
        "usage": (app, "--jobs", "0"),
    }[case]
    said = {"bad config": "exclude: expected a list", "missing path": "no such directory", "usage": "--jobs"}[case]
    result = cli("check", *args, "--format", "sarif")
    assert result.exit_code == 2, result.output
    (run_,) = json.loads(result.stdout)["runs"]
    assert run_["results"] == []
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert said in notification["message"]["text"]
    github = cli("check", *args, "--format=github")
    assert github.exit_code == 2
    (line,) = github.stdout.splitlines()
    assert line.startswith("::error title=async-migrate::") and said in line
    assert cli("check", *args).stdout == ""  # text: the message is on standard error alone


@pytest.mark.parametrize("command", ["phase1", "scan", "phase2", "batch"])
@pytest.mark.parametrize("format", ["sarif", "github"])
def test_a_format_only_check_takes_is_a_usage_error_elsewhere_with_nothing_on_standard_output(cli, app, command, format):
    # `phase1 --format sarif` printed a failed SARIF log: an upload step then read a usage error
    # of another command as check's result
    result = cli(command, app, "--format", format)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"Invalid value for '--format': '{format}' is not one of" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    "args", [("scan", "{app}", "--format", "table"), ("check", "{app}"), ("rules",), ("phase1", "{app}")]
)
def test_a_reader_gone_from_standard_output_exits_141(app, args):
    """`... | head`: the status a process killed by SIGPIPE has. rich's tables and the rule
    list exited 1, which a script reads as "changes found" or "violations"."""
    command = [sys.executable, "-c", "from async_migrate.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, *(a.replace("{app}", str(app)) for a in args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before anything is printed
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr


def test_check_help_readme_and_sample_agree_on_where_a_pragma_stands(cli):
    from async_migrate.codemods.pragma import PLACEMENT

    help_text = " ".join(cli("check", "--help").stdout.split())
    assert " ".join(PLACEMENT.split()) in help_text.replace("blocking- session", "blocking-session")
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert PLACEMENT in readme
    hook_comment = " ".join(
        line.lstrip("#").strip() for line in (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines()
    )
    assert " ".join(PLACEMENT.split()) in hook_comment
    # Every pragma of the sample stands on a comment line above the decorators.
    for path in (REPO / "testdata" / "bookshop").rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "# async-migrate: ignore" in line:
                assert line.lstrip().startswith("#") and lines[number + 1].lstrip().startswith("@"), (path, line)


def test_help_names_every_format_and_the_glob_options_plainly(cli):
    # --format table exists on scan, phase1 and phase2: the help names it; --only/--exclude
    # take a glob, not the "list[str]" the parameter's type would show.
    for command in ("scan", "phase1", "phase2"):
        help_text = " ".join(cli(command, "--help").stdout.split())
        assert "table: one table per module" in help_text, command
        assert "--only GLOB" in help_text and "--exclude GLOB" in help_text, command
        assert "list[str]" not in help_text, command
    assert "list[str]" not in cli("check", "--help").stdout


def test_phase_two_prints_its_follow_ups_after_the_summary_dry_and_applied(app):
    # the application fails to import without greenlet and the async driver: not left to --report
    for args in ((), ("--apply",)):
        result = run("phase2", str(app), "--subsystem", "api/books.py", "--no-cache", *args)
        assert result.returncode == 0, result.stderr
        lines = result.stderr.splitlines()
        last = next(i for i, line in enumerate(lines) if re.match(r"\d+ files?, \d+ handlers?", line))
        shown = [line for line in lines[last + 1 :] if line.startswith("follow-up: ")]
        assert any(line.startswith("follow-up: add `sqlalchemy[asyncio]` to the dependencies") for line in shown), lines
        assert "follow-up: add the async driver package `aiosqlite` to the dependencies" in shown, lines


def test_phase_two_check_keeps_its_summary_last_with_the_follow_ups_above_it(app):
    result = run("phase2", str(app), "--subsystem", "api/books.py", "--no-cache", "--check")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].endswith("; 3 files would change"), lines
    assert any(line.startswith("follow-up: add `sqlalchemy[asyncio]`") for line in lines[:-1]), lines


# Two routes phase two would move: `blocked` calls a method AsyncSession lacks (AM214), `moved`
# plain Session work.
PHASE2 = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/blocked")
async def blocked(session: session_dependency):
    list(map(lambda b: session.bulk_save_objects([b]), []))  # in a lambda: no await can stand
    return session.execute("select 1").all()
MOVED
"""
MOVED = """

@router.get("/moved")
async def moved(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_phase2_moving_nothing_ends_on_a_summary_saying_so_and_exits_0(cli, project, app_files):
    # Exit 0 as with nothing to change (the contract's `0`; batch counts the repository
    # `blocked`): the last line must not read like a plan that moves the subsystem.
    root = project({**app_files, "api/__init__.py": "", "api/items.py": PHASE2.replace("MOVED", "")})
    result = cli("phase2", root, "--subsystem", "api/items.py")
    assert result.exit_code == 0, result.output
    last = result.stderr.splitlines()[-1]
    assert last.endswith(
        "1 blocked; 0 files would change; nothing migrated: every handler phase two would move is blocked "
        "(reasons above)"
    ), result.stderr
    assert "blocked (AM" in result.stderr or "blocked:" in result.stderr, result.stderr  # the reasons are above
    assert not any(line.startswith("follow-up:") for line in result.stderr.splitlines()[-1:])


@pytest.mark.parametrize(("args", "flag"), [(("-q",), "-q"), (("--check",), "--check")], ids=["quiet", "check"])
def test_phase2_moving_nothing_quietly_says_where_the_reasons_are(cli, project, app_files, tmp_path, args, flag):
    # -q (and --check) print no handler lines: "reasons above" pointed at nothing (a new-user trial)
    root = project({**app_files, "api/__init__.py": "", "api/items.py": PHASE2.replace("MOVED", "")})
    result = cli("phase2", root, "--subsystem", "api/items.py", *args)
    assert result.exit_code == 0, result.output  # nothing would change: --check passes too
    assert "reasons above" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        f"nothing migrated: every handler phase two would move is blocked ({flag} shows no reasons: run without "
        "it, or write them with --report FILE)"
    ), result.stderr
    report = tmp_path / "blocked.md"
    result = cli("phase2", root, "--subsystem", "api/items.py", *args, "--report", str(report))
    assert result.stderr.splitlines()[-1].endswith(
        f"({flag} shows no reasons: run without it, or see the report {report})"
    ), result.stderr
    assert "`session.bulk_save_objects()` does not exist on AsyncSession" in report.read_text()


def test_phase2_run_again_on_a_migrated_subsystem_says_its_routes_are_already_on_async_session(
    cli, project, app_files
):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": PHASE2.replace("MOVED", MOVED)})
    applied = cli("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert applied.exit_code == 0, applied.output
    result = cli("phase2", root, "--subsystem", "api/items.py")
    assert result.exit_code == 0, result.output
    last = result.stderr.splitlines()[-1]
    assert last.endswith(
        "1 blocked, 1 unchanged; 0 files would change; nothing more to migrate: 1 route already on AsyncSession, "
        "every other handler phase two would move is blocked (reasons above)"
    ), result.stderr
    assert "every handler phase two would move is blocked" not in result.stderr


def test_near_miss_phase2_moving_some_routes_does_not_say_nothing_migrated(cli, project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": PHASE2.replace("MOVED", MOVED)})
    result = cli("phase2", root, "--subsystem", "api/items.py")
    assert result.exit_code == 0, result.output
    assert "1 migrate, 1 blocked; 3 files would change" in result.stderr
    assert "nothing migrated" not in result.stderr


def test_apply_says_its_line_numbers_are_those_before_a_rewrite_that_moved_lines(cli, app):
    # phase one's `async def` -> `def` moves no line: the lines printed are the written file's
    assert "before the rewrite" not in cli("phase1", app, "--apply").stderr
    # phase two adds the async stack to the engine module: lines read before no longer match
    result = cli("phase2", app, "-s", "api/books.py", "--apply")
    assert result.exit_code == 0, result.stderr
    note = next(line for line in result.stderr.splitlines() if "before the rewrite" in line)
    assert "db/engine.py" in note and "git diff" in note, note


BINDS_ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./app.db")
other_engine = create_engine("sqlite:///./other.db")
database_sessionmaker = sessionmaker(
    binds={
        "users": engine,
        "orders": other_engine,
    },
)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


def test_a_reason_quoting_source_over_several_lines_stays_on_its_handlers_line(project, app_files):
    # a new-user trial: `binds={...}` laid out one key a line broke each blocked handler's line
    # (and the `blocks the whole subsystem:` one) into five, the later ones indented source
    root = project({
        **app_files, "db/engine.py": BINDS_ENGINE, "api/__init__.py": "",
        "api/items.py": PHASE2.replace("MOVED", MOVED),
    })
    result = run("phase2", str(root), "--subsystem", "api/items.py", "--no-cache")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    moved = next(line for line in lines if line.startswith("api/items.py:") and " moved " in line)
    assert 'with `binds={ "users": engine, "orders": other_engine, }`: the async stack' in moved, lines
    whole = [line for line in lines if line.startswith("blocks the whole subsystem: ")]
    assert len(whole) == 1 and '"orders": other_engine, }`' in whole[0], lines
    # every line is a handler's, the subsystem's, a follow-up or the summary: none is a piece of source
    assert all(re.match(r"(api/items\.py:\d+ |blocks the whole|follow-up: |\d+ files, )", line) for line in lines), lines


def test_near_miss_a_reason_on_one_line_is_printed_as_it_is(project, app_files):
    root = project({**app_files, "api/__init__.py": "", "api/items.py": PHASE2.replace("MOVED", MOVED)})
    result = run("phase2", str(root), "--subsystem", "api/items.py", "--no-cache")
    moved = next(line for line in result.stderr.splitlines() if line.startswith("api/items.py:") and " moved " in line)
    # the same reason, unchanged: the flattening touches only text holding a line break
    assert moved == "api/items.py:15 moved (route GET /moved) migrate: moves to AsyncSession: awaits its Session calls", moved
