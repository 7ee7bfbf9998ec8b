"""`/papers export bibtex` on Discord: the .bib file attached to the reply (multipart, checked by
the fake against Discord's rules); without Attach Files, or over the size limit, the text in code
blocks instead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import bibtexparser

from bot.store.personal import PersonRef
from tests.conftest import eventually
from tests.fakes.discord import BOT_INVITE, MEMBER
from tests.fakes.discord.permissions import ATTACH_FILES


async def vote(store, fake, papers, value=1):
    key = f"discord:{fake.guild.id}:{fake.guild.text_channel}"
    stamp = datetime.now(timezone.utc) - timedelta(days=2)
    await store.run(lambda s: [s.votes.cast(key, p.id, PersonRef("discord", str(fake.guild.id), "42"), value, stamp)
                               for p in papers])


async def export(fake, period=None):
    options = {"format": "bibtex", **({"period": period} if period else {})}
    interaction = await fake.slash_command("papers", "export", options, permissions=MEMBER)
    await fake.wait_for_callback(interaction)
    return interaction


def posted_with_file(fake, interaction):
    callback = fake.callbacks[interaction]
    followups = fake.followups.get(interaction, [])
    return callback, followups


async def test_the_bib_file_is_attached(fake, store, bot, synthetic_listing):
    papers = synthetic_listing.papers[:4]
    await vote(store, fake, papers)
    interaction = await export(fake)
    reply = fake.interaction_reply(interaction)
    assert reply["content"].startswith("4 papers with more 👍 than 👎 in this channel")
    [attachment] = reply["attachments"]
    assert attachment["filename"].startswith("paperbot-ml-papers-week-") and attachment["filename"].endswith(".bib")
    [stored] = [m for m in [fake._interactions[interaction].get("original")] if m]
    [file] = stored["attachments"]
    content = fake.uploads[file["id"]].decode("utf-8")
    assert sorted(e["eprint"] for e in bibtexparser.loads(content).entries) == sorted(p.id for p in papers)


async def test_without_attach_files_the_text_comes_in_code_blocks(fake, store, bot, synthetic_listing):
    fake.set_bot_permissions(BOT_INVITE & ~ATTACH_FILES)
    papers = synthetic_listing.papers[:12]
    await vote(store, fake, papers)
    interaction = await export(fake)
    await eventually(lambda: len(fake.followups.get(interaction, [])) >= 2, what="the BibTeX as text")
    followups = fake.followups[interaction]
    assert "Attach Files" in followups[0]["content"]
    bib = "\n".join(f["content"].split("```\n", 1)[1].rsplit("\n```", 1)[0] for f in followups)
    assert sorted(e["eprint"] for e in bibtexparser.loads(bib).entries) == sorted(p.id for p in papers)
    assert all(len(f["content"]) <= 2000 for f in followups)
    assert not fake.uploads


async def test_nothing_voted_is_a_clear_private_message(fake, store, bot):
    interaction = await export(fake, "month")
    reply = fake.interaction_reply(interaction)
    assert reply["content"].startswith("No paper here has more 👍 than 👎 from votes in the last 30 days")
    assert reply["flags"] & 64


async def test_over_the_upload_limit_the_text_comes_instead(fake, store, bot, synthetic_listing):
    fake.upload_limit = 100   # Discord answers 413 / 40005 over its limit (10 MiB for a bot)
    papers = synthetic_listing.papers[:2]
    await vote(store, fake, papers)
    interaction = await export(fake)
    await eventually(lambda: fake.followups.get(interaction), what="the BibTeX as text")
    assert "too large to attach" in fake.followups[interaction][0]["content"]
    assert fake.interaction_reply(interaction)["content"].startswith("2 papers with more 👍")
    assert not fake.uploads


async def test_a_deferred_export_sends_the_file_with_the_public_followup(fake, store, synthetic_listing):
    from tests.platforms.discord.conftest import running_bot

    async with running_bot(fake, store, defer_after=0.0):
        papers = synthetic_listing.papers[:3]
        await vote(store, fake, papers)
        interaction = await export(fake, "month")
        await eventually(lambda: fake.followups.get(interaction), what="the public followup")
        [followup] = fake.followups[interaction]
        assert followup["content"].startswith("3 papers with more 👍 than 👎")
        [attachment] = followup["attachments"]     # declared in the payload, sent as files[0]
        assert attachment["filename"].endswith(".bib")
        [file_id] = fake.uploads
        entries = bibtexparser.loads(fake.uploads[file_id].decode()).entries
        assert sorted(e["eprint"] for e in entries) == sorted(p.id for p in papers)
