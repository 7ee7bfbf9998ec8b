"""Configuration: one YAML file, validated with pydantic, secrets only from the environment.

Every problem is reported with its exact key path (`arxiv.categories[2]`) so `paperbot
check-config` can tell a user what to fix.
"""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.models import ANNOUNCE_TYPES
from bot.taxonomy import canonical_category

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "paperbot.yaml"
CONFIG_ENV_VAR = "PAPERBOT_CONFIG"
SECRET_ENV_VARS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")

# arXiv's announced holidays (no feed that day). 2026 from reference/arxiv/availability.md;
# 2025 from arXiv's published schedule. Configurable because arXiv adds ad-hoc ones.
DEFAULT_HOLIDAYS: tuple[date, ...] = (
    date(2025, 1, 1), date(2025, 1, 20), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4),
    date(2025, 9, 1), date(2025, 11, 27), date(2025, 12, 25), date(2025, 12, 31),
    date(2026, 1, 1), date(2026, 1, 19), date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7),
    date(2026, 11, 26), date(2026, 12, 25), date(2026, 12, 29), date(2026, 12, 31),
)


class ConfigError(Exception):
    """The configuration cannot be used; `problems` holds one `key: reason` line each."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _check_category(value: str) -> str:
    canonical = canonical_category(value)
    if canonical is None:
        raise ValueError(f"unknown arXiv category {value!r}")
    return canonical


def _check_type(value: str) -> str:
    if value not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce type {value!r} (choose from {', '.join(ANNOUNCE_TYPES)})")
    return value


# Validated per item so an error names the exact index (`arxiv.categories[2]`).
Category = Annotated[str, AfterValidator(_check_category)]
AnnounceTypeName = Annotated[str, AfterValidator(_check_type)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an Area/City name such as Europe/Berlin)") from None
    return value


class ArxivSettings(_Section):
    categories: list[Category] = Field(default_factory=lambda: ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"], min_length=1)
    listing_url: str = "https://rss.arxiv.org/atom/"
    api_url: str = "https://export.arxiv.org/api/query"
    min_interval_seconds: float = Field(3.0, ge=0)
    user_agent: str = "paperbot/0.1 (mailto:you@example.org)"
    enrich: bool = True
    timeout_seconds: float = Field(30.0, gt=0)
    max_tries: int = Field(5, ge=1, le=20)
    backoff_base_seconds: float = Field(2.0, ge=0)
    backoff_max_seconds: float = Field(120.0, ge=0)
    poll_interval_minutes: float = Field(15.0, gt=0)
    holidays: list[date] = Field(default_factory=lambda: list(DEFAULT_HOLIDAYS))
    # Early edition (issue 16): read arXiv's listing pages at the 20:00 ET announcement.
    early_edition: bool = True
    listing_pages_url: str = "https://arxiv.org/list/"
    listing_page_size: int = Field(2000, ge=1, le=2000)  # `show=`: arXiv's maximum for /new

    @field_validator("listing_url", "api_url", "listing_pages_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value


class StorageSettings(_Section):
    path: str = "data/paperbot.db"


class TopicSettings(_Section):
    """A configured subscription. `query` uses the /papers language; `keywords`/`filters` are the
    seed's form: each keyword is a phrase (a string) or an AND-list of phrases; filters exclude."""

    query: str | None = None
    keywords: list[str | list[str]] | str = Field(default_factory=list)
    filters: list[str] | str | None = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    types: list[AnnounceTypeName] = Field(default_factory=lambda: ["new", "cross"])
    markdown: str | None = None
    open_abstracts: bool = False
    max_papers: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _has_terms(self) -> "TopicSettings":
        if not self.query and not self.keywords:
            raise ValueError("a topic needs `query` or `keywords`")
        return self

    @property
    def keyword_list(self) -> list[str | list[str]]:
        return [self.keywords] if isinstance(self.keywords, str) else list(self.keywords)

    @property
    def filter_list(self) -> list[str]:
        if not self.filters:
            return []
        return [self.filters] if isinstance(self.filters, str) else list(self.filters)


class ScheduleSettings(_Section):
    post_time: str | None = None  # HH:MM in `timezone`; None = as soon as the day is available
    timezone: str = "America/New_York"

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("post_time")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60):
            raise ValueError(f"expected HH:MM, got {value!r}")
        return value


def parse_hh_mm(value: str | None) -> time | None:
    """A validated `HH:MM` (ScheduleSettings.post_time, channel settings) as a time; None stays None."""
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class LimitSettings(_Section):
    query_length: int = Field(500, ge=10)
    query_terms: int = Field(50, ge=1)
    query_depth: int = Field(10, ge=1)
    subscriptions_per_channel: int = Field(25, ge=1)
    subscriptions_per_user: int = Field(25, ge=1)


class SlackSettings(_Section):
    api_url: str = "https://slack.com/api/"
    mode: Literal["socket", "http"] = "socket"
    port: int = Field(3000, ge=1, le=65535)
    admins_only: bool = False
    # Messages a second across the whole workspace. Slack paces chat.postMessage per channel
    # (about 1/s) and throttles bursts workspace-wide; 20/s keeps a 1,000-channel day well clear.
    max_messages_per_second: float | None = Field(20.0, gt=0)


class DiscordSettings(_Section):
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    guild_ids: list[int] = Field(default_factory=list)
    manager_role: str | None = None
    # None: as many shards as Discord recommends (GET /gateway/bot), so the bot keeps working past
    # 2,500 servers; a number pins the count (it must then be at least Discord's minimum).
    shards: int | None = Field(None, ge=1)
    # Requests a second across the whole bot (every channel, thread and DM). Discord's global limit
    # is 50 requests a second per bot; 40 leaves room for command replies and jitter.
    max_messages_per_second: float = Field(40.0, gt=0, le=50)
    # How long `start()` waits for login, every shard's gateway session and the command sync.
    # Discord lets a bot identify one shard each 5 s, so many shards need proportionally longer.
    start_timeout_seconds: float = Field(60.0, gt=0)


class OpsSettings(_Section):
    """The operations endpoint (/healthz, /metrics) and log format."""

    port: int | None = Field(None, ge=1, le=65535)  # None: no endpoint
    host: str = "127.0.0.1"
    json_logs: bool = False


class Settings(_Section):
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    topics: dict[str, TopicSettings] = Field(default_factory=dict)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)

    @model_validator(mode="before")
    @classmethod
    def _topics_as_list(cls, data: Any) -> Any:
        # awesome-daily-AI-arxiv style: `topics: [{topic: MLLM, keywords: [...], filters: [...]}]`
        if isinstance(data, dict) and isinstance(data.get("topics"), list):
            topics: dict[str, Any] = {}
            for i, item in enumerate(data["topics"]):
                if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
                    raise ValueError(f"topics[{i}] needs a `topic:` name")
                spec = dict(item)
                topics[spec.pop("topic")] = spec
            data = {**data, "topics": topics}
        return data


def secrets_present(environ: dict[str, str] | None = None) -> dict[str, bool]:
    """Which secrets are set; never their values."""
    env = os.environ if environ is None else environ
    return {name: bool(env.get(name)) for name in SECRET_ENV_VARS}


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV_VAR):
        return Path(os.environ[CONFIG_ENV_VAR])
    return DEFAULT_CONFIG_PATH


def _format_location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "union[", "list[", "str", "date")):
            continue  # pydantic's internal validator names, not keys the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key missing"
    return f"{_format_location(tuple(error['loc']))}: {message}"


def parse_settings(data: Any, source: str = "") -> Settings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): expected a mapping of sections"], source)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_describe(e) for e in exc.errors()))
        raise ConfigError(problems, source) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    config_path = resolve_config_path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"configuration file not found: {config_path}"], str(config_path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read configuration file: {exc.strerror}"], str(config_path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}invalid YAML ({getattr(exc, 'problem', exc)})"], str(config_path)) from None
    return parse_settings(data, str(config_path))
