"""The offline analyst on the real ENS proposals, against the ENS-constitution policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.analysis.offline import OfflineAnalyst, candidate_sentences, categorise
from agent.analysis.policy import load_policy
from agent.analysis.service import analyse
from agent.models import Proposal
from agent.store import RecordStore
from connectors.archive import to_proposal
from tests.conftest import ENS_ARCHIVE, PROJECT

POLICY = load_policy(PROJECT / "config" / "policies" / "ens-constitution.md")


def _ens(ep: str) -> Proposal:
    for line in ENS_ARCHIVE.read_text().splitlines():
        record = json.loads(line)
        if record["ep"] == ep:
            return to_proposal(record, None)
    raise KeyError(ep)


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(f"sqlite:///{tmp_path / 's.db'}")


def test_quotes_are_verbatim_and_confidence_is_capped(embedder, store: RecordStore) -> None:
    analyst = OfflineAnalyst(embedder)
    for ep in ("1.5", "6.24.3", "0.1", "4.3"):
        p = _ens(ep)
        store.apply_proposals([p])
        a = analyse(p, POLICY, analyst, store, confidence_cap=0.5).assessment
        assert a.dropped_findings == 0, ep  # every quote was found in the text
        assert a.confidence <= 0.5 and a.escalate  # never enough to act alone
        assert a.provenance.analyst == "offline" and a.summary
        assert {f.principle_id for f in a.findings} == {pr.id for pr in POLICY.principles}


def test_pricing_proposal_touches_the_fee_principle(embedder, store: RecordStore) -> None:
    p = _ens("1.5")  # Exponential Premium Price Oracle
    a = analyse(p, POLICY, OfflineAnalyst(embedder), store, confidence_cap=0.5).assessment
    relevant = {f.principle_id for f in a.findings if f.stance != "not_relevant"}
    assert "fees-as-incentive" in relevant
    assert a.category == "pricing"


def test_cache_reuse_and_reasons(embedder, store: RecordStore, tmp_path: Path) -> None:
    p = _ens("0.1")
    analyst = OfflineAnalyst(embedder)
    assert analyse(p, POLICY, analyst, store).status == "new"
    assert analyse(p, POLICY, analyst, store).status == "cached"
    edited = p.model_copy(update={"body": p.body + "\n\nAmended."})
    out = analyse(edited, POLICY, analyst, store)
    assert (out.status, out.reason) == ("refreshed", "the proposal's content changed")
    other = OfflineAnalyst(embedder, relevance=0.5)
    assert analyse(edited, POLICY, other, store).reason == "the prompt changed"
    text = (PROJECT / "config" / "policies" / "ens-constitution.md").read_text()
    changed = tmp_path / "p.md"
    changed.write_text(text.replace("weight: 3", "weight: 4", 1))
    assert analyse(edited, load_policy(changed), other, store).reason == "the policy changed"


def test_sentences_skip_tables_and_categories() -> None:
    body = "| a | b |\n|---|---|\n| 1 | 2 |\n\nThe DAO will fund public goods for one year."
    assert candidate_sentences(body) == ["The DAO will fund public goods for one year."]
    assert categorise(_ens("6.24.3")) in ("grants", "treasury")


def test_sentences_keep_numbers_and_skip_code() -> None:
    body = (
        "1. 1,798 names were registered in the first week of the auction.\n"
        "```js\nconst ethers = require('ethers'); // a long line of code here\n```\n"
        "- The **DAO** keeps 0x2686A8919Df194aA7673244549E68D42C1685d03 as the multisig."
    )
    sentences = candidate_sentences(body)
    assert sentences[0] == "1,798 names were registered in the first week of the auction."
    assert not any("require" in s for s in sentences)
    assert any("0x2686" in s and "**DAO**" in s for s in sentences)


class _Counting:
    """The real embedder, recording each call's texts."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real, self.model_name, self.calls = real, real.model_name, []

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return self.real.embed(texts)


def _draft(analyst: OfflineAnalyst, proposal: Proposal, policy) -> None:  # type: ignore[no-untyped-def]
    from agent.analysis.facts import extract_facts

    analyst.draft(proposal, policy, extract_facts(f"{proposal.title}\n\n{proposal.body}"), [])


def test_principles_once_per_policy_and_passages_once_per_version(embedder) -> None:
    counting = _Counting(embedder)
    analyst = OfflineAnalyst(counting)  # type: ignore[arg-type]
    other = POLICY.model_copy(update={"title": "the same principles, another version"})
    p, q = _ens("1.5"), _ens("0.1")
    for policy in (POLICY, other, POLICY, other):  # two delegates' policies, alternating
        for proposal in (p, q):
            _draft(analyst, proposal, policy)
    principles = [pr.text for pr in POLICY.principles]
    assert [c for c in counting.calls if c == principles] == [principles, principles]
    assert len(counting.calls) == 4  # two policy versions + two proposals
    edited = p.model_copy(update={"body": p.body + "\n\nThe premium decays over 21 days."})
    _draft(analyst, edited, POLICY)
    assert len(counting.calls) == 5  # a new proposal version is embedded again
