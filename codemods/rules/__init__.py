"""The rule registry: every phase-one reason, phase-two decision or blocker and `check` finding.

A rule is one module in this package named `am<code>_<name>.py` (`am101_takes_sync_session.py`)
that defines `RULE = Rule(code, name, summary, fix, doc=__doc__)`; its docstring says what the
rule means with a Before/After example. The registry finds the modules itself, so adding a rule
touches no list:

1. Add `codemods/rules/amNNN_your_name.py` with the next free code of its family
   (`AM1xx` phase one, `AM2xx` phase two, `AM3xx` check) and `RULE`.
2. Where the analysis decides, import it (`from ...rules.amNNN_your_name import RULE as AMNNN`)
   and produce `AMNNN.reason(text)` (a `Reason`: JSON `codes` and `reasons` read it).
3. Add `tests/rules/test_amNNN_your_name.py`: a case that produces the code and a near miss
   that does not.
4. Regenerate the reference: `async-migrate rules --format markdown > docs/rules.md`
   (`tests/rules/test_registry.py` fails until you do).

Codes are stable: never renumber or reuse one; retire a rule by keeping its module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from async_migrate.codemods.rules.base import Reason, Rule, codes, texts

__all__ = ["Reason", "Rule", "all_rules", "by_code", "codes", "find", "texts"]


@cache
def _load() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("am"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"rule module {info.name} defines no RULE")
        expected = f"{rule.code.lower()}_{rule.name.replace('-', '_')}"
        if info.name != expected:
            raise RuntimeError(f"rule module {info.name} should be named {expected}")
        if rule.code in found or rule.name in names:
            raise RuntimeError(f"rule {rule.code} {rule.name}: code or name registered twice")
        if not rule.doc:
            raise RuntimeError(f"rule {rule.code} has no docstring")
        found[rule.code] = rule
        names[rule.name] = rule.code
    return dict(sorted(found.items()))


def all_rules(family: str | None = None) -> list[Rule]:
    """Every registered rule in code order; `family` (phase1, phase2, check) narrows it."""
    return [rule for rule in _load().values() if family is None or rule.family == family]


def by_code(code: str) -> Rule:
    """The rule with this code. KeyError for an unknown code."""
    if _load.cache_info().currsize:
        return _load()[code]
    # A warm run names a few rules of its stored findings: importing those alone, not all
    # two hundred, is a good part of a small service's `check`.
    name = _module_names().get(code)
    if name is None:
        return _load()[code]
    rule = getattr(importlib.import_module(f"{__name__}.{name}"), "RULE", None)
    return rule if isinstance(rule, Rule) and rule.code == code else _load()[code]


@cache
def _module_names() -> dict[str, str]:
    """Rule modules by the code their name starts with (`am301_blocking_session`: AM301)."""
    return {
        info.name.partition("_")[0].upper(): info.name
        for info in pkgutil.iter_modules(__path__)
        if info.name.startswith("am")
    }


def find(code_or_name: str) -> Rule | None:
    """The rule a pragma or a user names, by code (`AM301`, any case) or by name (`blocking-session`)."""
    rules = _load()
    upper = code_or_name.strip().upper()
    if upper in rules:
        return rules[upper]
    return _by_name().get(code_or_name.strip())


@cache
def _by_name() -> dict[str, Rule]:
    # Every pragma naming a rule by name asks: a scan of the registry each time shows on large projects.
    return {rule.name: rule for rule in _load().values()}
