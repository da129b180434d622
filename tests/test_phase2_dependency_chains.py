"""A route blocked by what one of its dependencies does (or a function that dependency calls)
names the way there, route -> dependency -> ... -> the function blocking, in its reason: the
file and line alone point into a module the route does not name. The same text is in the JSON
and the Markdown report; the route is left as it was, and still works.
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import DEPENDENCIES, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

AUTH = """
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from models import User


def load_user(db: Session) -> User:
    return db.query(User).filter(User.id == 1).yield_per(5).first()


def get_current_user(db: session_dependency) -> User:
    return load_user(db)


def require_user(user: User = Depends(get_current_user)) -> User:
    return user
"""
RENAME = """
@router.put("/me")
def rename_me(name: str, db: session_dependency, user: User = Depends(require_user)):
    user.name = name
    db.commit()
    return {"name": user.name}
"""
WAY = (
    "(the route reaches it through api.items.rename_me -> dependency core.auth.require_user -> "
    "dependency core.auth.get_current_user -> core.auth.load_user)"
)


def test_a_route_blocked_by_what_its_dependency_calls_names_the_way_there(cli, service, tmp_path):
    root = service({
        "core/dependencies.py": DEPENDENCIES,
        "core/auth.py": dedent(AUTH).replace("from sqlalchemy.orm", "from fastapi import Depends\nfrom sqlalchemy.orm"),
        SUBSYSTEM: routes(RENAME).replace(
            "from core.dependencies import session_dependency",
            "from core.auth import require_user\nfrom core.dependencies import session_dependency",
        ),
    })
    report = tmp_path / "report.md"
    document = apply(cli, root, "--report", str(report))
    found = handler(document, "rename_me")
    assert found["action"] == "blocked", found
    assert found["reasons"] and all(reason.startswith("core/auth.py:9: ") for reason in found["reasons"]), found
    assert all(reason.endswith(WAY) for reason in found["reasons"]), found
    assert WAY in report.read_text(encoding="utf-8")
    assert document["files_changed"] == []
    result = serve(root, "sqlite", """
        status = client.put("/me", params={"name": "Zoe"}).status_code
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"status": status, "name": name}))
    """)
    assert result == {"status": 200, "name": "Zoe"}


def test_near_miss_a_blocker_in_the_routes_own_helper_names_no_way(cli, service):
    root = service({
        "core/dependencies.py": DEPENDENCIES,
        SUBSYSTEM: routes(
            """
            def load_user(db: Session) -> User:
                return db.query(User).filter(User.id == 1).yield_per(5).first()
            """,
            """
            @router.put("/me")
            def rename_me(name: str, db: session_dependency):
                load_user(db).name = name
                db.commit()
            """,
        ),
    })
    found = handler(apply(cli, root), "rename_me")
    assert found["action"] == "blocked", found
    assert not any("reaches it through" in reason for reason in found["reasons"]), found
