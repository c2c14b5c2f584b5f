"""Read-only tools the LLM analyst may call. Their outputs are untrusted data too.

Each tool is a plain function over the stores; `build_tools` wraps them for
LangChain with docstrings that become the tool descriptions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.models import Proposal
from agent.ports import Embedder, VectorIndex
from agent.search import search
from agent.store import RecordStore
from agent.voters.service import VoterFigures
from agent.voters.wording import concentration_line, few_voters_warning

_MAX_TOOL_TEXT = 4000


def _untrusted(payload: Any) -> str:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return f"<untrusted_tool_output>\n{text}\n</untrusted_tool_output>"


class AsOf:
    """The moment tools may see up to (a backtest moves it before each proposal)."""

    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment


class AnalysisTools:
    def __init__(
        self,
        store: RecordStore,
        index: VectorIndex | None = None,
        embedder: Callable[[], Embedder] | None = None,
        figures: VoterFigures | None = None,
        *,
        as_of: AsOf | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.figures = figures or VoterFigures(store)
        self.as_of = as_of or AsOf()

    def _hidden(self, created: datetime | None) -> bool:
        """Created after the as-of moment (a backtest must not see it; the proposal being
        assessed, created at that moment, stays visible)."""
        moment = self.as_of.moment
        return moment is not None and (created is None or created > moment)

    def _result_hidden(self, end: datetime | None) -> bool:
        moment = self.as_of.moment
        return moment is not None and (end is None or end >= moment)

    def search_proposals(self, query: str, space: str | None = None) -> str:
        """Search stored proposals by meaning and words; returns uids, titles and best passages."""
        if self.index is None or self.embedder is None:
            return _untrusted({"error": "search is not available"})
        hits = search(
            query,
            self.index,
            self.embedder(),
            spaces=[space] if space else (),
            limit=20,
            text_index=self.store,
        )
        hits = [h for h in hits if not self._hidden(h.created)][:5]
        return _untrusted(
            [
                h.model_dump(mode="json", include={"uid", "title", "space", "state", "passage"})
                for h in hits
            ]
        )

    def get_proposal(self, uid: str) -> str:
        """Get a stored proposal by uid: title, state, choices and (the start of) its body."""
        stored = self.store.get(uid)
        if stored is None or self._hidden(stored.proposal.created):
            return _untrusted({"error": f"no proposal {uid}"})
        p = stored.proposal
        settled = not self._result_hidden(p.end)
        body = (
            p.body
            if len(p.body) <= _MAX_TOOL_TEXT
            else (p.body[:_MAX_TOOL_TEXT] + f"\n[… {len(p.body) - _MAX_TOOL_TEXT} more characters]")
        )
        return _untrusted(
            {
                "uid": p.uid,
                "title": p.title,
                "state": p.state if settled else "active",
                "space": p.space,
                "choices": p.choices,
                "outcome": p.outcome if settled else None,
                "body": body,
            }
        )

    def get_decoded_actions(self, uid: str) -> str:
        """Get what an on-chain proposal would execute, decoded (targets, calls, flags)."""
        stored = self.store.get(uid)
        if stored is None or self._hidden(stored.proposal.created):
            return _untrusted({"error": f"no proposal {uid}"})
        actions = stored.proposal.extra.actions
        return _untrusted(
            actions
            if actions
            else {"actions": [], "note": "no executable actions are stored for this proposal"}
        )

    def get_vote_tally(self, uid: str) -> str:
        """Get the current tally of a proposal: scores per choice and the number of votes."""
        stored = self.store.get(uid)
        if stored is None or self._hidden(stored.proposal.created):
            return _untrusted({"error": f"no proposal {uid}"})
        p = stored.proposal
        if self._result_hidden(p.end):
            return _untrusted({"uid": uid, "note": "voting had not ended at this point in time"})
        tally = dict(zip(p.choices, p.scores, strict=False)) if p.scores else {}
        return _untrusted(
            {
                "uid": uid,
                "state": p.state,
                "tally": tally,
                "scores_total": p.scores_total,
                "votes": p.votes_count,
                "votes_stored": self.store.vote_count(uid),
                "quorum": p.quorum,
            }
        )

    def get_vote_concentration(self, uid: str) -> str:
        """Get who decides a proposal: voters, top-1/5/10 shares of voting power, the Nakamoto
        coefficient, the Gini coefficient, whether the lead flips without the top voter, and
        sybil-like voting patterns (signals for a human, not verdicts)."""
        stored = self.store.get(uid)
        if stored is None or self._hidden(stored.proposal.created):
            return _untrusted({"error": f"no proposal {uid}"})
        p = stored.proposal
        if self._result_hidden(p.end):
            return _untrusted({"uid": uid, "note": "voting had not ended at this point in time"})
        signals = self.figures.signals(p.space, only=[uid]) if self.store.vote_count(uid) else []
        return _untrusted(
            {
                "concentration": self.figures.concentration(p).model_dump(mode="json"),
                "signals": [
                    s.model_dump(mode="json", include={"kind", "text", "count", "power_share"})
                    for s in signals
                ],
            }
        )

    def who_decides(self, p: Proposal) -> str:
        """The concentration line (and warning, for an open vote) for the prompt; nothing in a
        backtest before the vote ended (its votes were not all cast yet)."""
        if self._result_hidden(p.end):
            return ""
        c = self.figures.concentration(p)
        if not c.voters:
            return ""
        warning = few_voters_warning(c) if p.is_open else None
        return concentration_line(c) + (f". {warning}" if warning else "")

    def functions(self) -> list[Callable[..., str]]:
        return [
            self.search_proposals,
            self.get_proposal,
            self.get_decoded_actions,
            self.get_vote_tally,
            self.get_vote_concentration,
        ]
