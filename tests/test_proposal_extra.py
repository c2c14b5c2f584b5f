"""`Proposal.extra` is a model: the keys Steward reads are typed, and what earlier
versions stored (keys it does not know, keys it lacks) reads back and stores unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from agent.models import Proposal, required
from agent.store import RecordStore, schema

CHAIN = {
    "chain_id": 1,
    "governor": "0x" + "ab" * 20,
    "governor_kind": "bravo",
    "proposal_id": "123456789012345678901234567890",
    "created_block": 19_000_000,
    "tx": "0x" + "cd" * 32,
    "vote_start": 19_000_100,
    "vote_end": 19_050_000,
    "clock": "block",
    "raw_actions": [{"target": "0x" + "11" * 20, "value": 0, "signature": "", "calldata": "0x"}],
    "actions": [],
    "action_flags": [{"action": "1", "kind": "unknown_target", "severity": "warn"}],
}
ARCHIVE = {"ep": "3.7", "kind": None, "snapshot_id": "0xfe", "tally_id": None, "provenance": "x"}


def _proposal(extra: dict[str, Any]) -> Proposal:
    return Proposal(source="chain", space="gov", id="gov:1", title="t", state="active", extra=extra)


@pytest.mark.parametrize("stored", [CHAIN, ARCHIVE, {}], ids=["chain", "archive", "empty"])
def test_stored_extra_reads_back_and_dumps_as_it_was(stored: dict[str, Any]) -> None:
    p = _proposal(stored)
    assert p.model_dump(mode="json")["extra"] == stored
    again = Proposal.model_validate(p.model_dump(mode="json", exclude={"uid", "content_hash"}))
    assert again.extra == p.extra


def test_the_keys_steward_reads_are_attributes() -> None:
    extra = _proposal(CHAIN).extra
    assert extra.chain_id == 1 and extra.governor_kind == "bravo"
    assert extra.vote_start == 19_000_100 and extra.tx == CHAIN["tx"]
    assert extra.created_tx is None and extra.simulation_summary is None  # missing: None
    assert (extra.model_extra or {})["clock"] == "block"  # unknown to the model: kept
    assert required(extra.vote_end, "vote_end") == 19_050_000
    with pytest.raises(KeyError, match="created_tx"):
        required(extra.created_tx, "created_tx")


def test_a_wrong_type_for_a_typed_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="vote_start"):
        _proposal({"vote_start": "soon"})


def test_an_old_row_reads_and_applying_it_again_changes_nothing(tmp_path: Path) -> None:
    store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
    try:
        p = _proposal({**CHAIN, **ARCHIVE, "a_later_key": {"n": 1}})
        store.apply_proposals([p])
        table = schema.proposals
        with store.engine.begin() as conn:  # as an earlier version wrote it: a plain dict
            raw = conn.execute(select(table.c.data).where(table.c.uid == p.uid)).scalar_one()
            assert raw["extra"] == {**CHAIN, **ARCHIVE, "a_later_key": {"n": 1}}
            raw["extra"] = {"governor": CHAIN["governor"], "unknown": [1]}
            conn.execute(update(table).where(table.c.uid == p.uid).values(data=raw))
        stored = store.get(p.uid)
        assert stored is not None
        assert stored.proposal.extra.governor == CHAIN["governor"]
        assert stored.proposal.extra.vote_start is None
        [change] = store.apply_proposals([stored.proposal])
        assert change.kind == "unchanged"
    finally:
        store.close()
