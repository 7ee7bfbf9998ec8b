"""Everything `paperbot run` needs from its configuration and surroundings, checked before anything
starts: `paperbot check-config` reports these problems, and `run` refuses to start with the same
one-line messages (never a traceback, which under Docker's restart policy is a crash loop).

The checks create and change nothing: queries parsed, the database path usable, every Markdown
folder writable, topic names usable as folder names, the Slack secrets that the chosen mode needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.config import Settings
from bot.destinations.topics import topic_query
from bot.matching import QueryLimits, QuerySyntaxError

# Characters a topic name cannot hold: it becomes a folder (`<out>/<topic>/<date>.md`).
_BAD_NAME_CHARACTERS = ("/", "\\", "\x00")


def topic_name_problem(name: str) -> str | None:
    if not name.strip():
        return "a topic name cannot be empty"
    if any(c in name for c in _BAD_NAME_CHARACTERS) or name in (".", ".."):
        return (f"{name!r} cannot be a topic name: it names the topic's folder, so it cannot "
                "contain '/' or '\\' or be '.' or '..'")
    return None


def folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Why Markdown files could not be written under `folder` (created on first use), or None."""
    path = Path(folder)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable by this user" + (
            "" if probe == path else f" (needed to create {path})")
    return None


def slack_secrets_problem(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """The same rule as the Slack runtime's start: a bot token plus what `slack.mode` needs."""
    bot_token = environ.get("SLACK_BOT_TOKEN")
    if not bot_token:
        if environ.get("SLACK_APP_TOKEN") or environ.get("SLACK_SIGNING_SECRET"):
            return "Slack secrets are set but SLACK_BOT_TOKEN is not, so Slack stays off"
        return None
    if settings.slack.mode == "socket" and not environ.get("SLACK_APP_TOKEN"):
        return ("slack.mode is socket, which needs SLACK_APP_TOKEN (an app-level xapp- token with "
                "connections:write); or set slack.mode: http with SLACK_SIGNING_SECRET")
    if settings.slack.mode == "http" and not environ.get("SLACK_SIGNING_SECRET"):
        return "slack.mode is http, which needs SLACK_SIGNING_SECRET"
    return None


def preflight_problems(settings: Settings, environ: Mapping[str, str] | None = None, *,
                       storage: bool = True) -> list[str]:
    """Every problem that would stop `paperbot run`, one `key: reason` line each. `storage=False`
    leaves the database path to the store's own opening (`run` says that in its own line)."""
    from bot.store import storage_path_problem

    environ = os.environ if environ is None else environ
    problems: list[str] = []
    storage_problem = storage_path_problem(settings.storage.path) if storage else None
    if storage_problem:
        problems.append(f"storage.path: {storage_problem}")
    limits = QueryLimits.from_settings(settings.limits)
    for name, topic in settings.topics.items():
        name_problem = topic_name_problem(name)
        if name_problem:
            problems.append(f"topics.{name}: {name_problem}")
        key = "query" if topic.query else "keywords"
        try:
            topic_query(topic, limits)
        except QuerySyntaxError as exc:
            problems.append(f"topics.{name}.{key}: {exc}")
        except RecursionError:
            problems.append(f"topics.{name}.{key}: nested too deeply")
        if topic.markdown:
            folder = folder_problem(topic.markdown)
            if folder:
                problems.append(f"topics.{name}.markdown: {folder}")
    slack = slack_secrets_problem(settings, environ)
    if slack:
        problems.append(f"slack: Slack could not start: {slack}")
    return problems
