"""Personal keywords (/papers me ...) on a real store holding the synthetic 2025-04-21 listing:
privacy, limits, delivery choices, and how they reach the scheduler's directory."""

from __future__ import annotations

from bot.commands import CommandExecutor
from bot.commands.responses import INVALID, OK, REFUSED, Lines, PaperList
from bot.config import parse_settings
from bot.destinations.channels import ChannelSubscriptions
from bot.daily import digest_for, match_day
from bot.destinations.people import personal_destination_key
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.store.personal import PersonRef

from .conftest import NOW, SEED_DAY, context

ANNA = context(user="U0ANNA", can_manage=False)
BEN = context(user="U0BEN", can_manage=False)
ANNA_ELSEWHERE = context(workspace="T0002", user="U0ANNA")


def matched_ids(papers, query: str) -> list[str]:
    subscription = Subscription("check", parse_query(query), types=frozenset(("new", "cross")))
    return sorted({m.paper.id for m in compile_subscriptions([subscription]).match(papers)})


def lines(response) -> str:
    return "\n".join(line for s in response.sections if isinstance(s, Lines) for line in s.lines)


async def test_add_list_remove_are_private_and_per_person(executor, store, synthetic_listing):
    added = await executor.execute(ANNA, "me add MLLM")
    assert added.outcome == OK and added.ephemeral
    expected = matched_ids(synthetic_listing.papers, "MLLM")
    assert f"would have matched {len(expected)} papers of {len(synthetic_listing.papers)}" in lines(added)
    [preview] = [s for s in added.sections if isinstance(s, PaperList)]
    assert {item.paper.id for item in preview.items} <= set(expected)
    assert "one direct message per announcement day (the default" in lines(added)
    await executor.execute(ANNA, 'me add "world model"')

    mine = await executor.execute(ANNA, "me list")
    assert mine.ephemeral and "1. MLLM" in lines(mine) and '2. "world model"' in lines(mine)
    # Ben, in the same channel, sees only his own (empty) list and cannot remove Anna's.
    his = await executor.execute(BEN, "me list")
    assert his.ephemeral and "MLLM" not in his.plain_text() and his.text.startswith("You have no")
    assert (await executor.execute(BEN, "me remove 1")).outcome == INVALID
    assert (await executor.execute(BEN, "me remove all")).outcome == INVALID
    # The same person in another workspace is another list.
    assert (await executor.execute(ANNA_ELSEWHERE, "me list")).text.startswith("You have no")
    rows = await store.run(lambda s: s.people.list_personal(PersonRef("slack", "T0001", "U0ANNA")))
    assert [r.query for r in rows] == ["MLLM", '"world model"']

    removed = await executor.execute(ANNA, "me remove 1")
    assert removed.outcome == OK and removed.text.startswith("Removed your personal keyword 1: MLLM")
    assert (await executor.execute(ANNA, "me remove 5")).outcome == INVALID
    assert (await executor.execute(ANNA, "me remove all")).text == "Removed all 1 personal subscription of yours."


async def test_same_language_and_limits_as_channels(store, synthetic_listing):
    settings = parse_settings({"limits": {"subscriptions_per_user": 2, "query_length": 20}})
    executor = CommandExecutor(store, settings)
    bad = await executor.execute(ANNA, "me add diffusion AND")
    assert bad.outcome == INVALID and bad.ephemeral and "expected a term" in bad.text
    assert (await executor.execute(ANNA, "me add " + "x" * 21)).outcome == INVALID
    assert (await executor.execute(ANNA, "me add VLM")).outcome == OK
    duplicate = await executor.execute(ANNA, 'me add "VLM"')
    assert duplicate.outcome == INVALID and "already follow VLM" in duplicate.text
    assert (await executor.execute(ANNA, "me add MLLM")).outcome == OK
    full = await executor.execute(ANNA, "me add robot")
    assert full.outcome == REFUSED and "limits.subscriptions_per_user is 2" in full.text
    assert (await executor.execute(BEN, "me add robot")).outcome == OK  # the limit is per person


async def test_delivery_choices_reach_the_directory_and_one_matcher_pass(executor, store, synthetic_listing):
    await executor.execute(context(user="U0LAB"), "subscribe VLM")
    await executor.execute(ANNA, "me add MLLM")
    await executor.execute(ANNA, "me deliver here")
    await executor.execute(BEN, 'me add "vision language model"')
    await executor.execute(context(user="U0CAROL"), "me add robot")
    off = context(user="U0DAN")
    await executor.execute(off, "me add diffusion")
    assert (await executor.execute(off, "me deliver off")).outcome == OK
    elsewhere = context(user="U0EVE", channel="C0OTHER", channel_name="random")
    await executor.execute(elsewhere, "me add MLLM")
    await executor.execute(elsewhere, "me deliver here")

    directory = await ChannelSubscriptions(store, "slack").load()
    by_key = {d.key: d for d in directory.destinations}
    channel = by_key["slack:T0001:C0001"]
    assert set(channel.mention_subscriptions) == {"U0ANNA"}
    assert channel.subscriptions_text == ("VLM",)  # personal keywords never join the channel's text
    # A channel with only a `here` person still gets its thread; dm people get their own key.
    assert by_key["slack:T0001:C0OTHER"].subscription_ids == ()
    assert by_key["slack:T0001:C0OTHER"].title == "random"
    assert {k for k in by_key if "-dm:" in k} == {"slack-dm:T0001:U0BEN", "slack-dm:T0001:U0CAROL"}
    assert by_key["slack-dm:T0001:U0BEN"].options["direct"] is True
    assert all("U0DAN" not in k for k in by_key)
    # Every subscription (channel and personal) in one list, so one matcher pass serves them all.
    ids = [s.id for s in directory.subscriptions]
    assert len(ids) == len(set(ids)) == 5

    by_subscription = await match_day(store, SEED_DAY, directory.subscriptions)
    digest = digest_for(channel, SEED_DAY, by_subscription)
    assert sorted(digest.paper_ids) == matched_ids(synthetic_listing.papers, "VLM")
    assert set(digest.mentions) == {"U0ANNA"}
    assert sorted(digest.mentions["U0ANNA"]) == matched_ids(synthetic_listing.papers, "MLLM")
    assert {i.paper.id for i in digest.mention_items} == set(digest.mentions["U0ANNA"])
    only_people = digest_for(by_key["slack:T0001:C0OTHER"], SEED_DAY, by_subscription)
    assert only_people.is_empty and only_people.has_thread


async def test_paused_direct_messages_show_in_me_list_and_resume_on_dm(executor, store):
    await executor.execute(ANNA, "me add MLLM")
    key = personal_destination_key(PersonRef("slack", "T0001", "U0ANNA"))
    await store.run(lambda s: s.ledger.pause_destination(key, "Slack says this person cannot "
                                                       "receive direct messages (user_disabled)", NOW))
    listed = await executor.execute(ANNA, "me list")
    assert "Paused: Slack says this person cannot receive direct messages" in lines(listed)
    assert listed.text.startswith("Your direct messages are paused")
    assert "paused" not in (await executor.execute(BEN, "me list")).plain_text().lower()
    await executor.execute(ANNA, "me deliver dm")
    assert await store.run(lambda s: s.ledger.paused_reason(key)) is None


async def test_a_form_replaces_the_whole_list_or_saves_nothing(executor, store):
    await executor.execute(ANNA, "me add robot")
    bad = await executor.personal.replace_all(ANNA, "MLLM\n\ndiffusion AND\n(")
    assert bad.outcome == INVALID and bad.text.startswith("Nothing was saved: line 2:")
    assert "line 3" in bad.text
    assert "1. robot" in lines(await executor.execute(ANNA, "me list"))
    good = await executor.personal.replace_all(ANNA, " MLLM \n\n\"world model\"\nMLLM\n")
    assert good.outcome == OK and good.text == "Saved 2 personal keywords."
    listed = lines(await executor.execute(ANNA, "me list"))
    assert "1. MLLM" in listed and '2. "world model"' in listed and "robot" not in listed
    too_many = await executor.personal.replace_all(ANNA, "\n".join(f"a{n}" for n in range(26)))
    assert too_many.outcome == REFUSED
    emptied = await executor.personal.replace_all(ANNA, "")
    assert emptied.text == "Your personal keywords are now empty."


async def test_overview_has_todays_personal_matches(executor, store, synthetic_listing):
    await executor.execute(ANNA, "me add MLLM")
    view = await executor.personal.overview(ANNA)
    assert view.day == SEED_DAY and view.digest is not None
    assert sorted(view.digest.paper_ids) == matched_ids(synthetic_listing.papers, "MLLM")
    assert view.delivery.mode == "dm" and not view.delivery.chosen


async def test_a_form_addition_matches_the_latest_day_once_for_answer_and_overview(executor, store,
                                                                                   synthetic_listing):
    """The Slack Home tab's Add keywords: the answer (its notice) and the overview shown next come
    from ONE match of the person's keywords over the latest day; the preview is the new keyword's
    share of it, the same as `/papers me add` says."""
    await executor.execute(ANNA, 'me add "world model"')
    worker = executor.services.worker
    kept_before = set(worker._results)
    answer, view = await executor.personal.add_from_form(ANNA, "MLLM")
    expected = matched_ids(synthetic_listing.papers, "MLLM")
    assert answer.outcome == OK and answer.text.startswith("Added to your personal keywords: MLLM (number 2)")
    assert f"would have matched {len(expected)} papers of {len(synthetic_listing.papers)}" in lines(answer)
    [preview] = [s for s in answer.sections if isinstance(s, PaperList)]
    assert {item.paper.id for item in preview.items} <= set(expected)
    assert [row.query for row in view.subscriptions] == ['"world model"', "MLLM"]
    both = set(expected) | set(matched_ids(synthetic_listing.papers, '"world model"'))
    assert view.digest.total == len(both)
    # One matcher question asked for this submission (the overview's), none for the preview.
    assert len([key for key in worker._results if key not in kept_before]) == 1

    # A refusal still comes with the overview to show under it; nothing is saved twice.
    refused, view = await executor.personal.add_from_form(ANNA, '"MLLM"')
    assert refused.outcome == INVALID and "already follow MLLM" in refused.text
    assert [row.query for row in view.subscriptions] == ['"world model"', "MLLM"]
    refused, view = await executor.personal.add_from_form(ANNA, "diffusion AND")
    assert refused.outcome == INVALID and "could not read that query" in refused.text
