"""AM253 held-session-blocked: a class holding the Session that cannot move safely blocks the
routes using it, naming the line."""

from __future__ import annotations

REPO = """
from fastapi import Depends


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self):
        return list(self.session.scalars(select(Book.title)))
{extra}

def get_repo(session: session_dependency) -> Repo:
    return Repo(session)


@router.get("/titles")
def read_titles(repo: Repo = Depends(get_repo)):
    return repo.titles()
"""


def test_a_reassigned_session_attribute_blocks_with_am253(phase2, entry):
    document = phase2(REPO.format(extra="""
    def switch(self, other: Session) -> None:
        self.session = other
"""))
    found = entry(document, "read_titles")
    assert found["action"] == "blocked"
    assert "AM253" in found["codes"]
    # a method the route does not call: the reason says first that it blocks the class
    assert any(r.startswith("api/items.py:21: the route uses Repo, whose method switch blocks the class (")
               and "Repo holds the Session on its instances and cannot move: Repo.switch assigns the Session "
               "attribute `self.session` (`other`)" in r for r in found["reasons"]), found["reasons"]


def test_a_module_level_instance_blocks_with_am253(phase2, entry):
    document = phase2(REPO.format(extra="") + """

shared = Repo(None)
""")
    found = entry(document, "read_titles")
    assert found["action"] == "blocked"
    assert any("an instance of Repo is kept at module level (`shared`)" in r for r in found["reasons"]), found["reasons"]


def test_near_miss_a_method_that_only_reads_the_session_moves(phase2, entry):
    document = phase2(REPO.format(extra="""
    def count(self) -> int:
        return self.session.scalar(select(func.count(Book.id)))
"""))
    found = entry(document, "read_titles")
    assert found["action"] == "migrate"
    assert "AM253" not in found["codes"]


def test_a_dataclass_holding_the_session_blocks_naming_the_generated_init(phase2, entry):
    """`field(...)` may change the parameter (`init=False`, `kw_only=True`): not read, so the
    `__init__` the decorator writes is not known (a plain field is: test_phase2_instance_stack)."""
    source = REPO.format(extra="").replace(
        "class Repo:\n    def __init__(self, session: Session) -> None:\n        self.session = session\n",
        "@dataclass\nclass Repo:\n    session: Session = field(repr=False)\n",
    ).replace("from fastapi import Depends\n", "from dataclasses import dataclass, field\n\nfrom fastapi import Depends\n")
    found = entry(phase2(source), "read_titles")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert any("`session` is a dataclass field holding the Session: the `__init__` the decorator generates" in r
               for r in found["reasons"]), found["reasons"]
    # the project class is the project's to change: no advice to map it to a library's async form
    assert not any("call-mappings" in r for r in found["reasons"]), found["reasons"]
    assert any("`api.items.Repo()`, the project class Repo, which phase two cannot move" in r
               for r in found["reasons"]), found["reasons"]


def test_an_injected_dataclass_is_told_to_keep_its_depends_default_in_the_hand_written_init(phase2, entry):
    # FastAPI builds `Depends(Titles)` from the fields: an `__init__` without the default would
    # leave FastAPI nothing to fill `db` with.
    source = """
from dataclasses import dataclass

from fastapi import Depends

from db.engine import get_db_session


@dataclass
class Titles:
    db: Session = Depends(get_db_session)

    def titles(self):
        return list(self.db.scalars(select(Book.title)))


@router.get("/titles")
async def read_titles(repo: Titles = Depends()):
    return repo.titles()
"""
    found = entry(phase2(source), "read_titles")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert any("(`def __init__(self, db: Session = Depends(get_db_session)) -> None: self.db = db`)" in r
               for r in found["reasons"]), found["reasons"]
