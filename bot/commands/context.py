"""What every `/papers` handler shares: who typed the command and where (`CommandContext`), the
store and configuration with the checks every handler makes (`CommandServices`), and the way a
helper hands a finished answer back up (`CommandReply`).

The handler modules (channel.py, browse.py, personal.py, help.py) depend on this module and on
nothing of each other; execute.py puts them together behind one dispatch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from bot.commands.grammar import USAGE
from bot.commands.responses import (
    Lines,
    Preformatted,
    Response,
    error_response,
    refused_response,
    unavailable_response,
)
from bot.config import Settings
from bot.digest.model import Digest, build_digest
from bot.destinations.channels import ChannelSchedule, channel_destination_key, effective_channel_settings
from bot.matching import (
    Explanation,
    Query,
    QueryLimits,
    QuerySyntaxError,
    Subscription,
    compile_subscriptions,
    parse_query,
)
from bot.matching.day_index import DayIndex
from bot.models import Match, Paper
from bot.ranking import Ranker, Scores
from bot.store import AsyncStore, ReadStore, Store, StoreError
from bot.store.personal import PersonRef
from bot.store.subscriptions import ChannelRef, ChannelSettingsRecord

log = logging.getLogger(__name__)

T = TypeVar("T")

QUERY_LANGUAGE_HINT = "The query language: /papers help query"


def read_as(query: Query) -> tuple[Preformatted | Lines, ...]:
    """How a query was read, and the notes where it may not be what was meant (a lower-case
    and/or/not read as a word, a NOT that excludes from one alternative only), each with the
    query to write instead."""
    shown: tuple[Preformatted | Lines, ...] = (Preformatted(query.describe(), caption="Read as:"),)
    return shown + ((Lines(query.notes),) if query.notes else ())


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who typed the command, where. `can_manage` is the platform's verdict on whether this person
    may change the channel's subscriptions and settings (see DESIGN.md §6)."""

    platform: str
    workspace: str
    channel: str
    user: str
    can_manage: bool
    channel_name: str | None = None

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.platform, self.workspace, self.channel)

    @property
    def destination_key(self) -> str:
        return channel_destination_key(self.channel_ref)

    @property
    def person(self) -> PersonRef:
        """The person who typed the command, in this workspace (personal keywords)."""
        return PersonRef(self.platform, self.workspace, self.user)


class CommandReply(Exception):
    """Carries a finished Response out of a helper (a bad query, a refusal) to `answer`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.text)
        self.response = response


async def answer(what: str, work: Awaitable[Response]) -> Response:
    """`work`'s Response; a CommandReply raised on the way is the answer, an unreachable
    database a polite "try again" (logged with `what`)."""
    try:
        return await work
    except CommandReply as reply:
        return reply.response
    except StoreError as exc:
        log.warning("%s: store unavailable: %s", what, exc)
        return unavailable_response()


class _DayIndexSlot:
    """A LatestDay's DayIndex, built by the first thread that asks (the others wait for it)."""

    __slots__ = ("_index", "_building")

    def __init__(self) -> None:
        self._index: DayIndex | None = None
        self._building = threading.Lock()

    def get(self, papers: Sequence[Paper]) -> DayIndex:
        index = self._index
        if index is None:
            with self._building:
                index = self._index
                if index is None:
                    index = self._index = DayIndex(papers)
        return index


@dataclass(frozen=True, slots=True)
class LatestDay:
    """The latest stored announcement day and its papers in feed order (day None: none yet);
    `version` changes whenever they do (results computed from them are keyed by it)."""

    day: date | None
    papers: tuple[Paper, ...] = ()
    version: tuple = ()
    _index: _DayIndexSlot = field(default_factory=_DayIndexSlot, init=False, repr=False,
                                  compare=False)

    def index(self) -> DayIndex:
        """The day's papers indexed by token (bot.matching.day_index), so a query is matched on
        the few papers it could match instead of all of them. Built on first use, once per day
        (a new day is a new LatestDay): normalising every paper takes ~0.4 s, so call this on a
        worker thread, never on the event loop."""
        return self._index.get(self.papers)


class LatestDayCache:
    """The latest day's papers, held in memory for `today`, `test`, `subscribe` and personal
    keywords, instead of every command reading and rebuilding 1,500 papers from SQLite.

    Each use asks the store one cheap question (`papers.latest_day_version()`: the day, how many
    papers it lists, their newest change) on a reader connection, and reads the day again only
    when the answer moved: a new day stored, the listing re-saved, papers enriched. One reload at
    a time; the commands arriving meanwhile wait for it rather than each reading the day.

    A day read is a new LatestDay, so whatever is derived from one (its index, the results the
    CommandWorker keeps under its version) goes with it when the day changes."""

    def __init__(self, store: AsyncStore) -> None:
        self.store = store
        self._held: tuple[tuple, LatestDay] | None = None
        self._reloading = asyncio.Lock()

    async def get(self) -> LatestDay:
        version = await self.store.read(lambda r: r.papers.latest_day_version(),
                                        operation="finding the latest day")
        held = self._held
        if held is not None and held[0] == version:
            return held[1]
        async with self._reloading:
            held = self._held
            if held is not None and held[0] == version:
                return held[1]
            day = version[0]
            papers = await self.store.read(lambda r: r.papers.for_day(day),
                                           operation="reading the latest day") if day else []
            latest = LatestDay(day, tuple(papers), tuple(version))
            self._held = (version, latest)
            return latest


def subscriptions_key(subscriptions: Sequence[Subscription]) -> tuple:
    """What a match result depends on, of these subscriptions (for CommandWorker keys)."""
    return tuple((s.id, s.query.describe(), tuple(sorted(s.types)), tuple(sorted(s.categories)))
                 for s in subscriptions)


@dataclass(frozen=True)
class DayMatch:
    """Subscriptions matched over the latest day: the matches (under the subscriptions' own ids)
    and `explain(subscription_id, paper)`, the matcher's explanation (call it on the worker)."""

    matches: list[Match]
    explain: Callable[[str, Paper], Explanation]


@dataclass
class _Question:
    latest: LatestDay
    subscriptions: tuple[Subscription, ...]
    answer: asyncio.Future


def _answer_together(latest: LatestDay, questions: Sequence[_Question]) -> list[DayMatch]:
    """Every question's subscriptions in ONE matcher (each renamed `<n>|<id>`, then named back),
    run over the papers any of them could match (the day's index says which): twenty questions
    queued together cost one compile and one pass over their candidates."""
    renamed = [dataclasses.replace(s, id=f"{n}|{s.id}")
               for n, question in enumerate(questions) for s in question.subscriptions]
    matcher = compile_subscriptions(renamed)
    by_question: list[list[Match]] = [[] for _ in questions]
    for m in matcher.match(latest.index().candidates(renamed)):
        n, _, own_id = m.subscription_id.partition("|")
        by_question[int(n)].append(Match(own_id, m.paper, m.hits, m.score))

    def explainer(n: int) -> Callable[[str, Paper], Explanation]:
        return lambda subscription_id, paper: matcher.explain(f"{n}|{subscription_id}", paper)

    return [DayMatch(matches, explainer(n)) for n, matches in enumerate(by_question)]


# Results of CPU-heavy work over the latest day kept per (day version, question): a burst of
# people running the same `/papers test` or `today` in one channel costs one matcher pass.
COMPUTED_KEPT = 256
COMMAND_WORKER_THREAD = "paperbot-commands"


class CommandWorker:
    """CPU-heavy command work (matching queries over the day, explaining matches) on ONE worker
    thread.

    One thread, not one per command: Python runs one thread at a time, so many threads matching
    at once finish no sooner, and each takes the interpreter away from the event loop, which then
    answers acknowledgements late. With one worker, the loop always gets its turn. And since the
    questions then queue anyway, the ones waiting are answered together in one matcher pass
    (`match`), over the papers the day's index says any of them could match. A question asked while the same one is being computed waits for that result
    (single flight); results are kept for the latest day only (their key holds its version) and
    at most COMPUTED_KEPT."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=COMMAND_WORKER_THREAD)
        self._results: OrderedDict[Hashable, asyncio.Future] = OrderedDict()
        self._waiting: list[_Question] = []
        self._answering: asyncio.Task | None = None

    async def compute(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """The result of `make()` (a coroutine factory); `key` must name everything it depends
        on. Asked again while kept, the same result."""
        future = self._results.get(key)
        if future is None or (future.done() and (future.cancelled() or future.exception() is not None)):
            future = asyncio.ensure_future(make())
            self._results[key] = future
            while len(self._results) > COMPUTED_KEPT:
                self._results.popitem(last=False)
        else:
            self._results.move_to_end(key)
        # Shielded: one waiter giving up (a cancelled command) must not cancel the others' answer.
        return await asyncio.shield(future)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def match(self, latest: LatestDay, subscriptions: Sequence[Subscription]) -> DayMatch:
        """`subscriptions` matched over `latest`'s papers, together with whatever else is
        waiting for the worker."""
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(_Question(latest, tuple(subscriptions), answer))
        if self._answering is None or self._answering.done():
            self._answering = asyncio.ensure_future(self._answer_waiting())
        return await answer

    async def _answer_waiting(self) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, []
            by_day: dict[tuple, list[_Question]] = {}
            for question in waiting:
                by_day.setdefault(question.latest.version, []).append(question)
            for questions in by_day.values():
                try:
                    answers = await self.run(_answer_together, questions[0].latest, questions)
                except Exception as exc:  # noqa: BLE001 - each asker gets the failure as its own
                    for question in questions:
                        if not question.answer.done():
                            question.answer.set_exception(exc)
                    continue
                for question, day_match in zip(questions, answers):
                    if not question.answer.done():
                        question.answer.set_result(day_match)


class CommandServices:
    """The store, the configuration and the checks every command handler shares."""

    def __init__(self, store: AsyncStore, settings: Settings, ranker: Ranker | None = None) -> None:
        self.store = store
        self.settings = settings
        self.query_limits = QueryLimits.from_settings(settings.limits)
        self.latest = LatestDayCache(store)
        self.worker = CommandWorker()
        # The process's Ranker (`paperbot run` shares the scheduler's): commands only read the
        # models it stored, never train one.
        self.ranker = ranker if ranker is not None else Ranker(store)

    async def run(self, operation: str, fn: Callable[[Store], T]) -> T:
        """`fn(store)` on the database thread, the writer's (raises StoreError when it cannot be
        reached). For anything that may write."""
        return await self.store.run_operation(operation, fn)

    async def match_latest(self, latest: LatestDay, subscriptions: Sequence[Subscription]) -> list[Match]:
        """`subscriptions` matched over the latest day, on the command worker (a question
        already answered for this day is not computed again)."""
        return (await self.match_latest_explained(latest, subscriptions)).matches

    async def match_latest_explained(self, latest: LatestDay,
                                     subscriptions: Sequence[Subscription]) -> DayMatch:
        subscriptions = tuple(subscriptions)
        return await self.worker.compute(("match", latest.version, subscriptions_key(subscriptions)),
                                         lambda: self.worker.match(latest, subscriptions))

    async def learned_order(self, destination_key: str, latest: LatestDay,
                            matches: Sequence[Match]) -> Scores | None:
        """The relevance of the matched papers by the destination's stored model (the one that
        ordered its daily thread: see `Ranker.stored_model`), scored on the command worker and
        kept for the day; None when it has no model (the thread kept the match order too). A
        ranking failure costs the order, never the answer."""
        try:
            model = await self.ranker.stored_model(destination_key)
        except StoreError:
            raise
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("reading the relevance model of %s failed; keeping the match order",
                          destination_key)
            return None
        if model is None:
            return None
        papers = list({m.paper.id: m.paper for m in matches}.values())
        # The model itself in the key (a retrained one is a new object): scores of an old one are not reused.
        key = ("relevance", latest.version, destination_key, model, tuple(p.id for p in papers))
        try:
            return await self.worker.compute(key, lambda: self.worker.run(self.ranker.score, model, papers))
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("scoring %s's papers failed; keeping the match order", destination_key)
            return None

    async def digest(self, destination: str, title: str, day: date, matches: Sequence[Match],
                     **options: object) -> Digest:
        """`build_digest(...)` on the command worker: merging and ordering a busy channel's
        matches of a day takes tens of milliseconds, which the event loop must not spend."""
        return await self.worker.run(functools.partial(build_digest, destination, title, day,
                                                       matches, **options))

    async def read(self, operation: str, fn: Callable[[ReadStore], T], *,
                   budget: float | None = None) -> T:
        """`fn(reader)` on a reader connection: never queued behind the writer (ledger writes
        during a delivery); `budget` seconds bounds its statements (StoreError `interrupted`)."""
        return await self.store.read(fn, operation=operation, budget=budget)

    def parse_user_query(self, text: str, command: str) -> Query:
        """`text` as a query within the configured limits, or a CommandReply saying where it
        went wrong, with the usage of `command`."""
        try:
            return parse_query(text, self.query_limits)
        except QuerySyntaxError as exc:
            raise CommandReply(error_response(
                f"I could not read that query: {exc}",
                sections=(Preformatted(exc.pointer(text), caption="Where:"),
                          Lines((f"Usage: {USAGE[command]}", QUERY_LANGUAGE_HINT))))) from None

    def require_manager(self, ctx: CommandContext, action: str) -> None:
        """Raise a refusal unless `ctx`'s person may change the channel (`action` says what)."""
        if not ctx.can_manage:
            raise CommandReply(refused_response(action, self.who_may_manage(ctx.platform)))

    def who_may_manage(self, platform: str) -> str:
        if platform == "slack":
            if self.settings.slack.admins_only:
                return "On this workspace only Slack admins and owners may change a channel's papers."
            return "Only members of this channel may change its papers."
        if platform == "discord":
            role = self.settings.discord.manager_role
            extra = f" or the {role} role" if role else ""
            return f"Only members with the Manage Channels permission{extra} may change a channel's papers."
        return "Only people allowed to manage this channel may change its papers."

    def effective(self, record: ChannelSettingsRecord) -> ChannelSchedule:
        """A channel's stored settings with the deployment's defaults filled in."""
        return effective_channel_settings(record, self.settings.schedule)
