"""Posting only: the sink seam every platform implements (`sink`) and the runner that sends a
destination's composed day message by message, paced, retried and recorded in the ledger
(`runner`). Who receives what is `bot.destinations`; what a day holds is `bot.daily`."""
