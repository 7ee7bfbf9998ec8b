"""`/papers export bibtex` on Slack: a .bib file shared in the channel through Slack's external
upload (files:write), or, without that scope or outside the channel, the BibTeX as code blocks
split within Block Kit's limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import bibtexparser

from bot.store.personal import PersonRef
from tests.platforms.slack.conftest import CHANNEL, USER, all_texts, slash_command_body

KEY = "slack:{team}:" + CHANNEL


async def vote(store, slack, paper_ids, value=1, user=USER, when=None):
    key = KEY.format(team=slack.team_id)
    stamp = when or datetime.now(timezone.utc) - timedelta(days=1)
    await store.run(lambda s: [s.votes.cast(key, pid, PersonRef("slack", slack.team_id, user), value, stamp)
                               for pid in paper_ids])


async def test_the_bib_file_is_shared_in_the_channel(http_slack, slack, store, seed_papers):
    liked = [p.id for p in seed_papers[:3]]
    await vote(store, slack, liked)
    await vote(store, slack, [seed_papers[2].id], -1, user="U0OTHER")        # net 0: left out
    await vote(store, slack, [seed_papers[5].id], 1, when=datetime.now(timezone.utc) - timedelta(days=20))
    status, _ = await http_slack.post(slash_command_body(slack, "export bibtex", response="export"))
    assert status == 200
    shared = await slack.wait_for(lambda: next((m for m in slack.messages[CHANNEL] if m.get("files")), None))
    [file] = shared["files"]
    assert file["name"].startswith("paperbot-ml-papers-week-") and file["name"].endswith(".bib")
    assert shared["text"].startswith("2 papers with more 👍 than 👎 in this channel, from votes in the last week")
    content = slack.files[file["id"]]["content"].decode("utf-8")
    entries = bibtexparser.loads(content).entries
    assert sorted(e["eprint"] for e in entries) == sorted(liked[:2])
    assert all(e["archiveprefix"] == "arXiv" and e["url"].startswith("https://arxiv.org/abs/") for e in entries)
    assert [c.method for c in slack.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal", "files.completeUploadExternal"]
    assert not [r for r in slack.responses if r["name"] == "export"]   # the file says it all

    # A month reaches the older vote too.
    await http_slack.post(slash_command_body(slack, "export bibtex month", response="month"))
    await slack.wait_for(lambda: len(slack.files) == 2)
    newest = max(slack.files.values(), key=lambda f: f["id"])
    assert len(bibtexparser.loads(newest["content"].decode()).entries) == 3


async def test_without_files_write_the_bibtex_comes_as_code_blocks(http_slack, slack, store, seed_papers):
    slack.scopes.discard("files:write")
    liked = [p.id for p in seed_papers[:20]]
    await vote(store, slack, liked)
    reply = await http_slack.command("export bibtex")
    assert reply["response_type"] == "in_channel" and reply["text"].startswith("20 papers with more 👍")
    code = await slack.wait_for(lambda: [r for r in slack.responses if r["name"] == reply["name"]][1:] or None)
    texts = [t for r in code for t in all_texts(r["blocks"])]
    assert "files:write scope" in texts[0]
    blocks = [t for t in texts if t.startswith("```")]
    assert len(blocks) > 1 and all(len(t) <= 3000 for t in blocks)
    bib = "\n".join(t[3:-3] for t in blocks).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    assert sorted(e["eprint"] for e in bibtexparser.loads(bib).entries) == sorted(liked)
    assert not slack.files


async def test_nothing_voted_is_a_clear_message(http_slack, slack):
    reply = await http_slack.command("export bibtex")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("No paper here has more 👍 than 👎 from votes in the last week")
    bad = await http_slack.command("export bibtex year")
    assert bad["text"].startswith('Unknown period "year"')
