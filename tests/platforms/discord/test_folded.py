"""`/papers settings max N` in a Discord thread: the top N papers as embeds, then ONE final
"more papers" message listing the rest as links, through the ledger (no duplicates on resume)."""

from __future__ import annotations

from bot.delivery.runner import DONE
from bot.platforms.discord.render import FOLDED_HEADING, folded_paper_ids, pack_folded
from bot.digest.card import paper_cards
from bot.digest.model import DigestItem
from tests.fakes.discord import MANAGER
from tests.platforms.discord.conftest import SEED_DAY
from tests.platforms.discord.test_delivery import deliver_all_days, subscribe, thread_papers
from tests.platforms.slack.test_sink import synthetic
from tests.platforms.slack.test_folded import capped_digest


async def set_max(fake, n: int) -> None:
    interaction = await fake.slash_command("papers", "settings", {"max": n}, permissions=MANAGER)
    reply = await fake.wait_for_callback(interaction)
    assert reply["data"]["content"].startswith("Settings changed"), reply


async def test_the_top_n_then_one_message_with_the_rest_as_links(fake, store, bot, clock):
    await subscribe(fake)
    await set_max(fake, 3)
    text = fake.guild.text_channel
    result, digest = (await deliver_all_days(bot, clock))[str(text)]
    assert result.outcome == DONE and len(digest.items) == 3 and digest.truncated >= 1
    thread = int(fake.messages[text][-1]["id"])
    messages = fake.thread_messages(thread)
    parent = fake.messages[text][-1]["content"]
    assert (f"The top 3 are in the thread (this channel's daily maximum); the other {digest.truncated} "
            "are listed as links at its end.") in parent
    assert thread_papers(fake, thread) == list(digest.paper_ids)   # Abstract buttons: the top 3 only
    final = messages[-1]
    assert final["content"].startswith(f"{FOLDED_HEADING}: {digest.truncated} more paper")
    assert "daily maximum of 3" in final["content"]
    assert folded_paper_ids(final["content"]) == [p.id for p in digest.folded]
    assert len(final["content"]) <= 2000 and not final.get("components")
    [fold_call] = [c for c in fake.calls_to("POST", rf"/channels/{thread}/messages") if "embeds" not in (c.json or {})
                   or not c.json.get("embeds")]
    assert fold_call.json["allowed_mentions"] == {"parse": []}   # a title can never ping
    recorded = await store.run(lambda s: s.ledger.delivered_paper_ids(result.destination, SEED_DAY))
    assert set(recorded) == {*digest.paper_ids, *(p.id for p in digest.folded)}

    # A crash after Discord took the messages but before the ledger recorded them: the thread
    # itself says what is there (buttons, and the fold's links), so nothing is posted twice.
    key = result.destination
    await store.run(lambda s: s.db.execute("DELETE FROM delivered_papers WHERE destination = ?", [key]))
    await store.run(lambda s: s.db.execute("UPDATE deliveries SET state = 'posting' WHERE destination = ?", [key]))
    before = len(fake.thread_messages(thread))
    again = (await deliver_all_days(bot, clock))[str(text)][0]
    assert again.outcome == DONE and again.messages == 0
    assert len(fake.thread_messages(thread)) == before


def test_many_folded_papers_are_split_within_2000_characters():
    digest = capped_digest(type("D", (), {"key": "discord:1:2", "title": "t"})(), synthetic(300, huge=True), 2)
    cards = paper_cards(DigestItem(paper=p) for p in digest.folded)
    packed = pack_folded(digest, cards)
    assert len(packed) > 1
    assert [pid for ids, _ in packed for pid in ids] == [p.id for p in digest.folded]
    for number, (ids, content) in enumerate(packed):
        assert len(content) <= 2000 and folded_paper_ids(content) == list(ids)
        assert content.startswith(FOLDED_HEADING)
        assert ("(continued)" in content.splitlines()[0]) == (number > 0)
