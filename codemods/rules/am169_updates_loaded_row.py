"""AM169 updates-loaded-row: a converted handler writes a loaded object's attribute back from its own value

A note on a handler phase one converts, not a reason to keep it. On the event loop, an `async
def` handler that never awaits runs from start to finish with no other request of its worker in
between. As `def`, FastAPI runs it in the threadpool, where concurrent requests of the same
worker interleave: a handler that loads a row through its Session and writes a column back
computed from the loaded value (`post.likes += 1`, `post.likes = post.likes + 1`,
`item.stock -= qty`, a toggle `chat.pinned = not chat.pinned`, a JSON merge
`row.meta = {**(row.meta or {}), "k": v}`), then commits, can have two threads both read `likes = 5` and both write
6: a lost update. Several workers (or several processes) race there already, so phase one
converts the handler all the same; the note names the object, the attribute, the lines, and the
fixes: an UPDATE the database computes (`update(Post).where(Post.id == post.id)
.values(likes=Post.likes + 1)`), or a row lock taken as the object loads (`.with_for_update()`
on the select or query, `db.get(Post, pid, with_for_update=True)`; `populate_existing` alone
locks nothing).

The object is one the handler, or a plain `def` helper it calls in place (followed through the
call graph: `crud.like_post(db, pid)` doing the load and the update), loads through a Session:
`db.get(M, pk)`, `db.scalars(select(M)...).first()` / `.one()` / `.one_or_none()`,
`db.execute(select(M)).scalar_one()`, `db.query(M).filter(...).first()`, SQLModel's
`db.exec(select(M)).first()`, a repository method's `self.db.get(M, pk)`, or what a plain helper
returning such a load gives (`post = crud.get_post(db, pid)`), M a mapped class, and the
attribute a column the class (or a project base) declares. No note: a plain assignment
(`post.title = body.title`), a value only falling back to the loaded one (`post.data = form.data
or post.data`, `post.name = snapshot.get("name", post.name)`: written back unchanged, SQLAlchemy
sends no UPDATE of it), a relationship (`post.comments += [comment]` adds rows, overwriting
none), a descriptor or an attribute the class does not declare, an UPDATE statement written on the column
(`db.execute(update(Post).values(likes=Post.likes + 1))`), a load written `with_for_update`
(and every load of a function naming `with_for_update` where the analysis cannot tell which query
it locks: a statement built apart, `db.refresh(post, with_for_update=True)`), an object the
handler builds (`p = Post(likes=0); p.likes += 1`), and an object of unknown origin (a
parameter, what a dependency hands the handler, what an unresolved call returns): the note is
advice, and the analysis does not guess where such an object came from, so its absence there is
no all-clear. Only converted handlers get it, and a kept one whose helper call `--offload-mixed` takes off
the loop (`await run_in_threadpool(crud.like_post, db, pid)`), where the helper's load and update
run in the threadpool just the same: a handler phase one keeps `async def` otherwise still runs on
the event loop as before (where an `await` between the load and the write races already, which
phase one does not change), and a `def` one ran in the threadpool before phase one.

Before:

    @router.post("/posts/{pid}/like")
    async def like(pid: int, db: Session = Depends(get_db)):
        post = db.get(Post, pid)
        post.likes = post.likes + 1
        db.commit()

After:

    @router.post("/posts/{pid}/like")
    def like(pid: int, db: Session = Depends(get_db)):  # note: `post.likes` may lose updates
        post = db.get(Post, pid)
        post.likes = post.likes + 1
        db.commit()

    # the fix, by hand: lock the row as it loads
    #     post = db.get(Post, pid, with_for_update=True)
    # or let the database compute it
    #     db.execute(update(Post).where(Post.id == pid).values(likes=Post.likes + 1))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM169",
    name="updates-loaded-row",
    summary="a handler phase one converts (or a helper it calls) loads an object through its Session and "
    "writes an attribute back computed from its own value: as `def`, concurrent requests of a worker "
    "can interleave and lose an update",
    fix="let the database compute it (`update(Post).where(...).values(likes=Post.likes + 1)`), or lock "
    "the row as it loads (`.with_for_update()`, `db.get(Post, pid, with_for_update=True)`)",
    doc=__doc__,
)
