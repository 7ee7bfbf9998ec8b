"""paperbot: arXiv's daily announcements, matched against subscriptions, posted where people read."""

__version__ = "0.1.0"
