"""Dependency aliases written as `X: TypeAlias = Annotated[...]` and as Python 3.12's
`type X = Annotated[...]` (the FastAPI docs' modern forms), migrated and RUN: the twin
alias keeps the form of the alias it copies, a module holding a `type` statement is
rewritten on an older running Python too, and the request keeps one Session."""

from __future__ import annotations

import sys

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the same small application on the sync stack

USERS = """
from typing import Annotated, TypeAlias

from fastapi import Depends, HTTPException

from core.dependencies import session_dependency
from models import User


def get_current_user(db: session_dependency) -> User:
    user = db.get(User, 1)
    if user is None:
        raise HTTPException(401)
    return user


CurrentUser: TypeAlias = Annotated[User, Depends(get_current_user)]
"""

RENAME = """
@router.put("/me")
async def rename_me(name: str, db: session_dependency, user: {alias}):
    user.name = name
    db.commit()
    return {{"id": user.id}}
"""

CHECK = """
response = client.put("/me", params={"name": "Zoe"})
with Sync() as s:
    name = s.get(User, 1).name
print(json.dumps([response.status_code, name]))
"""


def test_an_annotated_type_alias_gets_an_annotated_twin_and_the_route_writes(cli, service):
    root = service({
        "core/users.py": USERS,
        SUBSYSTEM: routes("from core.users import CurrentUser", RENAME.format(alias="CurrentUser")),
    })
    found = handler(apply(cli, root), "rename_me")
    assert found["action"] == "migrate", found
    assert "CurrentUser_async: TypeAlias = Annotated[User, Depends(get_current_user_async)]" in read(root, "core/users.py")
    assert "user: CurrentUser_async" in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", CHECK) == [200, "Zoe"]


def test_a_type_statement_alias_is_rewritten_with_a_type_statement_twin(cli, service):
    # The module holding `type CurrentUser = ...` is read and rewritten whichever Python runs the
    # tool; the migrated service runs where the statement does (3.12 and later).
    root = service({
        "core/users.py": USERS.replace("CurrentUser: TypeAlias =", "type CurrentUser ="),
        SUBSYSTEM: routes(
            "from core.users import get_current_user\n\n"
            "type Me = Annotated[User, Depends(get_current_user)]",
            RENAME.format(alias="Me"),
        ).replace("from fastapi import APIRouter, Depends", "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends"),
    })
    document = run(cli, root, "--apply", "--allow-dirty")  # `apply` parses the output with this Python's ast
    found = handler(document, "rename_me")
    assert found["action"] == "migrate", found
    text = read(root, SUBSYSTEM)
    assert "type Me_async = Annotated[User, Depends(get_current_user_async)]" in text
    assert "user: Me_async" in text
    if sys.version_info < (3, 12):
        pytest.skip("the migrated service holds `type` statements, which this Python cannot run")
    assert serve(root, "sqlite", CHECK) == [200, "Zoe"]
