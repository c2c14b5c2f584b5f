"""WebhookSender against a local webhook server: payload, 429, 5xx, and a secret URL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agent.chat.deliver import DeliveryError, deliver
from agent.chat.models import Embed, EmbedField, Message
from agent.chat.schedule import plan_posts
from agent.models import Proposal
from agent.settings import DiscordSettings
from agent.store import RecordStore
from connectors.discord_webhook import WebhookSender, redact
from tests.fakes.discord_webhook import TOKEN, WEBHOOK_ID, FakeWebhook

HELLO = Message(content="hello @everyone")


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def sender(hook: FakeWebhook, sleeps: list[float]) -> Iterator[WebhookSender]:
    with WebhookSender(hook.url, sleep=sleeps.append) as s:
        yield s


def test_payload_never_pings_and_suppresses_previews(
    hook: FakeWebhook, sender: WebhookSender
) -> None:
    sender.send("webhook", HELLO)
    (body,) = hook.posts
    assert body["allowed_mentions"] == {"parse": []}
    assert body["content"] == "hello @everyone" and body["embeds"] == [] and body["flags"] == 4
    assert hook.requests[0]["query"] == {"wait": ["true"]}


def test_embeds_are_sent_in_discords_shape(hook: FakeWebhook, sender: WebhookSender) -> None:
    embed = Embed(
        title="T",
        url="https://snapshot.org/x",
        description="D",
        colour=0x2ECC71,
        fields=[EmbedField(name="N", value="V", inline=True)],
        footer="F",
    )
    sender.send("webhook", Message(embeds=[embed]))
    (body,) = hook.posts
    assert "flags" not in body and body["allowed_mentions"] == {"parse": []}
    assert body["embeds"] == [
        {
            "type": "rich",
            "title": "T",
            "url": "https://snapshot.org/x",
            "description": "D",
            "color": 0x2ECC71,
            "fields": [{"name": "N", "value": "V", "inline": True}],
            "footer": {"text": "F"},
        }
    ]


def test_429_waits_retry_after_then_succeeds(
    hook: FakeWebhook, sender: WebhookSender, sleeps: list[float]
) -> None:
    hook.fail_next("429", retry_after=0.25)
    hook.fail_next("429-header", retry_after=2)
    sender.send("webhook", HELLO)
    assert sleeps == [0.25, 2.0]
    assert len(hook.requests) == 3 and len(hook.posts) == 1


def test_a_long_rate_limit_is_reported_not_slept(
    hook: FakeWebhook, sender: WebhookSender, sleeps: list[float]
) -> None:
    hook.fail_next("429", retry_after=120)
    with pytest.raises(DeliveryError) as caught:
        sender.send("webhook", HELLO)
    assert caught.value.retry_after == 120 and sleeps == []


def test_persistent_5xx_raises_without_the_token(
    hook: FakeWebhook, sender: WebhookSender, sleeps: list[float]
) -> None:
    hook.fail_next("503", times=10)
    with pytest.raises(DeliveryError) as caught:
        sender.send("webhook", HELLO)
    message = str(caught.value)
    assert TOKEN not in message and f"…/webhooks/{WEBHOOK_ID}/***" in message
    assert "HTTP 503" in message and "4 attempt" in message
    assert sleeps == [0.5, 1.0, 2.0] and len(hook.requests) == 4 and hook.posts == []


def test_server_errors_then_success(
    hook: FakeWebhook, sender: WebhookSender, sleeps: list[float]
) -> None:
    hook.fail_next("500")
    hook.fail_next("502")
    sender.send("webhook", HELLO)
    assert sleeps == [0.5, 1.0] and len(hook.posts) == 1


def test_a_refused_post_is_not_retried_and_hides_the_token(
    hook: FakeWebhook, sleeps: list[float]
) -> None:
    wrong = hook.url.replace(TOKEN, "wrong-token-0123456789")
    with WebhookSender(wrong, sleep=sleeps.append) as s, pytest.raises(DeliveryError) as caught:
        s.send("webhook", HELLO)
    assert "wrong-token" not in str(caught.value) and "HTTP 401" in str(caught.value)
    assert sleeps == [] and len(hook.requests) == 1


def test_unreachable_host_is_retried_with_backoff(sleeps: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/webhooks/1/{TOKEN}"
    client = httpx.Client(timeout=1.0)
    sender = WebhookSender(url, client=client, max_retries=2, sleep=sleeps.append)
    with pytest.raises(DeliveryError) as caught:
        sender.send("webhook", HELLO)
    assert "ConnectError" in str(caught.value) and TOKEN not in str(caught.value)
    assert sleeps == [0.5, 1.0]
    client.close()


def test_redact_and_url_checks() -> None:
    assert redact(f"https://discord.com/api/webhooks/123/{TOKEN}") == "…/webhooks/123/***"
    assert redact("https://hooks.example/secret/path?k=v") == "https://hooks.example/***"
    with pytest.raises(ValueError) as caught:
        WebhookSender(f"ftp://discord.com/api/webhooks/123/{TOKEN}")
    assert TOKEN not in str(caught.value)


def test_existing_query_is_kept(hook: FakeWebhook, sleeps: list[float]) -> None:
    with WebhookSender(hook.url + "?thread_id=9&wait=false", sleep=sleeps.append) as s:
        s.send("webhook", HELLO)
    assert hook.requests[0]["query"] == {"thread_id": ["9"], "wait": ["true"]}


def test_webhook_mode_end_to_end(hook: FakeWebhook, sender: WebhookSender, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
    store.apply_proposals(
        [
            Proposal(
                source="snapshot",
                space="ens.eth",
                id="0x1",
                title="@everyone [free money](https://evil.example)",
                state="active",
                created=now,
                end=now + timedelta(days=2),
            )
        ]
    )
    settings = DiscordSettings(digest_time="00:00", timezone="UTC")
    planned = plan_posts(store, settings, now=now, policy_id=None, targets="webhook")
    report = deliver(planned, store, sender)
    assert sorted(report.posted) == sorted(p.key for p in planned) and report.failed == {}
    assert len(hook.posts) >= 2
    assert all(body["allowed_mentions"] == {"parse": []} for body in hook.posts)
    assert not any("evil.example" in str(body) for body in hook.posts[-1:])
    assert (
        deliver(
            plan_posts(store, settings, now=now, policy_id=None, targets="webhook"), store, sender
        ).posted
        == []
    )
    store.close()
