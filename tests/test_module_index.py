"""docs/modules.md names every module of `codemods/` and `cli/` (rules and phase two's call
rewrites have their own indexes), and names no module that is gone."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INDEXED_ELSEWHERE = ("codemods/rules/", "codemods/phase2/rewrites/")


def named_spans(text: str) -> list[str]:
    """Base names of the `.py` files the index's code spans name, each time it names one, braces
    expanded (`codemods/phase1/{make_sync,offload}.py` names `make_sync.py` and `offload.py`)."""
    names: list[str] = []
    for span in re.findall(r"`([^`]+)`", text):
        braced = re.fullmatch(r"(.*)\{([^}]*)\}\.py", span)
        if braced:
            names.extend(f"{stem.strip()}.py" for stem in braced.group(2).split(","))
        elif span.endswith(".py"):
            names.append(span.rsplit("/", 1)[-1])
    return [name for name in names if name != "__init__.py" and "*" not in name]


def named_files(text: str) -> set[str]:
    return set(named_spans(text))


def module_paths() -> list[str]:
    found = []
    for top in ("codemods", "cli"):
        for path in (REPO / top).rglob("*.py"):
            relative = path.relative_to(REPO).as_posix()
            if path.name != "__init__.py" and not relative.startswith(INDEXED_ELSEWHERE):
                found.append(relative)
    return found


def modules() -> set[str]:
    return {path.rsplit("/", 1)[-1] for path in module_paths()}


def test_every_module_has_its_line_in_the_index():
    named = named_files((REPO / "docs" / "modules.md").read_text(encoding="utf-8"))
    assert sorted(modules() - named) == []


def test_a_name_several_modules_share_is_named_once_for_each():
    # `codemods/verify/report.py` went unlisted: the line naming `codemods/report.py` covered both
    spans = named_spans((REPO / "docs" / "modules.md").read_text(encoding="utf-8"))
    shared = Counter(path.rsplit("/", 1)[-1] for path in module_paths())
    assert {name: spans.count(name) for name, n in shared.items() if n > 1 and spans.count(name) < n} == {}


def test_the_index_names_no_module_that_is_gone():
    named = named_files((REPO / "docs" / "modules.md").read_text(encoding="utf-8"))
    assert sorted(named - modules()) == []


def test_braces_name_each_module_inside_them():
    assert named_files("`codemods/phase1/{make_sync,offload}.py`, `report.py`") == {
        "make_sync.py",
        "offload.py",
        "report.py",
    }
