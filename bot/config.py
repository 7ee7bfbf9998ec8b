"""Configuration: one YAML file, validated with pydantic, secrets only from the environment.

Every problem is reported with its exact key path (`arxiv.categories[2]`) so `paperbot
check-config` can tell a user what to fix.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

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
    # A real 2,000-entry listing is ~5 MB; a bigger answer is refused before it fills the memory.
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)

    @field_validator("listing_url", "api_url", "listing_pages_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value


class StorageSettings(_Section):
    path: str = "data/paperbot.db"


# The ledger key of a chat channel whose votes rank a topic (`votes_from`).
VOTES_FROM_PATTERN = re.compile(r"(slack|discord):[A-Za-z0-9_-]+:[A-Za-z0-9_-]+")


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
    # `relevance`: rank by a learned model once it has enough votes; `listing` (the default)
    # keeps the match order, so digests stay as they were. A file has no vote buttons, so the
    # model is the one learned from the votes of the chat channel named by `votes_from` (its
    # ledger key, `slack:<team id>:<channel id>` or `discord:<server id>:<channel id>`, shown by
    # /papers settings in that channel). `votes_from` alone implies `order: relevance`.
    order: Literal["relevance", "listing"] = "listing"
    votes_from: str | None = None

    @field_validator("votes_from")
    @classmethod
    def _channel_key(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip()
        if not VOTES_FROM_PATTERN.fullmatch(value):
            raise ValueError(
                f"votes_from must name a chat channel as slack:<team id>:<channel id> or "
                f"discord:<server id>:<channel id> (what /papers settings shows in that channel as "
                f"its votes key), got {value!r}")
        return value

    @model_validator(mode="after")
    def _has_terms(self) -> "TopicSettings":
        if not self.query and not self.keywords:
            raise ValueError("a topic needs `query` or `keywords`")
        if self.votes_from and "order" not in self.model_fields_set:
            self.order = "relevance"
        if self.order == "relevance" and not self.votes_from:
            # Refused rather than a warning: a file has no 👍/👎 buttons, so the topic could
            # never learn and its digest would silently stay in the listing order.
            raise ValueError(
                "order: relevance needs votes_from: a Markdown file has no vote buttons, so the "
                "topic learns from the votes of a chat channel; add votes_from: slack:<team id>:"
                "<channel id> (or discord:<server id>:<channel id>), or remove order: relevance")
        return self

    @property
    def keyword_list(self) -> list[str | list[str]]:
        return [self.keywords] if isinstance(self.keywords, str) else list(self.keywords)

    @property
    def filter_list(self) -> list[str]:
        if not self.filters:
            return []
        return [self.filters] if isinstance(self.filters, str) else list(self.filters)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ScheduleSettings(_Section):
    post_time: str | None = None  # HH:MM in `timezone`; None = as soon as the day is available
    timezone: str = "America/New_York"
    # A channel's paper order until it chooses one (/papers settings order): "relevance" ranks by
    # the channel's votes once it has enough of them (listing order until then); "listing" never.
    paper_order: Literal["relevance", "listing"] = "relevance"
    # When `/papers settings weekly on` without a day and time posts the weekly best-of, in the
    # channel's time zone. Weekly best-ofs are off until a channel turns them on.
    weekly_day: str = "friday"
    weekly_time: str = "16:00"

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("weekly_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        name = value.strip().lower()
        matches = [day for day in WEEKDAYS if len(name) >= 3 and day.startswith(name)]
        if len(matches) != 1:
            raise ValueError(f"expected a day of the week such as friday or fri, got {value!r}")
        return matches[0]

    @property
    def weekly_day_index(self) -> int:
        return WEEKDAYS.index(self.weekly_day)

    @field_validator("post_time", "weekly_time", mode="before")
    @classmethod
    def _unquoted_time(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            # YAML 1.1 reads an unquoted 10:30 as a base-60 number (630).
            hh_mm = f"{value // 60:02d}:{value % 60:02d}"
            raise ValueError(f'write the time in quotes: {info.field_name}: "{hh_mm}" (YAML reads an unquoted '
                             f'{value // 60}:{value % 60:02d} as the number {value})')
        return value

    @field_validator("post_time", "weekly_time")
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
    # Capped: each level of parentheses is a level of recursion in the parser.
    query_depth: int = Field(10, ge=1, le=50)
    subscriptions_per_channel: int = Field(25, ge=1)
    subscriptions_per_user: int = Field(25, ge=1)


class SlackSettings(_Section):
    api_url: str = "https://slack.com/api/"
    mode: Literal["socket", "http"] = "socket"
    port: int = Field(3000, ge=1, le=65535)
    # Where HTTP mode listens. Loopback by default: put a TLS proxy in front, or set 0.0.0.0.
    host: str = "127.0.0.1"
    admins_only: bool = False
    # Messages a second across the whole workspace. Slack documents chat.postMessage as "one
    # message per second per channel, while also maintaining a workspace-wide limit" whose size it
    # does not publish (https://docs.slack.dev/apis/web-api/rate-limits, Special tier; "Posting
    # messages: 1 per second, short bursts >1 allowed"). As that limit is unpublished, the default
    # is cautious: 5/s (300 a minute); raise it if your workspace never answers 429.
    max_messages_per_second: float | None = Field(5.0, gt=0)


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


# The default configuration as package data: what a wheel install (no source tree beside the
# package) falls back to. A test keeps it identical to config/paperbot.yaml.
PACKAGED_CONFIG_PATH = Path(__file__).resolve().parent / "default_config" / "paperbot.yaml"


def resolve_config_path(explicit: str | os.PathLike[str] | None = None, *,
                        source_default: Path | None = None, cwd: Path | None = None) -> Path:
    """`--config`, else $PAPERBOT_CONFIG, else the source tree's config/paperbot.yaml (a checkout
    or an editable install), else ./config/paperbot.yaml, else the copy shipped in the package
    (a wheel install, where the source tree's path points into site-packages)."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV_VAR):
        return Path(os.environ[CONFIG_ENV_VAR])
    for candidate in (source_default or DEFAULT_CONFIG_PATH, (cwd or Path.cwd()) / "config" / "paperbot.yaml"):
        if candidate.is_file():
            return candidate
    return PACKAGED_CONFIG_PATH


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


# A configuration file is a few kilobytes; these bounds refuse a file (or a YAML alias "bomb":
# anchors referring to anchors, 34 KB expanding to gigabytes) before it costs time or memory.
MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_VALUES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int], limit: int) -> int:
    """How many values `node` stands for with every alias expanded (memoised per node, so an
    alias bomb is measured in linear time)."""
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:
            raise ConfigError(["(top level): a YAML alias refers to itself"])
        return known
    sizes[id(node)] = -1
    total = 1
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        children = []
    for child in children:
        total += _expanded_size(child, sizes, limit)
        if total > limit:
            break
    sizes[id(node)] = total
    return total


def read_yaml_config(text: str, source: str = "") -> Any:
    """The YAML document in `text`, refusing oversized files and aliases that expand too far."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigError([f"(top level): the configuration file is larger than {MAX_CONFIG_BYTES // 1024} KB; "
                           "is this the right file?"], source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None
        if _expanded_size(node, {}, MAX_CONFIG_VALUES) > MAX_CONFIG_VALUES:
            raise ConfigError([f"(top level): YAML anchors and aliases expand to more than {MAX_CONFIG_VALUES:,} "
                               "values; write the configuration out without nested aliases"], source)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}invalid YAML ({getattr(exc, 'problem', exc)})"], source) from None
    except RecursionError:
        raise ConfigError(["(top level): the YAML is nested too deeply"], source) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    config_path = resolve_config_path(path)
    try:
        if config_path.is_file() and config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError([f"(top level): the configuration file is larger than {MAX_CONFIG_BYTES // 1024} KB; "
                               "is this the right file?"], str(config_path))
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"configuration file not found: {config_path}"], str(config_path)) from None
    except IsADirectoryError:
        raise ConfigError([f"configuration path is a directory: {config_path}"], str(config_path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"the configuration file is not UTF-8 text (byte {exc.start})"], str(config_path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read configuration file: {exc.strerror}"], str(config_path)) from None
    data = read_yaml_config(text, str(config_path))
    return parse_settings(data, str(config_path))


PLACEHOLDER_CONTACT = "you@example.org"


def placeholder_contact(settings: Settings) -> bool:
    """True while `arxiv.user_agent` still names the shipped placeholder contact (arXiv asks for
    a real one)."""
    return PLACEHOLDER_CONTACT in settings.arxiv.user_agent
