"""/ask over a real Chroma index and the bundled MiniLM: answers cite what they use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from agent.chat.ask import NOT_FOUND, answer_question
from agent.indexer import sync_index
from agent.models import Proposal
from agent.passage_index import PassageIndex
from agent.settings import ChunkingSettings
from agent.store import RecordStore
from tests.fakes.chat_model import ScriptedChatModel
from tests.indexes import chroma_index

GRANTS = "snapshot:0xgrants"
FEES = "snapshot:0xfees"
COUNCIL = "snapshot:0xcouncil"
PROPOSALS = [
    (
        "0xgrants",
        "Fund the Public Goods working group for Q3",
        "The Public Goods working group requests 250,000 USDC from the DAO treasury to fund "
        "open-source grants during the third quarter. Grants go to developer tooling, "
        "documentation and education. The stewards report spending every month.",
    ),
    (
        "0xfees",
        "Lower registration fees for three-letter names",
        "This proposal reduces the annual registration price of three-letter .eth names from "
        "640 USD to 320 USD, to make short names affordable. The price oracle contract is "
        "updated by the DAO's timelock.",
    ),
    (
        "0xcouncil",
        "Elect the security council",
        "Token holders elect four members of the security council, who can veto malicious "
        "proposals for two years. Candidates published their statements on the forum.",
    ),
]


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> Iterator[tuple[RecordStore, PassageIndex]]:
    home: Path = tmp_path_factory.mktemp("ask")
    store = RecordStore(f"sqlite:///{home / 'steward.db'}")
    store.apply_proposals(
        [
            Proposal(
                source="snapshot",
                space="ens.eth",
                id=pid,
                title=title,
                body=body,
                state="active",
                created=datetime(2026, 3, 1, tzinfo=UTC),
                choices=["For", "Against"],
                link=f"https://snapshot.org/#/ens.eth/proposal/{pid}",
            )
            for pid, title, body in PROPOSALS
        ]
    )
    index = chroma_index(store, home / "chroma", "steward-ask")
    sync_index(store, index, lambda: embedder, ChunkingSettings())
    yield store, index
    store.close()


def _ask(indexed: tuple[RecordStore, PassageIndex], embedder: Any, question: str, **kw: Any) -> Any:
    store, index = indexed
    return answer_question(question, index=index, embedder=embedder, store=store, **kw)


def test_extractive_answer_quotes_and_cites(indexed: Any, embedder: Any) -> None:
    answer = _ask(indexed, embedder, "How much USDC does the public goods working group request?")
    assert answer.found and answer.method == "extractive"
    assert answer.citations[0].uid == GRANTS
    assert answer.citations[0].link == "https://snapshot.org/#/ens.eth/proposal/0xgrants"
    assert "250,000 USDC" in answer.citations[0].quote
    assert len(answer.citations) <= 3 and all(len(c.quote) <= 300 for c in answer.citations)
    assert "250,000 USDC" in answer.text


def test_question_the_store_cannot_answer(indexed: Any, embedder: Any) -> None:
    answer = _ask(indexed, embedder, "What is a good recipe for chocolate chip cookies?")
    assert not answer.found and answer.citations == [] and answer.text == NOT_FOUND
    assert not _ask(indexed, embedder, "   ").found


def test_space_filter_limits_retrieval(indexed: Any, embedder: Any) -> None:
    answer = _ask(indexed, embedder, "public goods grants in USDC", spaces=["uniswap"])
    assert not answer.found


def test_model_answer_keeps_only_cited_proposals(indexed: Any, embedder: Any) -> None:
    model = ScriptedChatModel(
        [AIMessage(content=f"The working group asks for 250,000 USDC [{GRANTS}].")]
    )
    answer = _ask(
        indexed, embedder, "What does the DAO fund?", chat_model=model, min_score=0.0, limit=3
    )
    assert answer.found and answer.method == "model"
    assert [c.uid for c in answer.citations] == [GRANTS]
    assert answer.text.startswith("The working group asks")
    (prompt,) = model.seen[0]
    text = str(prompt.content)
    assert "<untrusted_question id=" in text and "What does the DAO fund?" in text
    assert text.count("<untrusted_passage id=") == 3 and FEES in text and COUNCIL in text


def test_model_saying_the_passages_lack_the_answer(indexed: Any, embedder: Any) -> None:
    for reply in ("NOT_IN_PASSAGES", "Probably 42, but I am guessing."):
        model = ScriptedChatModel([AIMessage(content=reply)])
        answer = _ask(indexed, embedder, "Who founded the DAO?", chat_model=model, min_score=0.0)
        assert not answer.found and answer.citations == [] and answer.text == NOT_FOUND


def test_model_error_falls_back_to_quotes(indexed: Any, embedder: Any) -> None:
    model = ScriptedChatModel([RuntimeError("provider down, key=sk-secret")])
    answer = _ask(
        indexed, embedder, "What is the new price of three-letter names?", chat_model=model
    )
    assert answer.found and answer.method == "extractive"
    assert answer.citations[0].uid == FEES and "320 USD" in answer.text
