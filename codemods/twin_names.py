"""How phase two names an async twin, in one place: `name_async`, or `name_async_2`, ...
when the first name is taken (the suffix is `twin_suffix` in the configuration). `verify`
reads the same scheme back to pair a function with its twin."""

from __future__ import annotations

from collections.abc import Callable


def free(base: str, taken: Callable[[str], bool]) -> str:
    """`base`, or `base_2`, `base_3`, ...: the first that `taken` says is free."""
    name, number = base, 1
    while taken(name):
        number += 1
        name = f"{base}_{number}"
    return name


def is_twin(before: str, after: str, suffix: str) -> bool:
    """Whether `after` is `before` itself or a name `free` can give its twin."""
    if after == before:
        return True
    if not suffix or not after.startswith(before + suffix):
        return False
    number = after[len(before + suffix):]
    return number == "" or (number[:1] == "_" and number[1:].isdigit())
