"""bot.store.subscriptions on a real SQLite file: migration 3, numbering, limits, settings."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bot.store import Store
from bot.store.subscriptions import ChannelRef, ChannelSettingsRecord, SubscriptionLimitReached

from .conftest import NOW, fixed_clock

LAB = ChannelRef("slack", "T1", "C1")
OTHER = ChannelRef("slack", "T1", "C2")
GUILD = ChannelRef("discord", "G1", "C1")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.db", clock=fixed_clock) as opened:
        yield opened


def test_migration_3_is_recorded_with_its_name(store):
    rows = store.db.execute("SELECT version, name FROM migrations ORDER BY version").fetchall()
    assert (3, "channel subscriptions and settings") in rows
    assert {"channel_subscriptions", "channel_settings"} <= set(store.db.table_names())


def test_subscriptions_are_numbered_per_channel_in_creation_order(store):
    first = store.channels.add_subscription(LAB, "MLLM", now=NOW, created_by="U1")
    store.channels.add_subscription(OTHER, "VLM", now=NOW)
    second = store.channels.add_subscription(LAB, '"world model" -robot', now=NOW, types=["new", "replace"])
    listed = store.channels.list_subscriptions(LAB)
    assert [r.query for r in listed] == ["MLLM", '"world model" -robot']
    assert listed[0] == first and listed[1] == second
    assert first.created_by == "U1" and first.created_at == NOW.isoformat(timespec="seconds")
    assert first.types is None and second.types == ("new", "replace")
    assert store.channels.count_subscriptions(LAB) == 2
    assert store.channels.list_subscriptions(GUILD) == []


def test_remove_by_listed_number_and_the_rest_move_up(store):
    for query in ("a1", "b2", "c3"):
        store.channels.add_subscription(LAB, query, now=NOW)
    removed = store.channels.remove_subscription(LAB, 2)
    assert removed is not None and removed.query == "b2"
    assert [r.query for r in store.channels.list_subscriptions(LAB)] == ["a1", "c3"]
    assert store.channels.remove_subscription(LAB, 3) is None
    assert store.channels.remove_subscription(LAB, 0) is None
    assert store.channels.remove_subscription(OTHER, 1) is None
    assert store.channels.remove_subscription(LAB, 2).query == "c3"


def test_removed_ids_are_never_reused(store):
    first = store.channels.add_subscription(LAB, "a", now=NOW)
    store.channels.remove_subscription(LAB, 1)
    again = store.channels.add_subscription(LAB, "a", now=NOW)
    assert again.id > first.id


def test_remove_all_touches_only_that_channel(store):
    for query in ("a", "b"):
        store.channels.add_subscription(LAB, query, now=NOW)
    store.channels.add_subscription(GUILD, "c", now=NOW)
    assert store.channels.remove_all_subscriptions(LAB) == 2
    assert store.channels.remove_all_subscriptions(LAB) == 0
    assert [r.query for r in store.channels.list_subscriptions(GUILD)] == ["c"]


def test_limit_is_checked_in_the_same_transaction_as_the_insert(store):
    store.channels.add_subscription(LAB, "a", now=NOW, limit=2)
    store.channels.add_subscription(LAB, "b", now=NOW, limit=2)
    with pytest.raises(SubscriptionLimitReached) as caught:
        store.channels.add_subscription(LAB, "c", now=NOW, limit=2)
    assert (caught.value.count, caught.value.limit) == (2, 2)
    assert str(caught.value) == "the channel has 2 subscriptions; the limit is 2"
    assert store.channels.count_subscriptions(LAB) == 2
    store.channels.add_subscription(OTHER, "c", now=NOW, limit=2)  # another channel is not affected


def test_settings_default_to_none_and_change_only_what_is_given(store):
    assert store.channels.get_channel_settings(LAB) == ChannelSettingsRecord(LAB)
    store.channels.update_channel_settings(LAB, {"post_time": "09:00", "timezone": "Europe/Berlin"},
                                 now=NOW, updated_by="U1")
    after = store.channels.update_channel_settings(LAB, {"types": ("new", "replace"), "max_papers": 5,
                                                         "empty_day": "note"}, now=NOW, channel_name="lab")
    assert after == ChannelSettingsRecord(LAB, channel_name="lab", post_time="09:00",
                                          timezone="Europe/Berlin", types=("new", "replace"),
                                          max_papers=5, empty_day="note")
    row = store.db.execute("SELECT updated_by, updated_at FROM channel_settings").fetchone()
    assert row == ("U1", NOW.isoformat(timespec="seconds"))  # a later anonymous change keeps the name
    assert store.channels.get_channel_settings(OTHER) == ChannelSettingsRecord(OTHER)


def test_settings_refuse_unknown_names_and_bad_values(store):
    with pytest.raises(ValueError, match=r"unknown channel setting\(s\) \['colour'\]"):
        store.channels.update_channel_settings(LAB, {"colour": "red"}, now=NOW)
    with pytest.raises(ValueError, match="empty_day must be one of"):
        store.channels.update_channel_settings(LAB, {"empty_day": "loud"}, now=NOW)
    # The schema holds the line too, for writers that skip this module.
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("INSERT INTO channel_settings (platform, workspace, channel, max_papers,"
                         " updated_at) VALUES ('slack', 'T', 'C', 0, 'x')")


def test_subscribing_remembers_the_channel_name(store):
    store.channels.add_subscription(LAB, "a", now=NOW, channel_name="ml-papers")
    assert store.channels.get_channel_settings(LAB).channel_name == "ml-papers"


def test_channels_and_everything_for_the_directory(store):
    store.channels.add_subscription(OTHER, "b", now=NOW)
    store.channels.add_subscription(LAB, "a", now=NOW)
    store.channels.add_subscription(LAB, "c", now=NOW)
    store.channels.add_subscription(GUILD, "d", now=NOW)
    store.channels.update_channel_settings(GUILD, {"max_papers": 3}, now=NOW)
    assert store.channels.channels_with_subscriptions() == [GUILD, LAB, OTHER]
    assert store.channels.channels_with_subscriptions("slack") == [LAB, OTHER]
    assert [r.query for r in store.channels.all_subscriptions("slack")] == ["a", "c", "b"]
    assert list(store.channels.all_channel_settings("discord")) == [GUILD]
    assert store.channels.all_channel_settings("slack") == {}


def test_a_second_process_sees_the_same_rows(tmp_path):
    path = tmp_path / "p.db"
    with Store(path, clock=fixed_clock) as writer:
        writer.channels.add_subscription(LAB, "MLLM", now=NOW)
    seen = []

    def read_elsewhere() -> None:
        # Each Store is thread-confined; a fresh thread stands for another process opening the file.
        with Store(path) as reader:
            seen.extend(r.query for r in reader.channels.list_subscriptions(LAB))

    thread = threading.Thread(target=read_elsewhere)
    thread.start()
    thread.join()
    assert seen == ["MLLM"]
