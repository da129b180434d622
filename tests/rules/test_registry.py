"""The registry: every rule is complete and documented, the reference in docs/rules.md is current,
and every registered code is produced somewhere (no rule the analysis never reports)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from async_migrate.cli.rules_render import markdown
from async_migrate.codemods import rules
from async_migrate.codemods.rules import Rule, all_rules, by_code, find

REPO = Path(__file__).resolve().parents[2]
RULES = all_rules()


def test_the_registry_holds_every_family_in_code_order():
    assert [r.code for r in RULES] == sorted(r.code for r in RULES)
    assert {r.family for r in RULES} == {"phase1", "phase2", "check"}
    assert by_code("AM101").name == "takes-sync-session"  # the CONTRACT's example


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_each_rule_has_a_summary_a_fix_and_a_before_after_example(rule: Rule):
    assert rule.summary and "\n" not in rule.summary and rule.fix
    assert rule.doc.startswith(f"{rule.code} {rule.name}: ")
    assert "\nBefore:\n" in rule.doc and "\nAfter:\n" in rule.doc
    assert find(rule.code) is rule and find(rule.name) is rule and find(rule.code.lower()) is rule


# The phase-two rules that are no blocker: the decision of a route or helper that moves, or that
# phase two leaves as it is. Every other one blocks something and says what to do about it.
PHASE2_DECISIONS = frozenset({"AM202", "AM204", "AM205", "AM206"})


@pytest.mark.parametrize("rule", all_rules("phase2"), ids=lambda r: r.code)
def test_each_phase_two_blocker_has_a_fix_to_act_on(rule: Rule):
    if rule.code in PHASE2_DECISIONS:
        assert rule.fix == "none needed"
        return
    assert rule.fix.strip() and rule.fix.strip().lower() not in ("none needed", "none", "-"), rule.fix


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_each_rule_has_its_test_file_beside_the_others(rule: Rule):
    """`tests/rules/test_<code>_<name>.py`: a case that reports the code and a near miss."""
    module = Path(__file__).parent / f"test_{rule.code.lower()}_{rule.name.replace('-', '_')}.py"
    assert module.exists(), f"add tests/rules/{module.name}"
    names = re.findall(r"^def (test_\w+)\(", module.read_text(encoding="utf-8"), re.M)
    assert any("near_miss" in name for name in names), f"{module.name} has no near miss"
    assert any("near_miss" not in name for name in names), f"{module.name} has no case that reports {rule.code}"


def test_every_registered_code_is_produced_by_the_analysis():
    """A rule nobody reports is a documentation lie: each module is imported where reasons are made."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (REPO / "codemods").rglob("*.py")
        if "rules" not in path.relative_to(REPO / "codemods").parts
    )
    used = set(re.findall(r"codemods\.rules\.(am\d{3})_\w+ import RULE", sources))
    assert {r.code.lower() for r in RULES} - used == set()


def test_unknown_codes_and_names_are_not_found():
    assert find("AM999") is None and find("blocking") is None and find("") is None


def test_a_rule_rejects_a_malformed_code_or_name():
    with pytest.raises(ValueError, match="AM1xx"):
        Rule("X101", "name", "summary", "fix", "doc")
    with pytest.raises(ValueError, match="kebab-case"):
        Rule("AM199", "Bad_Name", "summary", "fix", "doc")


def test_docs_rules_md_is_generated_from_the_registry():
    """Regenerate with `async-migrate rules --format markdown > docs/rules.md`."""
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == markdown(RULES)


def test_the_rules_command_lists_every_rule_with_code_summary_and_fix(cli):
    result = cli("rules")
    assert result.exit_code == 0
    for rule in RULES:
        assert f"{rule.code} {rule.name}: {rule.summary}\n      fix: {rule.fix}\n" in result.stdout
    document = cli.json("rules")
    # led like every command's document, so a script reading several knows which this is
    assert document["command"] == "rules" and {"version", "schema"} <= set(document)
    assert [r["code"] for r in document["rules"]] == [r.code for r in RULES]
    assert set(document["rules"][0]) >= {"code", "name", "summary", "fix", "family", "doc"}


def test_the_rules_command_shows_one_rule_by_code_or_name_and_refuses_an_unknown_one(cli):
    by_name = cli("rules", "blocking-session")
    assert by_name.exit_code == 0 and by_name.stdout == cli("rules", "AM301").stdout
    assert "Before:" in by_name.stdout and "Fix: " in by_name.stdout
    unknown = cli("rules", "AM999")
    assert unknown.exit_code == 2 and "no rule 'AM999'" in unknown.stderr


def test_check_help_points_at_the_rules_command(cli):
    assert "async-migrate rules" in " ".join(cli("check", "--help").stdout.split())


def test_the_package_lists_the_rules_subpackage():
    """A wheel only ships the packages pyproject.toml names."""
    assert f'"{rules.__name__}"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
