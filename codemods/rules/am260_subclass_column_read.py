"""AM260 subclass-column-read: an attribute only a mapped subclass declares is read on an object of a query of its base: the route is not migrated

With joined-table or single-table inheritance, `select(Employee)` (or
`session.query(Employee)`) returns `Manager` rows but loads only the columns `Employee`
maps; a column (or relationship) that only `Manager` declares loads on its first read:
implicit IO, which raises MissingGreenlet under AsyncSession. A query of the route's closure
that loads the subclass (`selectin_polymorphic(Employee, [Manager])`, `with_polymorphic(...)`)
makes a column read safe; otherwise the route is blocked, naming the subclass and the attribute
(the tool does not add polymorphic loading). The polymorphic load brings the subclass's
columns, not its relationships: a relationship only `Manager` declares (`e.reports`) gets
`selectinload(Manager.reports)` beside it, which SQLAlchemy applies to the `Manager` rows.

Before:

    class Manager(Employee):
        __tablename__ = "managers"
        budget = Column(Integer)

    for e in session.query(Employee).all():
        if e.type == "manager":
            out[e.name] = e.budget

After:

    query = select(Employee).options(selectin_polymorphic(Employee, [Manager]))
    for e in (await session.scalars(query)).all():
        if e.type == "manager":
            out[e.name] = e.budget
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM260",
    name="subclass-column-read",
    summary=(
        "an attribute only a mapped subclass declares is read on an object of a query of its base: "
        "it loads on its first read, MissingGreenlet under AsyncSession"
    ),
    fix=(
        "load the subclass columns with the query: `.options(selectin_polymorphic(Base, [Sub]))`, "
        "`select(with_polymorphic(Base, [Sub]))`, or `\"polymorphic_load\": \"inline\"` in the "
        "subclass's `__mapper_args__`; then migrate the route by hand"
    ),
    doc=__doc__,
)
