"""Policy files: the shipped examples load; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.analysis.policy import ChoiceMap, PolicyError, load_policy, parse_policy
from tests.conftest import PROJECT

POLICIES = PROJECT / "config" / "policies"


def test_shipped_policies_load() -> None:
    ens = load_policy(POLICIES / "ens-constitution.md")
    assert [p.id for p in ens.principles][:2] == ["name-ownership", "fees-as-incentive"]
    assert "Name ownership shall not be infringed" in ens.body
    assert ens.applies("snapshot", "ens.eth") and not ens.applies("snapshot", "uni.eth")
    hawk = load_policy(POLICIES / "conservative-treasury.yaml")
    assert hawk.hard_rules.max_outflow["USD"] == 250_000
    assert hawk.applies("chain", "anything")


def test_hash_changes_with_any_edit(tmp_path: Path) -> None:
    text = (POLICIES / "conservative-treasury.yaml").read_text()
    a = parse_policy(text, tmp_path / "a.yaml")
    b = parse_policy(text.replace("weight: 3", "weight: 2", 1), tmp_path / "a.yaml")
    assert a.hash != b.hash and a.hash == parse_policy(text, tmp_path / "a.yaml").hash


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("id: x\nowner: o\nprinciples: []\n", "principles: List should have at least 1"),
        (
            "id: Bad Id\nowner: o\nprinciples: [{id: a, text: long enough text}]\n",
            "id: Value error, use lowercase",
        ),
        (
            "id: x\nowner: o\nprinciples: [{id: a, text: long enough text, wieght: 2}]\n",
            "principles.0.wieght: unknown field",
        ),
        (
            "id: x\nowner: o\nprinciples: [{id: a, text: long enough text}, "
            "{id: a, text: another long text}]\n",
            "unique: a",
        ),
        (
            "id: x\nowner: o\nprinciples: [{id: a, text: long enough text}]\n"
            "hard_rules: {max_outflow: {ETH: -1}}\n",
            "ETH: must be zero or more",
        ),
        ("- just\n- a list\n", "mapping at the top level"),
        ("id: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, tmp_path / "p.yaml")
    assert needle in str(info.value)


def test_markdown_front_matter_and_body_file(tmp_path: Path) -> None:
    (tmp_path / "long.md").write_text("# Our constitution\nBe kind.")
    p = tmp_path / "p.yaml"
    p.write_text(
        "id: x\nowner: o\nbody_file: long.md\nprinciples: [{id: a, text: long enough text}]\n"
    )
    assert load_policy(p).body.startswith("# Our constitution")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_choice_labels_map_including_yaml_booleans() -> None:
    choices = ChoiceMap.model_validate({"for": [True, "approve"], "against": [False]})
    assert choices.label_of("Yes, fund it") == "FOR"
    assert choices.label_of("No") == "AGAINST"
    assert choices.label_of("Nothing") is None
