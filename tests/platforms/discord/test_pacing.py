"""The bot-wide request pace: never more than `per_second + burst` requests in any second."""

from __future__ import annotations

import pytest

from bot.platforms.discord.pacing import RequestPace


def test_a_burst_then_the_pace_and_no_second_over_the_limit():
    now = [0.0]
    pace = RequestPace(40, burst=5, monotonic=lambda: now[0])
    sent_at = [now[0] + pace.reserve() for _ in range(400)]   # 400 callers at once
    assert sent_at[:5] == [0.0] * 5 and sent_at == sorted(sent_at)
    assert max(sum(1 for t in sent_at if start <= t < start + 1) for start in sent_at) <= 45
    assert 9.5 <= sent_at[-1] <= 10.0   # 40 a second overall


def test_a_quiet_spell_refills_the_burst_but_no_more():
    now = [0.0]
    pace = RequestPace(10, burst=3, monotonic=lambda: now[0])
    pace.reserve()
    now[0] = 100.0
    assert [pace.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])
