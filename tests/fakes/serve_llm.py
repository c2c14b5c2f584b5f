"""Serve a stand-in LLM provider for `make demo`: OpenAI's chat API on 127.0.0.1.

There is no usable local model on this machine and the demo must not call out, so
the demo's voting step talks to the test suite's fake OpenAI server. It answers
every analysis the same way, and says so in its summary: a confident FOR in the
`governance` category with no principle findings. Everything after the model's
answer is Steward's real code (structured output, quote checks, hard rules,
injection checks, guardrails), which is what the demo shows: the upgrade
proposal still fails its hard rule and is not voted, the role grant is.

    python -m tests.fakes.serve_llm --url-file /tmp/llm.url
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import FakeOpenAI

STAND_IN_DRAFT: dict[str, Any] = {
    "summary": (
        "Stand-in model answer (make demo has no LLM): every proposal gets this same "
        "confident FOR. Configure llm.model for a real analysis."
    ),
    "category": "governance",
    "findings": [],
    "risk_flags": [],
    "recommendation": "FOR",
    "confidence": 0.85,
    "rationale": "Scripted for the demo.",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url-file", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeOpenAI() as server:
        server.default = lambda _body: STAND_IN_DRAFT
        args.url_file.write_text(server.url + "/v1", encoding="utf-8")
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
