"""How phase two names an async twin, in one place: `name_async`, or `name_async_2`, ...
when the first name is taken (the suffix is `twin_suffix` in the configuration), and a class's
parallel async class: `NameAsync`, or `NameAsync2`, .... `verify` reads the same schemes back
to pair a function with its twin and a class dependency with its parallel class."""

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


PARALLEL_SUFFIX = "Async"


def free_class(base: str, taken: Callable[[str], bool]) -> str:
    """A parallel class's name: `BaseAsync`, or `BaseAsync2`, `BaseAsync3`, ...: the first free."""
    name, number = base + PARALLEL_SUFFIX, 1
    while taken(name):
        number += 1
        name = f"{base}{PARALLEL_SUFFIX}{number}"
    return name


def is_parallel_class(before: str, after: str) -> bool:
    """Whether `after` is a name `free_class` can give the parallel class of `before`."""
    if not after.startswith(before + PARALLEL_SUFFIX):
        return False
    number = after[len(before + PARALLEL_SUFFIX):]
    return number == "" or (number.isdigit() and int(number) >= 2)
