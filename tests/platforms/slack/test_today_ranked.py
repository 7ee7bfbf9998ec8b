"""`/papers today` on Slack after a team voted only 👍 in its daily thread: the real bolt app in
HTTP mode against the fake Slack, the real DeliveryRunner posting the thread (so the ledger holds
what was shown), real button clicks, the real Ranker trained as the daily pass trains it. The
papers shown and passed over teach the model (five 👍 suffice), and `today` then lists the
channel's papers in the learned order, as its next thread."""

from __future__ import annotations

from bot.platforms.slack import render
from bot.ranking import Ranker
from tests.platforms.slack.conftest import CHANNEL, all_texts
from tests.platforms.slack.test_votes import QUERY, UP, click, post_thread


async def test_likes_only_then_today_lists_the_channels_papers_in_the_learned_order(http_slack, slack, store):
    subscribed = await http_slack.command(f"subscribe {QUERY}")
    assert subscribed["response_type"] == "in_channel"
    before = render.shown_paper_ids((await http_slack.command("today"))["blocks"])
    assert len(before) == 10

    thread = await post_thread(slack, store, http_slack.runtime)
    shown = thread.papers()
    liked = shown[-5:]                   # the team likes the last five, and only says so
    for paper_id in liked:
        await click(http_slack, thread, paper_id, UP)

    key = f"slack:{slack.team_id}:{CHANNEL}"
    day_papers = await store.read(lambda s: s.papers.for_day(thread_day(s)))
    ranker = Ranker(store)
    scores = await ranker.scores(key, day_papers)     # what the next daily pass does
    assert scores is not None, "five 👍 and the papers passed over are enough to learn from"
    assert ranker.last_training[0].model.trained_on == len(shown)

    reply = await http_slack.command("today")
    ranked = render.shown_paper_ids(reply["blocks"])
    assert ranked != before and len(ranked) == 10
    assert [scores[p] for p in ranked] == sorted((scores[p] for p in ranked), reverse=True)
    # What they liked comes first (of the liked papers this channel's announce types match).
    liked_shown = [p for p in ranked if p in liked]
    assert len(liked_shown) >= 3 and ranked[:len(liked_shown)] == liked_shown
    assert "showing the top 10" in reply["text"]
    assert any("Ordered as the daily thread" in text for text in all_texts(reply["blocks"]))


def thread_day(store):
    return store.papers.latest_day_version()[0]
