"""AM265 route-called-directly: a test calling the route function with a fake of its own for an
injected parameter blocks the route in phase two (migrated, the route would await the fake); the
same route only reached through the application migrates. Run in tests/test_phase2_direct_calls.py."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends


class TitleService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self) -> list[str]:
        return list(self.session.scalars(select(Book.title)))


def get_service(session: session_dependency) -> TitleService:
    return TitleService(session)


@router.get("/titles")
async def read_titles(svc: TitleService = Depends(get_service)):
    return svc.titles()
"""
UNIT_TEST = """
import asyncio

from api.items import read_titles


class FakeService:
    def titles(self):
        return ["fake"]


def test_read_titles_unit():
    assert asyncio.run(read_titles(svc=FakeService())) == ["fake"]
"""


def test_a_test_handing_the_route_a_fake_service_blocks_it_naming_the_call(phase2, entry):
    found = entry(phase2(ROUTES, {"tests/test_unit.py": UNIT_TEST}), "read_titles")
    assert found["action"] == "blocked" and found["codes"] == ["AM265"], found
    assert found["reasons"][0].startswith(
        "tests/test_unit.py:12: tests.test_unit.test_read_titles_unit calls the route function read_titles "
        "itself, handing `svc` (filled by `Depends(get_service)`) an object of its own"
    ), found["reasons"]


def test_near_miss_a_test_calling_the_route_without_its_injected_parameter_migrates(phase2, entry):
    # Only what FastAPI injects changes with the migration; a call handing nothing for it does
    # not rely on it (here a test only naming the route, as the application does).
    unit = "from api.items import read_titles\n\n\ndef test_is_a_route():\n    assert callable(read_titles)\n"
    found = entry(phase2(ROUTES, {"tests/test_unit.py": unit}), "read_titles")
    assert found["action"] == "migrate" and "AM265" not in found["codes"], found
