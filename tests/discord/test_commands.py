"""Slash commands end to end inside discord.py, with only the network replaced.

Each test feeds a real INTERACTION_CREATE payload to the client's parser
(`ConnectionState.parse_interaction_create`), so discord.py itself finds the
command, converts the options, runs the tree's channel check and the admin
check, calls the callback and routes errors to `on_error`. Discord's side is
`FakeDiscord`, standing in for discord.py's webhook adapter: it records every
request body the bot would have sent, which is what the assertions read.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.webhook.async_ import async_context

from agent.analysis.policy import Policy, load_policy
from agent.chat.ask import Answer, answer_question
from agent.chat.voters import concentration_text
from agent.models import Vote
from agent.settings import ChunkingSettings, DiscordSettings
from agent.store import RecordStore
from agent.voters.models import Concentration
from connectors.discord_bot.access import RateLimiter, command_allowed, is_admin
from connectors.discord_bot.bot import StewardBot
from connectors.discord_bot.commands import Services
from connectors.discord_bot.convert import to_kwargs
from tests.conftest import PROJECT
from tests.discord import HOSTILE, NOW, copy_store, seed_template
from tests.fakes import discord_payloads as payloads

APP_ID, GUILD = 900000000000000001, 800000000000000001
CHANNEL, ELSEWHERE, DM = 700000000000000001, 700000000000000002, 700000000000000003
ADMIN_ROLE, MEMBER_ROLE, USER = 600000000000000001, 600000000000000002, 500000000000000001
EPHEMERAL, SUPPRESS_EMBEDS = 64, 4
_ids = itertools.count(100000000000000000)


class FakeDiscord:
    """discord.py's webhook adapter (interaction responses, followups) answering like Discord."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def create_interaction_response(
        self, interaction_id: int, token: str, *, params: Any, **_: Any
    ) -> dict[str, Any]:
        self.requests.append(("response", params.payload))
        return {"interaction": {"id": str(interaction_id), "type": 2}}

    async def execute_webhook(
        self, webhook_id: int, token: str, *, payload: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        self.requests.append(("followup", payload))
        author = payloads.user(APP_ID, "Steward")
        return dict(payloads.message(next(_ids), CHANNEL, author, payload, NOW))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Message bodies sent (defers left out), in order."""
        bodies = [p.get("data", {}) if kind == "response" else p for kind, p in self.requests]
        return [b for b in bodies if "content" in b or "embeds" in b]


def _guild_payload() -> dict[str, Any]:
    roles = [
        payloads.role(ADMIN_ROLE, "stewards", mentionable=True),
        payloads.role(MEMBER_ROLE, "members", mentionable=True),
    ]
    channels = [
        payloads.text_channel(CHANNEL, "governance", GUILD),
        payloads.text_channel(ELSEWHERE, "random", GUILD),
    ]
    return dict(payloads.guild(GUILD, "DAO", roles, channels))  # type: ignore[arg-type]


def _interaction_payload(
    bot: StewardBot, name: str, options: dict[str, Any], channel: int, roles: list[int]
) -> dict[str, Any]:
    command = bot.tree.get_command(name)
    assert isinstance(command, discord.app_commands.Command)
    types = {p.display_name: p.type.value for p in command.parameters}
    who = payloads.member(USER, "alice", roles, NOW)
    values = [{"name": k, "type": types[k], "value": v} for k, v in options.items()]
    payload = payloads.command_interaction(
        APP_ID,
        GUILD,
        channel,
        who,
        name,
        values,
        dm=channel == DM,  # type: ignore[arg-type]
    )
    return dict(payload)


async def invoke(
    bot: StewardBot,
    name: str,
    *,
    channel: int = CHANNEL,
    roles: tuple[int, ...] = (MEMBER_ROLE,),
    **options: Any,
) -> FakeDiscord:
    """Run one slash command as Discord would deliver it; returns what the bot sent."""
    fake = FakeDiscord()
    reset = async_context.set(fake)  # type: ignore[arg-type]
    try:
        bot._connection.parse_interaction_create(
            _interaction_payload(bot, name, options, channel, list(roles))  # type: ignore[arg-type]
        )
        invoked = [t for t in asyncio.all_tasks() if t.get_name() == "CommandTree-invoker"]
        await asyncio.gather(*invoked)
    finally:
        async_context.reset(reset)
    for body in fake.messages:  # every message, every command: no pings, within limits
        assert body["allowed_mentions"] == {"parse": []}
        assert len(body.get("content") or "") <= 2000
        assert sum(_embed_size(e) for e in body.get("embeds", [])) <= 6000
    return fake


def _embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts against an embed's 6,000 limit."""
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [embed.get("footer", {}).get("text", "")]
    parts += [f["name"] + f["value"] for f in embed.get("fields", [])]
    return sum(len(p) for p in parts)


# ---- fixtures ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("discord") / "template.db")


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[RecordStore]:
    s = copy_store(template, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(PROJECT / "config" / "policies" / "ens-constitution.md")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def services(store: RecordStore, policy: Policy) -> Services:
    settings = DiscordSettings(channels=[CHANNEL], admin_roles=[ADMIN_ROLE], guild_ids=[GUILD])
    return Services(
        settings=settings,
        store=store,
        policy=lambda: policy,
        ask=lambda q: Answer(question=q, text="Nothing stored answers this.", found=False),
        limiter=RateLimiter(3, clock=Clock()),
        now=lambda: NOW,
    )


@pytest_asyncio.fixture
async def make_bot(services: Services) -> Callable[..., Any]:
    async def make(**changes: Any) -> StewardBot:
        for key, value in changes.items():
            setattr(services, key, value)
        bot = StewardBot(services)
        await bot._async_setup_hook()  # what login does: binds the client to this loop
        me = {"id": str(APP_ID), "username": "Steward", "discriminator": "0", "avatar": None}
        bot._connection.user = discord.ClientUser(state=bot._connection, data=me)  # as READY
        bot._connection.parse_guild_create(_guild_payload())  # type: ignore[arg-type]
        return bot

    return make


# ---- channel and role rules ----------------------------------------------------------
@pytest.mark.asyncio
async def test_commands_answer_only_in_configured_channels(make_bot: Any) -> None:
    bot = await make_bot()
    for where in (ELSEWHERE, DM):
        [refusal] = (await invoke(bot, "policy", channel=where)).messages
        assert refusal["flags"] & EPHEMERAL
        assert "only answers in the channels" in refusal["content"]
    [answer] = (await invoke(bot, "policy")).messages
    assert not answer.get("flags", 0) & EPHEMERAL
    assert answer["embeds"][0]["title"].startswith("Policy")


@pytest.mark.asyncio
async def test_subscribe_and_unsubscribe_need_an_admin_role(
    make_bot: Any, store: RecordStore
) -> None:
    bot = await make_bot()
    [refusal] = (await invoke(bot, "subscribe", space="ens.eth")).messages
    assert refusal["flags"] & EPHEMERAL and "admin role" in refusal["content"]
    assert store.subscriptions() == []

    admin = (ADMIN_ROLE,)
    replies = [
        (await invoke(bot, cmd, roles=admin, space="ens.eth")).messages[0]["content"]
        for cmd in ("subscribe", "subscribe", "unsubscribe", "unsubscribe")
    ]
    assert [r.split(" ens")[0] for r in replies] == [
        "This channel now follows",
        "This channel already follows",
        "This channel no longer follows",
        "This channel was not following",
    ]
    await invoke(bot, "subscribe", roles=admin, space="ens.eth")
    assert store.subscriptions() == [(str(CHANNEL), "ens.eth")]
    [bad] = (await invoke(bot, "subscribe", roles=admin, space="@everyone x")).messages
    assert bad["flags"] & EPHEMERAL and "space id" in bad["content"]


def test_access_rules_are_plain_functions() -> None:
    settings = DiscordSettings(channels=[CHANNEL], admin_roles=[ADMIN_ROLE])
    assert command_allowed(CHANNEL, settings) and not command_allowed(ELSEWHERE, settings)
    assert not command_allowed(None, settings)
    assert is_admin([MEMBER_ROLE, ADMIN_ROLE], settings) and not is_admin([MEMBER_ROLE], settings)
    assert not is_admin([ADMIN_ROLE], DiscordSettings())  # no admin roles: nobody is admin

    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.hit(1) and limiter.hit(1) and not limiter.hit(1) and limiter.hit(2)
    clock.t += 30
    assert limiter.retry_after(1) == 30.0
    clock.t += 30
    assert limiter.hit(1)


# ---- the commands --------------------------------------------------------------------
@pytest.mark.asyncio
async def test_proposals_lists_pages_and_filters(make_bot: Any) -> None:
    bot = await make_bot()
    [first] = (await invoke(bot, "proposals")).messages
    assert first["embeds"][0]["footer"]["text"] == "page 1/2 · 18 proposals"
    [last] = (await invoke(bot, "proposals", space="ens.eth", page=9)).messages
    assert last["embeds"][0]["footer"]["text"].startswith("page 2/2")
    [closed] = (await invoke(bot, "proposals", state="closed")).messages
    assert "Lower .eth renewal fees" in closed["embeds"][0]["description"]
    assert closed["embeds"][0]["footer"]["text"] == "page 1/1 · 1 proposal"


@pytest.mark.asyncio
async def test_proposal_shows_the_assessment_or_a_private_not_found(make_bot: Any) -> None:
    bot = await make_bot()
    [shown] = (await invoke(bot, "proposal", id="ep-goods")).messages
    embed = shown["embeds"][0]
    assert embed["title"] == "Fund the Public Goods working group"
    assert "FOR" in embed["fields"][0]["value"]
    [missing] = (await invoke(bot, "proposal", id="nope")).messages
    assert missing["flags"] & EPHEMERAL and "No stored proposal matches" in missing["content"]


@pytest.mark.asyncio
async def test_hostile_titles_never_ping_or_link(make_bot: Any) -> None:
    bot = await make_bot()
    sent = [
        *(await invoke(bot, "proposal", id="ep-hostile")).messages,
        *(await invoke(bot, "proposals")).messages,
        *(await invoke(bot, "digest", since="30d")).messages,
    ]
    text = json.dumps(sent, ensure_ascii=False)
    assert "@everyone" in HOSTILE and "@everyone" not in text and "@here" not in text
    assert "<@&" not in text and "](https://evil" not in text
    assert all(body["allowed_mentions"] == {"parse": []} for body in sent)


@pytest.mark.asyncio
async def test_digest_is_split_into_discord_sized_messages(make_bot: Any) -> None:
    bot = await make_bot()
    fake = await invoke(bot, "digest", since="1d")
    kinds = [kind for kind, _ in fake.requests]
    assert kinds[0] == "response" and set(kinds[1:]) == {"followup"} and len(kinds) >= 2
    bodies = fake.messages
    assert all(0 < len(b["content"]) <= 2000 for b in bodies)
    assert all(b["flags"] & SUPPRESS_EMBEDS for b in bodies)  # no link previews
    assert "Grant round 14" in "".join(b["content"] for b in bodies)
    [bad] = (await invoke(bot, "digest", since="soon")).messages
    assert bad["flags"] & EPHEMERAL and "cannot read the duration" in bad["content"]


@pytest.mark.asyncio
async def test_ask_defers_then_follows_up_within_a_per_user_rate_limit(make_bot: Any) -> None:
    clock = Clock()
    bot = await make_bot(limiter=RateLimiter(2, clock=clock))
    for _ in range(2):
        fake = await invoke(bot, "ask", question="who funds public goods?")
        assert [k for k, _ in fake.requests] == ["response", "followup"]
        assert fake.requests[0][1]["type"] == 5  # deferred: "Steward is thinking…"
    [limited] = (await invoke(bot, "ask", question="and now?")).messages
    assert limited["flags"] & EPHEMERAL and "try again in 60 s" in limited["content"]
    clock.t += 61
    assert len((await invoke(bot, "ask", question="and now?")).messages) == 1


@pytest.mark.asyncio
async def test_ask_answers_from_the_real_index(
    make_bot: Any, store: RecordStore, embedder: Any, tmp_path: Path
) -> None:
    from agent.indexer import sync_index
    from tests.indexes import chroma_index

    index = chroma_index(store, tmp_path / "chroma", "discord-test")
    sync_index(store, index, lambda: embedder, ChunkingSettings())
    bot = await make_bot(
        ask=lambda q: answer_question(q, index=index, embedder=embedder, store=store)
    )
    fake = await invoke(bot, "ask", question="How much USDC goes to the public goods group?")
    [answer] = fake.messages
    embed = answer["embeds"][0]
    assert "archive:ep-goods" in embed["fields"][0]["value"]
    assert "100,000 USDC" in embed["description"]


@pytest.mark.asyncio
async def test_unexpected_errors_become_a_short_private_reply(make_bot: Any) -> None:
    def broken() -> Policy:
        raise RuntimeError("boom: token=sekrit-token-123")

    bot = await make_bot(policy=broken)
    [reply] = (await invoke(bot, "policy")).messages
    assert reply["flags"] & EPHEMERAL
    assert "Something went wrong" in reply["content"]
    assert "sekrit" not in reply["content"] and "Traceback" not in reply["content"]


@pytest.mark.asyncio
async def test_commands_register_per_guild_and_globally_only_when_asked(
    services: Services,
) -> None:
    from connectors.discord_bot.bot import register_commands

    class Tree:
        def __init__(self) -> None:
            self.calls: list[tuple[str, int | None]] = []

        def copy_global_to(self, *, guild: discord.Object) -> None:
            self.calls.append(("copy", guild.id))

        async def sync(self, *, guild: discord.Object | None = None) -> list[Any]:
            self.calls.append(("sync", guild.id if guild else None))
            return []

    tree = Tree()
    await register_commands(tree, DiscordSettings(guild_ids=[GUILD]))  # type: ignore[arg-type]
    assert tree.calls == [("copy", GUILD), ("sync", GUILD)]
    tree = Tree()
    await register_commands(tree, DiscordSettings(global_commands=True))  # type: ignore[arg-type]
    assert tree.calls == [("sync", None)]
    bot = StewardBot(services)
    assert bot.intents == discord.Intents(guilds=True)  # no message content, no members
    assert {c.name for c in bot.tree.get_commands()} == {
        *("proposals", "proposal", "delegate", "ask", "digest", "policy"),
        *("subscribe", "unsubscribe"),
    }


def test_to_kwargs_maps_every_part_and_disables_mentions() -> None:
    from agent.chat.models import Embed, EmbedField, Message

    message = Message(
        content="@everyone hi",
        embeds=[
            Embed(
                title="T",
                url="https://snapshot.org/x",
                description="D",
                colour=0x2ECC71,
                fields=[EmbedField(name="N", value="V", inline=True)],
                footer="F",
            )
        ],
        ephemeral=True,
    )
    kwargs = to_kwargs(message)
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert kwargs["ephemeral"] and not kwargs["suppress_embeds"]
    assert kwargs["embeds"][0].to_dict() == {
        **{"title": "T", "url": "https://snapshot.org/x", "description": "D"},
        **{"color": 0x2ECC71, "type": "rich", "footer": {"text": "F"}, "flags": 0},
        "fields": [{"name": "N", "value": "V", "inline": True}],
    }
    assert "ephemeral" not in to_kwargs(message, channel=True)


# ---- the CLI twins: `steward bot --dry-run` and `steward ask` ----------------------------
def _cli() -> Any:
    """`steward` with the bot commands registered (as `_register_more` does)."""
    import typer

    from agent.cli import bot_cmd
    from agent.cli import main as cli_main

    app = typer.Typer()
    app.callback()(cli_main.main)
    bot_cmd.register(app, cli_main._app)
    return app


def test_steward_bot_needs_a_token_and_dry_run_does_not(
    template: Path, steward_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    steward_home.mkdir(parents=True)
    copy_store(template, steward_home).close()
    runner, app = CliRunner(), _cli()
    missing = runner.invoke(app, ["bot"])
    assert missing.exit_code == 2 and "no Discord bot token" in missing.stderr

    monkeypatch.setenv("STEWARD__DISCORD__TOKEN", "sekrit-token-123")
    monkeypatch.setenv("STEWARD__DISCORD__DIGEST_CHANNELS", f"[{CHANNEL}]")
    shown = runner.invoke(app, ["bot", "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert "=== digest" in shown.stdout and str(CHANNEL) in shown.stdout
    assert "sekrit" not in shown.output
    data = json.loads(runner.invoke(app, ["bot", "--dry-run", "--json"]).stdout)
    assert data["planned"] or data["digest_preview"]["messages"]
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    assert store.unsent_posts() == []  # a dry run claims nothing in the post log
    store.close()


def test_steward_ask_prints_what_slash_ask_would(
    template: Path, steward_home: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from agent.app import App
    from agent.indexer import sync_index
    from agent.settings import load_settings

    monkeypatch.setattr(App, "embedder", lambda self: embedder)
    steward_home.mkdir(parents=True)
    app = App(load_settings())
    copy_store(template, steward_home).close()
    sync_index(app.store, app.index, lambda: embedder, ChunkingSettings())
    app.close()
    runner = CliRunner()
    out = runner.invoke(_cli(), ["ask", "How much USDC goes to the public goods group?"])
    assert out.exit_code == 0, out.output
    assert "100,000 USDC" in out.stdout and "archive:ep-goods" in out.stdout
    data = json.loads(runner.invoke(_cli(), ["ask", "cooking recipes for pasta", "--json"]).stdout)
    assert data["found"] is False and data["method"] == "none"


# ---- who decides: /delegate and /proposal's concentration field ----------------------
WHALE, SMALL = "0x" + "ab" * 20, "0x" + "cd" * 20


def _votes(store: RecordStore, reason: str = "") -> None:
    uid = "archive:ep-goods"
    rows = [(WHALE, 1, 5000.0, reason), (SMALL, 2, 10.0, "")]
    rows += [(f"0x{i:040x}", 2, 20.0, "") for i in range(6)]
    store.apply_votes(
        [
            Vote(
                source="archive",
                id=f"v{n}",
                proposal_uid=uid,
                space="ens.eth",
                voter=voter,
                choice=choice,
                voting_power=power,
                reason=why,
                created=NOW,
            )
            for n, (voter, choice, power, why) in enumerate(rows)
        ]
    )


@pytest.mark.asyncio
async def test_delegate_shows_a_record_or_a_private_not_found(
    make_bot: Any,
    store: RecordStore,
) -> None:
    _votes(store, reason=HOSTILE)
    bot = await make_bot()
    [shown] = (await invoke(bot, "delegate", address=WHALE.upper().replace("0X", "0x"))).messages
    embed = shown["embeds"][0]
    assert embed["title"] == f"Delegate {WHALE}"
    assert "**1** vote(s)" in embed["description"]
    names = [f["name"] for f in embed["fields"]]
    assert names[:2] == ["Choices", "With the outcome"] and "Stated reasons" in names
    reasons = next(f["value"] for f in embed["fields"] if f["name"] == "Stated reasons")
    assert "@everyone" not in reasons and "](https://evil" not in reasons  # quoted, defused
    [missing] = (await invoke(bot, "delegate", address="0xnobody")).messages
    assert missing["flags"] & EPHEMERAL and "No stored votes from 0xnobody" in missing["content"]


@pytest.mark.asyncio
async def test_proposal_says_who_decides_an_open_vote(
    make_bot: Any,
    store: RecordStore,
) -> None:
    bot = await make_bot()
    [before] = (await invoke(bot, "proposal", id="ep-goods")).messages
    field = next(f for f in before["embeds"][0]["fields"] if f["name"] == "Who decides")
    assert "no votes stored yet" in field["value"]
    _votes(store)
    [after] = (await invoke(bot, "proposal", id="ep-goods")).messages
    field = next(f for f in after["embeds"][0]["fields"] if f["name"] == "Who decides")
    assert "Few voters decide: 1 voter holds a majority" in field["value"]
    assert "8 voters" in field["value"] and "Nakamoto 1" in field["value"]


def test_builders_stay_within_discord_limits() -> None:
    c = Concentration(proposal_uid="u", voters=3, nakamoto=1, few_decide=True, gini=0.5)
    assert len(concentration_text(c, True, [])) <= 1024
    assert "Few voters" not in concentration_text(c, False, [])  # closed: figures, no warning
