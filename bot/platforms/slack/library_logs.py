"""A logger for slack_sdk's Web API client whose own level reads as the level in effect.

slack_sdk guards its costly debug messages with `logger.level <= logging.DEBUG`: the
logger's OWN level, which is 0 (NOTSET) unless set on that very logger, so the guard passes
whatever level is configured above it and the message is built anyway. For the Web API client
that is every request's whole payload (a day's Block Kit) turned into text and thrown away: about
a tenth of the event loop's busy time in a 1,000-channel fan-out (slackapi/python-slack-sdk#1957).

Setting a level on the library's named logger would freeze the level of the moment for the whole
process; this logger reads it when asked instead, and logs through the named logger (its
handlers, its level, then the root's), so the configuration keeps deciding what is written.
Not for slack_bolt: its app copies its base logger's level onto a logger of the app's name
(`paperbot`, which is ours too), so a level read there would be frozen after all; its guarded
messages are short ("Applying <middleware>").
"""

from __future__ import annotations

import logging


class _LevelInEffectLogger(logging.Logger):
    """A logger whose `level` is the level in effect for the named logger it logs through."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.parent = logging.getLogger(name)

    @property   # type: ignore[override]
    def level(self) -> int:
        return self.parent.getEffectiveLevel()

    @level.setter
    def level(self, value: int) -> None:   # set on the named logger, not here
        if value != logging.NOTSET:
            self.parent.setLevel(value)

    def isEnabledFor(self, level: int) -> bool:   # no cache: the configuration may change
        return not self.parent.manager.disable >= level and level >= self.level


def library_logger(name: str) -> logging.Logger:
    """A logger for a slack_sdk client that logs as `name` and whose `level` is the level in
    effect for `name` (so its `logger.level <= DEBUG` guards read the configuration)."""
    return _LevelInEffectLogger(name)


# The Web API client's own logger name (slack_sdk.web.async_base_client): its messages keep it.
WEB_CLIENT_LOGGER = "slack_sdk.web.async_client"
