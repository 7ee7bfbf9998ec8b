"""The App Home tab and the Add keywords modal, through signed requests into the real bolt app and
the fake Slack (views.publish / views.open recorded there). Payload shapes follow Slack's
recorded ones in ../shared/fixtures/slack/ (event_callback, block_actions, view_submission)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from bot.platforms.slack import home
from bot.store.personal import PersonRef
from tests.fakes.slack_server import block_errors
from tests.platforms.slack.conftest import USER, all_texts

ANNA, BEN = USER, "U0BEN"


def home_opened_body(fake, user: str) -> str:
    return json.dumps({
        "token": "t", "team_id": fake.team_id, "api_app_id": "A0PAPERBOT", "type": "event_callback",
        "event_id": f"Ev{user}", "event_time": 1745244000,
        "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home",
                  "event_ts": "1745244000.000100"},
        "authorizations": [{"team_id": fake.team_id, "user_id": fake.bot_user_id, "is_bot": True}]})


def interaction_body(fake, user: str, payload: dict) -> str:
    base = {"team": {"id": fake.team_id, "domain": "fake"}, "user": {"id": user, "team_id": fake.team_id},
            "api_app_id": "A0PAPERBOT", "token": "t", "trigger_id": f"trigger-{user}"}
    return urlencode({"payload": json.dumps({**base, **payload})})


def click_body(fake, user: str, action_id: str, value: str = "") -> str:
    action = {"action_id": action_id, "block_id": "b", "type": "button", "action_ts": "1745244100.0"}
    if value:
        action["value"] = value
    return interaction_body(fake, user, {"type": "block_actions", "actions": [action],
                                         "container": {"type": "view", "view_id": "V0001"}})


def submit_body(fake, user: str, query: str) -> str:
    view = {"id": "VM001", "team_id": fake.team_id, "type": "modal", "callback_id": home.ADD_MODAL,
            "state": {"values": {home.ADD_BLOCK: {home.ADD_INPUT: {"type": "plain_text_input",
                                                                   "value": query}}}}}
    return interaction_body(fake, user, {"type": "view_submission", "view": view})


async def test_home_tab_shows_only_your_keywords_with_remove_buttons(http_slack, slack, store):
    slack.add_user(BEN)
    await http_slack.command("me add MLLM", user=ANNA)
    await http_slack.command('me add "world model"', user=ANNA)
    status, _ = await http_slack.post(home_opened_body(slack, ANNA))
    assert status == 200
    view = await slack.wait_for(lambda: slack.home_views.get(ANNA))
    assert view["type"] == "home" and block_errors(view["blocks"]) == []
    texts = " ".join(all_texts(view["blocks"]))
    assert "`MLLM`" in texts and "`\"world model\"`" in texts
    assert "one direct message per announcement day" in texts
    assert "Your papers for 2025-04-21" in texts and "arxiv.org/abs/" in texts
    rows = await store.run(lambda s: s.people.list_personal(PersonRef("slack", slack.team_id, ANNA)))
    removes = [b["accessory"]["value"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == home.REMOVE_ACTION]
    assert removes == [str(r.id) for r in rows]

    await http_slack.post(home_opened_body(slack, BEN))
    bens = await slack.wait_for(lambda: slack.home_views.get(BEN))
    assert "MLLM" not in json.dumps(bens) and "no personal keywords yet" in json.dumps(bens)

    # Ben forges a click with Anna's row id: nothing of Anna's changes.
    await http_slack.post(click_body(slack, BEN, home.REMOVE_ACTION, removes[0]))
    await slack.wait_for(lambda: len([c for c in slack.calls_to("views.publish")
                                      if c.params.get("user_id") == BEN]) == 2)
    assert len(await store.run(lambda s: s.people.list_personal(PersonRef("slack", slack.team_id, ANNA)))) == 2
    # Anna removes her first: the tab is published again without it.
    await http_slack.post(click_body(slack, ANNA, home.REMOVE_ACTION, removes[0]))
    await slack.wait_for(lambda: "`MLLM`" not in " ".join(all_texts(slack.home_views[ANNA]["blocks"])))
    assert "`\"world model\"`" in " ".join(all_texts(slack.home_views[ANNA]["blocks"]))


async def test_add_modal_opens_and_answers_bad_input_under_the_field(http_slack, slack, store):
    await http_slack.post(click_body(slack, ANNA, home.ADD_ACTION))
    opened = await slack.wait_for(lambda: slack.opened_views)
    assert opened[0]["trigger_id"] == f"trigger-{ANNA}" and opened[0]["view"]["callback_id"] == home.ADD_MODAL

    status, body = await http_slack.post(submit_body(slack, ANNA, "diffusion AND"))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "expected a term" in answer["errors"][home.ADD_BLOCK]
    assert not await store.run(lambda s: s.people.list_personal(PersonRef("slack", slack.team_id, ANNA)))

    status, body = await http_slack.post(submit_body(slack, ANNA, "MLLM"))
    assert status == 200 and not body.strip()  # closes the modal
    rows = await store.run(lambda s: s.people.list_personal(PersonRef("slack", slack.team_id, ANNA)))
    assert [r.query for r in rows] == ["MLLM"]
    view = await slack.wait_for(lambda: slack.home_views.get(ANNA))
    assert "`MLLM`" in " ".join(all_texts(view["blocks"]))
    # One publish per submission, its notice the addition's answer with the day's preview.
    assert len([c for c in slack.calls_to("views.publish") if c.params.get("user_id") == ANNA]) == 1
    notice = [b for b in view["blocks"] if b.get("block_id") == "notice"]
    assert notice and "would have matched" in notice[0]["text"]["text"]
    # The same query again is refused, not silently duplicated. Finding that out needs the
    # database, which comes after Slack has its answer: the refusal is the Home tab's notice.
    status, body = await http_slack.post(submit_body(slack, ANNA, '"MLLM"'))
    assert status == 200 and not body.strip()
    view = await slack.wait_for(lambda: "already follow MLLM" in " ".join(
        all_texts(slack.home_views[ANNA]["blocks"])) and slack.home_views[ANNA])
    rows = await store.run(lambda s: s.people.list_personal(PersonRef("slack", slack.team_id, ANNA)))
    assert [r.query for r in rows] == ["MLLM"]
