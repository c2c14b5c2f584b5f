"""Each post once across workers: only the holder of the `post` lease sends, and a worker
that stalled past its lease stops before sending what the next holder resends."""

from __future__ import annotations

from agent.chat.deliver import deliver, retry_unsent
from agent.chat.models import Message, PlannedPost
from agent.cluster.jobs import FencedSender
from agent.cluster.worker import ClusterWorker
from agent.settings import ClusterSettings
from agent.store import RecordStore
from tests.cluster.conftest import DbClock


class Discord:
    """The webhook's far end (the outside world): what arrived, in order."""

    def __init__(self) -> None:
        self.got: list[str] = []

    def send(self, target: str, message: Message) -> None:
        self.got.append(message.content)


def _post(key: str) -> PlannedPost:
    return PlannedPost(key=key, target="webhook", kind="alert", messages=[Message(content=key)])


def test_a_stalled_poster_stops_and_the_next_one_sends_once(
    store: RecordStore, clock: DbClock
) -> None:
    cfg = ClusterSettings(lease_s=10, renew_every_s=5)
    a = ClusterWorker(store.engine, cfg.model_copy(update={"worker_id": "a"}), "dao", clock=clock)
    b = ClusterWorker(store.engine, cfg.model_copy(update={"worker_id": "b"}), "dao", clock=clock)
    discord = Discord()
    lease_a = a.claim("post")
    assert lease_a is not None
    sent = deliver([_post("alert-1")], store, FencedSender(discord, a, lease_a, margin=5))
    assert sent.posted == ["alert-1"]
    clock.advance(6)  # a stalls: 4 s left, less than a send may take
    late = deliver([_post("alert-2")], store, FencedSender(discord, a, lease_a, margin=5))
    assert late.posted == [] and "took over posting" in late.failed["alert-2"]
    assert b.claim("post") is None  # not expired yet: nobody sends alert-2 meanwhile
    clock.advance(5)
    lease_b = b.claim("post")
    assert lease_b is not None and lease_b.took_over_from == "a"
    retried = retry_unsent(store, FencedSender(discord, b, lease_b, margin=5))
    again = deliver(
        [_post("alert-1"), _post("alert-2")], store, FencedSender(discord, b, lease_b, 5)
    )
    assert retried.posted == ["alert-2"] and again.posted == []
    assert discord.got == ["alert-1", "alert-2"]  # each once
