"""AM260 subclass-column-read: a column only a mapped subclass declares, read on an object of
a query of its base, blocks the route."""

from __future__ import annotations

from test_phase2_rules import MODELS

STAFF = MODELS + '''

class Employee(Base):
    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Manager(Employee):
    __tablename__ = "managers"
    id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    budget: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "manager"}
'''

ROUTER = """
from sqlalchemy import select

from models import Employee, Manager


@router.get("/budgets")
def budgets(session: session_dependency):
    return {{e.name: e.{attribute} for e in session.scalars(select({model})).all()}}
"""


def test_a_subclass_column_read_on_a_base_query_blocks_the_route(phase2, entry):
    document = phase2(ROUTER.format(attribute="budget", model="Employee"), {"models.py": STAFF})
    found = entry(document, "budgets")
    assert found["action"] == "blocked" and found["codes"] == ["AM260"], found
    assert "`e.budget` reads Manager.budget, declared only by subclass Manager" in found["reasons"][0]
    assert "selectin_polymorphic(Employee, [Manager])" in found["reasons"][0]


def test_near_miss_a_base_column_or_a_subclass_query_migrates(phase2, entry):
    for attribute, model in (("name", "Employee"), ("budget", "Manager")):
        document = phase2(ROUTER.format(attribute=attribute, model=model), {"models.py": STAFF})
        found = entry(document, "budgets")
        assert found["action"] == "migrate" and "AM260" not in found["codes"], (attribute, model, found)


POLYMORPHIC = """
from sqlalchemy import select
from sqlalchemy.orm import selectin_polymorphic, with_polymorphic

from models import Employee, Manager


@router.get("/budgets")
def budgets(session: session_dependency):
    return {{e.name: e.budget for e in session.scalars({query}).all()}}
"""


def test_near_miss_the_query_loads_the_subclass_columns(phase2, entry):
    for query in (
        "select(Employee).options(selectin_polymorphic(Employee, [Manager]))",
        "select(with_polymorphic(Employee, '*'))",
    ):
        document = phase2(POLYMORPHIC.format(query=query), {"models.py": STAFF})
        found = entry(document, "budgets")
        assert "AM260" not in found["codes"], (query, found)


def test_near_miss_the_subclass_loads_with_its_base_by_its_mapper_args(phase2, entry):
    # The fix AM260 names: after it, the route must migrate.
    for load in ("inline", "selectin"):
        models = STAFF.replace(
            '{"polymorphic_identity": "manager"}', f'{{"polymorphic_identity": "manager", "polymorphic_load": "{load}"}}'
        )
        found = entry(phase2(ROUTER.format(attribute="budget", model="Employee"), {"models.py": models}), "budgets")
        assert found["action"] == "migrate" and "AM260" not in found["codes"], (load, found)
