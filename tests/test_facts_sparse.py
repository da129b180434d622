"""A call's facts hold only the fields it was given a value for: the rarely set ones are class
defaults, and the values survive pickling (worker to parent, the cache) unchanged."""

from __future__ import annotations

import dataclasses
import pickle

from async_migrate.codemods import facts


def test_a_call_holds_no_room_for_its_unset_rare_fields() -> None:
    call = facts.Call(3, "app.crud.get", index=2, receiver="db", method="get", awaited=True)
    assert vars(call) == {}
    unpickled = pickle.loads(pickle.dumps(call))
    assert vars(unpickled) == {}
    assert (unpickled.greenlet, unpickled.dispatch, unpickled.offload_direct) == (False, (), True)


def test_a_rare_field_given_a_value_is_kept_and_crosses_pickling() -> None:
    call = facts.Call(7, None, func="$repo.get", greenlet=True, dispatch=("app.a", "app.b"))
    call.coroutine = "inner"
    unpickled = pickle.loads(pickle.dumps(call))
    assert vars(unpickled) == {"greenlet": True, "dispatch": ("app.a", "app.b"), "coroutine": "inner"}
    assert [getattr(unpickled, f.name) for f in dataclasses.fields(call) if f.name != "args"] == [
        getattr(call, f.name) for f in dataclasses.fields(call) if f.name != "args"
    ]
    moved = dataclasses.replace(unpickled, line=8)
    assert (moved.line, moved.greenlet, moved.func) == (8, True, "$repo.get")

