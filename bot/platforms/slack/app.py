"""The Slack app: `/papers` and the Show abstract button routed into the neutral command layer, in
Socket Mode (bot + app token, no public URL) or HTTP mode (signed requests on `slack.port`).

    runtime = await start_slack(settings, commands)   # None when SLACK_BOT_TOKEN is not set
    if runtime:
        await runtime.start()                         # connect (socket) or listen (http)
        ... scheduler with directories=[runtime.directory], sinks={"slack": runtime.sink} ...
        await runtime.close()

Everything paperbot knows comes through the command layer (`commands`, a CommandExecutor); this
module never touches the store. Every handler acknowledges at once (Slack wants an answer within
3 s) and then replies through the command's response_url or chat.postEphemeral. Nothing a user
types or clicks can produce a stack trace in Slack: the command layer answers every input, and
anything unexpected here is logged and answered with a short apology.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import CommandContext, CommandExecutor, Response
from bot.commands.personal import PersonalOverview
from bot.commands.responses import INVALID, REFUSED, error_response, internal_error_response
from bot.commands.votes import DOWN, UP, VoteClick, VoteRecorded
from bot.config import Settings
from bot.platforms.slack import home, render, replies
from bot.platforms.slack.library_logs import WEB_CLIENT_LOGGER, library_logger
from bot.platforms.slack.sink import SlackSink, slack_error_code

log = logging.getLogger(__name__)

COMMAND = "/papers"
EVENTS_PATH = "/slack/events"  # commands, interactivity and events all arrive here (HTTP mode)
# Events that mean a paused channel may take posts again (the manifest subscribes to exactly these).
RESUMING_EVENTS = ("member_joined_channel", "channel_unarchive", "group_unarchive")
HOME_EVENT = "app_home_opened"   # the Home tab shows the person their keywords
GROUP_DM_PREFIX = "mpdm-"        # the channel_name Slack sends for a group direct message
GROUP_DM_REFUSAL = ("paperbot does not post daily threads in group direct messages (its Slack app "
                    "has no mpim scopes). Create a channel for the papers, `/invite @paperbot`, and "
                    "subscribe there; `/papers me add` sends papers to you alone.")


class SlackSetupError(Exception):
    """Slack cannot start as configured; the message says what to set or fix (never a token)."""


class SlackHandlers:
    """What the bolt listeners do, kept apart from bolt's wiring so each step reads plainly."""

    def __init__(self, commands: CommandExecutor) -> None:
        self.commands = commands
        self.settings = commands.settings
        # Called when someone runs /papers resume: the workspace's problem may be fixed, so the
        # next delivery asks Slack at once instead of waiting out the back-off (SlackRuntime sets it).
        self.on_resume: Callable[[], None] | None = None
        # Papers the sink posted lately (id -> Paper or None): Show abstract answers from memory.
        self.recent_paper: Callable[[str], Any] | None = None

    async def can_manage(self, client: AsyncWebClient, user_id: str) -> bool:
        """Anyone in the channel, or (slack.admins_only) only workspace admins and owners."""
        if not self.settings.slack.admins_only:
            return True
        try:
            info = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info for %s failed (%s); treating them as not an admin",
                        user_id, slack_error_code(exc) or exc)
            return False
        user = info.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    async def command(self, payload: Mapping[str, Any], client: AsyncWebClient) -> Response:
        ctx = CommandContext(
            platform="slack",
            workspace=str(payload.get("team_id") or ""),
            channel=str(payload.get("channel_id") or ""),
            user=str(payload.get("user_id") or ""),
            can_manage=await self.can_manage(client, str(payload.get("user_id") or "")),
            channel_name=payload.get("channel_name") or None,
        )
        text = str(payload.get("text") or "")
        word = text.split(None, 1)[0].lower() if text.split() else ""
        if word == "subscribe" and str(payload.get("channel_name") or "").startswith(GROUP_DM_PREFIX):
            return Response(text=GROUP_DM_REFUSAL, outcome=REFUSED)
        if word == "resume" and self.on_resume is not None:
            self.on_resume()
        return await self.commands.execute(ctx, text)

    async def abstract(self, paper_id: str) -> render.Message:
        known = self.recent_paper(paper_id) if self.recent_paper is not None else None
        if known is not None:
            return render.abstract_message(known)
        found = await self.commands.paper(paper_id)
        if isinstance(found, Response):  # no longer stored, or the database is down
            return reply_message(found)
        return render.abstract_message(found)

    # -- 👍/👎 ---------------------------------------------------------------------------------

    async def vote(self, body: Mapping[str, Any], action: Mapping[str, Any],
                   client: AsyncWebClient) -> Response | None:
        """A click on a vote button (already acknowledged): record it through the command layer,
        then set the message's vote labels from the stored counts (chat.update of that message).
        Returns what to tell the clicker privately, None when the new counts say it all."""
        direction = UP if action.get("action_id") == render.VOTE_ACTIONS[UP] else DOWN
        read = render.read_vote_value(action.get("value"))
        destination, paper_id = (read[0], read[2]) if read else ("", "")
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
        user = str((body.get("user") or {}).get("id") or "")
        outcome = await self.commands.vote(VoteClick("slack", user, destination, paper_id, direction,
                                                     _team_of(body) or None, channel or None))
        if isinstance(outcome, Response):
            return outcome
        message = body.get("message") or {}
        if not channel or not ts or not message.get("blocks"):
            return _counted_not_shown(outcome, "Slack did not say which message it was")

        async def update() -> str | None:
            blocks = message["blocks"]
            voted = render.voted_papers(blocks)
            if voted is None:
                return "that message has no vote buttons of mine"
            thread, day, paper_ids = voted
            tallies = await self.commands.vote_tallies(thread, paper_ids)
            if isinstance(tallies, Response):
                return "the counts could not be read just now"
            try:
                await client.chat_update(
                    channel=channel, ts=ts, text=str(message.get("text") or ""),
                    blocks=render.with_vote_counts(blocks, tallies),
                    # The sink's metadata, unchanged: a restart reads the thread back from it.
                    metadata=render.thread_metadata(thread, day, render.shown_paper_ids(blocks), "papers"))
            except SlackApiError as exc:
                code = slack_error_code(exc) or str(exc)
                log.warning("chat.update of %s in %s after a vote failed: %s", ts, channel, code)
                return f"Slack refused to update that message ({code})"
            return None

        problem = await self.commands.votes.refresh_message(("slack", channel, ts), update)
        return _counted_not_shown(outcome, problem) if problem else None

    # -- App Home (personal keywords) ----------------------------------------------------------

    def home_context(self, team_id: str, user_id: str) -> CommandContext:
        # The Home tab belongs to no channel; personal commands use only team and user.
        return CommandContext("slack", team_id, "", user_id, False)

    async def publish_home(self, client: AsyncWebClient, team_id: str, user_id: str,
                           notice: Response | None = None,
                           overview: PersonalOverview | Response | None = None) -> None:
        """Show `user_id` their own keywords, delivery and latest matches on the Home tab, with
        `notice` (the answer to what they just did) at the top; `overview` when already read."""
        if overview is None:
            overview = await self.commands.personal.home_overview(self.home_context(team_id, user_id))
        if isinstance(overview, Response):
            log.warning("App Home for %s not published: %s", user_id, overview.text)
            return
        try:
            await client.views_publish(user_id=user_id, view=home.home_view(overview, notice))
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user_id, slack_error_code(exc) or exc)

    async def add_from_modal(self, team_id: str, user_id: str,
                             text: str) -> tuple[Response, PersonalOverview | Response]:
        """Save the form's keyword: the answer (the notice) and the Home tab's overview, the
        latest day matched once for both."""
        return await self.commands.personal.add_from_form(self.home_context(team_id, user_id), text)

    async def remove_from_home(self, team_id: str, user_id: str, value: str) -> Response:
        if not value.isdigit():
            return Response(text="That button is not one of mine.", outcome=INVALID)
        return await self.commands.personal.remove_by_id(self.home_context(team_id, user_id), int(value))

    async def resume(self, team_id: str, channel_id: str, why: str) -> None:
        """A channel the bot lost is back (invited again, unarchived): lift its pause the way
        /papers resume does."""
        await self.commands.channel_is_back("slack", team_id, channel_id, why)


async def answer_via(respond, what: str, **message: Any) -> bool:
    """Send through bolt's `respond` (the response_url), logging a failure in one line: an
    expired or overused response_url answers 404 without raising."""
    try:
        result = await respond(**message)
    except Exception as exc:  # noqa: BLE001 - the person's answer is lost; say so in the log
        log.warning("could not answer %s: %s: %s", what, type(exc).__name__, exc)
        return False
    status = getattr(result, "status_code", 200)
    if status != 200:
        log.warning("could not answer %s: the response_url answered HTTP %s %s", what, status,
                    str(getattr(result, "body", ""))[:200])
        return False
    return True


def _counted_not_shown(outcome: VoteRecorded, why: str) -> Response:
    done = {UP: "Your 👍 is counted", DOWN: "Your 👎 is counted"}.get(outcome.vote, "Your vote is withdrawn")
    return error_response(f"{done} (now 👍 {outcome.tally.up} · 👎 {outcome.tally.down}), but the "
                          f"buttons could not show it: {why}. They catch up with the next vote.",
                          outcome="unavailable")


async def tell_privately(client: AsyncWebClient, respond, body: Mapping[str, Any],
                         message: render.Message, what: str) -> None:
    """Answer the person who clicked, privately, in the thread they clicked in
    (chat.postEphemeral); where the bot cannot post (it lost the channel), through the
    action's response_url, which needs no membership."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    user = (body.get("user") or {}).get("id")
    thread_ts = container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=message.text,
                                        blocks=message.blocks, thread_ts=thread_ts)
        return
    except SlackApiError as exc:
        log.info("chat.postEphemeral for %s failed (%s); answering via response_url", what,
                 slack_error_code(exc) or exc)
    await answer_via(respond, f"{what} for {user}", text=message.text, blocks=message.blocks,
                     response_type="ephemeral", replace_original=False)

async def upload_attachment(client: AsyncWebClient, response: Response, channel: str) -> str | None:
    """Share the reply's file in the channel, with the reply's text as its comment (Slack's
    external upload: files.getUploadURLExternal, the upload, files.completeUploadExternal; they
    need the files:write scope). None when it is there; else why not, in words for the person
    (the reply then carries the text itself)."""
    attachment = response.attachment
    assert attachment is not None
    try:
        await client.files_upload_v2(channel=channel, content=attachment.text.encode("utf-8"),
                                     filename=attachment.filename, title=attachment.title or attachment.filename,
                                     initial_comment=render.escape_mrkdwn(response.text))
        return None
    except SlackApiError as exc:
        code = slack_error_code(exc)
        log.info("could not upload %s to %s (%s); answering with the text instead",
                 attachment.filename, channel, code)
        return UPLOAD_PROBLEMS.get(code, f"Slack did not take the file: {code or 'an error'}; here it is as text")
    except Exception as exc:  # noqa: BLE001 - the person still gets the text
        log.warning("could not upload %s to %s: %s: %s", attachment.filename, channel, type(exc).__name__, exc)
        return "the file could not be uploaded just now; here it is as text"


UPLOAD_PROBLEMS = {
    "missing_scope": "paperbot may not upload files in this workspace (its Slack app lacks the "
                     "files:write scope; reinstall it from config/slack-manifest.yaml); here it is as text",
    "not_in_channel": "paperbot is not a member of this channel, so it cannot post the file here "
                      "(invite it with /invite @paperbot); here it is as text",
    "channel_not_found": "paperbot cannot post files in this conversation; here it is as text",
    "file_too_large": "the file is too large for Slack; here it is as text",
}


def reply_message(response: Response) -> render.Message:
    try:
        return replies.response_message(response)
    except Exception:  # noqa: BLE001 - a rendering bug must still leave the user an answer
        log.exception("rendering a /papers reply failed; sending it as plain text")
        text = render.escaped_within(response.plain_text(), render.MAX_FALLBACK_TEXT)
        return render.Message(text=text, blocks=[])


def build_slack_app(*, client: AsyncWebClient, commands: CommandExecutor,
                    signing_secret: str = "", verify_requests: bool = True,
                    handlers: SlackHandlers | None = None) -> AsyncApp:
    """The bolt app with paperbot's listeners. `verify_requests` checks Slack's signature on
    every HTTP request (bolt's RequestVerification; bad or stale -> 401)."""
    if verify_requests and not signing_secret:
        raise SlackSetupError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > App "
                              "Credentials > Signing Secret) to check that requests come from Slack.")
    handlers = handlers or SlackHandlers(commands)
    app = AsyncApp(client=client, signing_secret=signing_secret or "unused-in-socket-mode",
                   request_verification_enabled=verify_requests, process_before_response=False,
                   name="paperbot", logger=logging.getLogger("paperbot.slack.bolt"))

    @app.command(COMMAND)
    async def papers_command(ack, command, respond, client):
        await ack()
        try:
            response = await handlers.command(command, client)
        except Exception:  # noqa: BLE001 - the user gets an apology, the log the traceback
            log.exception("/papers from %s in %s failed", command.get("user_id"), command.get("channel_id"))
            response = internal_error_response()
        extra: list[render.Message] = []
        if response.attachment is not None:
            problem = await upload_attachment(client, response, str(command.get("channel_id") or ""))
            if problem is None:
                return   # the file and its comment are in the channel: nothing more to say
            extra = replies.attachment_messages(response, problem)
        message = reply_message(response)
        where = f"/papers in {command.get('channel_id')}"
        kind = "ephemeral" if response.ephemeral else "in_channel"
        # A response_url takes 5 messages: the reply, then at most 4 with the attachment's text.
        for part in [message, *extra[:4]]:
            await answer_via(respond, where, text=part.text, blocks=part.blocks or None,
                             response_type=kind, replace_original=False)

    @app.action(render.ABSTRACT_ACTION)
    async def show_abstract(ack, body, action, client, respond):
        await ack()
        message = await handlers.abstract(str(action.get("value") or ""))
        await tell_privately(client, respond, body, message, "an abstract")

    async def vote_clicked(ack, body, action, client, respond):
        await ack()   # first: Slack shows an error mark after 3 s; the vote and update follow
        try:
            answer = await handlers.vote(body, action, client)
        except Exception:  # noqa: BLE001 - the clicker gets an apology, the log the traceback
            log.exception("a vote from %s failed", (body.get("user") or {}).get("id"))
            answer = internal_error_response()
        if answer is not None:
            await tell_privately(client, respond, body, reply_message(answer), "a vote")

    for vote_action in render.VOTE_ACTIONS.values():
        app.action(vote_action)(vote_clicked)

    @app.event(HOME_EVENT)
    async def home_opened(event, body, client):
        if event.get("tab") == "home" and event.get("user"):
            await handlers.publish_home(client, _team_of(body), str(event["user"]))

    @app.action(home.ADD_ACTION)
    async def add_clicked(ack, body, client):
        await ack()
        try:
            await client.views_open(trigger_id=body.get("trigger_id"),
                                    view=home.add_modal(handlers.settings.limits.query_length))
        except SlackApiError as exc:
            log.warning("views.open for the keywords form failed: %s", slack_error_code(exc) or exc)

    @app.action(home.REMOVE_ACTION)
    async def remove_clicked(ack, body, action, client):
        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        response = await handlers.remove_from_home(_team_of(body), user, str(action.get("value") or ""))
        await handlers.publish_home(client, _team_of(body), user,
                                    notice=response if response.is_error else None)

    @app.view(home.ADD_MODAL)
    async def add_submitted(ack, body, view, client):
        # Slack waits 3 s for this answer: only checks that cost nothing come before it (shown
        # under the field, the modal stays open). Saving and matching the latest day come after;
        # their answer, success or refusal, is the notice at the top of the Home tab.
        user = str((body.get("user") or {}).get("id") or "")
        text = home.submitted_query(view)
        problem = home.quick_check(text, handlers.settings.limits.query_length)
        if problem is None:
            refused = handlers.commands.personal.check(text)  # reads the query; microseconds
            if refused is not None:
                problem = render.truncate(refused.plain_text(), 1000)
        if problem:
            await ack(response_action="errors", errors={home.ADD_BLOCK: problem})
            return
        await ack()
        overview = None
        try:
            response, overview = await handlers.add_from_modal(_team_of(body), user, text)
        except Exception:  # noqa: BLE001 - the person still sees an answer on the Home tab
            log.exception("adding keywords from the Home tab for %s failed", user)
            response = internal_error_response()
        # Published once, from the overview the addition already read and matched.
        await handlers.publish_home(client, _team_of(body), user, notice=response, overview=overview)

    @app.event(RESUMING_EVENTS[0])
    async def bot_joined(event, body, context):
        if event.get("user") and event.get("user") == context.get("bot_user_id"):
            await handlers.resume(event.get("team") or body.get("team_id") or "", event.get("channel") or "",
                                  "paperbot was invited back")

    async def channel_unarchived(event, body):
        await handlers.resume(body.get("team_id") or "", event.get("channel") or "", "the channel was unarchived")

    for unarchive in RESUMING_EVENTS[1:]:  # public and private channels
        app.event(unarchive)(channel_unarchived)

    @app.error
    async def on_error(error, body):
        log.error("Slack request failed: %s: %s", type(error).__name__, error)

    return app


def _team_of(body: Mapping[str, Any]) -> str:
    return str(body.get("team_id") or (body.get("team") or {}).get("id")
               or (body.get("user") or {}).get("team_id") or "")


def _api_url(url: str) -> str:
    # slack_sdk appends the method name to base_url: it must end with a slash.
    return url if url.endswith("/") else url + "/"


class SlackRuntime:
    """One workspace's Slack connection: the sink and directory for the scheduler, and the
    listener (Socket Mode client or HTTP server) for commands and buttons."""

    def __init__(self, *, app: AsyncApp, client: AsyncWebClient, commands: CommandExecutor,
                 team_id: str, bot_user_id: str, app_token: str | None = None,
                 http_host: str | None = None, http_port: int | None = None,
                 session: aiohttp.ClientSession | None = None, bot_id: str = "",
                 signing_secret: str = "", handlers: SlackHandlers | None = None) -> None:
        self.app = app
        self.client = client
        self.settings = settings = commands.settings
        self.mode = settings.slack.mode
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.sink = SlackSink(client, team_id, max_messages_per_second=settings.slack.max_messages_per_second,
                              own_identity=(bot_id, bot_user_id))
        if handlers is not None:
            handlers.on_resume = self.sink.health.reset
            handlers.recent_paper = self.sink.recent_paper
        self.directory = commands.channel_directory("slack")
        self._app_token = app_token
        # HTTP mode checks Slack's signature here, before bolt parses anything (see web_app).
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._http_host = settings.slack.host if http_host is None else http_host
        self._http_port = settings.slack.port if http_port is None else http_port
        self._session = session
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def _socket_down(self) -> bool:
        # slack_sdk's is_connected() is a coroutine (it pings); /healthz reads plain state.
        if self._socket is None:
            return False
        client = self._socket.client
        session = getattr(client, "current_session", None)
        return bool(getattr(client, "closed", False)) or session is None or bool(getattr(session, "closed", False))

    @property
    def connected(self) -> bool:
        """Listening (HTTP) or connected (Socket Mode), and Slack accepts the workspace's calls."""
        if self._runner is None and self._socket is None:
            return False
        if self._socket_down():
            return False
        return self.sink.problem is None

    @property
    def problem(self) -> str | None:
        """Why Slack is not usable right now (for /healthz), None when it is."""
        if self._runner is None and self._socket is None:
            return "not started"
        if self._socket_down():
            return "the Socket Mode connection to Slack is down (it reconnects by itself)"
        return self.sink.problem

    def health(self) -> dict[str, Any]:
        """This platform's part of /healthz."""
        problem = self.problem
        return {"connected": problem is None, "problem": problem, "workspace": self.team_id}

    def _signed(self, body: str, headers: Mapping[str, str]) -> bool:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not timestamp.isdigit() or not signature or self._verifier is None:
            return False
        return self._verifier.is_valid(body, timestamp, signature)

    def web_app(self) -> web.Application:
        """The HTTP-mode endpoint (POST /slack/events): the signature is checked first (a bad or
        missing one gets 401 and one log line, before any parsing), then bolt dispatches."""
        async def events(request: web.Request) -> web.Response:
            if self._verifier is not None:
                body = await request.text()
                if not self._signed(body, request.headers):
                    log.warning("Slack: refused a request to %s from %s: missing, stale or wrong "
                                "signature (HTTP 401)", EVENTS_PATH, request.remote)
                    return web.Response(status=401, text="invalid request signature")
            bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        application = web.Application()
        application.router.add_post(EVENTS_PATH, events)
        return application

    async def start(self) -> None:
        if self.mode == "socket":
            # slack_sdk's Socket Mode client retries a refused connection forever; ask once
            # ourselves first, so a wrong app token is a clear error instead of a silent loop.
            try:
                await self.client.apps_connections_open(app_token=self._app_token)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise SlackSetupError(f"cannot reach the Slack Web API at {self.settings.slack.api_url}: "
                                      f"{type(exc).__name__}: {exc}") from None
            except SlackApiError as exc:
                raise SlackSetupError(f"Slack refused the Socket Mode connection ({slack_error_code(exc) or exc}); "
                                      "SLACK_APP_TOKEN must be an app-level token (xapp-...) with the "
                                      "connections:write scope, and Socket Mode enabled for the app.") from None
            self._socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client)
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode as %s in workspace %s", self.bot_user_id, self.team_id)
            return
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._http_host, self._http_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise SlackSetupError(f"cannot listen for Slack requests on {self._http_host}:{self._http_port} "
                                  f"({exc.strerror or exc}); is another program using that port? Set "
                                  "slack.port (and slack.host) in the configuration.") from None
        addresses = self._runner.addresses  # the real port when 0 was asked
        self.bound_port = addresses[0][1] if addresses else self._http_port
        log.info("Slack: listening for requests on %s:%s%s", self._http_host, self.bound_port, EVENTS_PATH)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None and not self._session.closed:
            await self._session.close()


async def start_slack(settings: Settings, commands: CommandExecutor, *,
                      environ: Mapping[str, str] = os.environ,
                      http_host: str | None = None, http_port: int | None = None) -> SlackRuntime | None:
    """Build the Slack runtime from the environment's secrets; None when SLACK_BOT_TOKEN is unset.

    Checks the bot token with auth.test (which also names the workspace the sink posts to);
    raises SlackSetupError with a readable reason when a needed secret is missing or rejected.
    """
    token = environ.get("SLACK_BOT_TOKEN")
    if not token:
        log.info("Slack: SLACK_BOT_TOKEN is not set, so Slack is off")
        return None
    mode = settings.slack.mode
    app_token = environ.get("SLACK_APP_TOKEN") or None
    signing_secret = environ.get("SLACK_SIGNING_SECRET") or ""
    if mode == "socket" and not app_token:
        raise SlackSetupError("slack.mode is socket, which needs SLACK_APP_TOKEN: an app-level token "
                              "(xapp-...) with the connections:write scope, from Basic Information > "
                              "App-Level Tokens. Or set slack.mode: http with SLACK_SIGNING_SECRET.")
    if mode == "http" and not signing_secret:
        raise SlackSetupError("slack.mode is http, which needs SLACK_SIGNING_SECRET (Basic Information > "
                              "App Credentials > Signing Secret).")
    session = aiohttp.ClientSession(trust_env=True)  # HTTP(S)_PROXY / NO_PROXY
    client = AsyncWebClient(token=token, base_url=_api_url(settings.slack.api_url), session=session,
                            retry_handlers=[],  # see bot.platforms.slack.sink: the core retries
                            logger=library_logger(WEB_CLIENT_LOGGER))
    try:
        try:
            auth = await client.auth_test()
        except SlackApiError as exc:
            raise SlackSetupError(f"Slack rejected SLACK_BOT_TOKEN ({slack_error_code(exc) or exc}); "
                                  "copy the Bot User OAuth Token (xoxb-...) again from OAuth & Permissions.") from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise SlackSetupError(f"cannot reach the Slack Web API at {settings.slack.api_url}: "
                                  f"{type(exc).__name__}: {exc}") from None
        handlers = SlackHandlers(commands)
        app = build_slack_app(client=client, commands=commands, signing_secret=signing_secret,
                              verify_requests=mode == "http", handlers=handlers)
    except BaseException:
        await session.close()
        raise
    team_id, bot_user_id = str(auth.get("team_id") or ""), str(auth.get("user_id") or "")
    log.info("Slack: bot %s in workspace %s (%s mode)", bot_user_id, team_id, mode)
    return SlackRuntime(app=app, client=client, commands=commands, team_id=team_id,
                        bot_user_id=bot_user_id, app_token=app_token, http_host=http_host,
                        http_port=http_port, session=session, bot_id=str(auth.get("bot_id") or ""),
                        signing_secret=signing_secret if mode == "http" else "", handlers=handlers)
