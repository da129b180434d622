"""AM220 lazy-load: the code reads a relationship its queries do not eager-load: MissingGreenlet under AsyncSession

AsyncSession cannot load a relationship implicitly on attribute access: under asyncio, touching
a relationship that is not loaded yet does implicit IO and raises
`sqlalchemy.exc.MissingGreenlet`, in helper code (`book.author.name`) as during FastAPI's
response serialisation (AM222). Phase two first follows the object to the query that loaded it
and adds the loader option there (AM246, or blocks: AM245, AM247, AM250, AM251, AM260); where
the flow cannot follow the object, the read is judged by names as below. That judgement is
deliberately conservative: it over-reports rather than misses. It works on the pre-pass facts
only (`facts.ClassFacts`, `facts.Function.eager` / `.attributes`, `facts.Decorator.response_refs`).

What is a lazy relationship: every `relationship(...)` (also `Mapped[...] = relationship(...)`,
`relation`, `dynamic_loader`, sqlmodel's `Relationship(sa_relationship_kwargs={"lazy": ...})`)
declared in a class body of a collected module, and every `backref="name"` /
`backref=backref("name", lazy=...)`, a relationship of the class the relationship carrying it
points to (`codemods/backrefs.py`; of any class when the tool cannot find that one). Lazy
strategies: "select" (the default, also `lazy=True`), "dynamic" (not usable with AsyncSession at
all: no option makes it safe, it is always reported, AM221), and any strategy the pre-pass cannot
read (a variable). Safe: "selectin", "joined", "subquery", "immediate" (loaded with the parent by
a query of its class: not on an object the code built and added, which no query loads, nor on
one reached from it by relationships (`user.org.items`: loading `user.org` by key finds an Org
already in the Session without a query), nor in a project helper handed such an object
(`org_size(user)` reading `u.org`, or a property reading it: `handed_built`), nor where the
query's own `lazyload(...)`/`raiseload(...)` names the relationship, a subclass's or through a
response model's field too), and "raise", "raise_on_sql", "noload", "write_only" (they never
load implicitly, so they cannot raise MissingGreenlet; "raise" fails in the synchronous code
already).

What counts as eager-loaded: per analysed root (a route, a helper), its closure: the root, every
project function it calls, transitively (any call the index resolves, methods reached through an
object included, not only calls that pass the Session, so an option builder like
`_with_relations()` counts), the project functions it hands by name to code outside the project,
which calls them there on what the route loaded (`apaginate(db, q, transformer=to_rows)`,
`sorted(rows, key=by_owner)`; not one handed to a thread), and the dependency functions of its
parameters (`Depends(...)`, `Annotated[..., Depends()]` aliases) and of its decorators
(`dependencies=[Depends(...)]`). An access is safe when anything in that closure names the
relationship in `selectinload`, `joinedload`, `subqueryload`, `immediateload` or `contains_eager`
(from `sqlalchemy.orm`, also chained `.selectinload(...)` on an option or on `Load(X)`, and
through `.of_type()` / `.and_()`). An option naming a class (`Book.author`) credits that class
and its subclasses; an option whose class cannot be resolved (aliased classes) credits the
attribute name on every class. A legacy string path and the `"*"` wildcard credit the objects of
the query they are written in only, and `refresh(obj, attribute_names=[...])` /
`obj.awaitable_attrs.rel` the object they are given only (`codemods/phase2/refreshed.py`):
another object read there is a lazy load. This crediting by name is for reads the flow does not
trace.

What is reported: `name.rel` in a closure function, where `name` is a local name (parameter,
assigned, loop or comprehension variable; never an import, a module-level name, or the callee of
a call such as `session.get`), `rel` is a lazy relationship name and no eager load credits it.
Writes count too (assigning a collection loads the old one for history and backrefs). When the
receiver is a parameter annotated with a project class, only that class (and its bases) is
considered; otherwise every class declaring a relationship named `rel` is, and one lazy
uncredited candidate is enough. Not reported: a read on an object the value flow knows is an
instance of a project class that is not mapped (a unit of work's `uow.stock`), one on a parameter
annotated as a library's bag of named values (`state: State`, a `SimpleNamespace`: `state.posts` is
what was stored under that name), and one on an
object the function constructed from a mapped class that runs before the object is handed to
anything (transient, it has no Session: `codemods/astcollect/fresh.py`). The response model's
fields: AM222.

Not detected (may miss):

- Where the flow does not trace the object to a query (`lazy_load_risks` reads no flow), an
  eager load naming its class anywhere in the closure credits the read, even if another query
  loaded the object without it; never on an object the code builds (or reaches from one), which
  no query's option loads. `check` asks for no such credit (`own_lazy_load_risks(by_class=False)`)
  and judges each read by its object's queries; phase two (`lazy_loads`) neither: a read on an
  object it traces to no query (out of a dict, `rows[0][0]`, a helper's `rows[0]`) blocks, and one
  on what a dependency staying on its Session returns is credited by that dependency's closure's
  options only; one in a function handed by name to library code (a pagination `transformer=`)
  still by the closure's.
- `getattr(obj, "rel")`; `obj.rel` where `obj` is not a bare name (`self.book.author`), except in
  phase two, which follows chains rooted at a local name or a call (`b.author.books`,
  `facts.Function.chains`); reads on `self`/`cls`; model methods called on loaded objects
  (`book.describe()`), except in phase two, which follows model code
  (`codemods/phase2/model_members.py`); relationships read by `**`/`model_dump()`/custom
  serializers; pydantic aliases (`Field(validation_alias=...)`).
- Relationships and deferred columns declared outside a class body where they are not read: an
  imperative mapping's `properties=` that is no `{...}` literal, `dict(...)` call or module-level
  name bound once to one; a `@declared_attr` method returning something other than the
  `relationship(...)` call itself; and classes in modules the pre-pass did not collect (it follows
  imports, so models and schemas a collected module imports are there).
- Expired attributes: after `commit()` with `expire_on_commit=True` even column reads do IO;
  objects from the identity map loaded earlier without the option.

Over-reported (false positives a reviewer dismisses):

- Name-based matching: a dict key or a non-ORM object with an attribute or field named like some
  lazy relationship (`{"book": book}` validated into a `book:` field), and a relationship lazy on
  one class but eager on another (the message names the safe candidates).
- Options built outside the closure's functions: a module-level `OPTIONS = (selectinload(...),)`
  used in `.options(*OPTIONS)` is not credited.

Before:

    book = session.get(Book, book_id)
    return book.author.name

After:

    book = await session.get(Book, book_id, options=[selectinload(Book.author)])
    return book.author.name
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM220",
    name="lazy-load",
    summary=(
        "the code reads a relationship its queries do not eager-load: MissingGreenlet under "
        "AsyncSession"
    ),
    fix=(
        "add `selectinload(...)` to the query that loads the object, or refresh the "
        "attribute first"
    ),
    doc=__doc__,
)
