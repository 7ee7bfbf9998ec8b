"""Process metrics in Prometheus form (prometheus_client), on a registry of our own.

Counters are incremented where things happen (arXiv client, scheduler, delivery runner); the
operations endpoint (`bot.ops`) serves them. A registry of our own keeps library defaults (process,
GC collectors) out and lets tests read exact values.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

POLLS = Counter("paperbot_polls", "arXiv listing polls by outcome", ["outcome"], registry=REGISTRY)
ARXIV_REQUESTS = Counter("paperbot_arxiv_requests", "HTTP requests sent to arXiv (every try)", registry=REGISTRY)
ARXIV_RETRIES = Counter("paperbot_arxiv_retries", "arXiv requests retried after a failure", registry=REGISTRY)
PAPERS_MATCHED = Counter("paperbot_papers_matched", "papers matched by at least one subscription, per day pass",
                         registry=REGISTRY)
MESSAGES_POSTED = Counter("paperbot_messages_posted", "messages or documents delivered", ["platform"],
                          registry=REGISTRY)
DELIVERIES = Counter("paperbot_deliveries", "delivery attempts by outcome", ["outcome"], registry=REGISTRY)
DELIVERY_FAILURES = Counter("paperbot_delivery_failures", "failed delivery attempts (retried with backoff)",
                            ["platform"], registry=REGISTRY)
UNDELIVERABLE_DAYS = Counter("paperbot_undeliverable_days",
                             "destination-days given up (superseded before they could be delivered)",
                             registry=REGISTRY)
DELIVERIES_PAUSED = Gauge("paperbot_deliveries_paused", "destinations paused, by reason code", ["reason"],
                          registry=REGISTRY)
LAST_SUCCESSFUL_POLL = Gauge("paperbot_last_successful_poll_timestamp_seconds",
                             "Unix time of the last poll that reached arXiv", registry=REGISTRY)


# Adapters end a pause reason with the platform's own error code: "... (Slack: not_in_channel)",
# "... (Discord: 50013)" / "(Discord 50013)".
_PLATFORM_CODE = re.compile(r"\((?:Slack|Discord)(?: error)?:?\s*([A-Za-z0-9_.-]{1,40})\)\s*$")


def reason_code(reason: str) -> str:
    """A low-cardinality label for a pause reason: the platform's error code it ends with
    (`not_in_channel`, `50013`); for a reason without one, its leading code word."""
    found = _PLATFORM_CODE.search(reason or "")
    if found:
        return found.group(1)
    head = (reason or "").split(":", 1)[0].strip().split()
    return head[0][:40] if head else "unknown"
