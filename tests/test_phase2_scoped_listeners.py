"""Attribute and collection listeners a function registers when an application factory, a
lifespan or an import runs it (`def register_listeners(): event.listen(Book.title, "set",
sign)`, a nested `@event.listens_for(Author.books, "append")` def in `setup_events()`): a write
of the attribute runs them as it runs a module-level one, so the relationships they read get
the same eager load, and the migrated route, served on the async stack, writes what the
synchronous one wrote (without it: MissingGreenlet, the write lost).
"""

from __future__ import annotations

import pytest
from test_phase2_model_code import (  # noqa: F401  (models_app: a fixture)
    COLLECTION_ROUTES,
    LISTENED_ROUTES,
    SUBSYSTEM,
    models_app,
    serve,
)
from test_phase2_rules import apply, function, handler

# The registering function is called by the served application, as `create_app()` would.
INSTALLED = """
        import hooks
        hooks.install()
"""

HOOKS_LISTEN = '''
from sqlalchemy import event


def sign(target, value, oldvalue, initiator):
    if target.author is not None:
        target.author.name = target.author.name.upper()
    return value


def install():
    from models import Book

    event.listen(Book.title, "set", sign, retval=True)
'''

HOOKS_NESTED = '''
from sqlalchemy import event

from models import Author, Book


def install():
    @event.listens_for(Author.books, "append")
    def stamp(target, value, initiator):
        value.title = f"{value.title} / {target.publisher.name if target.publisher else '-'}"

    def sign(target, value, oldvalue, initiator):
        if target.author is not None:
            target.author.name = target.author.name.upper()

    event.listen(Book.title, "set", sign)
'''


def test_a_set_listener_a_function_registers_gets_the_eager_load(cli, models_app):  # noqa: F811
    root = models_app(*LISTENED_ROUTES, extra={"hooks.py": HOOKS_LISTEN})
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "migrate" and any("through hooks.sign" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    # near miss: nothing listens on Author.name
    assert "selectinload" not in function(root, SUBSYSTEM, "rename")
    result = serve(root, INSTALLED + """        client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"title": s.get(Book, 1).title, "author": s.get(Author, 1).name}))
    """)
    assert result == {"title": "Gamma", "author": "ANN"}


def test_nested_listeners_a_function_defines_and_registers_get_the_eager_loads(cli, models_app):  # noqa: F811
    root = models_app(*LISTENED_ROUTES, *COLLECTION_ROUTES, extra={"hooks.py": HOOKS_NESTED})
    document = apply(cli, root)
    found = handler(document, "add_book")
    assert found["action"] == "migrate" and any("through hooks.install.<locals>.stamp" in r
                                                for r in found["reasons"]), found
    assert "selectinload(Author.publisher)" in function(root, SUBSYSTEM, "add_book")
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    assert "selectinload" not in function(root, SUBSYSTEM, "rename")
    result = serve(root, INSTALLED + """        client.post("/authors/1/books", params={"title": "Delta"})
        client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({
                "new": [b.title for b in s.get(Author, 1).books if b.title.startswith("Delta")],
                "author": s.get(Author, 1).name,
            }))
    """)
    assert result == {"new": ["Delta / Pan"], "author": "ANN"}


def test_a_listener_a_function_is_handed_leaves_the_write_unverified(cli, models_app):  # noqa: F811
    hooks = "from models import Book\nfrom sqlalchemy import event\n\n\ndef install(fn):\n" \
        '    event.listen(Book.title, "set", fn, retval=True)\n'
    root = models_app(*LISTENED_ROUTES, extra={"hooks.py": hooks})
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "blocked" and any("listener on `models.Book.title` is not read" in r
                                                for r in found["reasons"]), found
    assert handler(document, "rename")["action"] == "migrate"



HOOKS_LOOP = '''
from sqlalchemy import event

from models import Author, Book


def sign(target, value, oldvalue, initiator):
    if target.author is not None:
        target.author.name = target.author.name.upper()
    return value


{registration}
'''
LOOPS = {
    "function": 'def install():\n    for attribute in (Author.publisher_id, Book.title):\n'
                '        event.listen(attribute, "set", sign, retval=True)\n',
    "module": 'for attribute in [Author.publisher_id, Book.title]:\n    event.listen(attribute, "set", sign, retval=True)\n\n\n'
              'def install():\n    pass\n',
    # an audited model's attributes by name: any attribute of Book may be the one listened on
    "getattr": 'AUDITED = ("title",)\n\n\ndef install():\n    for name in AUDITED:\n'
               '        event.listen(getattr(Book, name), "set", sign, retval=True)\n',
}


@pytest.mark.parametrize("where", sorted(LOOPS))
def test_a_set_listener_registered_in_a_loop_over_attributes_gets_the_eager_load(cli, models_app, where):  # noqa: F811
    root = models_app(*LISTENED_ROUTES, extra={"hooks.py": HOOKS_LOOP.replace("{registration}", LOOPS[where])})
    document = apply(cli, root)
    found = handler(document, "retitle")
    assert found["action"] == "migrate" and any("through hooks.sign" in r for r in found["reasons"]), found
    assert ".options(selectinload(Book.author))" in function(root, SUBSYSTEM, "retitle")
    assert "selectinload" not in function(root, SUBSYSTEM, "rename")
    result = serve(root, INSTALLED + """
        client.post("/books/1/title", params={"title": "Gamma"})
        with database_sessionmaker() as s:
            print(json.dumps({"title": s.get(Book, 1).title, "author": s.get(Author, 1).name}))
    """)
    assert result == {"title": "Gamma", "author": "ANN"}
