"""Phase two's registry of call and parameter rewrites: every kind has exactly one unit that
edits it, and each unit's edit does what its kind says on a call written out here."""

from __future__ import annotations

import libcst as cst
import pytest

from async_migrate.codemods.phase2.plan import StackNames
from async_migrate.codemods.phase2.rewrites import (
    CALL_REWRITES,
    PARAM_REWRITES,
    CallAction,
    CallKind,
    ParamAction,
    ParamKind,
    call_rewrite,
    param_rewrite,
)


def test_every_call_kind_has_exactly_one_unit():
    owners = [kind for unit in CALL_REWRITES for kind in unit.kinds]
    assert sorted(owners, key=lambda k: k.value) == sorted(CallKind, key=lambda k: k.value)


def test_every_param_kind_has_exactly_one_unit():
    assert sorted((unit.kind for unit in PARAM_REWRITES), key=lambda k: k.value) == sorted(
        ParamKind, key=lambda k: k.value
    )


def _edit(action: CallAction, code: str, in_with: bool = False) -> str:
    call = cst.ensure_type(cst.parse_expression(code), cst.Call)
    imports: set[tuple[str, str]] = set()
    edited = call_rewrite(action.kind).edit(action, call, in_with=in_with, imports=imports)
    return cst.Module([]).code_for_node(edited)


@pytest.mark.parametrize(
    ("action", "code", "in_with", "expected"),
    [
        (CallAction(CallKind.AWAIT), "(db.execute(stmt))", False, "(await db.execute(stmt))"),
        (CallAction(CallKind.AWAIT, add_await=False), "db.execute(stmt)", False, "db.execute(stmt)"),
        (CallAction(CallKind.BEGIN), "db.begin()", False, "await db.begin()"),
        (CallAction(CallKind.BEGIN), "db.begin()", True, "db.begin()"),
        (CallAction(CallKind.HELPER, "save_async"), "repo.save(db, 1)", False, "await repo.save_async(db, 1)"),
        (CallAction(CallKind.HELPER), "save(db)", True, "await save(db)"),
        (CallAction(CallKind.UNWRAP, add_await=False), "run_in_threadpool(save, db, )", False, "save(db)"),
        (CallAction(CallKind.MAP, "apaginate"), "paginate(db, q)", False, "await apaginate(db, q)"),
        (CallAction(CallKind.OPEN, "AsyncLocal", add_await=False), "Local()", True, "AsyncLocal()"),
        (CallAction(CallKind.OPEN, "AsyncLocal", add_await=False), "Local()", False, "AsyncLocal()"),
        (CallAction(CallKind.OPEN, "AsyncLocal", add_await=False), "db.Local.begin()", True, "db.AsyncLocal.begin()"),
        (
            CallAction(CallKind.OPEN_ON_ENGINE, "AsyncSession", add_await=False, engine="async_engine"),
            "sqlmodel.Session(engine, expire_on_commit=False)", True,
            "AsyncSession(async_engine, expire_on_commit=False)",
        ),
        (
            CallAction(CallKind.OPEN_ON_ENGINE, "AsyncSession", add_await=False, engine="async_engine"),
            "Session(autoflush=False, bind=db.engine)", True, "AsyncSession(autoflush=False, bind=async_engine)",
        ),
    ],
)
def test_each_call_unit_edits_its_kind(action, code, in_with, expected):
    assert _edit(action, code, in_with) == expected


def test_only_a_sessions_context_methods_and_opens_make_a_with_async():
    # ENTER: `with session_scope() as s` on a `@contextmanager` opener phase two twins
    entered = {kind for kind in CallKind if call_rewrite(kind).async_with(CallAction(kind))}
    assert entered == {CallKind.BEGIN, CallKind.OPEN, CallKind.OPEN_ON_ENGINE, CallKind.ENTER}


def test_the_query_unit_rewrites_a_legacy_chain_with_its_imports():
    imports: set[tuple[str, str]] = set()
    call = cst.ensure_type(cst.parse_expression("db.query(Book).all()"), cst.Call)
    action = CallAction(CallKind.QUERY, "db", add_await=False)
    edited = call_rewrite(CallKind.QUERY).edit(action, call, in_with=False, imports=imports)
    assert cst.Module([]).code_for_node(edited) == "(await db.scalars(select(Book))).unique().all()"
    assert ("sqlalchemy", "select") in imports


STACK = StackNames("deps", "AsyncSessionDep", "db", "AsyncLocal", "deps", "get_async_db")


@pytest.mark.parametrize(
    ("action", "code", "expected"),
    [
        (ParamAction(ParamKind.DEPENDS), "db: Session = Depends(get_db)", "db: AsyncSession = Depends(get_async_db)"),
        (ParamAction(ParamKind.ALIAS), "db: SessionDep", "db: AsyncSessionDep"),
        (ParamAction(ParamKind.ALIAS), "db: deps.SessionDep", "db: deps.AsyncSessionDep"),
        (ParamAction(ParamKind.ANNOTATION, "Session"), "db: Session | None", "db: AsyncSession | None"),
        (ParamAction(ParamKind.ANNOTATION, "orm.Session"), 'db: "orm.Session"', 'db: "AsyncSession"'),
    ],
)
def test_each_param_unit_edits_its_kind(action, code, expected):
    function = cst.ensure_type(cst.parse_statement(f"def f({code}): pass"), cst.FunctionDef)
    param = function.params.params[0]
    edited = param_rewrite(action.kind).edit(action, param, STACK)
    assert cst.Module([]).code_for_node(edited) == expected
