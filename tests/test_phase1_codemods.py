"""Before/after tests of the phase-one codemods, run directly on source text.

`MakeHandlersSync(context, keys)` drops `async` from the definitions named by key;
`OffloadBlockingCalls(context, calls, threadpool_name)` wraps the numbered calls of
the named definitions in `await run_in_threadpool(...)`. Every expected output is
also checked to be valid Python for libcst.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodTest

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.phase1.make_sync import MakeHandlersSync
from async_migrate.codemods.phase1.offload import OffloadBlockingCalls
from async_migrate.codemods.phase1.sync_annotations import SyncReturnAnnotations


class _Checked(CodemodTest):
    def check(self, before: str, after: str, *args: object) -> None:
        cst.parse_module(self.make_fixture_data(after))  # the expectation itself is valid code
        self.assertCodemod(before, after, *args)


class TestSyncReturnAnnotations(_Checked):
    TRANSFORM = SyncReturnAnnotations

    def test_async_iterator_becomes_iterator_and_its_import_follows(self) -> None:
        self.check(
            """
            from collections.abc import AsyncIterator


            async def get_db() -> AsyncIterator[Session]:
                yield session
            """,
            """
            from collections.abc import Iterator


            async def get_db() -> Iterator[Session]:
                yield session
            """,
            {"get_db": "collections.abc"},
        )

    def test_async_generator_gains_the_return_type_and_a_module_prefix_is_kept(self) -> None:
        self.check(
            """
            import typing
            from typing import AsyncGenerator


            async def get_db() -> typing.AsyncIterator[Session]:
                yield session


            async def other() -> AsyncGenerator[Session, None]:
                yield session


            async def keeps(s: AsyncGenerator[int, None]) -> AsyncGenerator[Session, None]:
                yield session
            """,
            """
            import typing
            from typing import AsyncGenerator, Generator


            async def get_db() -> typing.Iterator[Session]:
                yield session


            async def other() -> Generator[Session, None, None]:
                yield session


            async def keeps(s: AsyncGenerator[int, None]) -> AsyncGenerator[Session, None]:
                yield session
            """,
            {"get_db": "typing", "other": "typing"},
        )


class TestMakeHandlersSync(_Checked):
    TRANSFORM = MakeHandlersSync

    def test_drops_async_from_the_chosen_function(self) -> None:
        self.check(
            """
            async def list_books(session):
                return session.execute("select 1").all()
            """,
            """
            def list_books(session):
                return session.execute("select 1").all()
            """,
            {"list_books"},
        )

    def test_leaves_functions_that_are_not_chosen(self) -> None:
        self.check(
            """
            async def chosen(session):
                return session.get(1)


            async def other(session):
                return session.get(2)
            """,
            """
            def chosen(session):
                return session.get(1)


            async def other(session):
                return session.get(2)
            """,
            {"chosen"},
        )

    def test_keeps_decorators_comments_and_docstring(self) -> None:
        self.check(
            '''
            # Books.
            @router.get("/books")  # the list
            @audited
            async def list_books(  # async-migrate: reviewed
                session: session_dependency,  # injected
            ) -> list[Book]:
                """All books, newest first."""
                # one query
                return get_db_books(session)  # helper
            ''',
            '''
            # Books.
            @router.get("/books")  # the list
            @audited
            def list_books(  # async-migrate: reviewed
                session: session_dependency,  # injected
            ) -> list[Book]:
                """All books, newest first."""
                # one query
                return get_db_books(session)  # helper
            ''',
            {"list_books"},
        )

    def test_converts_a_class_method_by_its_qualified_key(self) -> None:
        self.check(
            """
            class BookViews:
                async def list_books(self, session):
                    return session.scalars("q").all()

                async def other(self):
                    return 1


            async def list_books(session):
                return 2
            """,
            """
            class BookViews:
                def list_books(self, session):
                    return session.scalars("q").all()

                async def other(self):
                    return 1


            async def list_books(session):
                return 2
            """,
            {"BookViews.list_books"},
        )

    def test_converts_a_method_of_a_nested_class(self) -> None:
        self.check(
            """
            class Outer:
                class Inner:
                    async def read(self, session):
                        return session.get(1)
            """,
            """
            class Outer:
                class Inner:
                    def read(self, session):
                        return session.get(1)
            """,
            {"Outer.Inner.read"},
        )

    def test_second_definition_of_a_name_is_keyed_with_hash_2(self) -> None:
        self.check(
            """
            async def read(session):
                await notify()
                return session.get(1)


            async def read(session):
                return session.get(2)
            """,
            """
            async def read(session):
                await notify()
                return session.get(1)


            def read(session):
                return session.get(2)
            """,
            {"read#2"},
        )

    def test_first_definition_of_a_redefined_name_is_the_plain_key(self) -> None:
        self.check(
            """
            async def read(session):
                return session.get(1)


            async def read(session):
                await notify()
            """,
            """
            def read(session):
                return session.get(1)


            async def read(session):
                await notify()
            """,
            {"read"},
        )

    def test_converts_a_function_inside_if_type_checking(self) -> None:
        self.check(
            """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                async def read(session):
                    return session.get(1)
            else:
                async def read(session):
                    return session.get(2)
            """,
            """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                def read(session):
                    return session.get(1)
            else:
                async def read(session):
                    return session.get(2)
            """,
            {"read"},
        )

    def test_converts_the_else_branch_definition_as_hash_2(self) -> None:
        self.check(
            """
            if TYPE_CHECKING:
                async def read(session):
                    return session.get(1)
            else:
                async def read(session):
                    return session.get(2)
            """,
            """
            if TYPE_CHECKING:
                async def read(session):
                    return session.get(1)
            else:
                def read(session):
                    return session.get(2)
            """,
            {"read#2"},
        )

    def test_converts_a_function_inside_a_try_block(self) -> None:
        self.check(
            """
            try:
                import orjson
            except ImportError:
                orjson = None
            else:
                async def dump(session):
                    return orjson.dumps(session.get(1))
            """,
            """
            try:
                import orjson
            except ImportError:
                orjson = None
            else:
                def dump(session):
                    return orjson.dumps(session.get(1))
            """,
            {"dump"},
        )

    def test_does_not_touch_nested_functions_of_the_converted_one(self) -> None:
        self.check(
            """
            async def outer(session):
                async def inner():
                    await notify()

                return session.get(1)
            """,
            """
            def outer(session):
                async def inner():
                    await notify()

                return session.get(1)
            """,
            {"outer"},
        )

    def test_a_nested_function_with_a_chosen_name_is_not_a_definition(self) -> None:
        self.check(
            """
            async def outer():
                async def read():
                    return 1

                return await read()
            """,
            """
            async def outer():
                async def read():
                    return 1

                return await read()
            """,
            {"read"},
        )

    def test_already_def_is_left_as_is(self) -> None:
        self.check(
            """
            def read(session):
                return session.get(1)
            """,
            """
            def read(session):
                return session.get(1)
            """,
            {"read"},
        )


# Numbering of calls in `place`: 0 request.json(), 1 place_order(...), 2 session.commit()
MIXED = """
from fastapi import Request


async def place(request: Request, session):
    payload = await request.json()
    order = place_order(session, payload)
    session.commit()
    return order
"""


class TestOffloadBlockingCalls(_Checked):
    TRANSFORM = OffloadBlockingCalls

    def test_wraps_the_chosen_call_and_adds_the_import(self) -> None:
        self.check(
            MIXED,
            """
            from fastapi import Request
            from fastapi.concurrency import run_in_threadpool


            async def place(request: Request, session):
                payload = await request.json()
                order = await run_in_threadpool(place_order, session, payload)
                session.commit()
                return order
            """,
            {"place": [1]},
            None,
        )

    def test_uses_an_existing_local_name_and_adds_no_import(self) -> None:
        self.check(
            """
            from starlette.concurrency import run_in_threadpool as in_thread


            async def place(request, session):
                payload = await request.json()
                order = helpers.place_order(session, payload, note="x")
                return order
            """,
            """
            from starlette.concurrency import run_in_threadpool as in_thread


            async def place(request, session):
                payload = await request.json()
                order = await in_thread(helpers.place_order, session, payload, note="x")
                return order
            """,
            {"place": [1]},
            "in_thread",
        )

    def test_wraps_a_call_without_arguments(self) -> None:
        self.check(
            """
            async def refresh():
                await warm_up()
                rebuild_index()
            """,
            """
            from fastapi.concurrency import run_in_threadpool

            async def refresh():
                await warm_up()
                await run_in_threadpool(rebuild_index)
            """,
            {"refresh": [1]},
            None,
        )

    def test_wraps_a_returned_call_and_keeps_comments(self) -> None:
        self.check(
            '''
            async def place(request, session):
                """Place an order."""
                payload = await request.json()  # the body
                # the blocking part
                return place_order(session, payload)  # helper
            ''',
            '''
            from fastapi.concurrency import run_in_threadpool

            async def place(request, session):
                """Place an order."""
                payload = await request.json()  # the body
                # the blocking part
                return await run_in_threadpool(place_order, session, payload)  # helper
            ''',
            {"place": [1]},
            None,
        )

    def test_does_not_wrap_calls_that_are_not_chosen(self) -> None:
        self.check(
            MIXED,
            MIXED,
            {"place": []},
            None,
        )

    def test_wraps_in_a_class_method_by_its_qualified_key(self) -> None:
        self.check(
            """
            from fastapi.concurrency import run_in_threadpool


            class Orders:
                async def place(self, request, session):
                    payload = await request.json()
                    return place_order(session, payload)


            async def place(request, session):
                payload = await request.json()
                return place_order(session, payload)
            """,
            """
            from fastapi.concurrency import run_in_threadpool


            class Orders:
                async def place(self, request, session):
                    payload = await request.json()
                    return await run_in_threadpool(place_order, session, payload)


            async def place(request, session):
                payload = await request.json()
                return place_order(session, payload)
            """,
            {"Orders.place": [1]},
            "run_in_threadpool",
        )

    def test_wraps_in_the_redefinition_keyed_hash_2(self) -> None:
        self.check(
            """
            from fastapi.concurrency import run_in_threadpool


            async def place(request, session):
                payload = await request.json()
                return place_order(session, payload)


            async def place(request, session):
                payload = await request.json()
                return place_order(session, payload)
            """,
            """
            from fastapi.concurrency import run_in_threadpool


            async def place(request, session):
                payload = await request.json()
                return place_order(session, payload)


            async def place(request, session):
                payload = await request.json()
                return await run_in_threadpool(place_order, session, payload)
            """,
            {"place#2": [1]},
            "run_in_threadpool",
        )

    def test_wraps_in_a_function_inside_if_type_checking(self) -> None:
        self.check(
            """
            from fastapi.concurrency import run_in_threadpool

            if not TYPE_CHECKING:
                async def place(request, session):
                    payload = await request.json()
                    return place_order(session, payload)
            """,
            """
            from fastapi.concurrency import run_in_threadpool

            if not TYPE_CHECKING:
                async def place(request, session):
                    payload = await request.json()
                    return await run_in_threadpool(place_order, session, payload)
            """,
            {"place": [1]},
            "run_in_threadpool",
        )

    def test_the_index_the_collector_gives_a_call_is_the_call_wrapped(self) -> None:
        before = '''
            async def place(request, session):
                log(f"{request.url} {describe(request)}")
                helper = lambda: compute(session)
                payload = await request.json()
                order = place_order(session, payload)
                return order
            '''
        (function,) = collect("api/orders.py", self.make_fixture_data(before)).functions
        (index,) = [c.index for c in function.calls if c.callee == "place_order"]
        self.check(
            before,
            '''
            from fastapi.concurrency import run_in_threadpool

            async def place(request, session):
                log(f"{request.url} {describe(request)}")
                helper = lambda: compute(session)
                payload = await request.json()
                order = await run_in_threadpool(place_order, session, payload)
                return order
            ''',
            {"place": [index]},
            None,
        )


# Each source with the definitions to convert, and whether the text path takes it (True) or
# hands it to libcst (False: a continuation line, carriage returns, a name `ast` normalizes,
# which libcst's walk does not find by the collected key either).
_ON_TEXT = [
    ("async def a(db):\n    return 1\n", {"a"}, True),
    ("async\tdef a(db):\n    return 1\n\nasync   def b(db):  # note\n    return 2\n", {"a", "b"}, True),
    ("class K:\n    async def m(self): return 1\n    async def m(self): return 2\n", {"K.m#2"}, True),
    ("def make():\n    @r.get('/')\n    async def inner(): return 1\n    return inner\n",
     {"make.<locals>.inner"}, True),
    ("if X:\n    async def d(): pass\nelse:\n    async def d(): pass\n", {"d#2"}, True),
    ("async \\\n    def c(db):\n    return 3\n", {"c"}, False),
    ("async def a():\r\n    return 1\r\n", {"a"}, False),
    ("async def \ufb01x(): pass\n", {"fix"}, False),
]


def test_dropping_async_on_the_text_prints_what_libcst_prints() -> None:
    """Phase one drops `async` on the text when it can (no tree, no libcst): the same bytes as
    MakeHandlersSync's, or no answer at all."""
    from async_migrate.codemods.phase1.rewrite import Plan

    for source, keys, taken in _ON_TEXT:
        plan = Plan(convert=frozenset(keys))
        on_text = plan.rewrite_text(source, collect("m.py", source))
        assert (on_text is not None) is taken, source
        if on_text is not None:
            with_tree = MakeHandlersSync(None, keys).transform_module(cst.parse_module(source)).code
            assert on_text == with_tree != source, source
    offloading = Plan(convert=frozenset({"a"}), offload={"a": [0]})
    assert offloading.rewrite_text("async def a(db):\n    db.get(1)\n", collect("m.py", "x = 1\n")) is None
