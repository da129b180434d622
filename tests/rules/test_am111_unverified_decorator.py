"""AM111 unverified-decorator: a decorator from outside the project keeps the handler, unless it is
listed under safe-decorators."""

from __future__ import annotations

ROUTE = """
from fastapi import Request
from slowapi import limiter


@router.get("")
@limiter.limit("5/minute")
async def read_items(request: Request, session: session_dependency):
    return session.execute("select 1").all()
"""


def test_a_third_party_decorator_keeps_the_route_with_am111(app, reported):
    entry = reported(app(ROUTE), "read_items", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM111"
    assert entry["reasons"][0].startswith('decorator @limiter.limit("5/minute") is not defined in the project')


def test_near_miss_a_decorator_listed_as_safe_converts(app, reported):
    root = app(
        ROUTE,
        {"pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["slowapi.limiter.limit"]\n'},
    )
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]


def test_near_miss_a_staticmethod_endpoint_registered_by_call_converts(app, reported):
    root = app(
        """
        class Handlers:
            @staticmethod
            async def read_items(session: session_dependency):
                return session.execute("select 1").all()


        router.add_api_route("", Handlers.read_items, methods=["GET"])
        """
    )
    assert reported(root, "Handlers.read_items", "phase1")["codes"] == ["AM101"]


# As slowapi is used: a project-level `Limiter` instance whose method decorates. The fix names the
# exact string safe-decorators matches, which is neither the class's nor the written name.
PROJECT_LIMITER = """
from fastapi import Request

from core.limits import limiter


@router.get("")
@limiter.limit("5/minute")
async def read_items(request: Request, session: session_dependency):
    return session.execute("select 1").all()
"""
LIMITS = {"core/limits.py": "from slowapi import Limiter\nfrom slowapi.util import get_remote_address\n\n"
          "limiter = Limiter(key_func=get_remote_address)\n"}


def test_the_fix_names_what_to_list_and_listing_it_converts(app, reported, findings):
    (finding,) = findings(app(PROJECT_LIMITER, LIMITS), "read_items")
    assert 'list it as "core.limits.limiter.limit" under safe-decorators' in finding["message"], finding
    listed = {**LIMITS, "pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["core.limits.limiter.limit"]\n'}
    assert reported(app(PROJECT_LIMITER, listed), "read_items", "phase1")["codes"] == ["AM101"]
