"""The kinds the analysis switches on are enums (`TargetKind`, `facts.ValueKind`, `RiskKind`,
the object terms' `Term`), each a `str` so that the plain strings the pickled facts keep
compare equal: every kind the collectors and the index spell is a member's value."""

from __future__ import annotations

from conftest import BOOKSHOP

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.astcollect.objects import Term
from async_migrate.codemods.phase2.lazy_loads import RiskKind, lazy_load_risks
from async_migrate.codemods.project import Project, TargetKind


def _bookshop() -> Project:
    return Project([
        collect(path.relative_to(BOOKSHOP).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(BOOKSHOP.rglob("*.py"))
    ])


def _terms(term: tuple) -> list[tuple]:
    """`term` and the terms it is made of, as the vocabulary in `astcollect/objects.py` nests them."""
    tag = term[0]
    if tag in ("attr", "iter", "item", "key"):
        return [term, *_terms(term[1])]
    if tag in ("tuple", "any"):
        return [term, *(t for inner in term[1] for t in _terms(inner))]
    if tag == "dict":
        return [term, *(t for _, inner in term[1] for t in _terms(inner))]
    return [term]


def test_every_kind_the_bookshop_yields_is_a_member():
    project = _bookshop()
    values = [value for module in project.modules.values() for value in module.values.values()]
    assert values and {value.kind for value in values} <= {kind.value for kind in facts.ValueKind}
    terms = [
        t
        for _, function in project.functions.values()
        for held in [*function.holds.values(), function.results, tuple(term for _, term in function.returned_terms)]
        for term in held
        for t in _terms(term)
    ]
    assert {t[0] for t in terms} >= {"load", "name"}
    assert {t[0] for t in terms} <= {tag.value for tag in Term}
    risks = lazy_load_risks(project, [handler.id for handler in project.handlers])
    assert risks and all(isinstance(risk.kind, RiskKind) for risk in risks)


def test_a_resolved_reference_names_its_kind_by_member():
    project = _bookshop()
    module = next(m for m in project.modules.values() if m.values)
    name = next(iter(module.values))
    target = project.resolve(f"{module.name}.{name}")
    assert target is not None and target.kind is TargetKind.VALUE
    assert target.kind == "value" and f"{target.kind}" == "value"
    assert project.resolve("sqlalchemy.orm.Session").kind is TargetKind.EXTERNAL
