"""`/papers help`: the commands, one command, or the query language (DESIGN.md §6)."""

from __future__ import annotations

from bot.commands.grammar import USAGE, Help
from bot.commands.responses import Heading, Lines, Preformatted, Response, Section
from bot.matching.help import MATCH_RULES, OPERATOR_RULES, examples_table

# Commands that change the channel for everyone: their help says who may use them.
MANAGER_COMMANDS = ("subscribe", "unsubscribe", "settings", "resume")

COMMAND_SUMMARY = {
    "today": "today's matches, privately",
    "subscribe": "add a channel subscription",
    "unsubscribe": "remove one (number from list)",
    "list": "subscriptions, settings, status",
    "test": "dry run with explanations",
    "search": "full-text search of stored papers",
    "resume": "restart paused daily posts",
    "export": "this channel's 👍 papers as BibTeX",
    "me": "your keywords and votes, privately",
    "help": "this help; help query for queries",
}

COMMAND_HELP: dict[str, tuple[str, ...]] = {
    "today": ("Shows you (only you) the latest day's papers that match this channel's "
              "subscriptions, or the query you give.",
              "The channel's papers come in the order of its daily thread: by what the channel's "
              "👍/👎 votes taught (order relevance, once it has a model), at most its max; a query "
              "you give is shown best keyword match first."),
    "subscribe": ("Adds a subscription to this channel: every announcement day its matches are "
                  "posted here in one thread.",
                  "The reply shows how the query was read and how many papers it would have "
                  "matched on the latest day."),
    "unsubscribe": ("Removes the subscription with that number in /papers list, or all of them.",),
    "list": ("Shows this channel's numbered subscriptions, its settings, and whether daily posts "
             "are paused (and why).",),
    "test": ("A private dry run of a query on the latest day: which papers match, which terms hit "
             "where, and near misses with what kept them out.",),
    "search": ("Full-text search over the stored papers' titles, abstracts and authors; every "
               "word must appear.",),
    "settings": ("With nothing after it, shows this channel's settings. time HH:MM and tz "
                 "Area/City set when the daily thread is posted; types picks new, cross and "
                 "replace (new versions); empty note|silent decides whether a day without "
                 "matches gets a short note.",
                 "max N (1 to 100): the thread shows the top N papers in the channel's order and "
                 "folds the rest into one final \"N more papers\" message with their titles as links.",
                 "order relevance|listing: relevance ranks papers by this channel's 👍/👎 votes once "
                 "it has enough of them: 5 papers voted on, either both ways or only 👍 (then the "
                 "papers shown on the days people voted and not voted on count as passed over). "
                 "The model is retrained after votes change, before the next daily thread. "
                 "Without a model, and with listing, the best keyword match comes first.",
                 "weekly on [DAY HH:MM] posts one message a week with the week's most-voted papers "
                 "and the best-ranked ones nobody voted on, e.g. weekly on fri 16:00 (in the "
                 "channel's time zone); weekly off stops it. Off by default.",),
    "export": ("export bibtex [week|month] gives this channel's papers with more 👍 than 👎 "
               "votes in the last week (the default) or month as BibTeX entries (arXiv eprint, "
               "title, authors, year, url), as a file where the platform allows it, otherwise as "
               "text.",),
    "resume": ("When paperbot loses a channel (archived, paperbot removed, a missing permission) "
               "it pauses the daily posts there and /papers list says why. Once that is fixed, "
               "/papers resume starts them again; the next daily thread comes as usual.",),
    "me": ("Your own keywords, per workspace or server: only you can list or change them, and "
           "every reply is private. me add <query> adds one (same query language and limits), "
           "me remove <n | all>, me list shows them with your delivery.",
           "me deliver dm: one direct message per announcement day with your papers; me deliver "
           "here: a mention in this channel's daily thread with links to your papers (never your "
           "keywords); me deliver off keeps the keywords but sends nothing. me edit opens a form "
           "on Discord; on Slack, paperbot's Home tab does the same.",
           "Every paper in a daily thread or your direct message has 👍 and 👎 buttons: click "
           "one to vote, again to take the vote back, the other to switch. Buttons show counts "
           "only; nobody can see who voted. me forget says how many votes you cast in this "
           "workspace; me forget confirm deletes them all, with the ranking learned from them."),
    "help": ("/papers help <command> explains one command; /papers help query the query "
             "language.",),
}

# The query language as bot/matching documents it (one text for chat, the CLI and README).
QUERY_HELP: tuple[Section, ...] = (
    Preformatted(examples_table()),
    Lines(OPERATOR_RULES + MATCH_RULES + (
        "New papers and cross-lists by default; /papers settings types new,cross,replace adds "
        "new versions, labelled as updates.",
    )),
)

WHO_MAY_MANAGE = ("Subscriptions and settings change the channel for everyone, so only people "
                  "allowed to manage the channel may change them (or resume paused posts); "
                  "anyone may look (list, today, test, search).")


def help_response(command: Help) -> Response:
    if command.topic == "query":
        return Response(text="The /papers query language.",
                        sections=(Heading("Query language"), *QUERY_HELP))
    if command.topic is not None:
        name = command.topic
        manage_note = (WHO_MAY_MANAGE,) if name in MANAGER_COMMANDS else ()
        return Response(text=f"Usage: {USAGE[name]}",
                        sections=(Heading(f"/papers {name}"),
                                  Preformatted(USAGE[name]),
                                  Lines(COMMAND_HELP[name] + manage_note)))
    overview = {**USAGE, "me": "/papers me add|remove|list|deliver|forget"}
    usage = "\n".join(f"{overview[name]:<34} {COMMAND_SUMMARY[name]}" for name in USAGE
                      if name != "settings")
    usage += "\n" + USAGE["settings"]
    return Response(
        text=f"/papers commands: {', '.join(USAGE)}. /papers help <command> for one, "
             "/papers help query for the language.",
        sections=(Heading("/papers commands"), Preformatted(usage),
                  Lines((WHO_MAY_MANAGE,)),
                  Heading("Query language"), *QUERY_HELP))
