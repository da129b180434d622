"""`[tool.async-migrate]`: every key changes behaviour as the README documents.

One focused test per key on a tiny application: the run without the key, then
with it, each configured three ways (the `configured` fixture):

- `PATH/pyproject.toml` with a `[tool.async-migrate]` table,
- `--config FILE` holding a `[tool.async-migrate]` table,
- `--config FILE` holding the keys at top level.

Bad configuration (unknown key, wrong type, invalid TOML, a missing `--config`
file) exits 2 with a message naming the key, for every command, and writes nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

CONFIG_WAYS = ["pyproject", "config-file", "config-top-level"]


@pytest.fixture(params=CONFIG_WAYS)
def configured(request, tmp_path):  # type: ignore[no-untyped-def]
    """configured(root, toml) -> the extra CLI arguments; toml is written `[tool.async-migrate]` style."""

    def write(root: Path, toml: str) -> list[str]:
        toml = textwrap.dedent(toml).strip() + "\n"
        if request.param == "pyproject":
            (root / "pyproject.toml").write_text("[project]\nname = \"app\"\n\n" + toml, encoding="utf-8")
            return []
        path = tmp_path / "async-migrate.toml"
        if request.param == "config-top-level":
            toml = toml.replace("[tool.async-migrate]\n", "").replace("[tool.async-migrate.", "[")
        path.write_text(toml, encoding="utf-8")
        return ["--config", str(path)]

    return write


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str]) -> Path:
        return project({**app_files, "api/__init__.py": "", **files})

    return build


def handlers(document: dict, function: str) -> list[dict]:
    return [h for h in document["handlers"] if h["function"] == function]


def decided(document: dict, function: str) -> tuple[str, str]:
    """(action, all reasons joined) of the only handler called function."""
    found = handlers(document, function)
    assert len(found) == 1, (function, document["handlers"])
    return found[0]["action"], "; ".join(found[0]["reasons"])


def added_lines(document: dict) -> str:
    return "\n".join(line[1:] for line in document["diff"].splitlines() if line.startswith("+"))


# ------------------------------------------------------------------ recognising a Session


def test_session_types(cli, app, configured):
    root = app({
        "db/tenant.py": """
            class TenantSession:
                def execute(self, statement):
                    return []


            def get_tenant_session():
                return TenantSession()
            """,
        "api/items.py": """
            from fastapi import APIRouter, Depends

            from db.tenant import TenantSession, get_tenant_session

            router = APIRouter()


            @router.get("/items")
            async def list_items(session: TenantSession = Depends(get_tenant_session)):
                return session.execute("select 1")
            """,
    })
    action, why = decided(cli.json("phase1", root), "list_items")
    assert action == "keep" and "does no synchronous Session work" in why
    args = configured(root, """
        [tool.async-migrate]
        session-types = ["db.tenant.TenantSession"]
        """)
    action, why = decided(cli.json("phase1", root, *args), "list_items")
    assert action == "convert", why
    assert "takes a synchronous Session `session: TenantSession" in why


def test_session_aliases(cli, app, configured):
    root = app({
        "core/deps.py": """
            from typing import Annotated

            from fastapi import Depends
            from tenancy import get_db

            DbSession = Annotated[object, Depends(get_db)]
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from core.deps import DbSession

            router = APIRouter()


            @router.get("/items")
            async def list_items(session: DbSession):
                return session.execute("select 1").all()
            """,
    })
    action, why = decided(cli.json("phase1", root), "list_items")
    assert action == "keep" and "does no synchronous Session work" in why
    args = configured(root, """
        [tool.async-migrate]
        session-aliases = ["core.deps.DbSession"]
        """)
    action, why = decided(cli.json("phase1", root, *args), "list_items")
    assert action == "convert", why
    assert "`session: DbSession`" in why


def test_session_dependencies(cli, app, configured):
    root = app({
        "core/deps.py": """
            import tenancy


            def get_db():
                return tenancy.connect()
            """,
        "api/items.py": """
            from fastapi import APIRouter, Depends

            from core.deps import get_db

            router = APIRouter()


            @router.get("/items")
            async def list_items(session=Depends(get_db)):
                return session.execute("select 1").all()
            """,
    })
    # unconfigured, what `tenancy.connect()` gives is code outside PATH: unverified, never all-clear
    action, why = decided(cli.json("phase1", root), "list_items")
    assert action == "keep" and "gives from `tenancy.connect()`, code outside PATH" in why, why
    args = configured(root, """
        [tool.async-migrate]
        session-dependencies = ["core.deps.get_db"]
        """)
    action, why = decided(cli.json("phase1", root, *args), "list_items")
    assert action == "convert", why
    assert "Depends(get_db)" in why


def test_sessionmakers(cli, app, configured):
    root = app({
        "db/factory.py": """
            from tenancy import make_factory

            SessionLocal = make_factory()
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from db.factory import SessionLocal

            router = APIRouter()


            @router.get("/items")
            async def list_items():
                with SessionLocal() as session:
                    return session.execute("select 1").all()
            """,
    })
    action, why = decided(cli.json("phase1", root), "list_items")
    assert action == "keep" and "does no synchronous Session work" in why
    args = configured(root, """
        [tool.async-migrate]
        sessionmakers = ["db.factory.SessionLocal"]
        """)
    action, why = decided(cli.json("phase1", root, *args), "list_items")
    assert action == "convert", why
    assert "opens a synchronous Session" in why


# ------------------------------------------------------------------ routes and decorators


def test_router_types(cli, app, configured):
    root = app({
        "api/items.py": """
            from versioning import VersionedRouter

            from core.dependencies import session_dependency

            router = VersionedRouter()


            @router.get("/items")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """,
    })
    # A third-party class named like a router: listed, but kept until it is configured.
    [unknown] = handlers(cli.json("phase1", root), "list_items")
    assert unknown["action"] == "keep"
    assert "router class versioning.VersionedRouter is not recognised" in unknown["reasons"][0]
    args = configured(root, """
        [tool.async-migrate]
        router-types = ["versioning.VersionedRouter"]
        """)
    document = cli.json("phase1", root, *args)
    found = handlers(document, "list_items")
    assert [(h["kind"], h["methods"], h["path"], h["action"]) for h in found] == [
        ("route", ["GET"], "/items", "convert")
    ]
    assert document["files_changed"] == ["api/items.py"]


def test_safe_decorators(cli, app, configured):
    root = app({
        "api/items.py": """
            from fastapi import APIRouter
            from metrics import counted

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.get("/items")
            @counted
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """,
    })
    action, why = decided(cli.json("phase1", root), "list_items")
    assert action == "keep" and "counted" in why
    args = configured(root, """
        [tool.async-migrate]
        safe-decorators = ["metrics.counted"]
        """)
    action, why = decided(cli.json("phase1", root, *args), "list_items")
    assert action == "convert", why


def test_exclude(cli, app, configured):
    route = """
        from fastapi import APIRouter

        from core.dependencies import session_dependency

        router = APIRouter()


        @router.get("/{name}")
        async def {name}(session: session_dependency):
            return session.execute("select 1").all()
        """
    root = app({
        "api/items.py": route.replace("{name}", "items"),
        "legacy/__init__.py": "",
        "legacy/old.py": route.replace("{name}", "old"),
    })
    document = cli.json("phase1", root)
    assert document["files_changed"] == ["api/items.py", "legacy/old.py"]
    args = configured(root, """
        [tool.async-migrate]
        exclude = ["legacy/**"]
        """)
    document = cli.json("phase1", root, *args)
    assert document["files_changed"] == ["api/items.py"]
    assert handlers(document, "old") == []
    assert handlers(cli.json("scan", root, *args), "old") == []
    # phase1 --apply leaves the excluded file alone
    before = (root / "legacy" / "old.py").read_bytes()
    assert cli("phase1", root, "--apply", *args).exit_code == 0
    assert (root / "legacy" / "old.py").read_bytes() == before


# ------------------------------------------------------------------ phase two

SERVICES = """
from sqlalchemy import text
from sqlalchemy.orm import Session


def count_items(session: Session) -> int:
    return session.execute(text("select 1")).scalar_one()
"""
COUNT_ROUTE = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services import count_items

router = APIRouter()


@router.get("/{name}/count")
def {name}_count(session: session_dependency):
    return count_items(session)
"""


@pytest.fixture
def shared_helper_app(app):  # type: ignore[no-untyped-def]
    """Two routers sharing a Session helper: phase two on one of them twins the helper."""
    return app({
        "services.py": SERVICES,
        "api/items.py": COUNT_ROUTE.replace("{name}", "items"),
        "api/other.py": COUNT_ROUTE.replace("{name}", "other"),
    })


def test_subsystems(cli, shared_helper_app, configured):
    root = shared_helper_app
    result = cli("phase2", root, "--subsystem", "catalogue")
    assert result.exit_code == 2
    assert "'catalogue' is neither a router module under PATH nor a configured subsystem" in result.stderr
    assert "did you mean" not in result.stderr
    # no module by that name: the modules holding routes are the choices
    assert "the modules with routes are api/items.py, api/other.py" in result.stderr, result.stderr
    assert "one route cannot be chosen" not in result.stderr
    # a path written from the folder above PATH, a bare module name, or an import name (whole or
    # its tail, as from a package above PATH): the module is named
    for spec in (f"{root.name}/api/other.py", "other", "api.other", f"{root.name}.api.other"):
        result = cli("phase2", root, "--subsystem", spec)
        assert result.exit_code == 2
        assert "module paths are relative to PATH: did you mean 'api/other.py'?" in result.stderr, result.stderr
    args = configured(root, """
        [tool.async-migrate.subsystems]
        catalogue = ["api/items.py", "api/other.py"]
        """)
    document = cli.json("phase2", root, "--subsystem", "catalogue", *args)
    assert document["subsystem"]["name"] == "catalogue"
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "items_count": "migrate", "other_count": "migrate",
    }
    # both routers are in the subsystem: the helper itself moves, no twin
    assert [(h["function"], h["action"]) for h in document["subsystem"]["helpers"]] == [
        ("count_items", "migrate")
    ]


@pytest.mark.parametrize(
    "key, value, generated, default",
    [
        ("async-engine", "aengine", "aengine = create_async_engine(", "async_engine ="),
        ("async-sessionmaker", "amaker", "amaker = async_sessionmaker(", "async_database_sessionmaker ="),
        ("async-dependency", "get_adb", "async def get_adb() -> AsyncIterator[AsyncSession]:",
         "get_async_db_session"),
        ("async-alias", "ASession", "async def items_count(session: ASession):", "async_session_dependency"),
        ("twin-suffix", "_aio", "return await count_items_aio(session)", "count_items_async"),
    ],
)
def test_names_phase_two_generates(cli, shared_helper_app, configured, key, value, generated, default):
    root = shared_helper_app
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    assert default in added_lines(document) and generated not in added_lines(document)
    args = configured(root, f"""
        [tool.async-migrate]
        {key} = "{value}"
        """)
    document = cli.json("phase2", root, "--subsystem", "api/items.py", *args)
    assert document["errors"] == []
    assert decided(document, "items_count")[0] == "migrate"
    added = added_lines(document)
    assert generated in added
    assert default not in added


def test_call_mappings(cli, app, configured):
    root = app({
        "api/items.py": """
            from fastapi import APIRouter
            from reporting import render_report

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.get("/report")
            def report(session: session_dependency):
                return render_report(session, 3)
            """,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    action, why = decided(document, "report")
    assert action == "blocked" and "render_report" in why
    args = configured(root, """
        [tool.async-migrate]
        call-mappings = { "reporting.render_report" = "reporting.render_report_async" }
        """)
    document = cli.json("phase2", root, "--subsystem", "api/items.py", *args)
    assert decided(document, "report")[0] == "migrate"
    assert document["subsystem"]["blockers"] == []
    added = added_lines(document)
    assert "return await render_report_async(session, 3)" in added
    assert "from reporting import render_report_async" in added


def test_async_engine_factory(cli, app, app_files, configured):
    engine = app_files["db/engine.py"].replace(
        'engine = create_engine("sqlite:///./app.db")',
        'def connect():\n    raise NotImplementedError\n\n\n'
        'engine = create_engine("postgresql+psycopg://", creator=connect)',
    )
    root = app({
        "db/engine.py": engine,
        "db/cloud.py": """
            from sqlalchemy.ext.asyncio import create_async_engine


            def make_async_engine():
                return create_async_engine("postgresql+psycopg://")
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.post("/items")
            def add_item(session: session_dependency):
                session.commit()
            """,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    action, why = decided(document, "add_item")
    assert action == "blocked" and "creator=connect" in why and "async-engine-factory" in why
    args = configured(root, """
        [tool.async-migrate]
        async-engine-factory = "db.cloud.make_async_engine"
        """)
    document = cli.json("phase2", root, "--subsystem", "api/items.py", *args)
    assert decided(document, "add_item")[0] == "migrate"
    assert document["subsystem"]["blockers"] == []
    added = added_lines(document)
    assert "from db.cloud import make_async_engine" in added
    assert "async_engine = make_async_engine()" in added


# ------------------------------------------------------------------ where the configuration comes from


def test_config_file_replaces_pyproject(cli, app, tmp_path):
    """With --config, PATH/pyproject.toml is not read (not even its bad keys)."""
    root = app({
        "api/items.py": """
            from fastapi import APIRouter
            from metrics import counted

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.get("/items")
            @counted
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """,
        "pyproject.toml": """
            [tool.async-migrate]
            no-such-key = true
            """,
    })
    assert cli("phase1", root).exit_code == 2
    config = tmp_path / "mine.toml"
    config.write_text('safe-decorators = ["metrics.counted"]\n', encoding="utf-8")
    assert decided(cli.json("phase1", root, "--config", config), "list_items")[0] == "convert"


def test_pyproject_without_the_table_means_defaults(cli, app):
    root = app({
        "pyproject.toml": '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 100\n',
        "api/items.py": """
            from fastapi import APIRouter

            from core.dependencies import session_dependency

            router = APIRouter()


            @router.get("/items")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """,
    })
    assert decided(cli.json("phase1", root), "list_items")[0] == "convert"


BLOCKING_ROUTE = """
from fastapi import APIRouter
from metrics import counted

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/items")
@counted
async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""
SAFE_COUNTED = '[tool.async-migrate]\nsafe-decorators = ["metrics.counted"]\n'


def test_config_in_a_parent_pyproject_is_found(cli, app_files, tmp_path):
    """The repository root holds the configuration; the application is in backend/."""
    from conftest import write_tree

    repo = tmp_path / "repo"
    root = write_tree(repo / "backend", {**app_files, "api/__init__.py": "", "api/items.py": BLOCKING_ROUTE})
    (repo / ".git").mkdir()
    assert decided(cli.json("phase1", root), "list_items")[0] == "keep"
    (repo / "pyproject.toml").write_text('[project]\nname = "repo"\n\n' + SAFE_COUNTED, encoding="utf-8")
    assert decided(cli.json("phase1", root), "list_items")[0] == "convert"
    # A pyproject.toml without the table (the service's own packaging) is passed over, as ruff does.
    (root / "pyproject.toml").write_text('[project]\nname = "backend"\n', encoding="utf-8")
    assert decided(cli.json("phase1", root), "list_items")[0] == "convert"
    # The nearest table wins over a parent's.
    (root / "pyproject.toml").write_text("[tool.async-migrate]\nexclude = []\n", encoding="utf-8")
    assert decided(cli.json("phase1", root), "list_items")[0] == "keep"


def test_config_search_stops_at_the_repository_root(cli, app_files, tmp_path):
    from conftest import write_tree

    (tmp_path / "pyproject.toml").write_text(SAFE_COUNTED, encoding="utf-8")
    repo = tmp_path / "repo"
    root = write_tree(repo / "backend", {**app_files, "api/__init__.py": "", "api/items.py": BLOCKING_ROUTE})
    assert decided(cli.json("phase1", root), "list_items")[0] == "convert"  # no repository: found above
    (repo / ".git").mkdir()
    assert decided(cli.json("phase1", root), "list_items")[0] == "keep"


def test_a_broken_parent_configuration_is_reported_not_skipped(cli, app_files, tmp_path):
    from conftest import write_tree

    repo = tmp_path / "repo"
    root = write_tree(repo / "backend", {**app_files, "api/__init__.py": "", "api/items.py": BLOCKING_ROUTE})
    (repo / ".git").mkdir()
    (repo / "pyproject.toml").write_text("[tool.async-migrate\n", encoding="utf-8")
    result = cli("phase1", root)
    assert result.exit_code == 2
    assert f"{repo / 'pyproject.toml'}: not valid TOML" in err(result)


# ------------------------------------------------------------------ bad configuration

COMMANDS = [
    ["scan"],
    ["phase1"],
    ["phase1", "--apply"],
    ["phase2", "--subsystem", "api/items.py", "--apply"],
    ["check"],
]
ITEMS = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/items")
async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def err(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_unknown_key_exits_2_naming_it(cli, app, configured, command):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate]
        sessions-types = ["db.Tenant"]
        """)
    before = snapshot(root)
    result = cli(command[0], root, *command[1:], *args)
    assert result.exit_code == 2, result.output
    assert "unknown key [tool.async-migrate] 'sessions-types'" in err(result)
    assert result.stdout == ""
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "line, key, expected",
    [
        ("session-types = 3", "session-types", "expected a list of dotted names"),
        ('session-types = ["not a dotted name!"]', "session-types", '"not a dotted name!" is not one'),
        ('session-types = "app.db.Tenant"', "session-types", "expected a list of dotted names"),
        ('session-aliases = [1, "a.b"]', "session-aliases", "got [1, \"a.b\"]: 1 is not one"),
        ('session-dependencies = [""]', "session-dependencies", "expected a list of dotted names"),
        ('session-dependencies = ["app.class.get_db"]', "session-dependencies", '"app.class.get_db" is not one'),
        ("sessionmakers = { a = 1 }", "sessionmakers", "expected a list of dotted names"),
        ("router-types = true", "router-types", "got true"),
        ("safe-decorators = 1.5", "safe-decorators", "got 1.5"),
        ("exclude = [1]", "exclude", "expected a list of glob strings"),
        ('exclude = "migrations/**"', "exclude", 'expected a list of glob strings (like ["migrations/**"]), '
         'got "migrations/**"'),
        ('exclude = ["/"]', "exclude", '"/" is not one'),
        ('subsystems = "api/items.py"', "subsystems", "expected a table"),
        ("async-engine = 3", "async-engine", "expected a Python identifier"),
        ('async-sessionmaker = "not a name"', "async-sessionmaker", "expected a Python identifier"),
        ('async-dependency = "get-db"', "async-dependency", "expected a Python identifier"),
        ('async-alias = ""', "async-alias", "expected a Python identifier"),
        ('async-alias = "class"', "async-alias", 'got "class"'),
        ('twin-suffix = "-async"', "twin-suffix", "expected an identifier suffix"),
        ("async-engine-factory = 7", "async-engine-factory", "expected a dotted name"),
        ('async-engine-factory = "make engine"', "async-engine-factory", 'got "make engine"'),
        ('call-mappings = ["a.b"]', "call-mappings", "expected a table"),
        ('call-mappings = { "a.b" = 1 }', "call-mappings", 'got "a.b" = 1'),
        ('call-mappings = { "a b" = "c.d" }', "call-mappings", 'got "a b" = "c.d"'),
    ],
)
def test_wrong_type_or_form_exits_2_naming_key_value_and_expectation(cli, app, configured, line, key, expected):
    root = app({"api/items.py": ITEMS})
    args = configured(root, f"""
        [tool.async-migrate]
        {line}
        """)
    before = snapshot(root)
    result = cli("phase1", root, "--apply", *args)
    assert result.exit_code == 2, result.output
    assert f"[tool.async-migrate] {key}:" in err(result)
    assert expected in err(result)
    assert snapshot(root) == before


def test_a_src_folder_that_does_not_exist_exits_2(cli, app, configured):
    # ignored in silence, it also turned off finding the import roots from the imports
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate]
        src = ["backnd"]
        """)
    result = cli("check", root, *args)
    assert result.exit_code == 2, result.output
    assert '[tool.async-migrate] src: expected folders relative to this file' in err(result)
    assert '"backnd" is not one' in err(result)


@pytest.mark.parametrize(
    "line",
    [
        'session-types = ["app.db.TenantSession", "Session"]',
        'exclude = ["migrations/**", "*.pyi"]',
        'async-alias = "AsyncDb"',
        'twin-suffix = "2"',
        'async-engine-factory = "db.cloud.make_async_engine"',
        'call-mappings = { "app.pagination.paginate" = "app.pagination.apaginate" }',
    ],
)
def test_well_formed_values_are_accepted(cli, app, configured, line):
    root = app({"api/items.py": ITEMS})
    args = configured(root, f"""
        [tool.async-migrate]
        {line}
        """)
    result = cli("scan", root, *args)
    assert result.exit_code == 0, result.output


def test_every_key_has_a_validator():
    from async_migrate.codemods.config import VALIDATORS, keys

    assert sorted(VALIDATORS) == sorted(key.replace("-", "_") for key in keys())


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("sessions-types", "session-types"), ("excludes", "exclude"), ("twin_sufix", "twin-suffix")],
)
def test_unknown_key_suggests_the_closest_known_one(cli, app, configured, written, suggested):
    root = app({"api/items.py": ITEMS})
    args = configured(root, f"""
        [tool.async-migrate]
        {written} = []
        """)
    result = cli("scan", root, *args)
    assert result.exit_code == 2
    assert f"unknown key [tool.async-migrate] {written!r}; did you mean {suggested!r}?" in err(result)


def test_unknown_key_far_from_any_lists_the_known_keys(cli, app, configured):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate]
        colour = true
        """)
    result = cli("scan", root, *args)
    assert result.exit_code == 2
    assert "unknown key [tool.async-migrate] 'colour' (known keys: session-types," in err(result)


def test_wrong_type_inside_subsystems_names_the_subsystem(cli, app, configured):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate.subsystems]
        catalogue = [3]
        """)
    result = cli("phase2", root, "--subsystem", "catalogue", *args)
    assert result.exit_code == 2
    assert "[tool.async-migrate] subsystems.catalogue: expected a list of glob strings" in err(result)
    assert "got [3]: 3 is not one" in err(result)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_invalid_toml_exits_2(cli, app, configured, command):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate]
        session-types = ["db.Tenant"
        """)
    before = snapshot(root)
    result = cli(command[0], root, *command[1:], *args)
    assert result.exit_code == 2, result.output
    assert "not valid TOML" in err(result)
    assert snapshot(root) == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_missing_config_file_exits_2(cli, app, tmp_path, command):
    root = app({"api/items.py": ITEMS})
    before = snapshot(root)
    missing = tmp_path / "nowhere.toml"
    result = cli(command[0], root, *command[1:], "--config", missing)
    assert result.exit_code == 2, result.output
    assert "no such configuration file" in err(result) and "nowhere.toml" in err(result)
    assert snapshot(root) == before


def test_every_bad_key_is_named_in_one_run(cli, app, configured):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate]
        exclude = 3
        sesion-types = ["app.db.Session"]
        twin-suffix = ""
        """)
    result = cli("scan", root, *args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 3 and all(line.startswith("async-migrate: ") for line in lines), lines
    assert "exclude" in lines[0] and "'sesion-types'" in lines[1] and "twin-suffix" in lines[2]


def test_the_readme_example_names_every_key_and_loads(tmp_path):
    # A key the example leaves out is one a reader of the README never learns of.
    import re

    import tomllib
    from conftest import REPO

    from async_migrate.codemods import config

    readme = (REPO / "README.md").read_text(encoding="utf-8").split("### Configuration", 1)[1]
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example is not None
    document = tomllib.loads(example.group(1))["tool"]["async-migrate"]
    assert sorted(document) == sorted(config.keys())
    path = tmp_path / "example.toml"
    path.write_text(example.group(1), encoding="utf-8")
    for folder in document["src"]:  # the example's application has its src folders
        (tmp_path / folder).mkdir()
    assert config.load(tmp_path, path).async_engine_factory == document["async-engine-factory"]


def test_a_wrong_subsystem_is_pointed_only_to_modules_and_configured_names_with_routes(cli, app, configured):
    # `-s services` (beside `api/services.py` routes) named services.py, which phase two refuses
    # as having no routes; a configured name matching only helpers was listed as a choice.
    root = app({"services.py": SERVICES, "api/services.py": COUNT_ROUTE.replace("{name}", "items")})
    args = configured(root, """
        [tool.async-migrate.subsystems]
        helpers = ["db/*.py"]
        shop = ["api/*.py"]
        """)
    for spec in ("services", "engine", "db.engine"):
        err = " ".join(cli("phase2", root, "--subsystem", spec, *args).stderr.split())
        assert "'services.py'" not in err and "'db/engine.py'" not in err, err
        assert "nor a configured subsystem (shop)" in err, err
    err = " ".join(cli("phase2", root, "--subsystem", "services", *args).stderr.split())
    assert "did you mean 'api/services.py'?" in err, err
    err = " ".join(cli("phase2", root, "--subsystem", "db.engine", *args).stderr.split())
    assert "the modules with routes are api/services.py" in err, err
    # a module that exists without routes: the error names the modules that have them
    result = cli("phase2", root, "--subsystem", "services.py", *args)
    err = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "has no routes (services.py)" in err, err
    assert "the modules with routes are api/services.py" in err, err

def test_a_single_module_app_names_its_one_module_when_a_subsystem_matches_nothing(cli, app):
    # Everything in main.py: a route name or a made-up subsystem name points the user to the
    # one choice phase two has, and says it takes every route together.
    root = app({"api/items.py": COUNT_ROUTE.replace("{name}", "items"), "services.py": SERVICES})
    result = cli("phase2", root, "--subsystem", "api/items.py::items_count")
    assert result.exit_code == 2
    assert "the modules with routes are api/items.py (every route is there: `--subsystem api/items.py` " \
        "takes them all; one route cannot be chosen)" in result.stderr, result.stderr


def test_a_subsystem_given_one_string_shows_a_subsystem_example(cli, app, configured):
    root = app({"api/items.py": ITEMS})
    args = configured(root, """
        [tool.async-migrate.subsystems]
        items = "api/items.py"
        """)
    result = cli("scan", root, *args)
    assert result.exit_code == 2
    assert 'subsystems.items: expected a list of glob strings of router modules (like ["api/items.py"]), ' \
        'got "api/items.py"' in err(result)
    assert "migrations/**" not in err(result)
