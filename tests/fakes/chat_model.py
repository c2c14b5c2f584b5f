"""A scripted chat model that LangChain agents can drive (tools, structured output).

LangChain's own fakes refuse `bind_tools`; this one accepts it and replays the
scripted messages in order, recording every prompt it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult


class ScriptedChatModel(GenericFakeChatModel):
    """Replays `script` (AIMessages or exceptions) one per call; records the prompts."""

    seen: list[list[BaseMessage]] = []

    def __init__(self, script: Sequence[AIMessage | Exception], **kw: Any) -> None:
        super().__init__(messages=iter(list(script)), **kw)
        object.__setattr__(self, "seen", [])

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        nxt = next(self.messages)
        if isinstance(nxt, Exception):
            raise nxt
        self.messages = iter([nxt, *self.messages])
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def draft_call(args: dict[str, Any], call_id: str = "call_final") -> AIMessage:
    """The model's final answer under ToolStrategy: a call of the `Draft` tool."""
    return AIMessage(content="", tool_calls=[{"name": "Draft", "args": args, "id": call_id}])


def tool_call(name: str, args: dict[str, Any], call_id: str = "call_1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])
