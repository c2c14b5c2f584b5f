"""Provenance: a stable hash that moves with every field, and a reason free of proposal text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agent.records.assessment import HardRuleResult, InjectionFinding, PrincipleFinding
from agent.voting.canonical import sha256_hex
from agent.voting.provenance import (
    SUFFIX_LEN,
    Decision,
    VoteBundle,
    build_bundle,
    bundle_json,
    provenance_hash,
    vote_reason,
)
from tests.voting_store import HOSTILE, assessment, bundle, proposal


def test_hash_is_stable_across_round_trips() -> None:
    b = bundle()
    digest = provenance_hash(b)
    assert digest == provenance_hash(bundle())
    stored = json.loads(json.dumps(bundle_json(b)))  # as a JSON column gives it back
    assert provenance_hash(stored) == digest
    assert provenance_hash(VoteBundle.model_validate(stored)) == digest
    reordered = dict(reversed(list(stored.items())))
    assert provenance_hash(reordered) == digest


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list) and value:
        for i, child in enumerate(value):
            yield from _leaves(child, (*path, i))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x" if value is None else [*value, "x"]


def test_hash_moves_with_every_field() -> None:
    data = bundle_json(bundle(action_flags=["upgrade"]))
    digest = sha256_hex(data)
    paths = list(_leaves(data))
    assert len(paths) > 40
    for path in paths:
        copy = json.loads(json.dumps(data))
        node = copy
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = _changed(node[path[-1]])
        assert sha256_hex(copy) != digest, path


def test_bundle_names_what_the_vote_rests_on() -> None:
    b = bundle()
    a = assessment()
    assert b.proposal_uid == "snapshot:0x1"
    assert b.proposal.content_hash == proposal().content_hash
    assert (b.policy.id, b.policy.hash) == ("ens-delegate", "b" * 64)
    assert (b.analyst.id, b.analyst.prompt_hash) == ("offline", "a" * 64)
    assert b.assessment == a.model_dump(mode="json")
    with pytest.raises(ValueError, match="assessment of"):
        build_bundle(a, proposal("0x2"), b.decision, [])


def test_reason_is_short_structured_and_tagged() -> None:
    b = bundle(action_flags=["upgrade", "treasury_transfer"])
    reason = vote_reason(assessment(), b)
    rationale, tag = reason.rsplit(" ", 1)
    assert tag == f"steward-provenance:sha256:{provenance_hash(b)}"
    assert rationale.startswith("Steward votes FOR (82% confidence) under policy ens-delegate")
    assert "rests on public-goods" in rationale and "treasury-discipline" not in rationale
    assert "action flags: upgrade, treasury_transfer" in rationale
    assert len(rationale) <= 280 and len(reason) == len(rationale) + SUFFIX_LEN
    short = vote_reason(assessment(), b, max_len=60)
    assert len(short) <= 60 + SUFFIX_LEN and short.endswith(tag)


def test_reason_against_cites_conflicts_and_failed_rules() -> None:
    a = assessment(
        recommendation="AGAINST",
        hard_rules=[HardRuleResult(rule="max_outflow", outcome="fail", detail="too much")],
    )
    p = proposal()
    b = build_bundle(
        a,
        p,
        Decision(recommendation="AGAINST", choice_label="Against", choice_index=2, confidence=0.9),
        [],
    )
    reason = vote_reason(a, b)
    assert "AGAINST" in reason and "rests on treasury-discipline" in reason
    assert "hard rules failed: max_outflow" in reason


def test_reason_never_carries_proposal_text() -> None:
    p = proposal(title=HOSTILE, body=HOSTILE * 3, choices=[f"For {HOSTILE}", "Against"])
    a = assessment(
        p.uid,
        summary=HOSTILE,
        risk_flags=[HOSTILE, f"asks for {HOSTILE}"],
        findings=[
            PrincipleFinding(
                principle_id="public-goods", stance="supports", evidence=HOSTILE, rationale=HOSTILE
            ),
            PrincipleFinding(principle_id=HOSTILE, stance="supports", rationale=HOSTILE),
        ],
        hard_rules=[HardRuleResult(rule=HOSTILE, outcome="fail", detail=HOSTILE)],
        injection=[InjectionFinding(kind="instruction_to_model", excerpt=HOSTILE)],
        choice=p.choices[0],
        escalation_reasons=[HOSTILE],
    )
    b = build_bundle(
        a,
        p,
        Decision(recommendation="FOR", choice_label=p.choices[0], choice_index=1, confidence=0.5),
        [],
        action_flags=["@everyone", "upgrade", "<@&1>"],
    )
    reason = vote_reason(a, b)
    for fragment in ("@", "<", "IGNORE", "evil", "http", "||", "\u202e", "[free", "\n"):
        assert fragment not in reason
    assert "rests on public-goods" in reason and "action flags: upgrade" in reason
    assert "flagged for injected instructions" in reason
