"""A method called on what an attribute of `self` holds is no method of `self`.

`self.db.add(item)` in `ItemRepo.add`, on an attribute stored from an unannotated constructor
parameter whose value the analysis does not have (the AsyncSession, in the analysis of phase
two's rewrite), was resolved by name to any project method `add`, `ItemRepo.add` itself among
them: the self-check then refused the rewrite for calling the coroutine `ItemRepo.add` without
`await`.
"""

from __future__ import annotations

from test_phase2_rules import dedent


def test_a_method_of_an_attribute_of_self_is_no_method_of_self() -> None:
    # `self.db.add(item)` on what an unannotated, unread constructor parameter holds may be any
    # project method named `add` (a generic router's model), but never the class's own.
    from async_migrate.codemods.astcollect import collect
    from async_migrate.codemods.project import Project

    project = Project([collect("repo.py", dedent("""
        class ItemRepo:
            def __init__(self, db):
                self.db = db

            def add(self, item):
                self.db.add(item)


        class Basket:
            def add(self, item):
                return item
    """))])
    fid = next(f for f, (_, function) in project.functions.items() if function.qualname == "ItemRepo.add")
    call = next(c for c in project.functions[fid][1].calls if (c.func or "").endswith(".add"))
    targets, _ = project.flow.targets(fid, call)
    assert [project.functions[t][1].qualname for t in targets] == ["Basket.add"]
