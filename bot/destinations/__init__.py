"""Who receives what, separate from how it is posted (`bot.delivery`).

- `destination`: the `Destination` record and the `DestinationDirectory` seam.
- `topics`: the configuration's topics (Markdown folders).
- `channels`: chat channels and their `/papers subscribe` subscriptions, per platform.
- `people`: personal keywords (`/papers me ...`), delivered by DM or as mentions in a channel.
"""

from bot.destinations.destination import (
    LISTING, PAPER_ORDERS, RELEVANCE, Destination, DestinationDirectory, Directory)

__all__ = ["LISTING", "PAPER_ORDERS", "RELEVANCE", "Destination", "DestinationDirectory", "Directory"]
