"""Whatever anyone types after /papers, the answer is a Response, never an exception or a bug."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from bot.commands import CommandContext, CommandExecutor
from bot.commands.grammar import COMMAND_NAMES
from bot.commands.responses import INTERNAL, Response
from bot.config import parse_settings
from bot.store import AsyncStore

from .conftest import SEED_DAY, fixed_clock

WORDS = [*COMMAND_NAMES, "all", "1", "0", "-1", "99", "time", "tz", "types", "max", "empty", "note",
         "silent", "09:00", "25:00", "Europe/Berlin", "new,cross", "replace", "AND", "OR", "NOT", "-",
         "(", ")", '"', ",", "ti:", "cat:cs.CV", "au:", "VLM", "MLLM", "add", "remove", "deliver", "dm",
         "query", "\u201c", "*", "NEAR(", "\x00", "\u202e", "💥"]

word = st.sampled_from(WORDS) | st.text(max_size=8)
# Mostly command-shaped text, so every command's argument handling is reached, plus pure noise.
commands = st.tuples(st.sampled_from(COMMAND_NAMES), st.lists(word, max_size=6)).map(
    lambda parts: " ".join([parts[0], *parts[1]]))
texts = st.one_of(
    commands,
    commands,
    st.tuples(st.sampled_from(COMMAND_NAMES), st.text(max_size=60)).map(" ".join),
    st.lists(word, max_size=8).map(" ".join),
    st.text(max_size=80),
)
contexts = st.builds(
    CommandContext,
    platform=st.sampled_from(["slack", "discord", "teams"]),
    workspace=st.sampled_from(["T1", "9001"]),
    channel=st.sampled_from(["C1", "C2"]),
    user=st.just("U1"),
    can_manage=st.booleans(),
    channel_name=st.none() | st.text(max_size=10),
)


def test_execute_always_answers(tmp_path, synthetic_listing):
    with asyncio.Runner() as runner:
        store = runner.run(AsyncStore.open(tmp_path / "fuzz.db", clock=fixed_clock))
        runner.run(store.run(lambda s: s.papers.save_listing(SEED_DAY, synthetic_listing.papers)))
        # A low limit, so the fuzzer also reaches the "too many subscriptions" path.
        executor = CommandExecutor(store, parse_settings({"limits": {"subscriptions_per_channel": 3}}))
        outcomes: set[str] = set()

        @hypothesis_settings(max_examples=400, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(ctx=contexts, text=texts)
        def answers(ctx: CommandContext, text: str) -> None:
            reply = runner.run(executor.execute(ctx, text))
            assert isinstance(reply, Response)
            assert reply.outcome != INTERNAL, (text, reply.text)
            assert reply.text.strip()
            reply.plain_text()
            outcomes.add(reply.outcome)

        try:
            answers()
        finally:
            runner.run(store.close())
    assert {"ok", "invalid", "refused"} <= outcomes  # the run reached more than the parser
