"""The LLM analyst against a local OpenAI-compatible server over real HTTP.

The same path a llama.cpp or vLLM deployment takes: `openai:<name>` with a
`base_url`. The server answers well, malformed, refuses, fails and hangs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.analysis.llm import LLMAnalyst, nonce_for
from agent.analysis.policy import load_policy
from agent.analysis.service import AnalysisError, analyse
from agent.analysis.tools import AnalysisTools
from agent.models import Proposal
from agent.settings import LLMSettings
from agent.store import RecordStore
from connectors.llm import build_chat_model
from tests.conftest import PROJECT
from tests.fakes.openai_server import FakeOpenAI

SECRET = "sk-live-never-show-this-1234"
POLICY = load_policy(PROJECT / "config" / "policies" / "conservative-treasury.yaml")
BODY = "We request 50,000 USDC, paid in three milestones with monthly reporting."


def _good(**kw: Any) -> dict[str, Any]:
    return {
        "summary": "A 50k USDC grant paid in milestones.",
        "category": "grants",
        "findings": [
            {
                "principle_id": "milestones-and-accountability",
                "stance": "supports",
                "evidence": "paid in three milestones with monthly reporting",
                "rationale": "milestones and reports",
            }
        ],
        "risk_flags": [],
        "recommendation": "FOR",
        "confidence": 0.8,
        "rationale": "Accountable and small.",
        **kw,
    }


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=SECRET) as srv:
        yield srv


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(f"sqlite:///{tmp_path / 's.db'}")


def _analyst(server: FakeOpenAI, store: RecordStore, **kw: Any) -> LLMAnalyst:
    settings = LLMSettings(
        model="openai:local-model",
        base_url=server.url + "/v1",
        api_key=SecretStr(SECRET),
        timeout_s=kw.pop("timeout_s", 5),
        max_retries=0,
    )
    model = build_chat_model(settings)
    return LLMAnalyst(model, "openai:local-model", tools=AnalysisTools(store), **kw)


def _proposal(body: str = BODY) -> Proposal:
    return Proposal(
        source="snapshot",
        space="dao.eth",
        id="0x9",
        title="Docs grant",
        body=body,
        state="active",
        choices=["For", "Against", "Abstain"],
    )


def test_good_answer(server: FakeOpenAI, store: RecordStore) -> None:
    server.reply(_good())
    a = analyse(_proposal(), POLICY, _analyst(server, store), store).assessment
    assert (a.recommendation, a.choice, a.dropped_findings) == ("FOR", "For", 0)
    sent = server.requests[0]
    assert sent["temperature"] == 0
    prompt = server.prompt(0)
    fence = f'<untrusted_proposal id="{nonce_for(_proposal().title + BODY)}">'
    before, inside = prompt.split(fence)
    assert BODY in inside and BODY not in before  # the body only inside the fence
    assert SECRET not in str(server.requests)  # the key travels only in the header
    assert server.request_headers[0]["authorization"] == f"Bearer {SECRET}"


def test_malformed_then_good_is_retried(server: FakeOpenAI, store: RecordStore) -> None:
    server.malformed()
    server.reply(_good())
    a = analyse(_proposal(), POLICY, _analyst(server, store, retries=1), store).assessment
    assert a.recommendation == "FOR"


@pytest.mark.parametrize("failure", ["malformed", "refuse", "hang", "fail"])
def test_persistent_failure_is_reported_not_guessed(
    server: FakeOpenAI, store: RecordStore, failure: str
) -> None:
    for _ in range(2):
        getattr(server, failure)(*([1.5] if failure == "hang" else []))
    analyst = _analyst(server, store, retries=1, timeout_s=0.5)
    with pytest.raises(AnalysisError) as info:
        analyse(_proposal(), POLICY, analyst, store)
    assert "2 attempt" in str(info.value) and SECRET not in str(info.value)
    assert store.latest_assessment("snapshot:0x9") is None


def test_hard_rule_beats_an_eager_model(server: FakeOpenAI, store: RecordStore) -> None:
    server.reply(_good(confidence=0.99))
    body = "Transfer 2,000,000 USDC to the team as a lump sum."
    a = analyse(_proposal(body), POLICY, _analyst(server, store), store).assessment
    assert a.recommendation == "AGAINST" and a.escalate
