"""How phase two's reasons name the commit an object is read after: a method committing through
what its instance holds (`self.uow.commit()`) was shown in the analysis's own notation,
`$self.uow.commit(...)`, in a blocker a reviewer reads (found by a new-user trial)."""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.expired_reads import point_of


def test_a_commit_through_an_attribute_chain_is_named_as_the_source_spells_it():
    call = facts.Call(48, None, 3, func="$self.uow.commit")
    assert point_of(call, "db") == "`self.uow.commit(...)`, which commits,"


def test_a_commit_of_the_session_itself_and_a_project_function():
    assert point_of(facts.Call(3, None, 0, receiver="db", method="commit"), "db") == "`db.commit()`"
    assert point_of(facts.Call(3, "app.crud.save", 0), "db") == "`app.crud.save(...)`, which commits,"
