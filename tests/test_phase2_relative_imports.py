"""Phase two in a package whose modules import each other relatively (`from .deps import DbSession`):
the imports the rewrite leaves unused go, as they do when written absolutely, and the migrated code runs."""

from __future__ import annotations

from sample import run_python

FILES = {
    "svc/__init__.py": "",
    "svc/db.py": """
        import os
        from collections.abc import Iterator

        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine(os.environ["SVC_DATABASE_URL"])
        SessionLocal = sessionmaker(engine, expire_on_commit=False)


        def get_db() -> Iterator[Session]:
            with SessionLocal() as session:
                yield session
        """,
    "svc/deps.py": """
        from typing import Annotated

        from fastapi import Depends
        from sqlalchemy.orm import Session

        from .db import get_db

        DbSession = Annotated[Session, Depends(get_db)]
        """,
    "svc/api.py": """
        from fastapi import APIRouter
        from sqlalchemy import text

        from .deps import DbSession

        router = APIRouter()


        @router.get("/answer")
        def answer(db: DbSession) -> int:
            return db.scalar(text("select 41 + 1"))
        """,
    "svc/main.py": """
        from fastapi import FastAPI

        from .api import router

        app = FastAPI()
        app.include_router(router)
        """,
}


def test_a_relative_import_the_migration_leaves_unused_is_dropped(cli, project, tmp_path):
    root = project(FILES)
    result = cli("phase2", root, "--subsystem", "svc/api.py", "--apply")
    assert result.exit_code == 0, result.output
    api = (root / "svc/api.py").read_text()
    assert "async def answer(db: async_session_dependency)" in api
    assert "DbSession" not in api  # before: `from .deps import DbSession` stayed, unused (F401)
    run = run_python("from fastapi.testclient import TestClient\nfrom svc.main import app\n"
         "print(TestClient(app).get('/answer').json())", cwd=root, env={**__import__("os").environ, "SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}"}, timeout=120, warnings=("error::RuntimeWarning",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "42"


CRUD_FILES = {
    **{k: v for k, v in FILES.items() if k != "svc/api.py"},
    "svc/crud/__init__.py": """
        from . import items
        from .items import get_answer

        __all__ = ["items", "get_answer"]
        """,
    "svc/crud/items.py": """
        from sqlalchemy import text
        from sqlalchemy.orm import Session


        def get_answer(db: Session) -> int:
            return db.scalar(text("select 41 + 1"))
        """,
    "svc/api.py": """
        from fastapi import APIRouter

        from . import crud
        from .deps import DbSession

        router = APIRouter()


        @router.get("/answer")
        def answer(db: DbSession) -> int:
            return crud.get_answer(db)
        """,
    "svc/legacy.py": """
        from fastapi import APIRouter

        from .crud import get_answer
        from .deps import DbSession

        router = APIRouter()


        @router.get("/legacy")
        def legacy(db: DbSession) -> int:
            return get_answer(db)
        """,
    "svc/main.py": """
        from fastapi import FastAPI

        from . import api, legacy

        app = FastAPI()
        app.include_router(api.router)
        app.include_router(legacy.router)
        """,
}


def test_a_twin_a_package_re_exports_joins_its_import_and_its_all(cli, project, tmp_path):
    root = project(CRUD_FILES)
    result = cli("phase2", root, "--subsystem", "svc/api.py", "--apply")
    assert result.exit_code == 0, result.output
    init = (root / "svc/crud/__init__.py").read_text()
    # in isort's order, and exported as the original is (a star import, ruff's F401)
    assert "from .items import get_answer, get_answer_async\n" in init
    assert '__all__ = ["items", "get_answer", "get_answer_async"]' in init
    assert "await crud.get_answer_async(db)" in (root / "svc/api.py").read_text()
    run = run_python("from fastapi.testclient import TestClient\nfrom svc.main import app\nfrom svc.crud import *\n"
         "c = TestClient(app)\nprint(c.get('/answer').json(), c.get('/legacy').json(), get_answer_async.__name__)", cwd=root, env={**__import__("os").environ, "SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}"}, timeout=120, warnings=("error::RuntimeWarning",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["42", "42", "get_answer_async"]


def test_a_twin_reached_through_a_star_import_is_in_its_module_all(cli, project, tmp_path):
    # `crud.get_answer_async(db)` finds the twin only when `from .items import *` brings it:
    # before, the twin was left out of `__all__` and the migrated route raised AttributeError.
    files = {
        **CRUD_FILES,
        "svc/crud/__init__.py": "from .items import *  # noqa: F403\n",
        "svc/crud/items.py": CRUD_FILES["svc/crud/items.py"].replace(
            "from sqlalchemy import text", '__all__ = ("get_answer",)\n\n        from sqlalchemy import text'
        ),
        "svc/legacy.py": CRUD_FILES["svc/legacy.py"].replace("from .crud import get_answer", "from .crud.items import get_answer"),
    }
    root = project(files)
    result = cli("phase2", root, "--subsystem", "svc/api.py", "--apply")
    assert result.exit_code == 0, result.output
    assert '__all__ = ("get_answer", "get_answer_async")' in (root / "svc/crud/items.py").read_text()
    run = run_python("from fastapi.testclient import TestClient\nfrom svc.main import app\n"
         "c = TestClient(app)\nprint(c.get('/answer').json(), c.get('/legacy').json())", cwd=root, env={**__import__("os").environ, "SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}"}, timeout=120, warnings=("error::RuntimeWarning",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["42", "42"]


def test_an_unannotated_session_default_gains_its_annotation_spaced_as_pep8_says(cli, project, tmp_path):
    files = {
        **FILES,
        "svc/api.py": """
            from fastapi import APIRouter, Depends
            from sqlalchemy import text

            from .db import get_db

            router = APIRouter()


            @router.get("/answer")
            def answer(db=Depends(get_db)) -> int:
                return db.scalar(text("select 41 + 1"))
            """,
    }
    root = project(files)
    result = cli("phase2", root, "--subsystem", "svc/api.py", "--apply")
    assert result.exit_code == 0, result.output
    assert "async def answer(db: AsyncSession = Depends(get_async_db_session)) -> int:" in (root / "svc/api.py").read_text()
    run = run_python("from fastapi.testclient import TestClient\nfrom svc.main import app\nprint(TestClient(app).get('/answer').json())", cwd=root, env={**__import__("os").environ, "SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}"}, timeout=120, warnings=("error::RuntimeWarning",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "42"


def test_a_new_import_of_the_project_in_a_module_importing_it_relatively_is_relative(cli, project, tmp_path):
    # `get_db` reaches the route through `.deps`; its async counterpart lives in `svc/db.py`,
    # which the route's module did not import: `from .db import ...`, as the module writes them.
    root = project({**FILES, "svc/api.py": """
        from fastapi import APIRouter, Depends
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        from .deps import get_db

        router = APIRouter()


        @router.get("/answer")
        def answer(db: Session = Depends(get_db)) -> int:
            return db.scalar(text("select 41 + 1"))
        """})
    result = cli("phase2", root, "--subsystem", "svc/api.py", "--apply")
    assert result.exit_code == 0, result.output
    api = (root / "svc/api.py").read_text()
    assert "\n\nfrom .db import get_async_db_session\n\nrouter" in api, api
    assert "svc.db" not in api
    run = run_python("from fastapi.testclient import TestClient\nfrom svc.main import app\n"
         "print(TestClient(app).get('/answer').json())", cwd=root, env={**__import__("os").environ, "SVC_DATABASE_URL": f"sqlite:///{tmp_path / 'svc.db'}"}, timeout=120, warnings=("error::RuntimeWarning",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "42"
    # near miss: phase two run again changes nothing (the relative import is read as the module it names)
    assert cli("phase2", root, "--subsystem", "svc/api.py").output.count("+++") == 0
