"""paperbot's App Home tab and the "Add keywords" modal: personal keywords without typing commands.

The Home tab is private to the person looking at it (Slack shows each user their own view), so
it may show their keywords: the list with a Remove button each, their delivery mode, and the
latest day's personal matches. Everything is rendered from `PersonalOverview`, the same data
`/papers me list` answers from.
"""

from __future__ import annotations

from typing import Any

from bot.commands import Response
from bot.commands.personal import PersonalOverview, delivery_line
from bot.platforms.slack.render import (
    MAX_SECTION_TEXT,
    Block,
    context,
    escape_mrkdwn,
    escaped_within,
    header,
    section,
    title_link,
)

REMOVE_ACTION = "paperbot_me_remove"
ADD_ACTION = "paperbot_me_add"
ADD_MODAL = "paperbot_me_add_modal"
ADD_BLOCK = "keywords"
ADD_INPUT = "query"
HOME_PAPERS_SHOWN = 10
QUERY_SHOWN = 2000   # a section holds 3000; queries are limited far below that by default


def _button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id,
                              "text": {"type": "plain_text", "text": text, "emoji": True}}
    if value:
        button["value"] = value
    if style:
        button["style"] = style
    return button


def home_view(view: PersonalOverview, notice: Response | None = None) -> dict[str, Any]:
    """The Home tab; `notice` answers what the person just did (Add keywords saved or refused)."""
    blocks: list[Block] = [header("Your personal arXiv keywords"),
                           context("Only you can see this tab. The same as /papers me list; "
                                   "/papers help me explains it.")]
    if notice is not None:
        mark = ":warning: " if notice.is_error else ":white_check_mark: "
        blocks.append(section(mark + escaped_within(notice.plain_text(), MAX_SECTION_TEXT - len(mark)),
                              block_id="notice"))
    if view.subscriptions:
        for number, row in enumerate(view.subscriptions, start=1):
            blocks.append(section(f"*{number}.* `{escaped_within(row.query, QUERY_SHOWN)}`",
                                  block_id=f"row-{row.id}",
                                  accessory=_button("Remove", REMOVE_ACTION, str(row.id), "danger")))
    else:
        blocks.append(section("You have no personal keywords yet."))
    limit_note = f"{len(view.subscriptions)} of at most {view.limit}."
    blocks.append({"type": "actions", "block_id": "add",
                   "elements": [_button("Add keywords", ADD_ACTION, style="primary")]})
    blocks.append(context(escape_mrkdwn(f"{limit_note} {delivery_line(view.delivery, view.paused)}")))
    if view.digest is not None and view.day is not None:
        blocks.append(header(f"Your papers for {view.day.isoformat()}"))
        if view.digest.items:
            blocks.append(section(_paper_lines(view)))
        else:
            blocks.append(section(f"None of the {view.papers_that_day} papers matched your keywords."))
    return {"type": "home", "blocks": blocks}


def _paper_lines(view: PersonalOverview) -> str:
    """The latest matches as linked lines, cut between papers (never inside a link) so the
    section stays within Slack's 3,000 characters; what is left out is counted."""
    items = view.digest.items
    more = view.digest.truncated + max(0, len(items) - HOME_PAPERS_SHOWN)
    lines: list[str] = []
    for item in items[:HOME_PAPERS_SHOWN]:
        line = f"• {title_link(item.paper, item.title_spans, 200)}"
        tail = len(f"\n… and {more + len(items)} more")  # room for the count line, whatever it says
        if sum(len(kept) + 1 for kept in lines) + len(line) + tail > MAX_SECTION_TEXT:
            break
        lines.append(line)
    more = view.digest.truncated + len(items) - len(lines)
    if more:
        lines.append(f"… and {more} more")
    return "\n".join(lines)


def quick_check(text: str, max_length: int) -> str | None:
    """What can be said about a submitted query at no cost (before answering Slack): empty or too
    long. The query language itself is checked when it is saved."""
    if not text.strip():
        return "Type a query, e.g. MLLM or \"vision language model\"."
    if len(text) > max_length:
        return (f"That query has {len(text)} characters; the most is {max_length} "
                "(limits.query_length). Split it into several keywords.")
    return None


def add_modal(max_length: int = 500) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ADD_MODAL,
        "title": {"type": "plain_text", "text": "Add keywords"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{
            "type": "input", "block_id": ADD_BLOCK,
            "label": {"type": "plain_text", "text": "Query"},
            "hint": {"type": "plain_text", "text": 'e.g. MLLM, "vision language model" NOT robot; '
                                                   "/papers help query has the language"},
            # Slack enforces max_length in the form (at most 3,000 for this element).
            "element": {"type": "plain_text_input", "action_id": ADD_INPUT,
                        "max_length": max(1, min(max_length, 3000))},
        }],
    }


def submitted_query(view: dict[str, Any]) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(ADD_BLOCK) or {}
    return str((values.get(ADD_INPUT) or {}).get("value") or "")
