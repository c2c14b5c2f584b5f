"""The LLM analyst: a LangChain agent with read-only tools and a structured answer.

The proposal is neutralised (hidden characters made visible, HTML comments
removed) and fenced as untrusted data with a marker the author cannot know in
advance (it is derived from the text itself). Long proposals are read in parts
and the notes combined (map-reduce), never cut. Output that is invalid or a
refusal is retried, then reported as an `AnalysisError`; it is never guessed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from agent.analysis.injection import neutralise
from agent.analysis.policy import Policy
from agent.analysis.prompts import Prompt, load_prompt, prompts_hash
from agent.analysis.service import AnalysisError
from agent.analysis.tools import AnalysisTools
from agent.decode.stored import action_briefs
from agent.models import Proposal
from agent.records.assessment import Draft, Facts, HardRuleResult

CHARS_PER_TOKEN = 3.5  # conservative for English + Markdown; errs toward more parts


def nonce_for(text: str) -> str:
    """A delimiter id the text cannot contain: it depends on the text itself."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_parts(text: str, max_chars: int) -> list[str]:
    """Paragraph-aligned parts of at most `max_chars` (a giant paragraph is cut by size)."""
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        while len(paragraph) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(paragraph[:max_chars])
            paragraph = paragraph[max_chars:]
        if len(current) + len(paragraph) + 2 > max_chars and current:
            parts.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        parts.append(current)
    return parts


class LLMAnalyst:
    def __init__(
        self,
        model: Any,
        model_name: str,
        *,
        tools: AnalysisTools | None = None,
        max_input_tokens: int = 6000,
        retries: int = 2,
    ) -> None:
        self.model = model
        self.id = model_name
        self.tools = tools
        self.max_input_tokens = max_input_tokens
        self.retries = retries
        self.system: Prompt = load_prompt("assess_system")
        self.user: Prompt = load_prompt("assess_user")
        self.map: Prompt = load_prompt("map_part")
        self.prompt_hash = prompts_hash(self.system, self.user, self.map)

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft:
        system = self.system.render(
            policy_id=policy.id,
            policy_owner=policy.owner,
            principles=[p.model_dump() for p in policy.principles],
            policy_body=policy.body,
        )
        body = neutralise(proposal.body)
        title = neutralise(proposal.title)
        max_chars = int(self.max_input_tokens * CHARS_PER_TOKEN)
        notes, parts = "", 1
        if len(body) > max_chars:
            pieces = split_parts(body, max_chars)
            parts = len(pieces)
            notes = self._map(pieces, policy)
            body = f"[The full text ({len(proposal.body)} characters) was read in {parts} parts; "
            body += "see the notes above.]"
        user = self.user.render(
            source=proposal.source,
            space=proposal.space,
            state=proposal.state,
            choices=json.dumps(proposal.choices, ensure_ascii=False),
            facts=facts.model_dump_json(),
            decoded_actions="\n".join(action_briefs(proposal.extra)),
            simulation=proposal.extra.simulation_summary or "",
            hard_rules=json.dumps([r.model_dump() for r in hard_rules]),
            who_decides=self.tools.who_decides(proposal) if self.tools else "",
            partial_notes=notes,
            parts=parts,
            nonce=nonce_for(proposal.title + proposal.body),
            title=title,
            body=body,
        )
        return self._structured(system, user)

    def _map(self, pieces: list[str], policy: Policy) -> str:
        notes = []
        ids = ", ".join(p.id for p in policy.principles)
        for i, piece in enumerate(pieces, 1):
            prompt = self.map.render(
                index=i, parts=len(pieces), principle_ids=ids, nonce=nonce_for(piece), text=piece
            )
            try:
                reply = self.model.invoke(prompt)
            except Exception as exc:  # noqa: BLE001 - providers raise their own types
                raise AnalysisError(f"{self.id} failed on part {i}: {type(exc).__name__}") from None
            notes.append(f"Part {i}:\n{_text(reply)}")
        return "\n\n".join(notes)

    def _structured(self, system: str, user: str) -> Draft:
        from langchain.agents import create_agent
        from langchain.agents.structured_output import ToolStrategy

        tools = self.tools.functions() if self.tools else []
        agent = create_agent(
            self.model, tools=tools, system_prompt=system, response_format=ToolStrategy(Draft)
        )
        problems: list[str] = []
        for _attempt in range(self.retries + 1):
            try:
                state = agent.invoke(
                    {"messages": [{"role": "user", "content": user}]}, {"recursion_limit": 12}
                )
            except Exception as exc:  # noqa: BLE001 - provider and parser errors vary
                problems.append(_describe(exc))
                continue
            draft = state.get("structured_response")
            if isinstance(draft, Draft):
                return draft
            problems.append(_refusal(state) or "no structured answer")
        raise AnalysisError(
            f"{self.id} gave no valid assessment after {self.retries + 1} attempt(s): "
            + "; ".join(problems)
        )


def _text(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def _refusal(state: dict[str, Any]) -> str | None:
    messages = state.get("messages") or []
    if not messages:
        return None
    last = messages[-1]
    refusal = getattr(last, "additional_kwargs", {}).get("refusal")
    if refusal:
        return f"the model refused: {str(refusal)[:200]}"
    text = _text(last).strip()
    return f"answered without the assessment: {text[:200]!r}" if text else None


def _describe(exc: Exception) -> str:
    message = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
